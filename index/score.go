package index

import (
	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// score walks the matching documents of a segment in order: it counts
// them and offers each to the top-k. Facets are counted by countFacets.
func (ev *evaluator) score(seg *segment, full *roaring.Bitmap, base uint32) {
	r := ev.r
	if cap(ev.best) < len(r.Words) {
		ev.best = make([]float64, len(r.Words))
	}
	best := ev.best[:len(r.Words)]
	relaxed := ev.relaxed()
	wantSpons := r.Sponsored > 0 && seg.hasSpons && !r.CountOnly
	byColumn := r.Sort != query.SortRelevance

	it := full.ManyIterator()
	for n := it.NextMany(ev.buf[:]); n > 0; n = it.NextMany(ev.buf[:]) {
		ev.tick(n)
		ev.res.Total += n
		if r.CountOnly {
			continue
		}
		for _, d := range ev.buf[:n] {
			var key float64
			switch r.Sort {
			case query.SortPriceAsc:
				key = -float64(seg.price[d])
			case query.SortPriceDesc:
				key = float64(seg.price[d])
			case query.SortRating:
				key = float64(seg.rating[d])
			case query.SortNewest:
				key = float64(seg.created[d])
			}
			if byColumn && !r.NoPrune && !wantSpons && ev.top.Full() && key < ev.top.Min().Key {
				// Sorted by a column: a key below the k-th cannot
				// enter whatever the text scores (the score only
				// breaks ties), so the text is not scored.
				continue
			}
			// Text score: per word, its best alternative term.
			text := 1.0
			matched := len(r.Words)
			if len(r.Words) > 0 {
				ev.res.scored++
				text, matched = ev.text(seg, d, best)
			}
			score := text
			if !r.Plain {
				score *= float64(seg.boost[d])
			}
			if !byColumn {
				key = score
				if relaxed {
					key += ev.level(best, matched) * relaxedStep
				}
			}
			h := rank.Hit{Doc: base + d, Key: key, Score: score}
			ev.top.Push(h)
			if wantSpons {
				if bid := seg.sponsored[d]; bid > 0 {
					ev.spons.Push(rank.Hit{Doc: base + d, Key: float64(bid) * score, Score: score})
				}
			}
		}
	}
}

// text returns the BM25F score of document d, each word counted by its best
// alternative term, and the number of words it matches. The term cursors
// only move forward, so d must not decrease between calls. best is scratch
// of one entry per word.
func (ev *evaluator) text(seg *segment, d uint32, best []float64) (float64, int) {
	ev.tick(1)
	r := ev.r
	clear(best)
	lens := &seg.lens[d]
	for i := range ev.cur {
		c := &ev.cur[i]
		if tf := c.advance(d); tf != nil {
			if s := rank.BM25F(r.Rank, &r.Fields, c.idf, tf, lens); s > best[c.word] {
				best[c.word] = s
			}
		}
	}
	text, matched := 0.0, 0
	for _, s := range best {
		if s > 0 {
			text += s
			matched++
		}
	}
	return text, matched
}
