package recs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"

	"github.com/aisle/aisle/catalog"
)

// SimilarFormatVersion is the version of the similar-items file written by
// SimilarIndex.WriteTo (doc/recs.md has the layout).
//
// Changelog:
//
//	1: first format: the options and the fingerprint of the inputs, the
//	   products' ids and top-level categories, their hybrid vectors (the
//	   behaviour half only where it is not zero), the HNSW graph and the
//	   products added since the build (testdata/similar-v1.snap).
const SimilarFormatVersion = 1

// similarMagic opens every similar-items file.
const similarMagic = "AISLSIMI"

// ErrStale is returned, wrapped, by ReadSimilar for a file built from other
// inputs (products, orders, embeddings or options) than the ones given:
// the caller builds afresh.
var ErrStale = errors.New("recs: similar-items file built from other inputs")

// MaxSimilarFileBytes bounds the payload ReadSimilar accepts.
const MaxSimilarFileBytes = 4 << 30

// fingerprint hashes what BuildSimilar's vectors depend on: the options,
// the text of every product it keeps (in order), its orders and its
// behaviour vector. The same inputs give the same fingerprint, and a file
// whose fingerprint differs is stale.
func (s *SimilarIndex) fingerprint(rows []*catalog.Product) uint64 {
	var h uint64 = 14695981039346656037 // FNV-1a
	var b []byte
	str := func(x string) {
		b = binary.AppendUvarint(b, uint64(len(x)))
		b = append(b, x...)
	}
	num := func(x uint64) { b = binary.AppendUvarint(b, x) }
	h = fnv(h, s.appendOptions(b))
	var keys []string
	for _, p := range rows {
		b = b[:0]
		str(p.ID)
		str(p.Title)
		str(p.Brand)
		num(uint64(len(p.Category)))
		for _, c := range p.Category {
			str(c)
		}
		keys = keys[:0]
		for k := range p.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		num(uint64(len(keys)))
		for _, k := range keys {
			str(k)
			str(p.Attributes[k])
		}
		str(p.Description)
		if s.counts != nil {
			num(uint64(max(s.counts(p.ID), 0)))
		}
		if s.behav != nil {
			bv, _ := s.behav.Vector(p.ID)
			num(uint64(len(bv)))
			b = slices32(b, bv)
		}
		h = fnv(h, b)
	}
	return h
}

// appendOptions appends the options the vectors and the graph depend on.
func (s *SimilarIndex) appendOptions(b []byte) []byte {
	c, o := s.content.opts, s.opts
	for _, v := range []uint64{uint64(c.Dim), uint64(c.Buckets), uint64(c.Spread), c.Seed} {
		b = binary.AppendUvarint(b, v)
	}
	for _, w := range []float64{c.Title, c.Grams, c.Brand, c.Category, c.Attributes, c.Description, o.Blend} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(w))
	}
	var flags byte
	if o.ContentOnly {
		flags |= 1
	}
	if o.BehaviourOnly {
		flags |= 2
	}
	b = append(b, flags)
	for _, v := range []uint64{uint64(s.dimC), uint64(s.dimB), uint64(o.HNSW.M), uint64(o.HNSW.EfConstruction), uint64(o.HNSW.EfSearch), o.HNSW.Seed} {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

// WriteTo writes s to w in the similar-items format, version
// SimilarFormatVersion:
//
//	header   "AISLSIMI", uint32 LE version
//	payload  uint64 LE fingerprint; uvarint length, then the options
//	         (appendOptions); uvarint n products; n × {uvarint len, id};
//	         n × {uvarint len, top-level category}; n × byte, 1 when the
//	         row's behaviour half follows; n × {dimC float32 LE, then dimB
//	         when flagged}; the HNSW graph as in recs.snap (entry, top,
//	         levels, links); uvarint k added products × {id, category,
//	         dim float32 LE}
//	trailer  uint64 LE payload length, uint32 LE CRC-32C of the payload
//
// Floats are raw: they do not compress. Safe beside Add and reads.
func (s *SimilarIndex) WriteTo(w io.Writer) (int64, error) {
	s.mu.RLock()
	p := s.appendPayload(nil)
	s.mu.RUnlock()
	var hdr [12]byte
	copy(hdr[:], similarMagic)
	binary.LittleEndian.PutUint32(hdr[8:], SimilarFormatVersion)
	var tr [12]byte
	binary.LittleEndian.PutUint64(tr[:], uint64(len(p)))
	binary.LittleEndian.PutUint32(tr[8:], crc32.Checksum(p, castagnoli))
	var total int64
	for _, b := range [][]byte{hdr[:], p, tr[:]} {
		n, err := w.Write(b)
		total += int64(n)
		if err != nil {
			return total, fmt.Errorf("recs: writing similar items: %w", err)
		}
	}
	return total, nil
}

func (s *SimilarIndex) appendPayload(p []byte) []byte {
	p = binary.LittleEndian.AppendUint64(p, s.print)
	opts := s.appendOptions(nil)
	p = binary.AppendUvarint(p, uint64(len(opts)))
	p = append(p, opts...)
	str := func(x string) {
		p = binary.AppendUvarint(p, uint64(len(x)))
		p = append(p, x...)
	}
	p = binary.AppendUvarint(p, uint64(len(s.ids)))
	for _, id := range s.ids {
		str(id)
	}
	for _, t := range s.tops {
		str(t)
	}
	half := s.dim - s.dimB // the part always stored
	for i := range s.ids {
		p = append(p, s.hasBehaviour(i))
	}
	for i := range s.ids {
		v := s.graph.Vector(uint32(i))
		if s.hasBehaviour(i) == 1 {
			p = slices32(p, v)
		} else {
			p = slices32(p, v[:half])
		}
	}
	g := s.graph
	p = binary.AppendUvarint(p, uint64(g.entry))
	p = binary.AppendUvarint(p, uint64(g.top))
	p = append(p, g.level...)
	p = binary.AppendUvarint(p, uint64(len(g.links)))
	for _, l := range g.links {
		p = binary.LittleEndian.AppendUint32(p, l)
	}
	p = binary.AppendUvarint(p, uint64(len(s.added.ids)))
	for i, id := range s.added.ids {
		str(id)
		str(s.added.tops[i])
		p = slices32(p, s.added.vecs[i*s.dim:(i+1)*s.dim])
	}
	return p
}

// hasBehaviour is 1 when row i's behaviour half is not all zero.
func (s *SimilarIndex) hasBehaviour(i int) byte {
	if s.dimB == 0 {
		return 0
	}
	v := s.graph.Vector(uint32(i))
	if isZero(v[s.dim-s.dimB:]) {
		return 0
	}
	return 1
}

// ReadSimilar reads a file written by SimilarIndex.WriteTo for the same
// inputs BuildSimilar takes (content is needed for the products added
// later): an index that answers as the one written did, without building
// the graph again. A file built from other inputs is an error wrapping
// ErrStale; one that does not decode (bad magic, unknown version, a
// checksum or length that does not match, an index or a link out of
// range, a vector that is not unit) wraps ErrCorrupt.
func ReadSimilar(r io.Reader, ps []*catalog.Product, content *Content, behav *Embeddings, counts func(string) int, opts SimilarOptions) (*SimilarIndex, error) {
	s, rows, err := newSimilar(ps, content, behav, counts, opts)
	if err != nil {
		return nil, err
	}
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: similar items: reading the header: %v", ErrCorrupt, err)
	}
	if string(hdr[:8]) != similarMagic {
		return nil, fmt.Errorf("%w: not a similar-items file (magic %q)", ErrCorrupt, hdr[:8])
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != SimilarFormatVersion {
		return nil, fmt.Errorf("%w: similar-items format version %d, this reader knows %d", ErrCorrupt, v, SimilarFormatVersion)
	}
	all, err := io.ReadAll(io.LimitReader(r, MaxSimilarFileBytes+13))
	if err != nil {
		return nil, fmt.Errorf("recs: reading similar items: %w", err)
	}
	if len(all) < 12 || len(all) > MaxSimilarFileBytes+12 {
		return nil, fmt.Errorf("%w: similar-items payload of %d bytes", ErrCorrupt, len(all))
	}
	p, tr := all[:len(all)-12], all[len(all)-12:]
	if n := binary.LittleEndian.Uint64(tr); n != uint64(len(p)) {
		return nil, fmt.Errorf("%w: similar-items payload of %d bytes, the trailer says %d", ErrCorrupt, len(p), n)
	}
	if got, want := crc32.Checksum(p, castagnoli), binary.LittleEndian.Uint32(tr[8:]); got != want {
		return nil, fmt.Errorf("%w: similar items: checksum %08x, trailer says %08x", ErrCorrupt, got, want)
	}
	if len(p) < 8 {
		return nil, fmt.Errorf("%w: similar items: no fingerprint", ErrCorrupt)
	}
	if got, want := binary.LittleEndian.Uint64(p), s.fingerprint(rows); got != want {
		return nil, fmt.Errorf("%w (fingerprint %016x, the inputs make %016x)", ErrStale, got, want)
	}
	d := &decoder{p: p[8:]}
	if err := s.decode(d); err != nil {
		return nil, err
	}
	s.print = binary.LittleEndian.Uint64(p)
	return s, nil
}

// decode fills s from d, after the fingerprint.
func (s *SimilarIndex) decode(d *decoder) error {
	ol := d.uvarint(1<<10, "similar options length")
	got := d.bytes(ol, "similar options")
	if d.err == nil && !slices.Equal(got, s.appendOptions(nil)) {
		return fmt.Errorf("%w (options differ)", ErrStale)
	}
	n := d.uvarint(math.MaxInt32, "similar products")
	if d.err != nil {
		return d.err
	}
	if n*uint64(3+4*(s.dim-s.dimB)) > uint64(len(d.p)) { // the least a product takes
		return fmt.Errorf("%w: %d similar products in %d bytes", ErrCorrupt, n, len(d.p))
	}
	s.ids = make([]string, n)
	s.tops = make([]string, n)
	s.byID = make(map[string]int32, n)
	str := func(what string) string { return string(d.bytes(d.uvarint(1<<20, what+" length"), what)) }
	for i := range s.ids {
		s.ids[i] = str("product id")
		if _, dup := s.byID[s.ids[i]]; dup && d.err == nil {
			return fmt.Errorf("%w: product %q twice in similar items", ErrCorrupt, s.ids[i])
		}
		s.byID[s.ids[i]] = int32(i)
	}
	s.members = map[string][]int32{}
	for i := range s.tops {
		s.tops[i] = str("category")
		s.members[s.tops[i]] = append(s.members[s.tops[i]], int32(i))
	}
	flags := d.bytes(n, "behaviour flags")
	if d.err != nil {
		return d.err
	}
	half := s.dim - s.dimB
	vecs := make([]float32, int(n)*s.dim)
	for i, f := range flags {
		k := half
		if f == 1 && s.dimB > 0 {
			k = s.dim
		} else if f != 0 {
			return fmt.Errorf("%w: behaviour flag %d of row %d", ErrCorrupt, f, i)
		}
		if err := d.unitVector(vecs[i*s.dim:i*s.dim+k], fmt.Sprint("similar row ", i)); err != nil {
			return err
		}
	}
	s.graph = d.hnsw(vecs, s.dim, int(n), s.opts.HNSW)
	if d.err != nil {
		return d.err
	}
	k := d.uvarint(uint64(s.opts.MaxAdded), "added products")
	for i := range int(k) {
		id, top := str("added id"), str("added category")
		if d.err != nil {
			return d.err
		}
		if _, dup := s.added.byID[id]; dup {
			return fmt.Errorf("%w: added product %q twice", ErrCorrupt, id)
		}
		v := make([]float32, s.dim)
		if err := d.unitVector(v, fmt.Sprint("added row ", i)); err != nil {
			return err
		}
		s.added.byID[id] = int32(i)
		s.added.ids = append(s.added.ids, id)
		s.added.tops = append(s.added.tops, top)
		s.added.vecs = append(s.added.vecs, v...)
	}
	if d.err == nil && len(d.p) != 0 {
		return fmt.Errorf("%w: %d bytes after the similar items", ErrCorrupt, len(d.p))
	}
	return d.err
}

// unitVector reads len(dst) floats into dst and checks their squared norm
// is 1 ± 0.001 (so also finite).
func (d *decoder) unitVector(dst []float32, what string) error {
	raw := d.bytes(uint64(4*len(dst)), what)
	if d.err != nil {
		return d.err
	}
	var sq float64
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		sq += float64(dst[i]) * float64(dst[i])
	}
	if !(math.Abs(sq-1) <= 1e-3) {
		d.err = fmt.Errorf("%w: %s has squared norm %v", ErrCorrupt, what, sq)
	}
	return d.err
}
