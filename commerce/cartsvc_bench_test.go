package commerce

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkUpdateCart is the store's part of a cart write as the API
// makes it: the cart, its outbox record and its soft hold in one fsynced
// transaction, with group commit, from 8 goroutines over 10,000 carts and
// 50 variants with stock in 3 warehouses.
//
//	go test -run '^$' -bench BenchmarkUpdateCart -benchtime 2000x ./commerce
func BenchmarkUpdateCart(b *testing.B) {
	s := openStore(b, "r", true)
	for v := range 50 {
		for w := range 3 {
			if _, err := s.SetStock("p", fmt.Sprintf("v%d", v), fmt.Sprintf("w%d", w), 1_000_000); err != nil {
				b.Fatal(err)
			}
		}
	}
	var l latencies
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0))) // 8 writers

	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			t0 := time.Now()
			_, err := s.UpdateCart(fmt.Sprintf("user-%d", i%10_000), CartLimits{}, func(c *Cart) error {
				return c.SetQuantity(fmt.Sprintf("v%d", i%50), 1+int(i%5))
			})
			l.add(time.Since(t0))
			if err != nil {
				b.Error(err)
			}
		}
	})
	l.report(b, time.Since(start), "writes")
}
