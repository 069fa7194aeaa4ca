package recs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
)

// synthProducts makes n products of titles only, over 20 top-level
// categories of 10 leaves, each leaf with its own vocabulary of 30 words
// plus 300 words shared by all: data shaped unlike any shipped corpus.
func synthProducts(n int, seed uint64) []*catalog.Product {
	rng := rand.New(rand.NewPCG(seed, 7))
	word := func(pool, i int) string { return fmt.Sprintf("w%dx%d", pool, i) }
	ps := make([]*catalog.Product, n)
	for i := range ps {
		top, leaf := rng.IntN(20), rng.IntN(10)
		pool := top*10 + leaf
		title := ""
		for j := range 4 + rng.IntN(6) {
			if j > 0 {
				title += " "
			}
			if rng.IntN(3) == 0 {
				title += word(999, rng.IntN(300))
			} else {
				title += word(pool, rng.IntN(30))
			}
		}
		ps[i] = textProduct(fmt.Sprintf("s%d", i), title, fmt.Sprintf("Top %d", top), fmt.Sprintf("Leaf %d-%d", top, leaf))
	}
	return ps
}

// BenchmarkContentVector is the content vector of one product at index
// time; s/1M extrapolates to a million products on one core.
func BenchmarkContentVector(b *testing.B) {
	ps := synthProducts(20000, 1)
	c, err := NewContent(ps, ContentOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var s contentScratch
	dst := make([]float32, 0, c.Dim())
	i := 0
	b.ReportAllocs()
	start, cpu := time.Now(), cpuTime()
	for b.Loop() {
		dst = c.vector(dst[:0], ps[i%len(ps)], &s)
		i++
	}
	// The wall time counts what other processes take of a shared core;
	// the process's CPU time does not.
	b.ReportMetric(time.Since(start).Seconds()/float64(i)*1e6, "s/1M")
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(i)*1e6, "cpu-s/1M")
}

// cpuTime is the user and system time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSimilarServe asks similar items and also-bought (with their
// fallbacks) of random products of a store of 50,000 where one product in
// four sells, and reports the 99th percentile of a request beside the
// mean.
func BenchmarkSimilarServe(b *testing.B) {
	ps := synthProducts(50000, 2)
	o := Orders{}
	for _, p := range ps {
		o.Items = append(o.Items, p.ID)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for range 100000 {
		x := rng.IntN(len(ps)/4) * 4
		o.Baskets = append(o.Baskets, []int32{int32(x), int32((x + 4*(1+rng.IntN(5))) % len(ps)), int32(rng.IntN(len(ps)/4) * 4)})
	}
	l, err := Build(context.Background(), o, Options{})
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewContent(ps, ContentOptions{})
	if err != nil {
		b.Fatal(err)
	}
	sim, err := BuildSimilar(context.Background(), ps, c, nil, nil, SimilarOptions{})
	if err != nil {
		b.Fatal(err)
	}
	st := store{}
	for _, p := range ps {
		st[p.ID] = p
	}
	r := NewRecs(Fresh{Lists: l, Live: NewLive(LiveOptions{})}, sim, ps, CategoryOptions{})
	for _, kind := range []string{"similar", "also-bought"} {
		b.Run("kind="+kind, func(b *testing.B) {
			var took []time.Duration
			var items []Item
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				id := ps[(i*7919)%len(ps)].ID
				i++
				t := time.Now()
				if kind == "similar" {
					items = sim.Similar(items[:0], id, 10, st)
				} else {
					items = r.AlsoBought(items[:0], id, 10, st)
				}
				took = append(took, time.Since(t))
				if len(items) == 0 {
					b.Fatalf("%s of %s: none", kind, id)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		})
	}
}
