package recs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"

	"github.com/klauspost/compress/zstd"
)

// FormatVersion is the version of the snapshot written by WriteTo.
//
// Changelog:
//
//	1: first format: items, order counts, also-bought lists, bundles of
//	   two and three (doc/recs.md).
//	2: an embeddings section after the bundles: the similar-items vectors
//	   and their HNSW graph, or a zero byte when there are none
//	   (WriteSnapshot, ReadSnapshot). Version 1 still reads, with no
//	   embeddings (testdata/recs-v1.snap).
const FormatVersion = 2

// magic opens every snapshot.
const magic = "AISLRECS"

// headerSize is magic, version and the payload's CRC-32C.
const headerSize = len(magic) + 4 + 4

// MaxSnapshotBytes bounds the decompressed payload Read accepts.
const MaxSnapshotBytes = 1 << 30

// ErrCorrupt is returned, wrapped, for a snapshot that does not decode.
var ErrCorrupt = errors.New("recs: corrupt snapshot")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes l as a snapshot to w, with no embeddings.
func (l *Lists) WriteTo(w io.Writer) (int64, error) {
	return WriteSnapshot(w, l, nil)
}

// WriteSnapshot writes l and, when e is not nil, the embeddings e (built on
// the same items) as one snapshot to w.
func WriteSnapshot(w io.Writer, l *Lists, e *Embeddings) (int64, error) {
	if e != nil && !slices.Equal(l.items, e.items) {
		return 0, errors.New("recs: writing snapshot: the embeddings and the lists name different items")
	}
	p := l.appendPayload(nil)
	p = e.appendPayload(p)
	var hdr [headerSize]byte
	copy(hdr[:], magic)
	binary.LittleEndian.PutUint32(hdr[8:], FormatVersion)
	binary.LittleEndian.PutUint32(hdr[12:], crc32.Checksum(p, castagnoli))
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return 0, fmt.Errorf("recs: writing snapshot: %w", err)
	}
	out := enc.EncodeAll(p, hdr[:])
	enc.Close()
	n, err := w.Write(out)
	if err != nil {
		return int64(n), fmt.Errorf("recs: writing snapshot: %w", err)
	}
	return int64(n), nil
}

func (l *Lists) appendPayload(p []byte) []byte {
	p = binary.AppendUvarint(p, uint64(l.scorer))
	p = binary.AppendUvarint(p, uint64(l.orders))
	p = binary.AppendUvarint(p, uint64(len(l.items)))
	for _, s := range l.items {
		p = binary.AppendUvarint(p, uint64(len(s)))
		p = append(p, s...)
	}
	for _, c := range l.count {
		p = binary.AppendUvarint(p, uint64(c))
	}
	for x := range l.items {
		nb := l.also[l.alsoOff[x]:l.alsoOff[x+1]]
		p = binary.AppendUvarint(p, uint64(len(nb)))
		for _, n := range nb {
			p = binary.AppendUvarint(p, uint64(n.Item))
			p = binary.LittleEndian.AppendUint32(p, math.Float32bits(n.Score))
			p = binary.AppendUvarint(p, uint64(n.Count))
		}
	}
	for x := range l.items {
		bs := l.bundles[l.bundleOf[x]:l.bundleOf[x+1]]
		p = binary.AppendUvarint(p, uint64(len(bs)))
		for _, b := range bs {
			p = binary.AppendUvarint(p, uint64(b.items[0]))
			p = binary.AppendUvarint(p, uint64(b.items[1]+1))
			p = binary.AppendUvarint(p, uint64(b.count))
			p = binary.LittleEndian.AppendUint32(p, math.Float32bits(b.lift))
		}
	}
	return p
}

// Read reads the lists of a snapshot written by WriteTo or WriteSnapshot,
// as ReadSnapshot does, and drops its embeddings.
func Read(r io.Reader) (*Lists, error) {
	l, _, err := ReadSnapshot(r)
	return l, err
}

// ReadSnapshot reads a snapshot written by WriteSnapshot (or an older
// version): the lists, and the embeddings or nil when it holds none. A
// snapshot of an unknown version, or one that fails its checksum or does
// not decode, is an error wrapping ErrCorrupt.
func ReadSnapshot(r io.Reader) (*Lists, *Embeddings, error) {
	var hdr [headerSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: reading the header: %v", ErrCorrupt, err)
	}
	if string(hdr[:len(magic)]) != magic {
		return nil, nil, fmt.Errorf("%w: bad magic %q", ErrCorrupt, hdr[:len(magic)])
	}
	version := binary.LittleEndian.Uint32(hdr[8:])
	if version < 1 || version > FormatVersion {
		return nil, nil, fmt.Errorf("%w: format version %d, this build reads 1 to %d", ErrCorrupt, version, FormatVersion)
	}
	dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxSnapshotBytes))
	if err != nil {
		return nil, nil, fmt.Errorf("recs: reading snapshot: %w", err)
	}
	defer dec.Close()
	p, err := io.ReadAll(io.LimitReader(dec, MaxSnapshotBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: decompressing: %v", ErrCorrupt, err)
	}
	if len(p) > MaxSnapshotBytes {
		return nil, nil, fmt.Errorf("%w: payload over %d bytes", ErrCorrupt, MaxSnapshotBytes)
	}
	if got, want := crc32.Checksum(p, castagnoli), binary.LittleEndian.Uint32(hdr[12:]); got != want {
		return nil, nil, fmt.Errorf("%w: checksum %08x, header says %08x", ErrCorrupt, got, want)
	}
	return decodePayload(p, version)
}

// decoder reads the payload; the first error sticks.
type decoder struct {
	p   []byte
	err error
}

func (d *decoder) uvarint(max uint64, what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.err = fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
		return 0
	}
	if v > max {
		d.err = fmt.Errorf("%w: %s is %d, more than %d", ErrCorrupt, what, v, max)
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) float32(what string) float32 {
	if d.err != nil {
		return 0
	}
	if len(d.p) < 4 {
		d.err = fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
		return 0
	}
	f := math.Float32frombits(binary.LittleEndian.Uint32(d.p))
	d.p = d.p[4:]
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		d.err = fmt.Errorf("%w: %s is %v", ErrCorrupt, what, f)
	}
	return f
}

func (d *decoder) bytes(n uint64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if uint64(len(d.p)) < n {
		d.err = fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
		return nil
	}
	b := d.p[:n]
	d.p = d.p[n:]
	return b
}

func decodePayload(p []byte, version uint32) (*Lists, *Embeddings, error) {
	d := &decoder{p: p}
	l := &Lists{}
	l.scorer = Scorer(d.uvarint(uint64(EASEScorer), "scorer"))
	l.orders = int64(d.uvarint(math.MaxInt64, "order count"))
	n := d.uvarint(uint64(len(p)), "item count") // an item takes at least a byte
	if d.err != nil {
		return nil, nil, d.err
	}
	l.items = make([]string, n)
	for i := range l.items {
		l.items[i] = string(d.bytes(d.uvarint(uint64(len(p)), "item name length"), "item name"))
	}
	l.count = make([]int32, n)
	for i := range l.count {
		l.count[i] = int32(d.uvarint(math.MaxInt32, "item order count"))
	}
	l.alsoOff = make([]uint32, n+1)
	for x := range n {
		k := d.uvarint(uint64(len(d.p)), "neighbour count")
		for range k {
			nb := Neighbor{
				Item:  int32(d.uvarint(n-1, "neighbour")),
				Score: d.float32("neighbour score"),
				Count: int32(d.uvarint(math.MaxInt32, "co-count")),
			}
			if d.err != nil {
				return nil, nil, d.err
			}
			l.also = append(l.also, nb)
		}
		if len(l.also) > math.MaxUint32 {
			return nil, nil, fmt.Errorf("%w: too many neighbours", ErrCorrupt)
		}
		l.alsoOff[x+1] = uint32(len(l.also))
	}
	l.bundleOf = make([]uint32, n+1)
	for x := range n {
		k := d.uvarint(uint64(len(d.p)), "bundle count")
		for range k {
			b := bundle{
				items: [2]int32{int32(d.uvarint(n-1, "bundle item")), int32(d.uvarint(n, "bundle item")) - 1},
				count: int32(d.uvarint(math.MaxInt32, "bundle count")),
				lift:  d.float32("bundle lift"),
			}
			if d.err != nil {
				return nil, nil, d.err
			}
			l.bundles = append(l.bundles, b)
		}
		l.bundleOf[x+1] = uint32(len(l.bundles))
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	if l.scorer != Cosine && l.scorer != SmithLinden && l.scorer != EASEScorer {
		return nil, nil, fmt.Errorf("%w: scorer %d", ErrCorrupt, l.scorer)
	}
	l.index()
	var e *Embeddings
	if version >= 2 {
		e = d.embeddings(l)
		if d.err != nil {
			return nil, nil, d.err
		}
	}
	if len(d.p) != 0 {
		return nil, nil, fmt.Errorf("%w: %d bytes after the last section", ErrCorrupt, len(d.p))
	}
	return l, e, nil
}
