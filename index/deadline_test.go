package index

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// stopAfter is a context whose Err is nil for its first n calls and
// context.Canceled after: a deadline passing mid-walk, without a clock.
type stopAfter struct {
	context.Context
	n atomic.Int64
}

func (c *stopAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestSearchContextStopsMidShard: a search whose context ends while a
// shard is walked stops within a few thousand documents (issue 14 item
// 13: before, a shard always finished), and answers nothing. The pruned
// walks (block-max, MaxScore) check through the same per-document count
// of what they score, so they stop after as many scored documents; they
// score few, which is why these cases turn pruning off.
func TestSearchContextStopsMidShard(t *testing.T) {
	const n = 40_000
	s := zipfShard(t, n)
	v := s.View()
	var avg rank.FieldStats
	ls := v.LenSum()
	for f := range ls {
		avg.AvgLen[f] = float64(ls[f]) / float64(v.Docs())
	}
	ro := rank.DefaultOptions()
	req := func(q string, edit func(*Request)) *Request {
		r := &Request{Filter: Filter{Category: -1}, K: 10, Rank: &ro, Fields: avg}
		for _, w := range query.Words(q) {
			r.Words = append(r.Words, w.Terms)
			r.IDF = append(r.IDF, []float64{rank.IDF(v.Docs(), v.DocFreq(w.Terms[0]))})
		}
		if edit != nil {
			edit(r)
		}
		return r
	}
	for _, c := range []struct {
		name string
		r    *Request
	}{
		{"every product by price", req("", func(r *Request) { r.Sort = query.SortPriceAsc })},
		{"exhaustive", req("w2", func(r *Request) { r.NoPrune = true })},
		{"relaxed exhaustive", req("w2 w3 w5", func(r *Request) { r.MinMatch = 1; r.NoPrune = true })},
	} {
		t.Run(c.name, func(t *testing.T) {
			var full Result
			if err := v.SearchContext(context.Background(), c.r, &full); err != nil {
				t.Fatal(err)
			}
			if full.Total < 2*checkEvery {
				t.Fatalf("%d matches: too few to show a stop", full.Total)
			}
			var res Result
			ctx := &stopAfter{Context: context.Background()}
			ctx.n.Store(2) // the entry check and the first segment's pass
			err := v.SearchContext(ctx, c.r, &res)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v; want context.Canceled", err)
			}
			if len(res.Hits) != 0 || res.Total != 0 {
				t.Errorf("a stopped search answered %d hits of %d", len(res.Hits), res.Total)
			}
			// What ran before the stop, read before SearchContext's
			// reset: at most a few thousand documents past the check.
			var stopped Result
			ctx.n.Store(2)
			func() {
				defer func() {
					if p := recover(); p != errStopped {
						t.Errorf("recovered %v; want errStopped", p)
					}
				}()
				v.search(ctx, c.r, &stopped)
			}()
			if stopped.Total >= full.Total || stopped.scored > 2*checkEvery {
				t.Errorf("stopped after counting %d of %d matches and scoring %d (in full %d); want a stop within %d documents",
					stopped.Total, full.Total, stopped.scored, full.scored, 2*checkEvery)
			}
			t.Logf("in full %d matches, %d scored; stopped after %d counted, %d scored", full.Total, full.scored, stopped.Total, stopped.scored)
		})
	}
}

// TestSearchContextStopsInFacetsAndPrunedWalks: the loops that score
// nothing check the deadline too (issue 14 item 13): facet counting of
// every match (before, once per segment), and the documents a pruned walk
// passes without scoring (block-max's skipped blocks and documents,
// MaxScore's candidates outside the filters). A search stopped after the
// first segment check has counted or walked at most a few thousand
// documents.
func TestSearchContextStopsInFacetsAndPrunedWalks(t *testing.T) {
	const n = 40_000
	s := zipfShard(t, n)
	v := s.View()
	var avg rank.FieldStats
	ls := v.LenSum()
	for f := range ls {
		avg.AvgLen[f] = float64(ls[f]) / float64(v.Docs())
	}
	ro := rank.DefaultOptions()
	req := func(q string, edit func(*Request)) *Request {
		r := &Request{Filter: Filter{Category: -1}, K: 10, Rank: &ro, Fields: avg}
		for _, w := range query.Words(q) {
			r.Words = append(r.Words, w.Terms)
			r.IDF = append(r.IDF, []float64{rank.IDF(v.Docs(), v.DocFreq(w.Terms[0]))})
		}
		if edit != nil {
			edit(r)
		}
		return r
	}
	// facetDocs is the documents whose category leaf was counted (the
	// price buckets are added up at the end of a segment).
	facetDocs := func(res *Result) (n uint32) {
		for _, c := range res.Facets.Leaf {
			n += c
		}
		return n
	}
	for _, c := range []struct {
		name string
		r    *Request
		// work is what the evaluation counted or walked.
		work func(*Result) int
	}{
		{"facets of every product", req("", func(r *Request) { r.Sort = query.SortPriceAsc; r.Facets = true }),
			func(res *Result) int { return int(facetDocs(res)) }},
		{"facets with a price filter", req("", func(r *Request) {
			r.Sort = query.SortPriceAsc
			r.Facets = true
			r.Filter.HasPriceMin, r.Filter.PriceMin = true, 1
		}), func(res *Result) int { return int(facetDocs(res)) }},
		{"block-max walk", req("w0", func(r *Request) { r.K = 1000 }), func(res *Result) int { return res.scored + res.skipped }},
		{"MaxScore walk", req("w0 w1 w3", func(r *Request) {
			// Candidates come from the words' documents among the
			// matches (a filter no longer leaves any outside), so a
			// deep page makes the walk long.
			r.MinMatch = 1
			r.K = 5000
		}),
			func(res *Result) int { return res.scored + res.skipped }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var full Result
			if err := v.SearchContext(context.Background(), c.r, &full); err != nil {
				t.Fatal(err)
			}
			if c.work(&full) < 3*checkEvery {
				t.Fatalf("%d documents counted or walked (%d scored, %d skipped): too few to show a stop", c.work(&full), full.scored, full.skipped)
			}
			var stopped Result
			ctx := &stopAfter{Context: context.Background()}
			ctx.n.Store(2) // the entry check and the first segment's pass
			func() {
				defer func() {
					if p := recover(); p != errStopped {
						t.Errorf("recovered %v; want errStopped", p)
					}
				}()
				v.search(ctx, c.r, &stopped)
			}()
			if got := c.work(&stopped); got > 2*checkEvery {
				t.Errorf("stopped after %d documents counted or walked (in full %d); want a stop within %d", got, c.work(&full), 2*checkEvery)
			}
			t.Logf("in full %d documents (%d scored, %d skipped); stopped after %d", c.work(&full), full.scored, full.skipped, c.work(&stopped))
		})
	}
}
