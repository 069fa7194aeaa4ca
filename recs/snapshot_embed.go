package recs

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The embeddings section of a version 2 snapshot (doc/recs.md), after the
// bundles:
//
//	uvarint  1 when embeddings follow, 0 when not (then nothing follows)
//	options  uvarint Dim, Matrix, MinOrders; varint MinCoCount; float64
//	         Shift; uvarint MaxBasket, Oversample, PowerIters, Seed,
//	         HNSW.M, HNSW.EfConstruction, HNSW.EfSearch
//	uvarint  rows: the items with a vector
//	rows ×   uvarint item index (into the lists' items), increasing not
//	         required, each at most once
//	rows×Dim float32 little-endian: the unit vectors, row by row
//	uvarint  entry node, uvarint its level
//	rows ×   byte: the level of each node
//	uvarint  link count, then that many uint32 little-endian: the flat
//	         link blocks of HNSW (their offsets follow from the levels)
//
// Floats are raw, not varints: they are most of the section and zstd
// compresses what little it can.

// appendPayload appends e's section; a nil e appends the "none" byte.
func (e *Embeddings) appendPayload(p []byte) []byte {
	if e == nil {
		return binary.AppendUvarint(p, 0)
	}
	p = binary.AppendUvarint(p, 1)
	o := e.opts
	for _, v := range []uint64{uint64(o.Dim), uint64(o.Matrix), uint64(o.MinOrders)} {
		p = binary.AppendUvarint(p, v)
	}
	p = binary.AppendVarint(p, int64(o.MinCoCount))
	p = binary.LittleEndian.AppendUint64(p, math.Float64bits(o.Shift))
	for _, v := range []uint64{uint64(o.MaxBasket), uint64(o.Oversample), uint64(o.PowerIters), o.Seed,
		uint64(o.HNSW.M), uint64(o.HNSW.EfConstruction), uint64(o.HNSW.EfSearch)} {
		p = binary.AppendUvarint(p, v)
	}
	p = binary.AppendUvarint(p, uint64(len(e.item)))
	for _, x := range e.item {
		p = binary.AppendUvarint(p, uint64(x))
	}
	p = slices32(p, e.vecs)
	g := e.graph
	p = binary.AppendUvarint(p, uint64(g.entry))
	p = binary.AppendUvarint(p, uint64(g.top))
	p = append(p, g.level...)
	p = binary.AppendUvarint(p, uint64(len(g.links)))
	for _, l := range g.links {
		p = binary.LittleEndian.AppendUint32(p, l)
	}
	return p
}

func slices32(p []byte, fs []float32) []byte {
	for _, f := range fs {
		p = binary.LittleEndian.AppendUint32(p, math.Float32bits(f))
	}
	return p
}

// embeddings decodes the section after the bundles, for lists l; nil when
// the snapshot holds none. It checks everything a search relies on: item
// indexes, finite unit vectors, link counts and targets, the entry node.
func (d *decoder) embeddings(l *Lists) *Embeddings {
	if d.uvarint(1, "embeddings flag") == 0 || d.err != nil {
		return nil
	}
	n := uint64(len(l.items))
	var o EmbedOptions
	o.Dim = int(d.uvarint(1024, "embedding dimension"))
	o.Matrix = EmbedMatrix(d.uvarint(uint64(CoCosine), "embedding matrix"))
	o.MinOrders = int(d.uvarint(math.MaxInt32, "embedding min orders"))
	o.MinCoCount = int(d.varint(math.MaxInt32, "embedding min co-count"))
	o.Shift = float64(d.float64("embedding shift"))
	o.MaxBasket = int(d.uvarint(math.MaxInt32, "embedding max basket"))
	o.Oversample = int(d.uvarint(math.MaxInt32, "embedding oversample"))
	o.PowerIters = int(d.uvarint(math.MaxInt32, "embedding power iterations"))
	o.Seed = d.uvarint(math.MaxUint64, "embedding seed")
	o.HNSW.M = int(d.uvarint(256, "HNSW M"))
	o.HNSW.EfConstruction = int(d.uvarint(math.MaxInt32, "HNSW efConstruction"))
	o.HNSW.EfSearch = int(d.uvarint(math.MaxInt32, "HNSW efSearch"))
	o.HNSW.Seed = o.Seed
	rows := d.uvarint(n, "embedding rows")
	if d.err != nil {
		return nil
	}
	if o.Dim == 0 || o.Matrix == 0 || o.HNSW.M < 2 {
		d.err = fmt.Errorf("%w: embedding dimension %d, matrix %d, HNSW M %d", ErrCorrupt, o.Dim, o.Matrix, o.HNSW.M)
		return nil
	}
	e := &Embeddings{opts: o, dim: o.Dim, items: l.items, byID: l.byID, row: make([]int32, n), item: make([]int32, rows)}
	for i := range e.row {
		e.row[i] = -1
	}
	for r := range e.item {
		x := d.uvarint(n-1, "embedding item")
		if d.err != nil {
			return nil
		}
		if e.row[x] >= 0 {
			d.err = fmt.Errorf("%w: item %d has two vectors", ErrCorrupt, x)
			return nil
		}
		e.row[x] = int32(r)
		e.item[r] = int32(x)
	}
	nf := rows * uint64(o.Dim)
	raw := d.bytes(nf*4, "embedding vectors")
	if d.err != nil {
		return nil
	}
	e.vecs = make([]float32, nf)
	for i := range e.vecs {
		e.vecs[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	for r := range rows {
		var s float64
		for _, f := range e.vecs[r*uint64(o.Dim) : (r+1)*uint64(o.Dim)] {
			s += float64(f) * float64(f)
		}
		if !(math.Abs(s-1) <= 1e-3) { // also NaN and infinities
			d.err = fmt.Errorf("%w: embedding row %d has squared norm %v", ErrCorrupt, r, s)
			return nil
		}
	}
	e.graph = d.hnsw(e.vecs, o.Dim, int(rows), o.HNSW)
	if d.err != nil {
		return nil
	}
	return e
}

// hnsw decodes the graph over vecs (rows vectors of dim).
func (d *decoder) hnsw(vecs []float32, dim, rows int, o HNSWOptions) *HNSW {
	h := &HNSW{dim: dim, m: o.M, m0: 2 * o.M, efSearch: o.EfSearch, vecs: vecs}
	h.entry = uint32(d.uvarint(uint64(max(rows, 1)-1), "HNSW entry"))
	h.top = int(d.uvarint(32, "HNSW top level"))
	h.level = d.bytes(uint64(rows), "HNSW levels")
	if d.err != nil {
		return nil
	}
	h.level = append([]uint8(nil), h.level...)
	h.off = make([]uint32, rows+1)
	var total uint64
	for i, l := range h.level {
		if l > 32 {
			d.err = fmt.Errorf("%w: HNSW node %d at level %d", ErrCorrupt, i, l)
			return nil
		}
		total += uint64(1 + h.m0 + int(l)*(1+h.m))
		if total > math.MaxUint32 {
			d.err = fmt.Errorf("%w: HNSW links over %d", ErrCorrupt, uint64(math.MaxUint32))
			return nil
		}
		h.off[i+1] = uint32(total)
	}
	if rows > 0 && int(h.level[h.entry]) != h.top {
		d.err = fmt.Errorf("%w: HNSW entry %d at level %d, top level %d", ErrCorrupt, h.entry, h.level[h.entry], h.top)
		return nil
	}
	nl := d.uvarint(total, "HNSW link count")
	if d.err == nil && nl != total {
		d.err = fmt.Errorf("%w: %d HNSW links, the levels make %d", ErrCorrupt, nl, total)
	}
	raw := d.bytes(nl*4, "HNSW links")
	if d.err != nil {
		return nil
	}
	h.links = make([]uint32, nl)
	for i := range h.links {
		h.links[i] = binary.LittleEndian.Uint32(raw[4*i:])
	}
	for id := range uint32(rows) {
		for l := 0; l <= int(h.level[id]); l++ {
			slot := int(h.off[id])
			room := h.m0
			if l > 0 {
				slot += 1 + h.m0 + (l-1)*(1+h.m)
				room = h.m
			}
			c := h.links[slot]
			if c > uint32(room) {
				d.err = fmt.Errorf("%w: HNSW node %d has %d links on layer %d, room for %d", ErrCorrupt, id, c, l, room)
				return nil
			}
			for _, nb := range h.links[slot+1 : slot+1+int(c)] {
				if nb >= uint32(rows) || int(h.level[nb]) < l {
					d.err = fmt.Errorf("%w: HNSW node %d links to %d on layer %d", ErrCorrupt, id, nb, l)
					return nil
				}
			}
		}
	}
	h.pool.New = func() any { return newSearcher(rows) }
	return h
}

func (d *decoder) varint(max int64, what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.p)
	if n <= 0 {
		d.err = fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
		return 0
	}
	if v > max || v < -max {
		d.err = fmt.Errorf("%w: %s is %d, beyond ±%d", ErrCorrupt, what, v, max)
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) float64(what string) float64 {
	if d.err != nil {
		return 0
	}
	if len(d.p) < 8 {
		d.err = fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.p))
	d.p = d.p[8:]
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.err = fmt.Errorf("%w: %s is %v", ErrCorrupt, what, f)
	}
	return f
}
