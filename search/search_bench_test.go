package search

import (
	"context"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/query"
)

var store struct {
	once    sync.Once
	eng     *Engine
	queries []string
	err     error
}

// storeEngine returns an engine over the shipped default store, built once
// per test binary.
func storeEngine(b *testing.B) (*Engine, []string) {
	store.once.Do(func() {
		ps, err := corpora.DefaultStore()
		if err != nil {
			store.err = err
			return
		}
		e, err := New(Options{})
		if err != nil {
			store.err = err
			return
		}
		if store.err = e.Upsert(ps...); store.err != nil {
			return
		}
		js, err := corpora.IcecatJudgments()
		if err != nil {
			store.err = err
			return
		}
		seen := map[string]bool{}
		for _, j := range js {
			if !seen[j.Query] {
				seen[j.Query] = true
				store.queries = append(store.queries, j.Query)
			}
		}
		store.eng = e
	})
	if store.err != nil {
		b.Fatal(store.err)
	}
	return store.eng, store.queries
}

func BenchmarkSearch(b *testing.B) {
	e, _ := storeEngine(b)
	cases := []struct {
		name string
		req  Request
	}{
		{"single", Request{Query: "wireless mouse"}},
		{"filters+facets", Request{Query: "headphones", Facets: true, Filter: query.Filter{
			Brands: []string{"sony", "philips", "jbl"}, PriceMax: 20000, HasPriceMax: true, InStock: true}}},
		{"sort=price", Request{Query: "usb cable", Sort: query.SortPriceAsc}},
		{"relaxed", Request{Query: "wireless mouse zebra"}},
		{"browse+facets", Request{Facets: true, Filter: query.Filter{Category: "snacks"}}},
		{"broad+facets", Request{Query: "black", Facets: true}},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := c.req
			res, err := e.Search(ctx, &r)
			if err != nil || res.Total == 0 {
				b.Fatalf("%+v: total %d, err %v", c.req, res.Total, err)
			}
			lat := make([]time.Duration, 0, 1<<16)
			b.ReportAllocs()
			for b.Loop() {
				t := time.Now()
				if _, err := e.Search(ctx, &r); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t))
				}
			}
			reportLatency(b, lat)
		})
	}
}

// BenchmarkJudgedQueries replays the judged Icecat queries, each with all
// facets, from GOMAXPROCS goroutines: run with -cpu 1,2 for queries per
// second on 1 and 2 cores.
func BenchmarkJudgedQueries(b *testing.B) {
	e, qs := storeEngine(b)
	var mu sync.Mutex
	var lat []time.Duration
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		i := 0
		for pb.Next() {
			r := Request{Query: qs[i%len(qs)], Facets: true}
			i++
			t := time.Now()
			if _, err := e.Search(context.Background(), &r); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, sort.Search(len(lat), func(i int) bool { return float64(i) >= p*float64(len(lat)) }))].Microseconds())
	}
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}
