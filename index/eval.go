package index

import (
	"context"
	"math"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// View is a shard at one snapshot: its statistics and searches agree with
// each other however the shard changes meanwhile. A View is cheap, immutable
// and safe for concurrent use.
type View struct {
	snap *snapshot
	opts *Options
}

// View returns the shard's current snapshot.
func (s *Shard) View() View { return View{snap: s.snap.Load(), opts: &s.opts} }

// Docs returns the number of documents, deleted ones included, that term
// statistics count.
func (v View) Docs() int { return v.snap.docs }

// Live returns the number of live documents.
func (v View) Live() int { return v.snap.live }

// LenSum returns the summed field lengths of all documents.
func (v View) LenSum() [rank.NumFields]uint64 { return v.snap.lenSum }

// DocFreq returns the number of documents containing term.
func (v View) DocFreq(term string) int {
	n := 0
	for _, seg := range v.snap.segs {
		if pn, ok := seg.terms[term]; ok {
			n += len(seg.postings[pn].docs)
		}
	}
	return n
}

// Search evaluates r on the view and fills res, which it resets first.
// SearchContext is the same, bounded by a deadline.
func (v View) Search(r *Request, res *Result) { v.search(nil, r, res) }

// search is Search, checking ctx (nil: none) as it goes (deadline.go).
func (v View) search(ctx context.Context, r *Request, res *Result) {
	res.Reset()
	if r.Facets {
		nb, nn, _ := v.opts.Dicts.Sizes()
		res.Facets.Brand = grow(res.Facets.Brand, nb)
		res.Facets.Leaf = grow(res.Facets.Leaf, nn)
		for len(res.Facets.Attr) < len(v.opts.FacetAttrs) {
			res.Facets.Attr = append(res.Facets.Attr, nil)
		}
		for k, name := range v.opts.FacetAttrs {
			res.Facets.Attr[k] = grow(res.Facets.Attr[k], v.opts.Dicts.NumAttrValues(name))
		}
	}
	if r.Filter.None {
		return
	}
	ev := evaluator{r: r, res: res, filters: v.opts.Filters, ctx: ctx}
	ev.setCoverage()
	if !r.CountOnly {
		ev.top.Reset(r.K)
		ev.spons.Reset(r.Sponsored)
	}
	base := uint32(0)
	ev.bases = ev.bases[:0]
	for i, seg := range v.snap.segs {
		ev.tick(checkEvery) // a check per segment
		ev.bases = append(ev.bases, base)
		ev.segment(seg, v.snap.dels[i], base)
		base += uint32(seg.len())
	}
	if r.CountOnly {
		return
	}
	ev.hits = ev.top.Sorted(ev.hits[:0])
	res.Hits = ev.resolve(v.snap, ev.hits, res.Hits)
	ev.hits = ev.spons.Sorted(ev.hits[:0])
	res.Sponsored = ev.resolve(v.snap, ev.hits, res.Sponsored)
}

// evaluator holds the state of one Search; its buffers are reused across
// segments.
type evaluator struct {
	r     *Request
	res   *Result
	top   rank.TopK
	spons rank.TopK
	hits  []rank.Hit
	bases []uint32
	buf   [256]uint32
	cur   []cursor
	best  []float64
	words []*roaring.Bitmap // per word of a relaxed query: its documents in the segment, nil if none
	// wordIDF is each word's largest term IDF over the IDFs of all words,
	// the share of the query's weight it carries, for the coverage of a
	// relaxed match.
	wordIDF []float64
	bmTerms []bmTerm
	wordUB  []float64
	filters *FilterCache // nil: combinations are intersected each time
	sets    [][]*roaring.Bitmap
	sig     []byte
	// ctx bounds the evaluation (nil: not bounded); ticks counts the
	// documents since its last check (deadline.go).
	ctx   context.Context
	ticks int
}

type cursor struct {
	p    *posting
	pos  int
	word int
	idf  float64
}

// advance moves c to the first posting at or after d and returns its
// frequencies, or nil if d is not in the posting.
func (c *cursor) advance(d uint32) *rank.TermFreqs {
	docs := c.p.docs
	i := c.pos
	if i < len(docs) && docs[i] < d {
		// Gallop, then binary search.
		step := 1
		lo := i
		for i < len(docs) && docs[i] < d {
			lo = i
			i += step
			step *= 2
		}
		hi := min(i, len(docs))
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if docs[m] < d {
				lo = m + 1
			} else {
				hi = m
			}
		}
		i = lo
	}
	c.pos = i
	if i < len(docs) && docs[i] == d {
		return &c.p.tfs[i]
	}
	return nil
}

func (ev *evaluator) resolve(snap *snapshot, hs []rank.Hit, dst []Hit) []Hit {
	for _, h := range hs {
		si := len(ev.bases) - 1
		for si > 0 && ev.bases[si] > h.Doc {
			si--
		}
		seg := snap.segs[si]
		d := h.Doc - ev.bases[si]
		dst = append(dst, Hit{Hit: h, Product: seg.docs[d], Offer: &seg.offer[d], Partial: ev.partialOf(h)})
	}
	return dst
}

// partialOf recovers from a relaxed hit's key whether it misses a word.
func (ev *evaluator) partialOf(h rank.Hit) bool {
	if ev.relaxed() && ev.r.Sort == query.SortRelevance {
		return h.Key < fullLevel*relaxedStep
	}
	return false
}

// A relaxed query ranks its matches by level, then by score: products
// matching every word are at fullLevel, above all partial matches; a
// partial match is at its IDF-weighted coverage (the share of the query's
// IDF its matched words carry) in coverageLevels steps, so a product
// missing a common word ranks above one missing a rare word, and BM25F
// decides within a step (as Lucene's minimum_should_match or Vespa's
// weakAnd fill a page, with coverage first).
const (
	relaxedStep    = 1 << 20 // above any score
	coverageLevels = 16
	fullLevel      = coverageLevels + 1
)

func (ev *evaluator) relaxed() bool {
	return ev.r.MinMatch > 0 && ev.r.MinMatch < len(ev.r.Words)
}

// setCoverage computes wordIDF for a relaxed request.
func (ev *evaluator) setCoverage() {
	r := ev.r
	if !ev.relaxed() {
		return
	}
	ev.wordIDF = make([]float64, len(r.Words))
	sum := 0.0
	for wi := range r.Words {
		w := 0.0
		for _, v := range r.IDF[wi] {
			w = max(w, v)
		}
		ev.wordIDF[wi] = w
		sum += w
	}
	for wi := range ev.wordIDF {
		if sum > 0 {
			ev.wordIDF[wi] /= sum
		} else {
			ev.wordIDF[wi] = 1 / float64(len(r.Words))
		}
	}
}

// level is the relaxed ranking level of a document matching matched words,
// whose per-word scores are best.
func (ev *evaluator) level(best []float64, matched int) float64 {
	if matched == len(best) {
		return fullLevel
	}
	cov := 0.0
	for wi, s := range best {
		if s > 0 {
			cov += ev.wordIDF[wi]
		}
	}
	return math.Floor(cov * coverageLevels)
}

// segment evaluates the request on one segment.
func (ev *evaluator) segment(seg *segment, del *roaring.Bitmap, base uint32) {
	r := ev.r
	match := ev.textMatch(seg)
	if match == nil {
		return
	}
	if del != nil {
		// A new bitmap: match may be a segment's own (all docs, or
		// one word's posting).
		match = roaring.AndNot(match, del)
	}
	f := &r.Filter
	// The bitmap filters, in a fixed order so a facet can leave its own
	// out: 0 category, 1 brand, 2 stock, 3.. attributes.
	var filters [3][]*roaring.Bitmap
	var fb []*roaring.Bitmap
	if f.Category >= 0 {
		bm := seg.nodes[uint32(f.Category)]
		if bm == nil {
			return
		}
		filters[0] = []*roaring.Bitmap{bm}
	}
	if len(f.Brands) > 0 {
		for _, o := range f.Brands {
			if bm := seg.brands[o]; bm != nil {
				fb = append(fb, bm)
			}
		}
		if len(fb) == 0 {
			fb = append(fb, roaring.New())
		}
		filters[1] = fb
	}
	if f.InStock {
		filters[2] = []*roaring.Bitmap{seg.inStock}
	}
	attrSets := make([][]*roaring.Bitmap, len(f.Attrs))
	for i, vals := range f.Attrs {
		for _, o := range vals {
			if bm := seg.attrs[o]; bm != nil {
				attrSets[i] = append(attrSets[i], bm)
			}
		}
		if len(attrSets[i]) == 0 {
			attrSets[i] = []*roaring.Bitmap{roaring.New()}
		}
	}
	const noExclude = -1
	const (
		exBrand = 1
		exPrice = 100
		exRate  = 101
	)
	// narrowed returns match with every filter applied but the one
	// excluded (an index of filters, 3+i for attribute i, or exPrice or
	// exRate for the predicates).
	// The sets it returns are only read, so with nothing to narrow it
	// returns match itself.
	narrowed := func(exclude int) *roaring.Bitmap {
		sets := ev.sets[:0]
		for i, set := range filters {
			if set != nil && i != exclude {
				sets = append(sets, set)
			}
		}
		for i, set := range attrSets {
			if 3+i != exclude {
				sets = append(sets, set)
			}
		}
		ev.sets = sets
		out := match
		switch {
		case len(sets) == 0:
		case len(sets) == 1 && len(sets[0]) == 1:
			out = roaring.And(match, sets[0][0])
		default:
			// A combination: intersected once per segment through
			// the filter cache. The predicates' exclusions narrow
			// by the same bitmaps as none.
			ex := exclude
			if ex == exPrice || ex == exRate {
				ex = noExclude
			}
			ev.sig = filterSig(ev.sig[:0], ex, f)
			fs := ev.filters.combined(seg, ev.sig, sets)
			if match == seg.all {
				out = fs // read only, like every narrowed set
			} else {
				out = roaring.And(match, fs)
			}
		}
		pmin, pmax := f.HasPriceMin && exclude != exPrice, f.HasPriceMax && exclude != exPrice
		rmin := f.RatingMin > 0 && exclude != exRate
		if pmin || pmax || rmin {
			out = ev.predicate(seg, out, pmin, pmax, rmin)
		}
		return out
	}
	full := narrowed(noExclude)
	if r.Facets {
		ev.countFacets(seg, full)
	}
	switch {
	case ev.prunable():
		ev.maxScore(seg, full, base)
	case ev.browsePrunable():
		ev.browse(seg, full, base)
	case ev.blockMaxPrunable() && ev.blockMaxTerms(seg, int(full.GetCardinality())):
		ev.res.Total += int(full.GetCardinality())
		ev.blockMaxAnd(seg, full, base)
	default:
		ev.score(seg, full, base)
	}
	if !r.Facets {
		return
	}
	fc := &ev.res.Facets
	// Each pass counts its set, or its sample with each document counted
	// w times (sample.go).
	if len(f.Brands) > 0 {
		set, w := ev.facetSet(seg, narrowed(exBrand))
		ev.countColumn(set, func(d uint32) {
			if b := seg.brand[d]; b >= 0 {
				fc.countBrand(b, w)
			}
		})
	}
	if f.HasPriceMin || f.HasPriceMax {
		set, w := ev.facetSet(seg, narrowed(exPrice))
		ev.countColumn(set, func(d uint32) { fc.Price[priceBucket(seg.price[d])] += w })
	}
	if f.RatingMin > 0 {
		set, w := ev.facetSet(seg, narrowed(exRate))
		ev.countColumn(set, func(d uint32) { countRating(fc, seg.rating[d], w) })
	}
	// A filtered attribute counts its values without its own filter; the
	// others were counted while scoring.
	for k, i := range r.FacetAttrFilter {
		if i >= 0 {
			col, counts := seg.fattr[k], fc.Attr[k]
			set, w := ev.facetSet(seg, narrowed(3+i))
			ev.countColumn(set, func(d uint32) {
				if v := col[d]; v >= 0 {
					counts[v] += w
				}
			})
		}
	}
}

// andAny intersects out with the union of set.
func andAny(out *roaring.Bitmap, set []*roaring.Bitmap) {
	if len(set) == 1 {
		out.And(set[0])
		return
	}
	out.And(roaring.FastOr(set...))
}

// textMatch returns the segment's documents matching the words, and sets up
// the cursors that score them; nil when none can match. The bitmap may be
// the segment's own and must not be modified.
func (ev *evaluator) textMatch(seg *segment) *roaring.Bitmap {
	r := ev.r
	ev.cur = ev.cur[:0]
	ev.words = nil
	if len(r.Words) == 0 {
		return seg.all // shared: segment never modifies it
	}
	sets := make([]*roaring.Bitmap, 0, len(r.Words))
	missing := 0
	for wi, word := range r.Words {
		var alts []*roaring.Bitmap
		for ti, t := range word {
			pn, ok := seg.terms[t]
			if !ok {
				continue
			}
			p := &seg.postings[pn]
			ev.cur = append(ev.cur, cursor{p: p, word: wi, idf: r.IDF[wi][ti]})
			alts = append(alts, p.bitmap())
		}
		switch len(alts) {
		case 0:
			missing++
			sets = append(sets, nil)
		case 1:
			sets = append(sets, alts[0])
		default:
			sets = append(sets, roaring.FastOr(alts...))
		}
	}
	need := len(r.Words)
	if r.MinMatch > 0 && r.MinMatch < need {
		need = r.MinMatch
	}
	if len(r.Words)-missing < need {
		return nil
	}
	var present []*roaring.Bitmap
	for _, s := range sets {
		if s != nil {
			present = append(present, s)
		}
	}
	if need == len(r.Words) {
		if len(present) == 1 {
			return present[0] // read only, like every match set
		}
		return roaring.FastAnd(present...)
	}
	ev.words = sets
	if need <= 1 {
		return roaring.FastOr(present...)
	}
	if len(present) <= maxComboWords {
		return atLeast(present, need)
	}
	union := roaring.FastOr(present...)
	out := roaring.New()
	it := union.ManyIterator()
	for n := it.NextMany(ev.buf[:]); n > 0; n = it.NextMany(ev.buf[:]) {
		ev.tick(n)
		for _, d := range ev.buf[:n] {
			c := 0
			for _, s := range present {
				if s.Contains(d) {
					c++
				}
			}
			if c >= need {
				out.Add(d)
			}
		}
	}
	return out
}

// predicate returns the documents of set that pass the price and rating
// bounds asked for.
func (ev *evaluator) predicate(seg *segment, set *roaring.Bitmap, pmin, pmax, rmin bool) *roaring.Bitmap {
	f := &ev.r.Filter
	out := roaring.New()
	var keep [256]uint32
	it := set.ManyIterator()
	for n := it.NextMany(ev.buf[:]); n > 0; n = it.NextMany(ev.buf[:]) {
		ev.tick(n)
		k := 0
		for _, d := range ev.buf[:n] {
			p := seg.price[d]
			if pmin && p < f.PriceMin || pmax && p > f.PriceMax || rmin && seg.rating[d] < f.RatingMin {
				continue
			}
			keep[k] = d
			k++
		}
		out.AddMany(keep[:k])
	}
	return out
}

// countColumn calls fn for every document of set, checking the deadline
// as it goes.
func (ev *evaluator) countColumn(set *roaring.Bitmap, fn func(uint32)) {
	it := set.ManyIterator()
	for n := it.NextMany(ev.buf[:]); n > 0; n = it.NextMany(ev.buf[:]) {
		ev.tick(n)
		for _, d := range ev.buf[:n] {
			fn(d)
		}
	}
}

func countRating(fc *FacetCounts, r float32, w uint32) {
	for i, t := range RatingBuckets {
		if r >= t {
			fc.Rating[i] += w
		}
	}
}
