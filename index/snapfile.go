package index

// The snapshot file of one Shard: what AppendSnapshot writes and
// LoadSnapshot reads. Format version 1 (SnapshotFormat). Changelog:
//
//	1: first version.
//
// Dictionary ords (brands, category nodes, attribute values) are global to
// an engine and differ between processes, so the file carries its own tables
// of the values it uses, as strings, and every column and bitmap key refers
// to a table index; loading interns the values in the shard's Dicts and
// remaps. Layout (uv = uvarint, v = zigzag varint, str = uv length and bytes,
// u16/u32 = little-endian, docs = uv count and the ascending doc numbers as
// uv deltas, the first from 0; bitmap = uv length and roaring's portable
// format):
//
//	"ASNP" uv version (1)
//	uv facet attribute count, then each name str (must equal Options.FacetAttrs)
//	uv brand count, then each display name str
//	uv node count, then each: uv depth, the names of its path str...
//	uv attribute value count, then each: folded name str, value str
//	uv segment count, then each segment:
//	  uv n, then n docs: byte 0 and the id str (a by-reference doc), or
//	     byte 1 and catalog.AppendProduct's form, or byte 2 and the id str
//	     (a deleted doc: loaded as a product holding only its id, never
//	     returned, as the caller may no longer be able to resolve it)
//	  lens: n*NumFields u16; lenSum: NumFields uv
//	  price: n v; rating: n u32 (float32 bits); created: n v;
//	  boost: n u32 (float32 bits, as stored: not recomputed); sponsored: n v
//	  brand, leaf: n uv each, table index+1, 0 for none
//	  fattr: per facet attribute, n uv: attribute table index+1, 0 for none
//	  docs inStock
//	  brands, nodes, attrs: each uv count, then (uv table index, docs)...
//	  byte hasSpons, u32 maxBoost
//	  uv posting count P, uv total term bytes, uv total posting length, then
//	     P postings in posting-number order: term str, docs,
//	     count*NumFields tf bytes
//	  byte 0, or byte 1 and the deletions bitmap
//
// The offers (from the products), the all bitmap, the id map, the byte
// estimate and the bitmaps of postings, facets and stock are rebuilt on
// load: rebuilding from docs is valid by construction and measured faster
// than roaring's portable format, whose Validate is quadratic in the runs of
// a container (BenchmarkLoadSnapshot/byref, 50k products: portable posting
// bitmaps 3.5-4.4 us/product and 275k allocs, rebuilt 1.8-2.2 us/product and
// 205k allocs). Only the deletions use the portable format. The caller adds
// compression and a checksum; a corrupt file makes LoadSnapshot return an
// error naming what it was reading and where (wrapping catalog.ErrCorrupt),
// never panic. The tables are interned before the segments are read, so a
// file found corrupt later may still have added values to the Dicts (which
// never reuse ords).

import (
	"bytes"
	"fmt"
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/rank"
)

// SnapshotFormat is the version AppendSnapshot writes.
const SnapshotFormat = 1

const snapMagic = "ASNP"

const nf = int(rank.NumFields)

// snapTables numbers the dictionary values a snapshot uses.
type snapTables struct {
	brands, nodes, attrs map[uint32]uint32 // ord -> table index
}

func (t *snapTables) add(m map[uint32]uint32, ord int64) {
	if ord >= 0 {
		if _, ok := m[uint32(ord)]; !ok {
			m[uint32(ord)] = uint32(len(m))
		}
	}
}

// sortedOrds returns m's keys in ascending order.
func sortedOrds[V any](m map[uint32]V) []uint32 {
	ks := make([]uint32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// AppendSnapshot appends the shard's current contents (its published
// snapshot: segments and their deletions) to dst. byRef(p) reports whether
// the caller can hand p back on load by its id; such docs are written as
// their id only, others in full with catalog.AppendProduct.
//
// It may run beside searches and an Apply: it writes the snapshot published
// when it starts. The terms are written as analysed, so a snapshot is only
// valid for a binary with the same analysis (query.AppendTerms) and rank
// options (the boosts); the caller keys its files accordingly.
func (s *Shard) AppendSnapshot(dst []byte, byRef func(*catalog.Product) bool) []byte {
	return s.View().AppendSnapshot(dst, byRef)
}

// AppendSnapshot appends the view's contents in the shard snapshot format:
// what the shard held when the view was taken, however it changed since.
func (v View) AppendSnapshot(dst []byte, byRef func(*catalog.Product) bool) []byte {
	snap := v.snap
	dicts := v.opts.Dicts
	t := snapTables{brands: map[uint32]uint32{}, nodes: map[uint32]uint32{}, attrs: map[uint32]uint32{}}
	facetOrds := make([][]uint32, len(v.opts.FacetAttrs))
	for k, name := range v.opts.FacetAttrs {
		facetOrds[k] = dicts.AttrValues(name)
	}
	// Number the values in ord order, so the same shard writes the same bytes.
	for _, seg := range snap.segs {
		for _, o := range sortedOrds(seg.brands) {
			t.add(t.brands, int64(o))
		}
		for _, o := range sortedOrds(seg.nodes) {
			t.add(t.nodes, int64(o))
		}
		for _, o := range sortedOrds(seg.attrs) {
			t.add(t.attrs, int64(o))
		}
		for d := range seg.docs {
			t.add(t.brands, int64(seg.brand[d]))
			t.add(t.nodes, int64(seg.leaf[d]))
			for k, col := range seg.fattr {
				if l := col[d]; l >= 0 {
					t.add(t.attrs, int64(facetOrds[k][l]))
				}
			}
		}
	}

	dst = append(dst, snapMagic...)
	dst = catalog.AppendUvarint(dst, SnapshotFormat)
	dst = catalog.AppendUvarint(dst, uint64(len(v.opts.FacetAttrs)))
	for _, name := range v.opts.FacetAttrs {
		dst = catalog.AppendString(dst, name)
	}
	dst = catalog.AppendUvarint(dst, uint64(len(t.brands)))
	for _, o := range byIndex(t.brands) {
		dst = catalog.AppendString(dst, dicts.Brand(o))
	}
	dst = catalog.AppendUvarint(dst, uint64(len(t.nodes)))
	var path []string
	for _, o := range byIndex(t.nodes) {
		path = path[:0]
		for n := int32(o); n >= 0; {
			node := dicts.Node(uint32(n))
			path = append(path, node.Name)
			n = node.Parent
		}
		dst = catalog.AppendUvarint(dst, uint64(len(path)))
		for i := len(path) - 1; i >= 0; i-- {
			dst = catalog.AppendString(dst, path[i])
		}
	}
	dst = catalog.AppendUvarint(dst, uint64(len(t.attrs)))
	for _, o := range byIndex(t.attrs) {
		a := dicts.Attr(o)
		dst = catalog.AppendString(catalog.AppendString(dst, a.Name), a.Value)
	}
	dst = catalog.AppendUvarint(dst, uint64(len(snap.segs)))
	for i, seg := range snap.segs {
		dst = appendSegment(dst, seg, snap.dels[i], &t, facetOrds, byRef)
		if del := snap.dels[i]; del != nil {
			dst = appendBitmap(append(dst, 1), del)
		} else {
			dst = append(dst, 0)
		}
	}
	return dst
}

// byIndex returns the ords of m ordered by their table index.
func byIndex(m map[uint32]uint32) []uint32 {
	ords := make([]uint32, len(m))
	for o, i := range m {
		ords[i] = o
	}
	return ords
}

func appendSegment(dst []byte, seg *segment, del *roaring.Bitmap, t *snapTables, facetOrds [][]uint32, byRef func(*catalog.Product) bool) []byte {
	n := seg.len()
	dst = catalog.AppendUvarint(dst, uint64(n))
	for d, p := range seg.docs {
		if del != nil && del.Contains(uint32(d)) {
			dst = catalog.AppendString(append(dst, 2), p.ID)
		} else if byRef != nil && byRef(p) {
			dst = catalog.AppendString(append(dst, 0), p.ID)
		} else {
			dst = catalog.AppendProduct(append(dst, 1), p)
		}
	}
	for d := range seg.lens {
		for _, l := range seg.lens[d] {
			dst = append(dst, byte(l), byte(l>>8))
		}
	}
	for _, x := range seg.lenSum {
		dst = catalog.AppendUvarint(dst, x)
	}
	for _, x := range seg.price {
		dst = catalog.AppendVarint(dst, x)
	}
	for _, x := range seg.rating {
		dst = catalog.AppendUint32(dst, math.Float32bits(x))
	}
	for _, x := range seg.created {
		dst = catalog.AppendVarint(dst, x)
	}
	for _, x := range seg.boost {
		dst = catalog.AppendUint32(dst, math.Float32bits(x))
	}
	for _, x := range seg.sponsored {
		dst = catalog.AppendVarint(dst, x)
	}
	ref := func(m map[uint32]uint32, ord int32) uint64 {
		if ord < 0 {
			return 0
		}
		return uint64(m[uint32(ord)]) + 1
	}
	for _, o := range seg.brand {
		dst = catalog.AppendUvarint(dst, ref(t.brands, o))
	}
	for _, o := range seg.leaf {
		dst = catalog.AppendUvarint(dst, ref(t.nodes, o))
	}
	for k, col := range seg.fattr {
		for _, l := range col {
			if l < 0 {
				dst = append(dst, 0)
			} else {
				dst = catalog.AppendUvarint(dst, ref(t.attrs, int32(facetOrds[k][l])))
			}
		}
	}
	dst = appendDocs(dst, seg.inStock)
	for _, c := range []struct {
		bms map[uint32]*roaring.Bitmap
		tab map[uint32]uint32
	}{{seg.brands, t.brands}, {seg.nodes, t.nodes}, {seg.attrs, t.attrs}} {
		dst = catalog.AppendUvarint(dst, uint64(len(c.bms)))
		for _, o := range sortedOrds(c.bms) {
			dst = appendDocs(catalog.AppendUvarint(dst, uint64(c.tab[o])), c.bms[o])
		}
	}
	if seg.hasSpons {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	dst = catalog.AppendUint32(dst, math.Float32bits(seg.maxBoost))

	terms := make([]string, len(seg.postings))
	termBytes, total := 0, 0
	for term, pn := range seg.terms {
		terms[pn] = term
		termBytes += len(term)
	}
	for i := range seg.postings {
		total += len(seg.postings[i].docs)
	}
	dst = catalog.AppendUvarint(dst, uint64(len(seg.postings)))
	dst = catalog.AppendUvarint(dst, uint64(termBytes))
	dst = catalog.AppendUvarint(dst, uint64(total))
	for i := range seg.postings {
		p := &seg.postings[i]
		dst = catalog.AppendString(dst, terms[i])
		dst = catalog.AppendUvarint(dst, uint64(len(p.docs)))
		prev := uint32(0)
		for _, d := range p.docs {
			dst = catalog.AppendUvarint(dst, uint64(d-prev))
			prev = d
		}
		for j := range p.tfs {
			dst = append(dst, p.tfs[j][:]...)
		}
	}
	return dst
}

// appendDocs appends the docs of bm as a uvarint count and uvarint deltas
// (the first from 0).
func appendDocs(dst []byte, bm *roaring.Bitmap) []byte {
	dst = catalog.AppendUvarint(dst, bm.GetCardinality())
	prev := uint32(0)
	it := bm.Iterator()
	for it.HasNext() {
		d := it.Next()
		dst = catalog.AppendUvarint(dst, uint64(d-prev))
		prev = d
	}
	return dst
}

// byteAppender is an io.Writer appending to a slice.
type byteAppender struct{ b []byte }

func (w *byteAppender) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func appendBitmap(dst []byte, bm *roaring.Bitmap) []byte {
	dst = catalog.AppendUvarint(dst, bm.GetSerializedSizeInBytes())
	w := byteAppender{dst}
	if _, err := bm.WriteTo(&w); err != nil {
		panic(fmt.Sprintf("index: writing a bitmap to memory: %v", err)) // cannot fail
	}
	return w.b
}

// LoadSnapshot replaces the shard's contents with a snapshot made by
// AppendSnapshot (of a shard with the same options); resolve returns the
// product of a by-reference doc. It publishes the loaded snapshot atomically.
func (s *Shard) LoadSnapshot(b []byte, resolve func(id string) (*catalog.Product, bool)) error {
	l := snapLoader{d: catalog.NewDecoder(b), opts: &s.opts, resolve: resolve}
	next, err := l.load()
	if err != nil {
		return fmt.Errorf("index: loading snapshot: %w", err)
	}
	next.stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.Store(next)
	return nil
}

// snapLoader reads one snapshot file.
type snapLoader struct {
	d       catalog.Decoder
	opts    *Options
	resolve func(id string) (*catalog.Product, bool)

	brands, nodes, attrs []uint32  // table index -> ord in opts.Dicts
	facetLocal           [][]int32 // per facet attribute: attribute table index -> local number, -1 for another name
	buf                  []uint32  // scratch of docs
	deleted              []uint32  // the docs of the segment written as deleted
}

func (l *snapLoader) load() (*snapshot, error) {
	d := &l.d
	d.What = "magic"
	if m := d.Bytes(len(snapMagic)); d.Err() == nil && string(m) != snapMagic {
		d.Failf("%q is not %q", m, snapMagic)
	}
	d.What = "format version"
	if v := d.Uvarint(); d.Err() == nil && v != SnapshotFormat {
		d.Failf("version %d, want %d", v, SnapshotFormat)
	}
	if err := l.tables(); err != nil {
		return nil, err
	}
	d.What = "segment count"
	nseg := l.count(2)
	next := &snapshot{segs: make([]*segment, 0, nseg), dels: make([]*roaring.Bitmap, 0, nseg)}
	for i := range nseg {
		l.deleted = l.deleted[:0]
		seg := l.segment()
		d.What = "deletions"
		var del *roaring.Bitmap
		if d.Byte() == 1 && d.Err() == nil {
			del = l.bitmap(seg.len())
		}
		for _, doc := range l.deleted {
			if (del == nil || !del.Contains(doc)) && d.Err() == nil {
				d.Failf("document %d is written as deleted but is not in the deletions", doc)
			}
		}
		if err := d.Err(); err != nil {
			return nil, fmt.Errorf("segment %d of %d: %w", i, nseg, err)
		}
		next.segs = append(next.segs, seg)
		next.dels = append(next.dels, del)
	}
	if d.Err() == nil && d.Len() > 0 {
		d.What = "end"
		d.Failf("%d bytes after the last segment", d.Len())
	}
	return next, d.Err()
}

// count reads a uvarint count of items of at least minSize bytes each.
func (l *snapLoader) count(minSize int) int {
	n := l.d.Uvarint()
	if n > uint64(l.d.Len()/minSize) {
		l.d.Failf("count %d exceeds the %d bytes left", n, l.d.Len())
		return 0
	}
	return int(n)
}

// tables reads the value tables and interns them in the shard's Dicts.
func (l *snapLoader) tables() error {
	d, dicts := &l.d, l.opts.Dicts
	d.What = "facet attributes"
	if n := l.count(1); d.Err() == nil && n != len(l.opts.FacetAttrs) {
		d.Failf("%d facet attributes, the shard has %d", n, len(l.opts.FacetAttrs))
	}
	for _, want := range l.opts.FacetAttrs {
		if got := d.String(); d.Err() == nil && got != want {
			d.Failf("facet attribute %q, the shard has %q", got, want)
		}
	}
	d.What = "brand table"
	l.brands = make([]uint32, l.count(1))
	for i := range l.brands {
		name := d.String()
		o, ok := dicts.brand(name)
		if !ok && d.Err() == nil {
			d.Failf("brand %d is empty", i)
		}
		l.brands[i] = o
	}
	d.What = "category table"
	l.nodes = make([]uint32, l.count(1))
	var path []string
	for i := range l.nodes {
		path = path[:0]
		for range l.count(1) {
			path = append(path, d.String())
		}
		o, ok := dicts.category(path)
		if !ok && d.Err() == nil {
			d.Failf("category %d has an empty path", i)
		}
		l.nodes[i] = o
	}
	d.What = "attribute table"
	l.attrs = make([]uint32, l.count(2))
	l.facetLocal = make([][]int32, len(l.opts.FacetAttrs))
	for k := range l.facetLocal {
		l.facetLocal[k] = make([]int32, len(l.attrs))
	}
	for i := range l.attrs {
		name := d.String()
		o, ok := dicts.attr(name, d.String())
		if !ok && d.Err() == nil {
			d.Failf("attribute value %d of %q is empty", i, name)
		}
		l.attrs[i] = o
		for k, fa := range l.opts.FacetAttrs {
			l.facetLocal[k][i] = -1
			if ok && AttrName(name) == fa {
				l.facetLocal[k][i] = int32(dicts.Attr(o).Local)
			}
		}
	}
	return d.Err()
}

// ref reads a column value written as table index+1 and returns its ord in
// table, or -1 for 0.
func (l *snapLoader) ref(table []uint32) int32 {
	x := l.d.Uvarint()
	if x == 0 {
		return -1
	}
	if x > uint64(len(table)) {
		l.d.Failf("index %d in a table of %d", x-1, len(table))
		return -1
	}
	return int32(table[x-1])
}

func (l *snapLoader) segment() *segment {
	d := &l.d
	d.What = "document count"
	n := l.count(2)
	s := newSegment(nil, n, len(l.opts.FacetAttrs))
	for i := range n {
		d.What = "document"
		var p *catalog.Product
		switch d.Byte() {
		case 0:
			d.What = "document id"
			id := d.String()
			if d.Err() != nil {
				return s
			}
			if l.resolve == nil {
				d.Failf("document %d: product %q by reference without a resolve function", i, id)
				return s
			}
			var ok bool
			if p, ok = l.resolve(id); !ok || p == nil || p.ID != id {
				d.Failf("document %d: product %q by reference not resolved", i, id)
			}
		case 1:
			p = d.Product()
		case 2:
			d.What = "deleted document id"
			p = &catalog.Product{ID: d.String()}
			l.deleted = append(l.deleted, uint32(i))
		default:
			d.Failf("document %d: tag is not 0, 1 or 2", i)
		}
		if d.Err() != nil {
			return s
		}
		s.docs[i] = p
		s.ids[p.ID] = uint32(i)
		s.offer[i] = p.Offer()
	}
	d.What = "field lengths"
	lens := d.Bytes(n * nf * 2)
	if d.Err() != nil {
		return s
	}
	for i := range s.lens {
		for f := range s.lens[i] {
			j := (i*nf + f) * 2
			s.lens[i][f] = uint16(lens[j]) | uint16(lens[j+1])<<8
		}
	}
	for f := range s.lenSum {
		s.lenSum[f] = d.Uvarint()
	}
	d.What = "price column"
	for i := range s.price {
		s.price[i] = d.Varint()
	}
	d.What = "rating column"
	for i := range s.rating {
		s.rating[i] = math.Float32frombits(d.Uint32())
	}
	d.What = "created column"
	for i := range s.created {
		s.created[i] = d.Varint()
	}
	d.What = "boost column"
	for i := range s.boost {
		s.boost[i] = math.Float32frombits(d.Uint32())
	}
	d.What = "sponsored column"
	for i := range s.sponsored {
		s.sponsored[i] = d.Varint()
	}
	d.What = "brand column"
	for i := range s.brand {
		s.brand[i] = l.ref(l.brands)
	}
	d.What = "category column"
	for i := range s.leaf {
		s.leaf[i] = l.ref(l.nodes)
	}
	d.What = "facet attribute columns"
	for k, col := range s.fattr {
		for i := range col {
			x := d.Uvarint()
			switch {
			case x == 0:
				col[i] = -1
			case x > uint64(len(l.attrs)):
				d.Failf("index %d in a table of %d", x-1, len(l.attrs))
			case l.facetLocal[k][x-1] < 0:
				d.Failf("value %d of facet %q is of another attribute", x-1, l.opts.FacetAttrs[k])
			default:
				col[i] = l.facetLocal[k][x-1]
			}
		}
	}
	d.What = "in-stock docs"
	s.inStock = l.docs(n)
	for _, c := range []struct {
		what  string
		bms   map[uint32]*roaring.Bitmap
		table []uint32
	}{{"brand docs", s.brands, l.brands}, {"category docs", s.nodes, l.nodes}, {"attribute docs", s.attrs, l.attrs}} {
		d.What = c.what
		for range l.count(2) {
			i := d.Uvarint()
			if i >= uint64(len(c.table)) && d.Err() == nil {
				d.Failf("index %d in a table of %d", i, len(c.table))
			}
			bm := l.docs(n)
			if d.Err() != nil {
				return s
			}
			c.bms[c.table[i]] = bm
		}
	}
	d.What = "sponsored flag"
	s.hasSpons = d.Byte() == 1
	d.What = "max boost"
	s.maxBoost = math.Float32frombits(d.Uint32())
	l.postings(s)
	if d.Err() == nil {
		s.all.AddRange(0, uint64(n))
		s.bytes = s.size()
	}
	return s
}

// postings reads the term dictionary and postings of s. The docs and term
// frequencies of all postings share one backing array each, and the terms
// one string allocation.
func (l *snapLoader) postings(s *segment) {
	d := &l.d
	d.What = "posting count"
	np := l.count(2)
	d.What = "term bytes"
	d.Arena(d.Len64(d.Uvarint()))
	d.What = "posting lengths"
	total := d.Len64(d.Uvarint())
	if d.Err() != nil {
		return
	}
	docs := make([]uint32, total)
	tfs := make([]rank.TermFreqs, total)
	s.terms = make(map[string]uint32, np)
	s.postings = make([]posting, np)
	n := uint64(s.len())
	for i := range s.postings {
		d.What = "term"
		term := d.String()
		d.What = "posting length"
		m := d.Uvarint()
		if m > uint64(len(docs)) {
			if d.Err() == nil {
				d.Failf("posting of term %q has %d docs, %d left of the declared total", term, m, len(docs))
			}
			break
		}
		d.What = "posting docs"
		pd := docs[:m:m]
		docs = docs[m:]
		prev := uint64(0)
		for j := range pd {
			x := prev + d.Uvarint()
			if (j > 0 && x == prev) || x >= n {
				if d.Err() == nil {
					d.Failf("posting of term %q: doc %d after %d in a segment of %d", term, x, prev, n)
				}
				break
			}
			pd[j] = uint32(x)
			prev = x
		}
		d.What = "term frequencies"
		raw := d.Bytes(int(m) * nf)
		if d.Err() != nil {
			break
		}
		pt := tfs[:m:m]
		tfs = tfs[m:]
		for j := range pt {
			copy(pt[j][:], raw[j*nf:])
		}
		p := &s.postings[i]
		p.docs, p.tfs = pd, pt
		s.terms[term] = uint32(i)
	}
	d.Arena(-1)
	if d.Err() == nil && (len(docs) > 0 || len(s.terms) != np) {
		d.What = "postings"
		d.Failf("%d declared posting docs unused, %d distinct terms of %d", len(docs), len(s.terms), np)
	}
}

// docs reads a bitmap written by appendDocs, of docs below n.
func (l *snapLoader) docs(n int) *roaring.Bitmap {
	d := &l.d
	m := d.Len64(d.Uvarint())
	bm := roaring.New()
	if d.Err() != nil {
		return bm
	}
	buf := l.buf[:0]
	prev := uint64(0)
	for j := range m {
		x := prev + d.Uvarint()
		if (j > 0 && x == prev) || x >= uint64(n) {
			if d.Err() == nil {
				d.Failf("doc %d after %d in a segment of %d", x, prev, n)
			}
			return bm
		}
		buf = append(buf, uint32(x))
		prev = x
	}
	l.buf = buf
	bm.AddMany(buf)
	bm.RunOptimize()
	return bm
}

// bitmap reads a bitmap of docs below n.
func (l *snapLoader) bitmap(n int) *roaring.Bitmap {
	d := &l.d
	raw := d.Bytes(d.Len64(d.Uvarint()))
	if d.Err() != nil {
		return roaring.New()
	}
	bm := roaring.New()
	if err := readBitmap(bm, raw); err != nil {
		d.Failf("%v", err)
	} else if !bm.IsEmpty() && bm.Maximum() >= uint32(n) {
		d.Failf("doc %d in a segment of %d", bm.Maximum(), n)
	}
	return bm
}

// readBitmap reads bm from raw, in roaring's portable format, copying it, and
// validates it. A panic of the roaring decoder on corrupt input is returned
// as an error.
func readBitmap(bm *roaring.Bitmap, raw []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("roaring bitmap of %d bytes: %v", len(raw), r)
		}
	}()
	read, err := bm.ReadFrom(bytes.NewReader(raw))
	switch {
	case err != nil:
		return fmt.Errorf("roaring bitmap of %d bytes: %w", len(raw), err)
	case read != int64(len(raw)):
		return fmt.Errorf("roaring bitmap read %d of %d bytes", read, len(raw))
	}
	if err := bm.Validate(); err != nil {
		return fmt.Errorf("roaring bitmap of %d bytes: %w", len(raw), err)
	}
	return nil
}
