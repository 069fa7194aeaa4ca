package index

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// zipfShard returns a one-segment shard of n products whose titles (3 to
// 12 words) and descriptions draw from a vocabulary of 20,000 words with
// Zipf popularity, with varied business signals, as a catalog has.
func zipfShard(tb testing.TB, n int) *Shard {
	tb.Helper()
	r := rand.New(rand.NewPCG(11, 12))
	z := rand.NewZipf(r, 1.07, 2, 19999)
	words := func(k int) string {
		var b strings.Builder
		for range k {
			fmt.Fprintf(&b, "w%d ", z.Uint64())
		}
		return b.String()
	}
	ps := make([]*catalog.Product, n)
	for i := range ps {
		ps[i] = &catalog.Product{
			ID: fmt.Sprintf("p%d", i), Title: words(3 + r.IntN(10)), Description: words(r.IntN(30)),
			Brand: fmt.Sprintf("b%d", r.IntN(500)), Category: []string{"c", fmt.Sprintf("c%d", r.IntN(50))},
			Rating:        catalog.Rating{Avg: float64(r.IntN(51)) / 10, Count: r.IntN(300)},
			SalesVelocity: r.ExpFloat64() * 3, SellerQuality: r.Float64(),
			CreatedAt: mergeNow.Add(-time.Duration(r.IntN(20000)) * time.Hour),
			Variants:  []catalog.Variant{{ID: "v", Price: catalog.Money{Amount: 100 + r.Int64N(50000), Currency: "USD"}, Stock: map[string]int{"w": r.IntN(3)}}},
		}
	}
	s, err := NewShard(Options{Rank: rank.DefaultOptions(), Dicts: NewDicts(), Now: func() time.Time { return mergeNow }})
	if err != nil {
		tb.Fatal(err)
	}
	s.Apply(ps, nil)
	return s
}

// BenchmarkBlockMax compares the block-max walk with the exhaustive one on
// one shard of 125,000 products (1M products over 8 shards), top 10, for
// queries of one and two words from the head of the vocabulary (many
// matches) and its middle, without and with facets.
func BenchmarkBlockMax(b *testing.B) {
	s := zipfShard(b, 125_000)
	v := s.View()
	var avg rank.FieldStats
	ls := v.LenSum()
	for f := range ls {
		avg.AvgLen[f] = float64(ls[f]) / float64(v.Docs())
	}
	ro := rank.DefaultOptions()
	for _, q := range []string{"w2", "w2 w3", "w5 w40", "w300"} {
		for _, facets := range []bool{false, true} {
			req := &Request{Filter: Filter{Category: -1}, K: 10, Rank: &ro, Fields: avg, Facets: facets}
			for _, w := range query.Words(q) {
				req.Words = append(req.Words, w.Terms)
				req.IDF = append(req.IDF, []float64{rank.IDF(v.Docs(), v.DocFreq(w.Terms[0]))})
			}
			for _, mode := range []string{"blockmax", "exhaustive"} {
				b.Run(fmt.Sprintf("q=%s/facets=%v/%s", strings.ReplaceAll(q, " ", "+"), facets, mode), func(b *testing.B) {
					req.NoPrune = mode == "exhaustive"
					var res Result
					b.ReportAllocs()
					c0 := cpuNanos()
					for b.Loop() {
						v.Search(req, &res)
					}
					// CPU time, not wall time, is what a loaded
					// machine leaves comparable.
					b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
					b.ReportMetric(float64(res.Total), "matches")
					b.ReportMetric(float64(res.scored), "scored")
				})
			}
		}
	}
}

// cpuNanos returns the process's CPU time (user and system).
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkColumnSort compares a sort by price with the text scored only
// for documents whose price can enter the top 10 against scoring every
// match, on the shard of BenchmarkBlockMax.
func BenchmarkColumnSort(b *testing.B) {
	s := zipfShard(b, 125_000)
	v := s.View()
	var avg rank.FieldStats
	ls := v.LenSum()
	for f := range ls {
		avg.AvgLen[f] = float64(ls[f]) / float64(v.Docs())
	}
	ro := rank.DefaultOptions()
	for _, q := range []string{"w2", "w5 w40"} {
		req := &Request{Filter: Filter{Category: -1}, K: 10, Rank: &ro, Fields: avg, Sort: query.SortPriceAsc}
		for _, w := range query.Words(q) {
			req.Words = append(req.Words, w.Terms)
			req.IDF = append(req.IDF, []float64{rank.IDF(v.Docs(), v.DocFreq(w.Terms[0]))})
		}
		for _, mode := range []string{"pruned", "exhaustive"} {
			b.Run(fmt.Sprintf("q=%s/%s", strings.ReplaceAll(q, " ", "+"), mode), func(b *testing.B) {
				req.NoPrune = mode == "exhaustive"
				var res Result
				b.ReportAllocs()
				c0 := cpuNanos()
				for b.Loop() {
					v.Search(req, &res)
				}
				b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(res.Total), "matches")
				b.ReportMetric(float64(res.scored), "scored")
			})
		}
	}
}

// BenchmarkRelaxedZipf is the engine's relaxed run (any of the words, top
// 10) on the shard of BenchmarkBlockMax, for queries shaped like the
// bench's log: four words of one product's title, so that few products
// match them all and the page is filled with partial matches.
func BenchmarkRelaxedZipf(b *testing.B) {
	s := zipfShard(b, 125_000)
	v := s.View()
	var avg rank.FieldStats
	ls := v.LenSum()
	for f := range ls {
		avg.AvgLen[f] = float64(ls[f]) / float64(v.Docs())
	}
	ro := rank.DefaultOptions()
	snap := s.snap.Load()
	var reqs []*Request
	for i := 0; len(reqs) < 50; i += 997 {
		ws := query.Words(snap.segs[0].docs[i%len(snap.segs[0].docs)].Title)
		if len(ws) < 4 {
			continue
		}
		req := &Request{Filter: Filter{Category: -1}, K: 10, Rank: &ro, Fields: avg, MinMatch: 1}
		for _, w := range ws[:4] {
			req.Words = append(req.Words, w.Terms)
			req.IDF = append(req.IDF, []float64{rank.IDF(v.Docs(), v.DocFreq(w.Terms[0]))})
		}
		reqs = append(reqs, req)
	}
	for _, facets := range []bool{false, true} {
		for _, mode := range []string{"maxscore", "exhaustive"} {
			b.Run(fmt.Sprintf("facets=%v/%s", facets, mode), func(b *testing.B) {
				var res Result
				scored, i := 0, 0
				b.ReportAllocs()
				c0 := cpuNanos()
				for b.Loop() {
					req := reqs[i%len(reqs)]
					i++
					req.NoPrune, req.Facets = mode == "exhaustive", facets
					v.Search(req, &res)
					scored += res.scored
				}
				b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(scored)/float64(b.N), "scored/op")
			})
		}
	}
}

// BenchmarkFacetSample compares facets counted exactly with facets counted
// over the segment's 1-in-8 sample, on the shard of BenchmarkBlockMax
// (125,000 products, top 10, pruning on): the browse page (every
// product), one very frequent word and one mid-frequency word.
func BenchmarkFacetSample(b *testing.B) {
	s := zipfShard(b, 125_000)
	v := s.View()
	var avg rank.FieldStats
	ls := v.LenSum()
	for f := range ls {
		avg.AvgLen[f] = float64(ls[f]) / float64(v.Docs())
	}
	ro := rank.DefaultOptions()
	for _, q := range []string{"", "w2", "w300"} {
		req := &Request{Filter: Filter{Category: -1}, K: 10, Rank: &ro, Fields: avg, Facets: true}
		for _, w := range query.Words(q) {
			req.Words = append(req.Words, w.Terms)
			req.IDF = append(req.IDF, []float64{rank.IDF(v.Docs(), v.DocFreq(w.Terms[0]))})
		}
		for _, mode := range []string{"sampled", "exact"} {
			b.Run(fmt.Sprintf("q=%s/%s", q, mode), func(b *testing.B) {
				req.FacetSampleAbove = 0
				if mode == "sampled" {
					req.FacetSampleAbove = 1000
				}
				var res Result
				b.ReportAllocs()
				c0 := cpuNanos()
				for b.Loop() {
					v.Search(req, &res)
				}
				b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(res.Total), "matches")
			})
		}
	}
}

// BenchmarkBrowse compares the browse page (no words, by relevance, top
// 20 and sponsored candidates, no facets) skipping ranges of documents by
// their best boost with the walk over every product, on the shard of
// BenchmarkBlockMax, all products and one category of 50.
func BenchmarkBrowse(b *testing.B) {
	s := zipfShard(b, 125_000)
	v := s.View()
	ro := rank.DefaultOptions()
	cat, _ := s.opts.Dicts.LookupCategory("c/c7")
	for _, c := range []struct {
		name string
		cat  int32
	}{{"all", -1}, {"category", int32(cat)}} {
		req := &Request{Filter: Filter{Category: c.cat}, K: 20, Sponsored: 4, Rank: &ro}
		for _, mode := range []string{"pruned", "exhaustive"} {
			b.Run(fmt.Sprintf("%s/%s", c.name, mode), func(b *testing.B) {
				req.NoPrune = mode == "exhaustive"
				var res Result
				b.ReportAllocs()
				c0 := cpuNanos()
				for b.Loop() {
					v.Search(req, &res)
				}
				b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(res.Total), "matches")
			})
		}
	}
}
