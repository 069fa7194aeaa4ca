package commerce

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// latencies collects per-operation latencies from many goroutines and
// reports p50, p99 and operations per second.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B, elapsed time.Duration, unit string) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	q := func(p float64) float64 { return float64(l.d[int(p*float64(len(l.d)-1))].Microseconds()) }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), unit+"/s")
}

// BenchmarkCartWrite adds a line to one of 10,000 carts per operation,
// each write fsynced: serially (one writer), and from many goroutines
// with and without group commit.
func BenchmarkCartWrite(b *testing.B) {
	for _, c := range []struct {
		name  string
		group bool
		par   int
	}{{"serial", false, 0}, {"goroutines=16/group=false", false, 8}, {"goroutines=16/group=true", true, 8},
		{"goroutines=64/group=true", true, 32}} {
		b.Run(c.name, func(b *testing.B) {
			s := openStore(b, "r", c.group)
			var l latencies
			var n atomic.Int64
			write := func() {
				i := n.Add(1)
				t0 := time.Now()
				_, err := s.Update(fmt.Sprintf("user-%d", i%10_000), func(cart *Cart) error {
					return cart.Add(fmt.Sprintf("variant-%d", i%7), 1)
				})
				l.add(time.Since(t0))
				if err != nil {
					b.Error(err)
				}
			}
			b.ReportAllocs()
			start := time.Now()
			if c.par == 0 {
				for b.Loop() {
					write()
				}
			} else {
				b.SetParallelism(c.par)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						write()
					}
				})
			}
			l.report(b, time.Since(start), "writes")
		})
	}
}

// BenchmarkCheckout confirms three-line hard reservations from 128
// goroutines (64 per core), each fsynced, with and without group commit.
func BenchmarkCheckout(b *testing.B) {
	for _, group := range []bool{false, true} {
		b.Run(fmt.Sprintf("group=%v", group), func(b *testing.B) {
			s := openStore(b, "r", group)
			const variants = 1000
			err := s.db.update(func(tx kvTx) error {
				for v := range variants {
					for w := range 3 {
						st := Stock{ProductID: "p", VariantID: fmt.Sprintf("v%d", v), WarehouseID: fmt.Sprintf("w%d", w), Available: 1 << 40}
						if err := putStock(tx, &st); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			var l latencies
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(64)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					lines := []Line{
						{fmt.Sprintf("v%d", i%variants), "w0", 1},
						{fmt.Sprintf("v%d", (i*7)%variants), "w1", 2},
						{fmt.Sprintf("v%d", (i*13)%variants), "w2", 1},
					}
					t0 := time.Now()
					_, err := s.HardReserve(fmt.Sprintf("order-%d", i), lines)
					l.add(time.Since(t0))
					if err != nil {
						b.Error(err)
					}
				}
			})
			l.report(b, time.Since(start), "checkouts")
		})
	}
}
