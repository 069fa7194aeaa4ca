package index

import (
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// maxComboWords bounds the words for which "matches at least m words" is
// computed as a union of intersections (at most C(6,3) = 20 of them) rather
// than by probing every document of the union.
const maxComboWords = 6

// atLeast returns the documents in at least m of sets, as the union over
// every m-subset of sets of its intersection.
func atLeast(sets []*roaring.Bitmap, m int) *roaring.Bitmap {
	out := roaring.New()
	pick := make([]*roaring.Bitmap, 0, m)
	var rec func(start int)
	rec = func(start int) {
		if len(pick) == m {
			out.Or(roaring.FastAnd(pick...))
			return
		}
		for i := start; i <= len(sets)-(m-len(pick)); i++ {
			pick = append(pick, sets[i])
			rec(i + 1)
			pick = pick[:len(pick)-1]
		}
	}
	rec(0)
	return out
}

// prunable reports whether the request is a disjunction whose top-k the
// segment can find by MaxScore: a relaxed query (at least MinMatch of its
// words) ranked by relevance, whose total is counted from bitmaps. Facets
// are counted by their own pass over the match set (facets.go), so they do
// not stop pruning; sponsored candidates do (the engine asks for none on
// its relaxed run).
func (ev *evaluator) prunable() bool {
	r := ev.r
	return r.Sort == query.SortRelevance && r.MinMatch > 0 && r.MinMatch < len(r.Words) &&
		!r.CountOnly && !r.NoPrune && r.Sponsored == 0 && len(ev.words) == len(r.Words)
}

// msWord is one word in a MaxScore evaluation.
type msWord struct {
	it   roaring.IntPeekable
	ub   float64 // upper bound of what the word adds to a document's key
	cov  float64 // the word's share of the query's IDF (wordIDF)
	text float64 // upper bound of what it adds to the boosted BM25F
}

// maxScore collects the top-k of full, the documents matching enough
// words and every filter, with MaxScore dynamic pruning (Turtle and Flood
// 1995): words are sorted by the most they can add to a key; the longest
// prefix of them whose bounds sum to at most the k-th best key so far are
// non-essential, because a document matching only those cannot enter the
// top-k, so candidates come only from the essential words' postings and the
// frequent words' long postings are skipped, not walked. Keys are
// level × relaxedStep + BM25F × boost, and BM25F of a word is below
// its largest IDF, so each bound is strict.
func (ev *evaluator) maxScore(seg *segment, full *roaring.Bitmap, base uint32) {
	r := ev.r
	ev.res.Total += int(full.GetCardinality())
	if full.IsEmpty() {
		return
	}
	boost := float64(seg.maxBoost)
	if r.Plain {
		boost = 1
	}
	var ws []msWord
	for wi, bm := range ev.words {
		if bm == nil {
			continue
		}
		idf := 0.0
		for _, v := range r.IDF[wi] {
			idf = math.Max(idf, v)
		}
		// A document's level is at most fullLevel times its coverage
		// (fullLevel for all words, the floor of coverageLevels times it
		// for some), so each word adds at most its share of fullLevel.
		// The word's documents among the matches: a filter or the
		// deletions leave candidates only where they can be kept, and
		// the walk does not go through a frequent word's whole posting
		// for a narrow filter.
		ws = append(ws, msWord{it: roaring.And(bm, full).Iterator(), ub: ev.wordIDF[wi]*fullLevel*relaxedStep + idf*boost,
			cov: ev.wordIDF[wi], text: idf * boost})
	}
	slices.SortFunc(ws, func(a, b msWord) int {
		switch {
		case a.ub < b.ub:
			return -1
		case a.ub > b.ub:
			return 1
		}
		return 0
	})
	// Prefix sums of the bounds, and of the coverage and text bounds for
	// the document-level bound below.
	prefix := make([]float64, 3*(len(ws)+1))
	prefix, pcov, ptext := prefix[:len(ws)+1], prefix[len(ws)+1:2*(len(ws)+1)], prefix[2*(len(ws)+1):]
	for i, w := range ws {
		prefix[i+1] = prefix[i] + w.ub
		pcov[i+1] = pcov[i] + w.cov
		ptext[i+1] = ptext[i] + w.text
	}
	if cap(ev.best) < len(r.Words) {
		ev.best = make([]float64, len(r.Words))
	}
	best := ev.best[:len(r.Words)]
	for {
		// Essential words: from the first whose prefix of bounds beats
		// the threshold.
		e := 0
		if ev.top.Full() {
			th := ev.top.Min().Key
			for e < len(ws) && prefix[e+1] <= th {
				e++
			}
		}
		if e == len(ws) {
			return
		}
		d, ok := uint32(0), false
		for i := e; i < len(ws); i++ {
			if ws[i].it.HasNext() {
				if n := ws[i].it.PeekNext(); !ok || n < d {
					d, ok = n, true
				}
			}
		}
		if !ok {
			return
		}
		// The document's bound: the non-essential words, which it may
		// match, and the essential words it does match.
		matches, cov, text := e, pcov[e], ptext[e]
		for i := e; i < len(ws); i++ {
			if ws[i].it.HasNext() && ws[i].it.PeekNext() == d {
				matches++
				cov += ws[i].cov
				text += ws[i].text
				ws[i].it.Next()
			}
		}
		if ev.top.Full() {
			level := float64(fullLevel)
			if matches < len(r.Words) {
				// Lifted by a hair: level sums the same shares in
				// another order.
				level = math.Floor(cov*coverageLevels*boundSlack + 1e-9)
			}
			if level*relaxedStep+text*boundSlack < ev.top.Min().Key {
				ev.res.skipped++
				ev.tick(1)
				continue
			}
		}
		if !full.Contains(d) {
			ev.res.skipped++
			ev.tick(1) // a candidate walked, not scored
			continue
		}
		ev.res.scored++
		text, matched := ev.text(seg, d, best)
		score := text
		if !r.Plain {
			score *= float64(seg.boost[d])
		}
		ev.top.Push(rank.Hit{Doc: base + d, Key: ev.level(best, matched)*relaxedStep + score, Score: score})
	}
}
