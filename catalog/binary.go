package catalog

// Binary form of a Product, used by index snapshots and ingest where JSON is
// too slow. Format version 1 (ProductFormat). Changelog:
//
//	1: first version.
//
// Layout of one product (uv = uvarint, v = zigzag varint, f64 = 8 bytes
// little-endian IEEE 754, str = uv length then the bytes, cnt = uv count+1
// with 0 meaning a nil slice or map, so nil and empty survive a round trip):
//
//	byte  version (1)
//	uv    S, the total length of all the product's string bytes below
//	str   ID, Title, Description, Brand
//	cnt   Category, then each str
//	cnt   Attributes, then each key str, value str, keys in sorted order
//	cnt   Variants, then each variant:
//	        str ID, str SKU
//	        cnt Attributes, then sorted key str, value str
//	        v Price.Amount, str Price.Currency
//	        v CompareAt.Amount, str CompareAt.Currency
//	        cnt Stock, then sorted key str, v units
//	str   SellerID
//	cnt   Images, then each str
//	str   Thumbnail
//	f64   Rating.Avg, v Rating.Count
//	f64   SalesVelocity, f64 SellerQuality, v Sponsored
//	cnt   Badges, then each str
//	time  CreatedAt, UpdatedAt: byte 0 for the zero time, or byte 1 then v
//	      UnixNano
//	uv    Version
//	cnt   Generated, then each str
//
// Times keep their instant only: they decode in UTC, without a monotonic
// reading, and an instant outside UnixNano's range (years 1678 to 2262) is
// not representable. S lets the decoder allocate one byte array per product
// and make every string a slice of it.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// ProductFormat is the version byte AppendProduct writes first.
const ProductFormat = 1

// ErrCorrupt is wrapped by every decoding error of this file.
var ErrCorrupt = errors.New("catalog: corrupt binary data")

// AppendUvarint appends the uvarint form of x to dst.
func AppendUvarint(dst []byte, x uint64) []byte { return binary.AppendUvarint(dst, x) }

// AppendVarint appends the zigzag varint form of x to dst.
func AppendVarint(dst []byte, x int64) []byte { return binary.AppendVarint(dst, x) }

// AppendString appends s as its uvarint length and its bytes.
func AppendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// AppendFloat64 appends the 8 little-endian bytes of x's IEEE 754 bits.
func AppendFloat64(dst []byte, x float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
}

// AppendUint32 appends the 4 little-endian bytes of x.
func AppendUint32(dst []byte, x uint32) []byte { return binary.LittleEndian.AppendUint32(dst, x) }

// AppendProduct appends the binary form of p to dst.
func AppendProduct(dst []byte, p *Product) []byte {
	// Each map is iterated once, into pairs sorted by key, which also give
	// the string bytes S written before them.
	var buf [48]pair
	pairs := appendPairs(buf[:0], p.Attributes, nil)
	for i := range p.Variants {
		pairs = appendPairs(pairs, p.Variants[i].Attributes, nil)
		pairs = appendPairs(pairs, nil, p.Variants[i].Stock)
	}
	n := len(p.ID) + len(p.Title) + len(p.Description) + len(p.Brand) +
		len(p.SellerID) + len(p.Thumbnail)
	for _, ss := range [...][]string{p.Category, p.Images, p.Badges, p.Generated} {
		for _, s := range ss {
			n += len(s)
		}
	}
	for i := range p.Variants {
		v := &p.Variants[i]
		n += len(v.ID) + len(v.SKU) + len(v.Price.Currency) + len(v.CompareAt.Currency)
	}
	for i := range pairs {
		n += len(pairs[i].k) + len(pairs[i].v)
	}

	dst = append(dst, ProductFormat)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = AppendString(dst, p.ID)
	dst = AppendString(dst, p.Title)
	dst = AppendString(dst, p.Description)
	dst = AppendString(dst, p.Brand)
	dst = appendStrings(dst, p.Category)
	dst, pairs = appendStringPairs(dst, p.Attributes == nil, len(p.Attributes), pairs)
	dst = appendCount(dst, p.Variants == nil, len(p.Variants))
	for i := range p.Variants {
		v := &p.Variants[i]
		dst = AppendString(dst, v.ID)
		dst = AppendString(dst, v.SKU)
		dst, pairs = appendStringPairs(dst, v.Attributes == nil, len(v.Attributes), pairs)
		dst = binary.AppendVarint(dst, v.Price.Amount)
		dst = AppendString(dst, v.Price.Currency)
		dst = binary.AppendVarint(dst, v.CompareAt.Amount)
		dst = AppendString(dst, v.CompareAt.Currency)
		dst, pairs = appendIntPairs(dst, v.Stock == nil, len(v.Stock), pairs)
	}
	dst = AppendString(dst, p.SellerID)
	dst = appendStrings(dst, p.Images)
	dst = AppendString(dst, p.Thumbnail)
	dst = AppendFloat64(dst, p.Rating.Avg)
	dst = binary.AppendVarint(dst, int64(p.Rating.Count))
	dst = AppendFloat64(dst, p.SalesVelocity)
	dst = AppendFloat64(dst, p.SellerQuality)
	dst = binary.AppendVarint(dst, p.Sponsored)
	dst = appendStrings(dst, p.Badges)
	dst = appendTime(dst, p.CreatedAt)
	dst = appendTime(dst, p.UpdatedAt)
	dst = binary.AppendUvarint(dst, p.Version)
	return appendStrings(dst, p.Generated)
}

// pair is a map entry.
type pair struct {
	k, v string
	i    int
}

// appendPairs appends the entries of sm or im to dst sorted by key.
func appendPairs(dst []pair, sm map[string]string, im map[string]int) []pair {
	start := len(dst)
	for k, v := range sm {
		dst = append(dst, pair{k: k, v: v})
	}
	for k, v := range im {
		dst = append(dst, pair{k: k, i: v})
	}
	slices.SortFunc(dst[start:], func(a, b pair) int { return strings.Compare(a.k, b.k) })
	return dst
}

func appendCount(dst []byte, isNil bool, n int) []byte {
	if isNil {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(n)+1)
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = appendCount(dst, ss == nil, len(ss))
	for _, s := range ss {
		dst = AppendString(dst, s)
	}
	return dst
}

// appendStringPairs appends a map of n entries, nil or not, whose sorted
// entries start pairs, and returns the pairs after them.
func appendStringPairs(dst []byte, isNil bool, n int, pairs []pair) ([]byte, []pair) {
	dst = appendCount(dst, isNil, n)
	for _, e := range pairs[:n] {
		dst = AppendString(AppendString(dst, e.k), e.v)
	}
	return dst, pairs[n:]
}

func appendIntPairs(dst []byte, isNil bool, n int, pairs []pair) ([]byte, []pair) {
	dst = appendCount(dst, isNil, n)
	for _, e := range pairs[:n] {
		dst = binary.AppendVarint(AppendString(dst, e.k), int64(e.i))
	}
	return dst, pairs[n:]
}

func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, 0)
	}
	return binary.AppendVarint(append(dst, 1), t.UnixNano())
}

// DecodeProduct decodes the product at the front of b and returns it and the
// bytes after it. The product's strings share one allocation.
func DecodeProduct(b []byte) (*Product, []byte, error) {
	d := NewDecoder(b)
	p := d.Product()
	if err := d.Err(); err != nil {
		return nil, b, fmt.Errorf("catalog: decoding product: %w", err)
	}
	return p, d.Rest(), nil
}

// Product reads a product written by AppendProduct; it returns nil after an
// error. The product's strings share one allocation; Product ends any
// arena the caller had set (see Arena).
func (d *Decoder) Product() *Product {
	p := new(Product)
	d.decodeProduct(p)
	d.Arena(-1)
	if d.err != nil {
		return nil
	}
	return p
}

func (d *Decoder) decodeProduct(p *Product) {
	d.What = "product format version"
	if v := d.Byte(); v != ProductFormat && d.err == nil {
		d.Failf("format version %d, want %d", v, ProductFormat)
		return
	}
	d.What = "string bytes"
	d.Arena(d.Len64(d.Uvarint()))
	if d.err != nil {
		return
	}
	d.What = "id"
	p.ID = d.String()
	d.What = "title"
	p.Title = d.String()
	d.What = "description"
	p.Description = d.String()
	d.What = "brand"
	p.Brand = d.String()
	d.What = "category"
	p.Category = d.strings()
	d.What = "attributes"
	p.Attributes = d.stringMap()
	d.What = "variant count"
	if n, ok := d.count(8); ok { // a variant takes at least 8 bytes
		p.Variants = make([]Variant, n)
		for i := range p.Variants {
			v := &p.Variants[i]
			d.What = "variant id"
			v.ID = d.String()
			d.What = "variant sku"
			v.SKU = d.String()
			d.What = "variant attributes"
			v.Attributes = d.stringMap()
			d.What = "variant price"
			v.Price.Amount = d.Varint()
			v.Price.Currency = d.String()
			d.What = "variant compare_at"
			v.CompareAt.Amount = d.Varint()
			v.CompareAt.Currency = d.String()
			d.What = "variant stock"
			v.Stock = d.intMap()
		}
	}
	d.What = "seller id"
	p.SellerID = d.String()
	d.What = "images"
	p.Images = d.strings()
	d.What = "thumbnail"
	p.Thumbnail = d.String()
	d.What = "rating"
	p.Rating.Avg = d.Float64()
	p.Rating.Count = int(d.Varint())
	d.What = "sales velocity"
	p.SalesVelocity = d.Float64()
	d.What = "seller quality"
	p.SellerQuality = d.Float64()
	d.What = "sponsored"
	p.Sponsored = d.Varint()
	d.What = "badges"
	p.Badges = d.strings()
	d.What = "created_at"
	p.CreatedAt = d.time()
	d.What = "updated_at"
	p.UpdatedAt = d.time()
	d.What = "version"
	p.Version = d.Uvarint()
	d.What = "generated"
	p.Generated = d.strings()
	d.What = "string bytes"
	if n := len(d.arena); n > 0 && d.err == nil {
		d.Failf("%d declared string bytes left unused", n)
	}
}

// count reads a cnt (count+1, 0 for nil) of items of at least minSize bytes
// each; ok is false for nil or an error.
func (d *Decoder) count(minSize int) (n int, ok bool) {
	c := d.Uvarint()
	if c == 0 {
		return 0, false
	}
	if c-1 > uint64(d.Len()/minSize) {
		d.Failf("count %d exceeds the %d bytes left", c-1, d.Len())
		return 0, false
	}
	return int(c - 1), true
}

func (d *Decoder) strings() []string {
	n, ok := d.count(1)
	if !ok {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.String()
	}
	return ss
}

func (d *Decoder) stringMap() map[string]string {
	n, ok := d.count(2)
	if !ok {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.String()
		m[k] = d.String()
	}
	return m
}

func (d *Decoder) intMap() map[string]int {
	n, ok := d.count(2)
	if !ok {
		return nil
	}
	m := make(map[string]int, n)
	for range n {
		k := d.String()
		m[k] = int(d.Varint())
	}
	return m
}

func (d *Decoder) time() time.Time {
	switch d.Byte() {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(0, d.Varint()).UTC()
	default:
		d.Failf("time tag is not 0 or 1")
		return time.Time{}
	}
}

// Decoder reads the primitives of the binary formats from a byte slice.
// Errors are sticky: the first short read or bad value sets Err, and every
// later call returns a zero value. Each error names What was being read (set
// the field before reading) and the byte offset from the decoder's start.
type Decoder struct {
	// What names the value being read, for error messages.
	What  string
	b     []byte
	off   int
	err   error
	arena []byte // see Arena
}

// NewDecoder returns a decoder reading b.
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// Err returns the first error, or nil.
func (d *Decoder) Err() error { return d.err }

// Len returns the number of unread bytes.
func (d *Decoder) Len() int { return len(d.b) - d.off }

// Offset returns the number of bytes read.
func (d *Decoder) Offset() int { return d.off }

// Rest returns the unread bytes.
func (d *Decoder) Rest() []byte { return d.b[d.off:] }

// Failf sets the sticky error, unless one is set already.
func (d *Decoder) Failf(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d: %s", ErrCorrupt, d.What, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *Decoder) short(n int) {
	d.Failf("need %d bytes, %d left", n, d.Len())
}

// Len64 returns x as an int if it is at most the number of unread bytes,
// and otherwise fails and returns 0: a length checked by Len64 is safe to
// allocate.
func (d *Decoder) Len64(x uint64) int {
	if x > uint64(d.Len()) {
		if d.err == nil {
			d.Failf("length %d exceeds the %d bytes left", x, d.Len())
		}
		return 0
	}
	return int(x)
}

// Uvarint reads a uvarint.
func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		if n == 0 {
			d.Failf("truncated uvarint")
		} else {
			d.Failf("uvarint overflows 64 bits")
		}
		return 0
	}
	d.off += n
	return x
}

// Varint reads a zigzag varint.
func (d *Decoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		if n == 0 {
			d.Failf("truncated varint")
		} else {
			d.Failf("varint overflows 64 bits")
		}
		return 0
	}
	d.off += n
	return x
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.short(1)
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

// Bytes reads n bytes and returns them without copying: the result aliases
// the decoder's input.
func (d *Decoder) Bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > d.Len() {
		d.short(n)
		return nil
	}
	d.off += n
	return d.b[d.off-n : d.off : d.off]
}

// Uint32 reads 4 little-endian bytes.
func (d *Decoder) Uint32() uint32 {
	b := d.Bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// Uint64 reads 8 little-endian bytes.
func (d *Decoder) Uint64() uint64 {
	b := d.Bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// Float64 reads 8 little-endian bytes of IEEE 754 bits.
func (d *Decoder) Float64() float64 { return math.Float64frombits(d.Uint64()) }

// Arena allocates n bytes that the following String calls fill and slice
// their results from, so that a record's strings share one allocation.
// Strings that do not fit in what is left of the arena fail with an error.
// Arena(-1) ends the arena: each String then allocates its own copy, as
// before the first Arena call.
func (d *Decoder) Arena(n int) {
	if n < 0 {
		d.arena = nil
		return
	}
	d.arena = make([]byte, n) // not nil even for n == 0
}

// String reads a uvarint length and that many bytes, and returns them as a
// string that does not alias the input.
func (d *Decoder) String() string {
	n := d.Len64(d.Uvarint())
	if n == 0 || d.err != nil {
		return ""
	}
	b := d.b[d.off : d.off+n]
	d.off += n
	if d.arena == nil {
		return string(b)
	}
	if n > len(d.arena) {
		d.off -= n
		d.Failf("string of %d bytes exceeds the %d declared string bytes left", n, len(d.arena))
		return ""
	}
	a := d.arena[:n:n]
	d.arena = d.arena[n:]
	copy(a, b)
	// a is never written again: the arena hands out each byte once.
	return unsafe.String(&a[0], n)
}
