package search

import (
	"context"
	"reflect"
	"testing"

	"github.com/aisle/aisle/catalog"
)

// An engine loaded shard by shard from another's snapshots answers every
// request the same, finds products by variant, and spells the same.
func TestEngineShardSnapshots(t *testing.T) {
	ps := fixture(3000, 7)
	src := newEngine(t, 4, ps)
	// Later batches and deletions make several segments per shard.
	if err := src.Upsert(fixture(400, 8)...); err != nil {
		t.Fatal(err)
	}
	if err := src.Delete(ps[1].ID, ps[2].ID, ps[50].ID); err != nil {
		t.Fatal(err)
	}
	if err := src.RebuildSpelling(); err != nil {
		t.Fatal(err)
	}
	byID := map[string]*catalog.Product{}
	src.Each(func(p *catalog.Product) bool { byID[p.ID] = p; return true })
	// Every other live product is written by reference, as ingest does
	// for those whose indexed copy is the record's content; replaced and
	// deleted copies are written whole.
	ref := func(p *catalog.Product) bool { return byID[p.ID] == p && p.ID[len(p.ID)-1]%2 == 0 }

	dst, err := New(Options{Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	// A product the destination held before is replaced by the load.
	if err := dst.Upsert(fixture(50, 99)...); err != nil {
		t.Fatal(err)
	}
	for p := range 4 {
		b := src.CaptureShard(p)(nil, ref)
		resolved := 0
		err := dst.LoadShard(p, b, func(id string) (*catalog.Product, bool) {
			resolved++
			q, ok := byID[id]
			return q, ok
		})
		if err != nil {
			t.Fatalf("shard %d: %v", p, err)
		}
		if resolved == 0 {
			t.Errorf("shard %d: no product was resolved by reference", p)
		}
	}
	if err := dst.RebuildSpelling(); err != nil {
		t.Fatal(err)
	}
	if dst.Len() != src.Len() {
		t.Fatalf("loaded %d products, want %d", dst.Len(), src.Len())
	}
	ctx := context.Background()
	for _, q := range []string{"", "wireless headphones", "red", "sony speaker", "portable bluetooth charger", "laptop cable black", "wireles", "xyzzy"} {
		for _, facets := range []bool{false, true} {
			r := &Request{Query: q, Page: 1, PageSize: 30, Facets: facets}
			a, errA := src.Search(ctx, r)
			b, errB := dst.Search(ctx, r)
			if errA != nil || errB != nil {
				t.Fatalf("%q: %v %v", q, errA, errB)
			}
			a.Took, b.Took = 0, 0
			if q != "xyzzy" && a.Total == 0 {
				t.Errorf("%q finds nothing; the comparison proves little", q)
			}
			if !reflect.DeepEqual(a.Facets, b.Facets) {
				t.Errorf("%q: facets differ:\n%+v\n%+v", q, *a.Facets, *b.Facets)
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%q (facets %v): results differ after loading the snapshots:\n%+v\n%+v", q, facets, a, b)
			}
		}
	}
	for _, p := range ps[3:40] {
		for i := range p.Variants {
			got, ok := dst.ProductOfVariant(p.Variants[i].ID)
			want, _ := src.ProductOfVariant(p.Variants[i].ID)
			if ok != (want != nil) || (ok && got.ID != want.ID) {
				t.Errorf("variant %s: %v %v, want %v", p.Variants[i].ID, got, ok, want)
			}
		}
	}
	if err := dst.LoadShard(9, nil, nil); err == nil {
		t.Error("loading shard 9 of 4 must fail")
	}
}
