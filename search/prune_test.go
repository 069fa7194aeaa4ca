package search

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/aisle/aisle/corpora"
)

// TestPruningKeepsRanking runs every judged Icecat query on the Icecat
// catalog with dynamic pruning on and off, blended and plain, at the page
// sizes the storefront and the relevance workload use, and requires the
// same answer: hits in order with their scores, total, facets. Equal
// pages give equal NDCG@10, the relevance target.
func TestPruningKeepsRanking(t *testing.T) {
	ps, err := corpora.Icecat()
	if err != nil {
		t.Fatal(err)
	}
	js, err := corpora.IcecatJudgments()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{NoSpell: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	n := 0
	for _, j := range js {
		if seen[j.Query] {
			continue
		}
		seen[j.Query] = true
		// The storefront's page (blended, facets) and the relevance
		// workload's (top 100), plain.
		for _, r := range []Request{{Query: j.Query, PageSize: 10, Facets: true, NoCache: true}, {Query: j.Query, PageSize: 100, Plain: true, NoCache: true}} {
			// Twice: the second search of a word prunes with it even
			// where the first did not build its block metadata.
			a := answer(t, e, r)
			if again := answer(t, e, r); again != a {
				t.Fatalf("%q answers differently the second time:\n%s\nthen\n%s", j.Query, a, again)
			}
			r.NoPrune = true
			if b := answer(t, e, r); a != b {
				t.Fatalf("%q (plain %v, page size %d) pruned:\n%s\nnot pruned:\n%s", j.Query, r.Plain, r.PageSize, a, b)
			}
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d comparisons", n)
	}
}

func answer(t *testing.T, e *Engine, r Request) string {
	t.Helper()
	res, err := e.Search(context.Background(), &r)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "total %d relaxed %v\n", res.Total, res.Relaxed)
	for _, h := range res.Hits {
		fmt.Fprintf(&b, "%s %v %v\n", h.Product.ID, h.Score, h.Sponsored)
	}
	if res.Facets != nil {
		fmt.Fprintf(&b, "%+v\n", *res.Facets)
	}
	return b.String()
}

// TestFacetSampling checks the engine's sampled facets: with a threshold
// below the shards' match sets the facets are flagged Sampled and each
// count is a multiple of the sample rate near the exact count; with the
// default threshold on the same catalog they are exact and not flagged;
// the page and the total do not change.
func TestFacetSampling(t *testing.T) {
	ps := fixture(4000, 61)
	run := func(above int) *Result {
		t.Helper()
		e, err := New(Options{NoSpell: true, Shards: 2, FacetSampleAbove: above, ResponseCacheBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Upsert(ps...); err != nil {
			t.Fatal(err)
		}
		res, err := e.Search(context.Background(), &Request{Query: "wireless", Facets: true})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	exact, sampled := run(0), run(100)
	if exact.Facets.Sampled || !sampled.Facets.Sampled {
		t.Fatalf("sampled flags: default threshold %v, threshold 100 %v", exact.Facets.Sampled, sampled.Facets.Sampled)
	}
	if exact.Total != sampled.Total || len(exact.Hits) != len(sampled.Hits) || exact.Hits[0].Product.ID != sampled.Hits[0].Product.ID {
		t.Fatalf("the page changed: total %d/%d", exact.Total, sampled.Total)
	}
	want := map[string]int{}
	for _, b := range exact.Facets.Brand {
		want[b.Value] = b.Count
	}
	for _, b := range sampled.Facets.Brand {
		c := float64(want[b.Value])
		if b.Count%8 != 0 || math.Abs(float64(b.Count)-c) > 5*math.Sqrt(7*c) {
			t.Errorf("brand %s: %d sampled, %v exact", b.Value, b.Count, c)
		}
	}
	t.Logf("total %d; brands exact %v, sampled %v", exact.Total, exact.Facets.Brand, sampled.Facets.Brand)
}
