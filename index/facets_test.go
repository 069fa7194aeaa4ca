package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/rank"
)

// TestFacetCountsBruteForce checks the column-wise facet counting against
// counts made product by product from every hit of the same request:
// price and rating buckets, leaves, brands and attribute values, for
// random requests over a shard of several segments with deletes.
func TestFacetCountsBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	s, err := NewShard(Options{Rank: rank.DefaultOptions(), Dicts: NewDicts(), FacetAttrs: []string{"Color", "Size"},
		MaxSegments: 100, Now: func() time.Time { return mergeNow }})
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		var ps []*catalog.Product
		for _, id := range r.Perm(3000)[:500+r.IntN(500)] {
			ps = append(ps, randProduct(r, fmt.Sprintf("p%d", id)))
		}
		s.Apply(ps, []string{fmt.Sprintf("p%d", r.IntN(3000))})
	}
	d := s.opts.Dicts
	checked, leafSeen := 0, 0
	for _, q := range randomRequests(r, s, 200) {
		f := &q.Filter
		if !q.Facets || len(f.Brands) > 0 || f.HasPriceMin || f.HasPriceMax || f.RatingMin > 0 || len(f.Attrs) > 0 {
			continue // a filtered facet is counted without its filter
		}
		var got, all Result
		s.View().Search(q, &got)
		every := *q
		every.K, every.Facets, every.Sponsored = 1<<20, false, 0
		s.View().Search(&every, &all)
		if len(all.Hits) != got.Total {
			t.Fatalf("%d hits, total %d", len(all.Hits), got.Total)
		}
		var price [len(PriceBuckets) + 1]uint32
		var rating [len(RatingBuckets)]uint32
		leaves, brands, colors := map[uint32]uint32{}, map[uint32]uint32{}, map[string]uint32{}
		for _, h := range all.Hits {
			p := h.Product
			price[priceBucket(h.Offer.Price.Amount)]++
			for i, th := range RatingBuckets {
				if float32(p.Rating.Avg) >= th {
					rating[i]++
				}
			}
			if o, ok := d.LookupCategory(catalog.CategorySlug(p.Category)); ok {
				leaves[o]++
			}
			if o, ok := d.LookupBrand(p.Brand); ok && p.Brand != "" {
				brands[o]++
			}
			if c, ok := p.Attributes["Color"]; ok {
				colors[c]++
			}
		}
		fc := &got.Facets
		if price != fc.Price || rating != fc.Rating {
			t.Fatalf("request %+v: price %v rating %v, brute force %v %v", q, fc.Price, fc.Rating, price, rating)
		}
		leafSeen += len(leaves)
		for o, c := range leaves {
			if fc.Leaf[o] != c {
				t.Fatalf("leaf %d: %d, brute force %d", o, fc.Leaf[o], c)
			}
		}
		for o, c := range brands {
			if fc.Brand[o] != c {
				t.Fatalf("brand %d: %d, brute force %d", o, fc.Brand[o], c)
			}
		}
		n := uint32(0)
		for _, c := range fc.Attr[0] {
			n += c
		}
		want := uint32(0)
		for _, c := range colors {
			want += c
		}
		if n != want {
			t.Fatalf("colour counts sum to %d, brute force %d", n, want)
		}
		checked++
	}
	if checked < 20 || leafSeen == 0 {
		t.Fatalf("only %d requests checked, %d leaves seen", checked, leafSeen)
	}
}
