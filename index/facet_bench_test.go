package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/rank"
)

// facetSegment builds a segment of n products over the given number of
// brands, with Zipf-like brand popularity, as a marketplace has.
func facetSegment(tb testing.TB, n, brands int) *segment {
	tb.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 1, uint64(brands-1))
	ps := make([]*catalog.Product, n)
	for i := range ps {
		ps[i] = &catalog.Product{
			ID:       fmt.Sprintf("p%d", i),
			Title:    "product",
			Brand:    fmt.Sprintf("brand%d", z.Uint64()),
			Variants: []catalog.Variant{{ID: "v", Price: catalog.Money{Amount: 100, Currency: "USD"}}},
		}
	}
	opts := &Options{Rank: rank.DefaultOptions(), Dicts: NewDicts()}
	return build(ps, opts, time.Now())
}

// BenchmarkBrandFacet compares the two ways of counting a facet: walking
// the result set once and counting each document's value from a column, or
// intersecting the result set with each value's bitmap (AndCardinality).
// The column wins when a facet has many values; bitmaps when it has few and
// the result set is large.
func BenchmarkBrandFacet(b *testing.B) {
	for _, brands := range []int{8, 100, 3000} {
		seg := facetSegment(b, 100_000, brands)
		for _, share := range []int{1, 10, 100} { // percent of the segment matched
			r := rand.New(rand.NewPCG(3, 4))
			set := roaring.New()
			for d := range uint32(100_000) {
				if r.IntN(100) < share {
					set.Add(d)
				}
			}
			counts := make([]uint32, brands)
			var buf [256]uint32
			fc := FacetCounts{Brand: make([]uint32, brands)}
			b.Run(fmt.Sprintf("brands=%d/match=%d%%/column", brands, share), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					fc.reset()
					countBrandColumn(seg, set, &fc, &buf)
				}
			})
			b.Run(fmt.Sprintf("brands=%d/match=%d%%/bitmaps", brands, share), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					clear(counts)
					for o, bm := range seg.brands {
						counts[o] = uint32(bm.AndCardinality(set))
					}
				}
			})
		}
	}
}

func TestBrandFacetMethodsAgree(t *testing.T) {
	seg := facetSegment(t, 5000, 50)
	set := roaring.New()
	for d := uint32(0); d < 5000; d += 3 {
		set.Add(d)
	}
	fc := FacetCounts{Brand: make([]uint32, 50)}
	var buf [256]uint32
	countBrandColumn(seg, set, &fc, &buf)
	for o, bm := range seg.brands {
		if got := uint32(bm.AndCardinality(set)); got != fc.Brand[o] {
			t.Fatalf("brand %d: bitmap count %d, column count %d", o, got, fc.Brand[o])
		}
	}
}

// countBrandColumn counts brands over set from the column, as a search
// with a brand filter does.
func countBrandColumn(seg *segment, set *roaring.Bitmap, fc *FacetCounts, buf *[256]uint32) {
	ev := evaluator{buf: *buf} // no context: no deadline checks
	ev.countColumn(set, func(d uint32) {
		if b := seg.brand[d]; b >= 0 {
			fc.countBrand(b, 1)
		}
	})
}
