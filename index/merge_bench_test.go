package index

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/catalog"
)

// BenchmarkMerge compares the two ways of merging 20,000 products in 8
// segments, 5% of them deleted: building a segment of the live products
// again (the path before mergeSegments), and mergeSegments.
func BenchmarkMerge(b *testing.B) {
	const n, nseg = 20_000, 8
	r := rand.New(rand.NewPCG(11, 12))
	opts := mergeOptions()
	segs := make([]*segment, nseg)
	dels := make([]*roaring.Bitmap, nseg)
	per := n / nseg
	for i := range segs {
		ps := make([]*catalog.Product, per)
		for j := range ps {
			ps[j] = randProduct(r, fmt.Sprintf("p%d", i*per+j))
		}
		segs[i] = build(ps, opts, mergeNow)
		dels[i] = roaring.New()
		for range per / 20 {
			dels[i].Add(uint32(r.IntN(per)))
		}
	}
	b.Run(fmt.Sprintf("size=%d/path=build", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			build(liveOf(segs, dels), opts, mergeNow)
		}
	})
	b.Run(fmt.Sprintf("size=%d/path=mergeSegments", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mergeSegments(segs, dels, opts, mergeNow)
		}
	})
}
