package index

import (
	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// rangeShift sets the documents one boost range covers: 256.
const rangeShift = 8

// boostRanges returns the largest boost of each range of 256 consecutive
// documents of the segment, built the first time a browse page needs them
// and shared after, as sponsoredDocs is.
func (s *segment) boostRanges() []float32 {
	if p := s.branges.Load(); p != nil {
		return *p
	}
	rs := make([]float32, (len(s.boost)+1<<rangeShift-1)>>rangeShift)
	for d, b := range s.boost {
		rs[d>>rangeShift] = max(rs[d>>rangeShift], b)
	}
	if s.branges.CompareAndSwap(nil, &rs) {
		return rs
	}
	return *s.branges.Load()
}

// browsePrunable reports whether the request is a browse page (no words)
// ranked by relevance, where a document's key is its business boost (or,
// plain, 1 for all).
func (ev *evaluator) browsePrunable() bool {
	r := ev.r
	return r.Sort == query.SortRelevance && len(r.Words) == 0 && !r.CountOnly && !r.NoPrune && r.K > 0
}

// browse collects the top-k of full by boost, skipping every range of 256
// documents whose largest boost is below the k-th key (a document of the
// range cannot enter: its key and score are its boost, and a tie goes to
// the lower document number, which those kept have). Sponsored candidates,
// few, are all offered first. The total comes from the bitmap.
func (ev *evaluator) browse(seg *segment, full *roaring.Bitmap, base uint32) {
	r := ev.r
	ev.res.Total += int(full.GetCardinality())
	if r.Sponsored > 0 && seg.hasSpons {
		it := roaring.And(full, seg.sponsoredDocs()).Iterator()
		for it.HasNext() {
			d := it.Next()
			ev.tick(1)
			score := 1.0
			if !r.Plain {
				score = float64(seg.boost[d])
			}
			ev.spons.Push(rank.Hit{Doc: base + d, Key: float64(seg.sponsored[d]) * score, Score: score})
		}
	}
	ranges := seg.boostRanges()
	it := full.Iterator()
	for it.HasNext() {
		d := it.PeekNext()
		ev.tick(1)
		if ev.top.Full() {
			th := ev.top.Min().Key
			if r.Plain || float64(ranges[d>>rangeShift]) < th {
				if r.Plain {
					return // every key is 1: the first k kept win every tie
				}
				ev.res.skipped++
				it.AdvanceIfNeeded((d>>rangeShift + 1) << rangeShift)
				continue
			}
		}
		it.Next()
		score := 1.0
		if !r.Plain {
			score = float64(seg.boost[d])
		}
		ev.top.Push(rank.Hit{Doc: base + d, Key: score, Score: score})
	}
}
