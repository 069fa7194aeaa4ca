package index

import (
	"math"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// postingsBuilder collects the postings of one segment build. Each term
// occurrence costs one lookup in terms (a short text recurring across
// products costs one lookup in short); a document's frequencies go to one
// hit per (term, document), and the postings are cut from two arenas once
// all documents are in, so no posting grows by appending.
type postingsBuilder struct {
	terms *termTable // term -> posting number
	buf   []string
	short map[string][]uint32 // short text -> its terms' posting numbers
	pns   []uint32            // arena of the values of short
	state []termState         // by posting number
	hits  hitChunks           // in document order
}

// hitChunks is an append-only list of hits in chunks, so that it grows
// without copying. The chunks come from hitPool; release returns them.
type hitChunks struct {
	chunks []*hitChunk
	n      int
}

const hitChunkBits = 13

type hitChunk [1 << hitChunkBits]termHit

// hitPool holds free chunks. A chunk's hits are all overwritten before
// they are read, so it is not cleared.
var hitPool = sync.Pool{New: func() any { return new(hitChunk) }}

func (h *hitChunks) append(x termHit) int32 {
	i := h.n
	if i&(1<<hitChunkBits-1) == 0 {
		h.chunks = append(h.chunks, hitPool.Get().(*hitChunk))
	}
	h.chunks[i>>hitChunkBits][i&(1<<hitChunkBits-1)] = x
	h.n++
	return int32(i)
}

func (h *hitChunks) at(i int32) *termHit {
	return &h.chunks[i>>hitChunkBits][i&(1<<hitChunkBits-1)]
}

// release returns the chunks to hitPool and empties h.
func (h *hitChunks) release() {
	for _, c := range h.chunks {
		hitPool.Put(c)
	}
	*h = hitChunks{}
}

type termState struct {
	last int32  // the last document holding the term, -1 before the first
	hit  int32  // the index in hits of that document's frequencies
	n    uint32 // documents holding the term
}

type termHit struct {
	pn, doc uint32
	tf      rank.TermFreqs
}

// add analyzes text as field f of document d, counting its terms into lens.
func (b *postingsBuilder) add(lens *rank.DocLens, f rank.Field, text string, d int32) {
	before := len(b.buf)
	b.buf = query.AppendTerms(b.buf, text)
	addLen(lens, f, len(b.buf)-before)
	for _, t := range b.buf[before:] {
		b.count(b.intern(t), f, d)
	}
	b.buf = b.buf[:before]
}

// addShort is add for the short texts that recur across products (brands,
// category levels, attribute values): each distinct text is analyzed once
// per build and its posting numbers remembered.
func (b *postingsBuilder) addShort(lens *rank.DocLens, f rank.Field, text string, d int32) {
	pns, ok := b.short[text]
	if !ok {
		before, start := len(b.buf), len(b.pns)
		b.buf = query.AppendTerms(b.buf, text)
		for _, t := range b.buf[before:] {
			b.pns = append(b.pns, b.intern(t))
		}
		b.buf = b.buf[:before]
		pns = b.pns[start:len(b.pns):len(b.pns)]
		b.short[text] = pns
	}
	addLen(lens, f, len(pns))
	for _, pn := range pns {
		b.count(pn, f, d)
	}
}

func addLen(lens *rank.DocLens, f rank.Field, n int) {
	lens[f] = uint16(min(int(lens[f])+n, math.MaxUint16))
}

// intern returns the posting number of term t, numbering a new one.
func (b *postingsBuilder) intern(t string) uint32 {
	pn := b.terms.num(t)
	if int(pn) == len(b.state) {
		b.state = append(b.state, termState{last: -1})
	}
	return pn
}

// count counts one occurrence of posting pn in field f of document d.
func (b *postingsBuilder) count(pn uint32, f rank.Field, d int32) {
	st := &b.state[pn]
	if st.last != d {
		st.last, st.hit = d, b.hits.append(termHit{pn: pn, doc: uint32(d)})
		st.n++
	}
	if tf := &b.hits.at(st.hit).tf; tf[f] < math.MaxUint8 {
		tf[f]++
	}
}

// postings puts the terms in m and returns their postings, each with its
// documents ascending and its bitmap run-optimised.
func (b *postingsBuilder) postings(m map[string]uint32) []posting {
	b.terms.fill(m)
	ps := make([]posting, len(b.state))
	docs := make([]uint32, b.hits.n)
	tfs := make([]rank.TermFreqs, b.hits.n)
	off := 0
	for pn := range b.state {
		c := int(b.state[pn].n)
		ps[pn].docs = docs[off : off : off+c]
		ps[pn].tfs = tfs[off : off : off+c]
		off += c
	}
	for c, chunk := range b.hits.chunks {
		chunk := chunk[:min(len(chunk), b.hits.n-c<<hitChunkBits)]
		for i := range chunk {
			h := &chunk[i]
			p := &ps[h.pn]
			p.docs = append(p.docs, h.doc)
			p.tfs = append(p.tfs, h.tf)
		}
	}
	b.hits.release()
	return ps
}

// facetBuilder collects the facet bitmaps of one segment build. It asks
// the dictionaries once per distinct brand, category path and attribute
// value of the build, not once per product, and gathers the documents of
// each bitmap in a list made into a bitmap at the end.
type facetBuilder struct {
	dicts      *Dicts
	facetAttrs []string

	brands map[string]brandEntry // raw brand -> its entry
	cats   catNode               // category paths by raw level names
	names  map[string]*attrName  // raw attribute name -> its entry
	anc    []uint32

	slots  []facetSlot
	slotOf [3]map[uint32]int32 // per kind: ord -> slot
	hits   []facetHit
}

const (
	kindBrand = iota
	kindNode
	kindAttr
)

type facetSlot struct {
	kind int
	ord  uint32
	last int32 // the last document added, -1 before the first
	n    int32
}

type facetHit struct{ slot, doc uint32 }

type brandEntry struct {
	ord  int32 // -1 when none
	slot int32
}

type catNode struct {
	next  map[string]*catNode
	known bool
	leaf  int32   // the ord of the path's leaf node
	slots []int32 // the slots of the leaf and its ancestors
}

type attrName struct {
	facets []int // the indexes of Options.FacetAttrs that are this name
	values map[string]attrEntry
}

type attrEntry struct {
	ok    bool
	slot  int32
	local int32
}

// newFacetBuilder returns a facetBuilder for a build of n products.
func newFacetBuilder(dicts *Dicts, facetAttrs []string, n int) *facetBuilder {
	f := &facetBuilder{
		dicts:      dicts,
		facetAttrs: facetAttrs,
		hits:       make([]facetHit, 0, n*8), // a brand, 3 levels, some attributes
		brands:     map[string]brandEntry{},
		names:      map[string]*attrName{},
	}
	for k := range f.slotOf {
		f.slotOf[k] = map[uint32]int32{}
	}
	return f
}

// slot returns the slot of the bitmap of ord of a kind.
func (f *facetBuilder) slot(kind int, ord uint32) int32 {
	if s, ok := f.slotOf[kind][ord]; ok {
		return s
	}
	s := int32(len(f.slots))
	f.slots = append(f.slots, facetSlot{kind: kind, ord: ord, last: -1})
	f.slotOf[kind][ord] = s
	return s
}

// add puts document d in the bitmap of slot s; documents come ascending.
func (f *facetBuilder) add(s int32, d int32) {
	sl := &f.slots[s]
	if sl.last == d {
		return
	}
	sl.last = d
	sl.n++
	f.hits = append(f.hits, facetHit{uint32(s), uint32(d)})
}

// brand adds d to its brand's bitmap and returns the brand ord, -1 when
// none.
func (f *facetBuilder) brand(name string, d int32) int32 {
	e, ok := f.brands[name]
	if !ok {
		e = brandEntry{ord: -1}
		if o, ok := f.dicts.brand(name); ok {
			e = brandEntry{ord: int32(o), slot: f.slot(kindBrand, o)}
		}
		f.brands[name] = e
	}
	if e.ord >= 0 {
		f.add(e.slot, d)
	}
	return e.ord
}

// category adds d to the bitmaps of its category's leaf and ancestors and
// returns the leaf ord, -1 when none.
func (f *facetBuilder) category(path []string, d int32) int32 {
	if len(path) == 0 {
		return -1
	}
	n := &f.cats
	for _, c := range path {
		next := n.next[c]
		if next == nil {
			if n.next == nil {
				n.next = map[string]*catNode{}
			}
			next = &catNode{}
			n.next[c] = next
		}
		n = next
	}
	if !n.known {
		o, _ := f.dicts.category(path)
		n.known, n.leaf = true, int32(o)
		f.anc = f.dicts.appendAncestors(f.anc[:0], o)
		for _, a := range f.anc {
			n.slots = append(n.slots, f.slot(kindNode, a))
		}
	}
	for _, s := range n.slots {
		f.add(s, d)
	}
	return n.leaf
}

// attr adds d to the bitmap of attribute value (name, v) and sets the
// facet columns of name in fattr that are still unset.
func (f *facetBuilder) attr(name, v string, d int32, fattr [][]int32) {
	an := f.names[name]
	if an == nil {
		an = &attrName{values: map[string]attrEntry{}}
		key := AttrName(name)
		for k, fa := range f.facetAttrs {
			if key == fa {
				an.facets = append(an.facets, k)
			}
		}
		f.names[name] = an
	}
	e, ok := an.values[v]
	if !ok {
		if o, ok := f.dicts.attr(name, v); ok {
			e = attrEntry{ok: true, slot: f.slot(kindAttr, o)}
			if len(an.facets) > 0 {
				e.local = int32(f.dicts.Attr(o).Local)
			}
		}
		an.values[v] = e
	}
	if !e.ok {
		return
	}
	f.add(e.slot, d)
	for _, k := range an.facets {
		if fattr[k][d] < 0 {
			fattr[k][d] = e.local
		}
	}
}

// bitmaps makes the run-optimised bitmaps into the segment's maps.
func (f *facetBuilder) bitmaps(s *segment) {
	off := make([]int32, len(f.slots)+1)
	for i := range f.slots {
		off[i+1] = off[i] + f.slots[i].n
	}
	docs := make([]uint32, len(f.hits))
	next := off[:len(f.slots)]
	for _, h := range f.hits {
		docs[next[h.slot]] = h.doc
		next[h.slot]++
	}
	maps := [3]map[uint32]*roaring.Bitmap{s.brands, s.nodes, s.attrs}
	start := int32(0)
	for i := range f.slots {
		sl := &f.slots[i]
		end := start + sl.n
		bm := roaring.New()
		bm.AddMany(docs[start:end])
		bm.RunOptimize()
		maps[sl.kind][sl.ord] = bm
		start = end
	}
}
