package index

import (
	"github.com/RoaringBitmap/roaring/v2"
)

// FacetSampleRate is one over the share of a segment's documents in its
// facet sample: a sampled count is the sample's count times this.
const FacetSampleRate = 8

// sampleDocs returns the segment's facet sample: the documents whose
// number hashes to 0 modulo FacetSampleRate, a fixed pseudo-random subset
// independent of what the documents hold, so the sample of any set is a
// uniform sample of it. Built the first time a search samples and shared
// after, as sponsoredDocs is.
func (s *segment) sampleDocs() *roaring.Bitmap {
	if bm := s.sample.Load(); bm != nil {
		return bm
	}
	bm := roaring.New()
	var buf [256]uint32
	n := 0
	for d := range uint32(len(s.docs)) {
		if sampleHash(d)%FacetSampleRate == 0 {
			buf[n] = d
			n++
			if n == len(buf) {
				bm.AddMany(buf[:n])
				n = 0
			}
		}
	}
	bm.AddMany(buf[:n])
	bm.RunOptimize()
	if s.sample.CompareAndSwap(nil, bm) {
		return bm
	}
	return s.sample.Load()
}

// sampleHash is SplitMix64's finalizer: consecutive document numbers
// spread over all values.
func sampleHash(d uint32) uint64 {
	x := uint64(d) + 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// facetSet returns the set a facet pass counts and the weight of each of
// its documents: set itself and 1, or, when the request samples and set
// holds more than FacetSampleAbove documents, its documents in the
// segment's sample and FacetSampleRate (Horvitz-Thompson: each count is
// unbiased, with a relative standard error of about √(7/c) for a count c
// at a rate of 1 in 8).
func (ev *evaluator) facetSet(seg *segment, set *roaring.Bitmap) (*roaring.Bitmap, uint32) {
	above := ev.r.FacetSampleAbove
	if above <= 0 || set.GetCardinality() <= uint64(above) {
		return set, 1
	}
	ev.res.FacetsSampled = true
	return roaring.And(set, seg.sampleDocs()), FacetSampleRate
}
