package ingest

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
)

// countSink counts what it is handed: the consumer's own cost without an
// index behind it.
type countSink struct{ ups, dels atomic.Int64 }

func (s *countSink) Apply(ups []*catalog.Product, dels []string) error {
	s.ups.Add(int64(len(ups)))
	s.dels.Add(int64(len(dels)))
	return nil
}

// BenchmarkApply publishes n product events (benchCatalog's products) to
// the embedded broker, then times a fresh consumer from its start until it
// has applied them all: decoding, the partition state, the log (s2 and
// fsync) and the Kafka fetches, with a Sink that only counts. It reports
// events/s and the process's CPU time (user and system) per event, which
// moves far less with the machine's load than the wall time.
func BenchmarkApply(b *testing.B) {
	const n = 20_000
	fd, err := catalog.NewFileDecoder(bytes.NewReader(benchCatalog(n)), catalog.FileNDJSON, catalog.FileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var prods []*catalog.Product
	for r := fd.Next(); r != nil; r = fd.Next() {
		if len(r.Errors) > 0 {
			b.Fatal(r.Errors)
		}
		r.Product.Version = 1
		prods = append(prods, r.Product)
	}
	if len(prods) != n {
		b.Fatalf("%d products decoded, want %d", len(prods), n)
	}
	br, err := StartBroker(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	prod, err := NewProducer(br.Addrs())
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	ctx := context.Background()
	if _, err := EnsureTopics(ctx, prod, 8); err != nil {
		b.Fatal(err)
	}
	if _, err := PublishProducts(ctx, prod, prods); err != nil {
		b.Fatal(err)
	}
	ends, err := EndOffsets(ctx, prod, CatalogTopics...)
	if err != nil {
		b.Fatal(err)
	}
	var took, cpu time.Duration
	round := 0
	for b.Loop() {
		round++
		sink := &countSink{}
		c, err := New(Options{Brokers: br.Addrs(), Dir: b.TempDir(), Partitions: 8, Sink: sink,
			Group: fmt.Sprintf("bench-%d", round), InstanceID: "bench", FetchMaxWait: 50 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		rctx, stop := context.WithCancel(ctx)
		ran := make(chan error, 1)
		start, cpu0 := time.Now(), processCPU()
		go func() { ran <- c.Run(rctx) }()
		for !c.CaughtUp(ends) {
			time.Sleep(time.Millisecond)
		}
		took += time.Since(start)
		cpu += processCPU() - cpu0
		b.StopTimer()
		stop()
		if err := <-ran; err != nil {
			b.Fatal(err)
		}
		c.Close()
		if got := sink.ups.Load(); got != n {
			b.Fatalf("%d products applied, want %d", got, n)
		}
		b.StartTimer()
	}
	events := float64(n * round)
	b.ReportMetric(events/took.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
}

// processCPU returns the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
