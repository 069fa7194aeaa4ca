package app

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/bench"
	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/search"
)

// timedSink is the engine as the ingest Sink, recording for every product
// it makes searchable the time since the product's UpdatedAt, which the
// test sets to the moment it produced the event.
type timedSink struct {
	eng    *search.Engine
	record atomic.Bool
	mu     sync.Mutex
	delays []time.Duration
}

// CaptureShard and LoadShard pass the engine's snapshots through, so a
// restart loads the index (ingest.SnapshotSink).
func (s *timedSink) CaptureShard(p int) func([]byte, func(*catalog.Product) bool) []byte {
	return s.eng.CaptureShard(p)
}

func (s *timedSink) LoadShard(p int, b []byte, resolve func(string) (*catalog.Product, bool)) error {
	return s.eng.LoadShard(p, b, resolve)
}

func (s *timedSink) Apply(ups []*catalog.Product, dels []string) error {
	if err := s.eng.Apply(ups, dels); err != nil {
		return err
	}
	if !s.record.Load() {
		return nil
	}
	now := time.Now()
	s.mu.Lock()
	for _, p := range ups {
		s.delays = append(s.delays, now.Sub(p.UpdatedAt))
	}
	s.mu.Unlock()
	return nil
}

// TestFreshness measures the figures of doc/ingest.md on the shipped store,
// with the embedded broker in process and 8 shards:
//
//	AISLE_FRESHNESS=1 go test ./app -run TestFreshness -v -timeout 10m
//
// full ingest of the store through Kafka (events/s), restart from the
// ingest logs, and event-to-searchable p50/p99 at AISLE_RATE updates/s
// (default 5,000) for AISLE_SECONDS (default 10), produced asynchronously
// in a batch every 10 ms, while AISLE_QPS searches a second (default 200)
// run against the engine. AISLE_PRODUCTS grows the catalog (bench.Grow) to
// that many products first, for the full-ingest figure at scale;
// AISLE_INGEST_PROFILE, AISLE_RESTART_PROFILE and AISLE_STEADY_PROFILE=file
// write CPU profiles of the full ingest, the restart and the steady
// updates. It
// takes about a minute on the shipped store, so it only runs when asked.
func TestFreshness(t *testing.T) {
	if os.Getenv("AISLE_FRESHNESS") == "" {
		t.Skip("set AISLE_FRESHNESS=1 to measure (about a minute)")
	}
	rate, secs, qps := envInt("AISLE_RATE", 5000), envInt("AISLE_SECONDS", 10), envInt("AISLE_QPS", 200)
	const shards = 8
	ps, err := corpora.DefaultStore()
	if err != nil {
		t.Fatal(err)
	}
	if n := envInt("AISLE_PRODUCTS", 0); n > len(ps) {
		// A larger catalog grown from the real one, as the bench's
		// scale workload grows it.
		ps = bench.Grow(ps, n, 1)
	}
	b, err := ingest.StartBroker(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	prod, err := ingest.NewProducer(b.Addrs(), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	if _, err := ingest.EnsureTopics(ctx, prod, shards); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := ingest.PublishProducts(ctx, prod, ps); err != nil {
		t.Fatal(err)
	}
	t.Logf("published %d products in %.2f s", len(ps), time.Since(start).Seconds())

	dir := t.TempDir()
	if keep := os.Getenv("AISLE_KEEP_DIR"); keep != "" {
		// The snapshots and logs stay there, for TestRestartFresh.
		dir = keep
	}
	open := func() (*search.Engine, *timedSink, *ingest.Consumer) {
		defer loadingHeap()() // as serve does
		eng, err := search.New(search.Options{Shards: shards})
		if err != nil {
			t.Fatal(err)
		}
		sink := &timedSink{eng: eng}
		c, err := ingest.New(ingest.Options{Brokers: b.Addrs(), Dir: dir, Partitions: shards, Sink: sink, Logf: t.Logf,
			FetchMaxWait: 50 * time.Millisecond, SessionTimeout: 6 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return eng, sink, c
	}
	waitCaught := func(c *ingest.Consumer) {
		ends, err := ingest.EndOffsets(ctx, prod, ingest.CatalogTopics...)
		if err != nil {
			t.Fatal(err)
		}
		for !c.CaughtUp(ends) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	eng, sink, c := open()
	rctx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	stopProfile := profile(t, "AISLE_INGEST_PROFILE")
	start, cpu0 := time.Now(), processCPU()
	go func() { ran <- c.Run(rctx) }()
	waitCaught(c)
	took, cpu := time.Since(start), processCPU()-cpu0
	stopProfile()
	t.Logf("full ingest: %d products in %.2f s through Kafka = %.0f events/s (8 partitions, log fsync per batch, %d batches); process CPU %.2f s = %.1f µs an event",
		eng.Len(), took.Seconds(), float64(len(ps))/took.Seconds(), c.Stats().Batches, cpu.Seconds(), float64(cpu.Microseconds())/float64(len(ps)))
	start = time.Now()
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	c.Close()
	t.Logf("stop: snapshots of every partition written in %.2f s (%d snapshots in all, during the ingest and at the stop)",
		time.Since(start).Seconds(), c.Stats().Snapshots)

	// A restart is a new process: the first engine is collected before
	// it, as its memory would be gone.
	eng, sink, c = nil, nil, nil
	runtime.GC()
	stopProfile = profile(t, "AISLE_RESTART_PROFILE")
	start = time.Now()
	eng, sink, c = open()
	stopProfile()
	t.Logf("restart: %d products from the snapshots and logs in %.2f s", eng.Len(), time.Since(start).Seconds())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("heap after the restart: %d MB in use, %d MB from the OS, %d collections so far", ms.HeapInuse>>20, ms.Sys>>20, ms.NumGC)
	rctx, stop = context.WithCancel(ctx)
	defer stop()
	go func() { ran <- c.Run(rctx) }()
	waitCaught(c)

	// Steady updates while searching.
	var queries atomic.Int64
	qdone := make(chan struct{})
	qstop := make(chan struct{})
	go func() {
		defer close(qdone)
		words := []string{"tea", "milk", "phone", "usb cable", "headphones", "chocolate", "laptop bag"}
		qt := time.NewTicker(time.Second / time.Duration(qps))
		defer qt.Stop()
		for i := 0; ; i++ {
			select {
			case <-qstop:
				return
			case <-qt.C:
			}
			if _, err := eng.Search(ctx, &search.Request{Query: words[i%len(words)], Page: 1, PageSize: 20, Facets: true}); err != nil {
				t.Error(err)
				return
			}
			queries.Add(1)
		}
	}()
	sink.record.Store(true)
	stopProfile = profile(t, "AISLE_STEADY_PROFILE")
	const tick = 10 * time.Millisecond
	per := rate * int(tick) / int(time.Second)
	total := rate * secs
	version := uint64(1)
	tk := time.NewTicker(tick)
	sent := 0
	var inflight sync.WaitGroup
	var produceErr atomic.Value
	start = time.Now()
	for sent < total {
		<-tk.C
		version++
		recs := make([]*kgo.Record, 0, per)
		now := time.Now()
		for i := 0; i < per && sent < total; i++ {
			q := *ps[(sent*7919)%len(ps)]
			q.Version, q.UpdatedAt = version, now
			q.Title = fmt.Sprintf("%s u%d", ps[(sent*7919)%len(ps)].Title, version)
			r, err := ingest.ProductRecord(&q)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
			sent++
		}
		for _, r := range recs {
			inflight.Add(1)
			prod.Produce(ctx, r, func(_ *kgo.Record, err error) {
				if err != nil {
					produceErr.CompareAndSwap(nil, err)
				}
				inflight.Done()
			})
		}
	}
	tk.Stop()
	inflight.Wait()
	if err, _ := produceErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	sendTook := time.Since(start)
	waitCaught(c)
	close(qstop)
	<-qdone
	stopProfile()
	sink.mu.Lock()
	d := slices.Clone(sink.delays)
	sink.mu.Unlock()
	slices.Sort(d)
	if len(d) == 0 {
		t.Fatal("nothing recorded")
	}
	q := func(f float64) time.Duration { return d[min(len(d)-1, int(f*float64(len(d))))] }
	t.Logf("steady updates: %d events in %.2f s (%.0f/s) while %d searches ran (%.0f/s): event-to-searchable p50 %v, p99 %v, max %v over %d products",
		sent, sendTook.Seconds(), float64(sent)/sendTook.Seconds(), queries.Load(), float64(queries.Load())/sendTook.Seconds(),
		q(0.5).Round(time.Microsecond), q(0.99).Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond), len(d))
	var exposed strings.Builder
	c.WritePrometheus(&exposed)
	for line := range strings.Lines(exposed.String()) {
		if strings.HasPrefix(line, "aisle_ingest_event_to_searchable_seconds_sum") || strings.HasPrefix(line, "aisle_ingest_event_to_searchable_seconds_count") {
			t.Logf("consumer histogram (record timestamp to Sink): %s", strings.TrimSpace(line))
		}
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// processCPU returns the user and system CPU time of the process so far:
// on a loaded machine it moves far less than the wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// profile starts a CPU profile into the file the environment variable
// names, if it does, and returns what stops it.
func profile(t *testing.T, env string) func() {
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// TestRestartFresh times a restart in a new process, as serve's would be:
// the engine and ingest.New over the snapshots and logs TestFreshness left
// in AISLE_RESTART_DIR (run it with AISLE_KEEP_DIR first). Loading reads
// only files; the broker address is never dialled by New.
//
//	AISLE_RESTART_DIR=/tmp/x go test ./app -run TestRestartFresh -v
func TestRestartFresh(t *testing.T) {
	dir := os.Getenv("AISLE_RESTART_DIR")
	if dir == "" {
		t.Skip("set AISLE_RESTART_DIR to a directory TestFreshness kept (AISLE_KEEP_DIR)")
	}
	defer loadingHeap()()
	start := time.Now()
	eng, err := search.New(search.Options{Shards: 8})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ingest.New(ingest.Options{Brokers: []string{"127.0.0.1:9"}, Dir: dir, Partitions: 8, Sink: eng, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("restart in a new process: %d products in %.2f s; heap %d MB in use, %d MB from the OS", eng.Len(), took.Seconds(), ms.HeapInuse>>20, ms.Sys>>20)
	if eng.Len() == 0 {
		t.Error("nothing loaded")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err != nil || n <= 0 {
		return def
	}
	return n
}
