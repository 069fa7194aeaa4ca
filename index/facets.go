package index

import (
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
)

// bucketCols are a segment's price and rating as bucket numbers, one byte
// a document, so that counting those facets is one increment a document.
type bucketCols struct {
	price  []uint8 // priceBucket of the price
	rating []uint8 // how many of RatingBuckets the rating reaches
}

// buckets returns the segment's bucket columns, built from the price and
// rating columns the first time a search counts facets and shared after.
func (s *segment) buckets() *bucketCols {
	if bc := s.bcols.Load(); bc != nil {
		return bc
	}
	bc := &bucketCols{price: make([]uint8, len(s.price)), rating: make([]uint8, len(s.rating))}
	for d, p := range s.price {
		bc.price[d] = uint8(priceBucket(p))
	}
	for d, r := range s.rating {
		n := uint8(0)
		for _, t := range RatingBuckets {
			if r >= t {
				n++
			}
		}
		bc.rating[d] = n
	}
	if s.bcols.CompareAndSwap(nil, bc) {
		return bc
	}
	return s.bcols.Load()
}

// bucketColsPtr is the lazily built bucketCols of a segment.
type bucketColsPtr = atomic.Pointer[bucketCols]

// countFacets counts, over full, the facets that need no other set: the
// category leaves, and the brand, price, rating and attribute facets that
// have no filter of their own (those are counted over the set without it).
// It decodes the set 256 documents at a time and runs one tight loop per
// facet over them, which costs a fraction of one loop testing every facet
// for every document.
func (ev *evaluator) countFacets(seg *segment, full *roaring.Bitmap) {
	r := ev.r
	f := &r.Filter
	fc := &ev.res.Facets
	brandFacet := len(f.Brands) == 0
	priceFacet := !f.HasPriceMin && !f.HasPriceMax
	ratingFacet := f.RatingMin == 0
	bc := seg.buckets()
	var attrCols [][]int32
	var attrCounts [][]uint32
	for k, i := range r.FacetAttrFilter {
		if i < 0 && k < len(seg.fattr) {
			attrCols = append(attrCols, seg.fattr[k])
			attrCounts = append(attrCounts, fc.Attr[k])
		}
	}
	var price [len(PriceBuckets) + 1]uint32
	var rating [len(RatingBuckets) + 1]uint32
	full, w := ev.facetSet(seg, full)
	it := full.ManyIterator()
	for n := it.NextMany(ev.buf[:]); n > 0; n = it.NextMany(ev.buf[:]) {
		ev.tick(n)
		ds := ev.buf[:n]
		for _, d := range ds {
			if l := seg.leaf[d]; l >= 0 {
				if fc.Leaf[l] == 0 {
					fc.LeafSeen = append(fc.LeafSeen, uint32(l))
				}
				fc.Leaf[l] += w
			}
		}
		if brandFacet {
			for _, d := range ds {
				if b := seg.brand[d]; b >= 0 {
					fc.countBrand(b, w)
				}
			}
		}
		if priceFacet {
			for _, d := range ds {
				price[bc.price[d]]++
			}
		}
		if ratingFacet {
			for _, d := range ds {
				rating[bc.rating[d]]++
			}
		}
		for k, col := range attrCols {
			counts := attrCounts[k]
			for _, d := range ds {
				if v := col[d]; v >= 0 {
					counts[v] += w
				}
			}
		}
	}
	for i, c := range price {
		fc.Price[i] += c * w
	}
	// A rating reaching n thresholds counts in the last n buckets ("4
	// and up" is the first and the hardest to reach).
	for n := 1; n < len(rating); n++ {
		for i := len(RatingBuckets) - n; i < len(RatingBuckets); i++ {
			fc.Rating[i] += rating[n] * w
		}
	}
}
