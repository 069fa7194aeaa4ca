package search

import (
	"context"
	"testing"

	"github.com/aisle/aisle/query"
)

// TestResponseCache checks the response cache's contract: a repeated
// first page is answered from it, with the query's spacing normalized and
// the attribute filters in any order; pages past the first and NoCache
// requests bypass it; and any change to the catalog or the synonyms makes
// the next answer fresh.
func TestResponseCache(t *testing.T) {
	e, err := New(Options{NoSpell: true})
	if err != nil {
		t.Fatal(err)
	}
	ps := fixture(300, 1)
	if err := e.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	search := func(r Request) *Result {
		t.Helper()
		res, err := e.Search(ctx, &r)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	hits := func() uint64 { return e.ResponseCacheStats().Hits }
	colors := map[string][]string{"color": {"black", "white"}}
	r := Request{Query: "wireless headphones", Facets: true, Filter: query.Filter{Attrs: colors}}
	first := search(r)
	if first.Total == 0 {
		t.Fatal("fixture: no match")
	}
	r.Query = "  wireless   headphones "
	if got := search(r); hits() != 1 || got.Total != first.Total || len(got.Hits) != len(first.Hits) {
		t.Fatalf("repeat: %d hits of the cache, total %d (want 1, %d)", hits(), got.Total, first.Total)
	}
	for _, bypass := range []Request{{Query: r.Query, Page: 2}, {Query: r.Query, NoCache: true}} {
		search(bypass)
		search(bypass)
	}
	if hits() != 1 {
		t.Fatalf("page 2 and NoCache hit the cache: %d hits", hits())
	}
	// A change to the catalog: the product that matched first drops out.
	top := first.Hits[0].Product
	if err := e.Delete(top.ID); err != nil {
		t.Fatal(err)
	}
	after := search(r)
	if hits() != 1 {
		t.Fatalf("a search after a delete hit the cache")
	}
	if after.Total != first.Total-1 {
		t.Fatalf("total %d after deleting a match, want %d", after.Total, first.Total-1)
	}
	for _, h := range after.Hits {
		if h.Product.ID == top.ID {
			t.Fatalf("deleted product %s still on the page", top.ID)
		}
	}
	search(r)
	if hits() != 2 {
		t.Fatalf("%d hits: the repeat after the delete missed", hits())
	}
	e.SetSynonyms(nil)
	search(r)
	if hits() != 2 {
		t.Fatal("a search after new synonyms hit the cache")
	}
	if st := e.ResponseCacheStats(); st.Bytes == 0 || st.Misses == 0 || st.Capacity != 32<<20 {
		t.Fatalf("stats %+v", st)
	}
	off, err := New(Options{NoSpell: true, ResponseCacheBytes: -1, FilterCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := off.Search(ctx, &r); err != nil || off.ResponseCacheStats() != (CacheStats{}) {
		t.Fatalf("cache off: %v, stats %+v", err, off.ResponseCacheStats())
	}
}
