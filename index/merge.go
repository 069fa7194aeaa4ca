package index

import (
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/rank"
)

// dead marks a deleted document in a merge's renumbering.
const dead = ^uint32(0)

// mergeSegments returns one segment holding the live documents of segs,
// where dels[i] (nil when none) are the deleted documents of segs[i]. The
// documents keep their order, segment by segment, and are renumbered from
// 0. Nothing is re-analysed: postings, field lengths and columns are copied
// from the built segments with the documents renumbered, so the result
// equals build of the live products, except for the business boost, which
// is recomputed at now as build computes it, and for the capacity of the
// posting slices, which share one exactly sized array.
//
// After renumbering the documents, two passes: the first (mergeTerms)
// numbers the merged terms and counts each one's live documents, one map
// lookup per term of each segment; the second copies, walking each
// segment's postings by number, with no lookup per entry.
func mergeSegments(segs []*segment, dels []*roaring.Bitmap, opts *Options, now time.Time) *segment {
	var rs remapper
	rms, n := rs.renumber(segs, dels)
	terms, xlate, counts := mergeTerms(segs, dels, rms)

	s := newSegment(nil, n, len(opts.FacetAttrs))
	s.terms = terms
	s.postings = make([]posting, len(counts))
	total := 0
	for _, c := range counts {
		total += c
	}
	docsArena := make([]uint32, total)
	tfsArena := make([]rank.TermFreqs, total)
	off := 0
	for j, c := range counts {
		s.postings[j].docs = docsArena[off : off : off+c]
		s.postings[j].tfs = tfsArena[off : off : off+c]
		off += c
	}

	// Pass 2: copy, segment by segment. Since the new numbers rise with
	// the old ones, every merged list is built in order.
	off = 0
	for i, seg := range segs {
		rm, del := rms[i], dels[i]
		x := xlate[off : off+len(seg.postings)]
		off += len(seg.postings)
		copyColumns(s, seg, rm, opts, now)
		for pn := range seg.postings {
			dst := x[pn]
			if dst < 0 {
				continue
			}
			p, q := &seg.postings[pn], &s.postings[dst]
			if del == nil {
				for _, d := range p.docs {
					q.docs = append(q.docs, rm[d])
				}
				q.tfs = append(q.tfs, p.tfs...)
				continue
			}
			for k, d := range p.docs {
				if m := rm[d]; m != dead {
					q.docs = append(q.docs, m)
					q.tfs = append(q.tfs, p.tfs[k])
				}
			}
		}
		rs.into(s.inStock, seg.inStock, rm)
		rs.intoMap(s.brands, seg.brands, rm)
		rs.intoMap(s.nodes, seg.nodes, rm)
		rs.intoMap(s.attrs, seg.attrs, rm)
	}

	for _, m := range []map[uint32]*roaring.Bitmap{s.brands, s.nodes, s.attrs} {
		for o, bm := range m {
			if bm.IsEmpty() { // every document with the value was deleted
				delete(m, o)
				continue
			}
			bm.RunOptimize()
		}
	}
	s.all.AddRange(0, uint64(n))
	s.all.RunOptimize()
	s.inStock.RunOptimize()
	s.bytes = s.size()
	return s
}

// remapper renumbers documents a block at a time.
type remapper struct {
	buf, out [256]uint32
}

// renumber returns the new number of every document of segs, dead for the
// deleted ones (rms[i] for segs[i], all in one array), and the number of
// live documents.
func (rs *remapper) renumber(segs []*segment, dels []*roaring.Bitmap) (rms [][]uint32, n int) {
	docs := 0
	for _, seg := range segs {
		docs += seg.len()
	}
	all := make([]uint32, docs)
	rms = make([][]uint32, len(segs))
	next := uint32(0)
	for i, seg := range segs {
		rm := all[:seg.len():seg.len()]
		all = all[seg.len():]
		rms[i] = rm
		if del := dels[i]; del != nil {
			it := del.ManyIterator()
			for k := it.NextMany(rs.buf[:]); k > 0; k = it.NextMany(rs.buf[:]) {
				for _, d := range rs.buf[:k] {
					if int(d) < len(rm) {
						rm[d] = dead
					}
				}
			}
		}
		for d := range rm {
			if rm[d] != dead {
				rm[d] = next
				next++
			}
		}
	}
	return rms, int(next)
}

// into adds the live documents of src, renumbered by rm, to dst.
func (rs *remapper) into(dst, src *roaring.Bitmap, rm []uint32) {
	it := src.ManyIterator()
	for k := it.NextMany(rs.buf[:]); k > 0; k = it.NextMany(rs.buf[:]) {
		j := 0
		for _, d := range rs.buf[:k] {
			if m := rm[d]; m != dead {
				rs.out[j] = m
				j++
			}
		}
		dst.AddMany(rs.out[:j])
	}
}

// intoMap adds each bitmap of src, renumbered, to the bitmap of the same
// value in dst. A value may be left with an empty bitmap.
func (rs *remapper) intoMap(dst, src map[uint32]*roaring.Bitmap, rm []uint32) {
	for o, bm := range src {
		d := dst[o]
		if d == nil {
			d = roaring.New()
			dst[o] = d
		}
		rs.into(d, bm, rm)
	}
}

// mergeTerms is the first pass of a merge: it numbers the merged terms and
// counts each one's live documents. xlate maps a source posting (the
// segments' postings end to end) to its merged posting, -1 when it has no
// live document; counts holds each merged posting's length.
func mergeTerms(segs []*segment, dels []*roaring.Bitmap, rms [][]uint32) (terms map[string]uint32, xlate []int32, counts []int) {
	maxTerms, nPostings := 0, 0
	for _, seg := range segs {
		maxTerms = max(maxTerms, len(seg.terms))
		nPostings += len(seg.postings)
	}
	terms = make(map[string]uint32, maxTerms)
	xlate = make([]int32, nPostings)
	off := 0
	for i, seg := range segs {
		rm, del := rms[i], dels[i]
		x := xlate[off : off+len(seg.postings)]
		off += len(seg.postings)
		for t, pn := range seg.terms {
			p := &seg.postings[pn]
			c := len(p.docs)
			if del != nil {
				c = 0
				for _, d := range p.docs {
					if rm[d] != dead {
						c++
					}
				}
			}
			if c == 0 {
				x[pn] = -1
				continue
			}
			dst, ok := terms[t]
			if !ok {
				dst = uint32(len(counts))
				terms[t] = dst // the source's key: strings are immutable
				counts = append(counts, 0)
			}
			x[pn] = int32(dst)
			counts[dst] += c
		}
	}
	return terms, xlate, counts
}

// copyColumns copies the columns of seg's live documents into s, where rm
// holds each document's new number or dead. The live documents are copied
// a run at a time; the boost is recomputed at now.
func copyColumns(s, seg *segment, rm []uint32, opts *Options, now time.Time) {
	ro := &opts.Rank
	for a := 0; a < len(rm); {
		if rm[a] == dead {
			a++
			continue
		}
		b := a + 1
		for b < len(rm) && rm[b] != dead {
			b++
		}
		to := int(rm[a])
		copy(s.docs[to:], seg.docs[a:b])
		copy(s.lens[to:], seg.lens[a:b])
		copy(s.offer[to:], seg.offer[a:b])
		copy(s.price[to:], seg.price[a:b])
		copy(s.rating[to:], seg.rating[a:b])
		copy(s.created[to:], seg.created[a:b])
		copy(s.sponsored[to:], seg.sponsored[a:b])
		copy(s.brand[to:], seg.brand[a:b])
		copy(s.leaf[to:], seg.leaf[a:b])
		for k := range s.fattr {
			copy(s.fattr[k][to:], seg.fattr[k][a:b])
		}
		for d := to; d < to+b-a; d++ {
			p := s.docs[d]
			s.ids[p.ID] = uint32(d)
			for f := range s.lenSum {
				s.lenSum[f] += uint64(s.lens[d][f])
			}
			s.boost[d] = boostAt(ro, p, s.offer[d].InStock, now)
			s.maxBoost = max(s.maxBoost, s.boost[d])
			if s.sponsored[d] > 0 {
				s.hasSpons = true
			}
		}
		a = b
	}
}

// boostAt is the business boost of p at time now, as build and merges
// compute it.
func boostAt(ro *rank.Options, p *catalog.Product, inStock bool, now time.Time) float32 {
	sig := rank.Signals{
		SalesVelocity: p.SalesVelocity,
		RatingAvg:     p.Rating.Avg,
		RatingCount:   p.Rating.Count,
		SellerQuality: p.SellerQuality,
		AgeDays:       now.Sub(p.CreatedAt).Hours() / 24,
		InStock:       inStock,
	}
	if p.SalesVelocity == 0 {
		sig.Missing |= rank.MissingSales
	}
	if p.SellerQuality == 0 {
		sig.Missing |= rank.MissingSeller
	}
	if p.CreatedAt.IsZero() {
		sig.Missing |= rank.MissingCreated
	}
	if !hasStockRecords(p) {
		sig.Missing |= rank.MissingStock
	}
	return float32(rank.Boost(ro, &sig))
}

// hasStockRecords reports whether a variant of p has a stock count, zero
// or not; a product without is of a seller that does not report stock.
func hasStockRecords(p *catalog.Product) bool {
	for i := range p.Variants {
		if len(p.Variants[i].Stock) > 0 {
			return true
		}
	}
	return false
}
