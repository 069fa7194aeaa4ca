package index

import (
	"math"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// blockSize is the number of postings one block-max block covers: 64, as
// PISA's and Lucene's impact blocks hold 64 to 128.
const blockSize = 64

// blockMax is a posting's block-max metadata: per block of blockSize
// postings, the best score of a term of weight 1 among its documents,
// under the options and field statistics of the search that built it.
// Scores are computed with rank.BM25F itself, so the bound follows the
// scoring function; a later search with other field statistics scales the
// bounds by rank.BM25FDrift, and one with other BM25F parameters does not
// prune.
type blockMax struct {
	k1     float64
	fields [rank.NumFields]rank.FieldParams
	ref    rank.FieldStats
	blocks []block
}

// block bounds the scores of one block of a posting.
type block struct {
	last    uint32  // the block's last document
	plain   float64 // the best BM25F of weight 1 in the block
	blended float64 // the best BM25F of weight 1 times business boost
	spons   float64 // the best of that times the bid, among sponsored documents
}

// blockMax returns the posting's block-max metadata, built the first time
// a pruned search needs it and shared after, as bitmap is; lens, boost and
// bids are the segment's columns.
func (p *posting) blockMax(r *Request, lens []rank.DocLens, boost []float32, bids []int64) *blockMax {
	if bm := p.bmax.Load(); bm != nil {
		return bm
	}
	bm := &blockMax{k1: r.Rank.K1, fields: r.Rank.Fields, ref: r.Fields,
		blocks: make([]block, 0, (len(p.docs)+blockSize-1)/blockSize)}
	for start := 0; start < len(p.docs); start += blockSize {
		end := min(start+blockSize, len(p.docs))
		b := block{last: p.docs[end-1]}
		for i := start; i < end; i++ {
			d := p.docs[i]
			s := rank.BM25F(r.Rank, &bm.ref, 1, &p.tfs[i], &lens[d])
			b.plain = max(b.plain, s)
			b.blended = max(b.blended, s*float64(boost[d]))
			b.spons = max(b.spons, s*float64(boost[d])*float64(bids[d]))
		}
		bm.blocks = append(bm.blocks, b)
	}
	if p.bmax.CompareAndSwap(nil, bm) {
		return bm
	}
	return p.bmax.Load()
}

// boundSlack lifts every bound by a relative 1e-9 so that a document
// scoring exactly its block's bound, summed in another order, is never
// pruned by a rounding difference.
const boundSlack = 1 + 1e-9

// bmTerm is one term of a block-max walk: its blocks and the bound of the
// current one.
type bmTerm struct {
	blocks []block
	bi     int     // current block
	ub     float64 // bound of blocks[bi]; 0 when the posting is exhausted
	scale  float64 // what a block's stored score is multiplied by
	word   int
}

// bound returns the bound of the term's current block: of the plain or
// blended score, or of a sponsored document's bid times its score (plain
// sponsored walks do not prune).
func (t *bmTerm) bound(plain, sponsored bool) float64 {
	if t.bi >= len(t.blocks) {
		return 0
	}
	b := &t.blocks[t.bi]
	switch {
	case sponsored && plain:
		return math.Inf(1)
	case sponsored:
		return b.spons * t.scale
	case plain:
		return b.plain * t.scale
	}
	return b.blended * t.scale
}

// blockMaxTerms sets up the terms of a block-max walk over seg, and
// reports false when the stored bounds do not fit the request (other BM25F
// parameters, or a field average that went from zero to some), so the
// segment is walked exhaustively.
//
// Building a posting's metadata costs about what scoring every one of its
// documents does, so it is built at once only when the matches are at
// least a quarter of the posting (a one-word query); for a posting much
// longer than the matches (a frequent word beside a rare one) it is built
// the second time a search wants it, so words met once cost nothing extra
// and the repeated ones of a storefront's traffic are pruned from then on.
func (ev *evaluator) blockMaxTerms(seg *segment, matches int) bool {
	r := ev.r
	if matches < minPruneDocs {
		return false
	}
	terms := ev.bmTerms[:0]
	ok := true
	for i := range ev.cur {
		c := &ev.cur[i]
		bm := c.p.bmax.Load()
		if bm == nil && (len(c.p.docs) <= 4*matches || c.p.wants.Add(1) >= 2) {
			bm = c.p.blockMax(r, seg.lens, seg.boost, seg.sponsored)
		}
		if bm == nil {
			ok = false // and count the other terms' wants
			continue
		}
		if bm.k1 != r.Rank.K1 || bm.fields != r.Rank.Fields {
			return false
		}
		drift := rank.BM25FDrift(&bm.ref, &r.Fields)
		if math.IsInf(drift, 0) {
			return false
		}
		t := bmTerm{blocks: bm.blocks, scale: c.idf * drift * boundSlack, word: c.word}
		t.ub = t.bound(r.Plain, false)
		terms = append(terms, t)
	}
	ev.bmTerms = terms
	return ok
}

// minPruneDocs is the fewest matches in a segment for which the block-max
// walk is tried: below it the exhaustive walk costs little.
const minPruneDocs = 256

// blockMaxPrunable reports whether the segment's top-k can be found by the
// block-max walk: a conjunctive text query ranked by relevance. Facets,
// the total and sponsored candidates are computed beside it.
func (ev *evaluator) blockMaxPrunable() bool {
	r := ev.r
	relaxed := r.MinMatch > 0 && r.MinMatch < len(r.Words)
	return r.Sort == query.SortRelevance && len(r.Words) > 0 && !relaxed &&
		!r.CountOnly && !r.NoPrune && r.K > 0 && len(ev.cur) > 0
}

// blockMaxAnd, after blockMaxTerms, collects the top-k of full, the
// documents matching every word and filter, with block-max pruning (Ding
// and Suel 2011): while the top-k is full, a document whose blocks'
// bounds sum (per word, the best of its alternative terms) below the k-th
// best key cannot enter, nor can any document up to the end of the
// nearest of those blocks, so the walk jumps past them without scoring.
// Facets and Total do not depend on the order and are computed by the
// caller; sponsored candidates are collected first, by the same walk over
// the sponsored matches.
func (ev *evaluator) blockMaxAnd(seg *segment, full *roaring.Bitmap, base uint32) {
	r := ev.r
	if full.IsEmpty() {
		return
	}
	if cap(ev.best) < len(r.Words) {
		ev.best = make([]float64, len(r.Words))
	}
	if cap(ev.wordUB) < len(r.Words) {
		ev.wordUB = make([]float64, len(r.Words))
	}
	ev.wordUB = ev.wordUB[:len(r.Words)]
	if r.Sponsored > 0 && seg.hasSpons {
		if sp := roaring.And(full, seg.sponsoredDocs()); !sp.IsEmpty() {
			ev.walk(seg, sp, base, true)
			// Rewind the cursors and blocks for the organic walk.
			for i := range ev.cur {
				ev.cur[i].pos = 0
			}
			for i := range ev.bmTerms {
				t := &ev.bmTerms[i]
				t.bi = 0
			}
		}
	}
	ev.walk(seg, full, base, false)
}

// walk is the block-max walk over docs into the organic top-k, or with
// sponsored into the sponsored one, whose keys are bid times score.
func (ev *evaluator) walk(seg *segment, docs *roaring.Bitmap, base uint32, sponsored bool) {
	r := ev.r
	top := &ev.top
	if sponsored {
		top = &ev.spons
	}
	for i := range ev.bmTerms {
		t := &ev.bmTerms[i]
		t.ub = t.bound(r.Plain, sponsored)
	}
	terms, best, wordUB := ev.bmTerms, ev.best[:len(r.Words)], ev.wordUB
	it := docs.Iterator()
	for it.HasNext() {
		d := it.PeekNext()
		if top.Full() {
			th := top.Min().Key
			end := uint32(math.MaxUint32)
			clear(wordUB)
			for i := range terms {
				t := &terms[i]
				if t.bi < len(t.blocks) && t.blocks[t.bi].last < d {
					for t.bi < len(t.blocks) && t.blocks[t.bi].last < d {
						t.bi++
					}
					t.ub = t.bound(r.Plain, sponsored)
				}
				if t.bi < len(t.blocks) {
					end = min(end, t.blocks[t.bi].last)
				}
				wordUB[t.word] = max(wordUB[t.word], t.ub)
			}
			ub := 0.0
			for _, u := range wordUB {
				ub += u
			}
			if ub < th {
				if end == math.MaxUint32 {
					return
				}
				ev.res.skipped++
				ev.tick(1) // a jump past blocks, counted as one document
				it.AdvanceIfNeeded(end + 1)
				continue
			}
			if !r.Plain && ev.docBound(seg, d, sponsored) < th {
				// The blocks' best texts times this document's own
				// boost (and bid): cheaper than scoring it, and
				// tighter where they vary.
				ev.res.skipped++
				ev.tick(1) // a document walked, not scored
				it.Next()
				continue
			}
		}
		it.Next()
		ev.res.scored++
		text, _ := ev.text(seg, d, best)
		score := text
		if !r.Plain {
			score *= float64(seg.boost[d])
		}
		key := score
		if sponsored {
			key = float64(seg.sponsored[d]) * score
		}
		top.Push(rank.Hit{Doc: base + d, Key: key, Score: score})
	}
}

// docBound returns the bound of document d from the current blocks' best
// plain scores: per word the best of its terms, summed, times d's boost,
// and for a sponsored walk its bid.
func (ev *evaluator) docBound(seg *segment, d uint32, sponsored bool) float64 {
	ub := ev.wordUB
	clear(ub)
	for i := range ev.bmTerms {
		t := &ev.bmTerms[i]
		if t.bi < len(t.blocks) {
			ub[t.word] = max(ub[t.word], t.blocks[t.bi].plain*t.scale)
		}
	}
	s := 0.0
	for _, u := range ub {
		s += u
	}
	s *= float64(seg.boost[d]) * boundSlack
	if sponsored {
		s *= float64(seg.sponsored[d])
	}
	return s
}

// sponsoredDocs returns the segment's sponsored documents, built from the
// column the first time a pruned search needs them and shared after.
func (s *segment) sponsoredDocs() *roaring.Bitmap {
	if bm := s.spons.Load(); bm != nil {
		return bm
	}
	bm := roaring.New()
	for d, bid := range s.sponsored {
		if bid > 0 {
			bm.Add(uint32(d))
		}
	}
	if s.spons.CompareAndSwap(nil, bm) {
		return bm
	}
	return s.spons.Load()
}
