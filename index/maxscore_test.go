package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

func TestAtLeast(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		n := 1 + r.IntN(maxComboWords)
		sets := make([]*roaring.Bitmap, n)
		for i := range sets {
			sets[i] = roaring.New()
			for range r.IntN(200) {
				sets[i].Add(uint32(r.IntN(300)))
			}
		}
		for m := 1; m <= n; m++ {
			got := atLeast(sets, m)
			for d := range uint32(300) {
				c := 0
				for _, s := range sets {
					if s.Contains(d) {
						c++
					}
				}
				if (c >= m) != got.Contains(d) {
					t.Fatalf("n=%d m=%d doc %d in %d sets: atLeast says %v", n, m, d, c, got.Contains(d))
				}
			}
		}
	}
}

// TestMaxScoreEqualsExhaustive checks that pruning changes nothing: the
// top-k, the total and the facets of a relaxed query are the same with
// MaxScore as with the exhaustive walk, for many queries and k, with and
// without facets and a price filter (whose facet is counted without it).
func TestMaxScoreEqualsExhaustive(t *testing.T) {
	words := []string{"steel", "kettle", "glass", "black", "electric", "cordless", "travel", "mini", "pro", "blue"}
	r := rand.New(rand.NewPCG(5, 6))
	s := newShard(t)
	var ps []*catalog.Product
	for i := range 3000 {
		title := ""
		for range 1 + r.IntN(5) {
			title += words[int(r.ExpFloat64()*2)%len(words)] + " "
		}
		p := product(fmt.Sprintf("p%d", i), title)
		p.SalesVelocity = r.Float64() * 20
		p.Variants[0].Price.Amount = 100 + r.Int64N(20000)
		p.Brand = fmt.Sprintf("b%d", r.IntN(6))
		p.Rating.Avg = float64(r.IntN(51)) / 10
		ps = append(ps, p)
	}
	// Three batches, so pruning works across segments.
	s.Apply(ps[:1000], nil)
	s.Apply(ps[1000:2500], nil)
	s.Apply(ps[2500:], []string{"p3", "p1200"})
	v := s.View()
	ro := rank.DefaultOptions()
	pruned := 0
	for q := range 200 {
		nw := 2 + r.IntN(4)
		req := &Request{Filter: Filter{Category: -1}, K: 1 + r.IntN(40), MinMatch: 1 + r.IntN(nw-1), Rank: &ro,
			Facets: r.IntN(2) == 0}
		if r.IntN(3) == 0 {
			req.Filter.PriceMax, req.Filter.HasPriceMax = 1000+r.Int64N(5000), true
		}
		for range nw {
			w := query.Words(words[r.IntN(len(words))])[0]
			df := v.DocFreq(w.Terms[0])
			req.Words = append(req.Words, w.Terms)
			req.IDF = append(req.IDF, []float64{rank.IDF(v.Docs(), df)})
		}
		var a, b Result
		v.Search(req, &a)
		ev := evaluator{r: req}
		ev.words = make([]*roaring.Bitmap, nw)
		if ev.prunable() {
			pruned++
		}
		req.NoPrune = true
		v.Search(req, &b)
		if a.Total != b.Total {
			t.Fatalf("query %d: total %d pruned, %d exhaustive", q, a.Total, b.Total)
		}
		ids := func(hs []Hit) []string {
			var out []string
			for _, h := range hs {
				out = append(out, fmt.Sprintf("%s:%.6f", h.Product.ID, h.Key))
			}
			return out
		}
		if fa, fb := fmt.Sprint(a.Facets), fmt.Sprint(b.Facets); fa != fb {
			t.Fatalf("query %d: facets pruned %s, exhaustive %s", q, fa, fb)
		}
		if !slices.Equal(ids(a.Hits), ids(b.Hits)) {
			t.Fatalf("query %d %v min %d k %d:\npruned     %v\nexhaustive %v", q, req.Words, req.MinMatch, req.K, ids(a.Hits), ids(b.Hits))
		}
	}
	if pruned < 100 {
		t.Fatalf("only %d of 200 queries took the MaxScore path", pruned)
	}
}

// BenchmarkRelaxed compares MaxScore with the exhaustive walk on a
// relaxed query (two of three words) over 100,000 products, top 20,
// without and with facets (counted by their own pass either way).
func BenchmarkRelaxed(b *testing.B) {
	words := []string{"steel", "kettle", "glass", "black", "electric", "cordless", "travel", "mini", "pro", "blue"}
	r := rand.New(rand.NewPCG(5, 6))
	s := newShard(b)
	var ps []*catalog.Product
	for i := range 100000 {
		title := ""
		for range 1 + r.IntN(5) {
			title += words[int(r.ExpFloat64()*2)%len(words)] + " "
		}
		p := product(fmt.Sprintf("p%d", i), title)
		p.Brand = fmt.Sprintf("b%d", r.IntN(200))
		p.Variants[0].Price.Amount = 100 + r.Int64N(50000)
		ps = append(ps, p)
	}
	s.Apply(ps, nil)
	v := s.View()
	ro := rank.DefaultOptions()
	// Two of three frequent words, and the engine's relaxed run (any of
	// the words) of three rarer ones.
	for _, c := range []struct {
		words []string
		min   int
	}{{[]string{"steel", "kettle", "cordless"}, 2}, {[]string{"blue", "pro", "mini"}, 1}} {
		req := &Request{Filter: Filter{Category: -1}, K: 20, MinMatch: c.min, Rank: &ro}
		for _, w := range c.words {
			t := query.Words(w)[0].Terms
			req.Words = append(req.Words, t)
			req.IDF = append(req.IDF, []float64{rank.IDF(v.Docs(), v.DocFreq(t[0]))})
		}
		for _, facets := range []bool{false, true} {
			for _, mode := range []string{"maxscore", "exhaustive"} {
				b.Run(fmt.Sprintf("q=%s/min=%d/facets=%v/%s", strings.Join(c.words, "+"), c.min, facets, mode), func(b *testing.B) {
					req.NoPrune = mode == "exhaustive"
					req.Facets = facets
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
}
