package ingest

import (
	"fmt"
	"slices"

	"github.com/aisle/aisle/catalog"
)

// The binary form of the log entries and snapshots (log format 3,
// snapshot format 1). Integers are varints (encoding/binary), strings are
// a uvarint length and the bytes, and a product is catalog.AppendProduct's
// form. Maps are written in key order, so equal states encode equally.
//
//	entry   := offsets records sales orders
//	offsets := uvarint n, n × (string topic, varint next offset)
//	records := uvarint n, n × record
//	sales   := uvarint n, n × (string product id, varint units)
//	orders  := uvarint n, n × string order id
//	record  := string id, uvarint content_v, uvarint deleted_v,
//	           uvarint rating_v, byte flags (1: content, 2: rating),
//	           [product], [f64 avg (IEEE 754, little-endian), varint count],
//	           uvarint n, n × (string variant id, uvarint v, money price,
//	                           money compare_at),
//	           uvarint n, n × (string variant id "\x00" warehouse id,
//	                           uvarint v, varint available)
//	money   := varint amount, string currency

const (
	recContent = 1 << iota
	recRating
)

func appendMoney(dst []byte, m catalog.Money) []byte {
	dst = catalog.AppendVarint(dst, m.Amount)
	return catalog.AppendString(dst, m.Currency)
}

func appendRecord(dst []byte, r *record) []byte {
	dst = catalog.AppendString(dst, r.ID)
	dst = catalog.AppendUvarint(dst, r.ContentV)
	dst = catalog.AppendUvarint(dst, r.DeletedV)
	dst = catalog.AppendUvarint(dst, r.RatingV)
	var flags byte
	if r.Content != nil {
		flags |= recContent
	}
	if r.Rating != nil {
		flags |= recRating
	}
	dst = append(dst, flags)
	if r.Content != nil {
		dst = catalog.AppendProduct(dst, r.Content)
	}
	if r.Rating != nil {
		dst = catalog.AppendFloat64(dst, r.Rating.Avg)
		dst = catalog.AppendVarint(dst, int64(r.Rating.Count))
	}
	dst = catalog.AppendUvarint(dst, uint64(len(r.Prices)))
	for _, k := range sortedKeys(r.Prices) {
		ps := r.Prices[k]
		dst = catalog.AppendString(dst, k)
		dst = catalog.AppendUvarint(dst, ps.V)
		dst = appendMoney(dst, ps.Price)
		dst = appendMoney(dst, ps.CompareAt)
	}
	dst = catalog.AppendUvarint(dst, uint64(len(r.Stock)))
	for _, k := range sortedKeys(r.Stock) {
		s := r.Stock[k]
		dst = catalog.AppendString(dst, k)
		dst = catalog.AppendUvarint(dst, s.V)
		dst = catalog.AppendVarint(dst, int64(s.Available))
	}
	return dst
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func appendEntry(dst []byte, e *entry) []byte {
	dst = catalog.AppendUvarint(dst, uint64(len(e.Offsets)))
	for _, t := range sortedKeys(e.Offsets) {
		dst = catalog.AppendString(dst, t)
		dst = catalog.AppendVarint(dst, e.Offsets[t])
	}
	dst = catalog.AppendUvarint(dst, uint64(len(e.Records)))
	for _, r := range e.Records {
		dst = appendRecord(grow(dst), r)
	}
	dst = appendCounts(dst, e.Sales)
	dst = catalog.AppendUvarint(dst, uint64(len(e.Orders)))
	for _, id := range e.Orders {
		dst = catalog.AppendString(dst, id)
	}
	return dst
}

// grow doubles dst's capacity when little is left: append alone grows a
// large slice by a quarter, copying a snapshot of hundreds of megabytes
// many times over.
func grow(dst []byte) []byte {
	if cap(dst)-len(dst) < 64<<10 {
		return slices.Grow(dst, max(cap(dst), 1<<20))
	}
	return dst
}

func appendCounts(dst []byte, m map[string]int64) []byte {
	dst = catalog.AppendUvarint(dst, uint64(len(m)))
	for _, id := range sortedKeys(m) {
		dst = catalog.AppendString(dst, id)
		dst = catalog.AppendVarint(dst, m[id])
	}
	return dst
}

// decoder reads the binary form with catalog's primitives; its first
// error sticks and names what was being read and where.
type decoder struct{ catalog.Decoder }

func newDecoder(b []byte) *decoder { return &decoder{catalog.NewDecoder(b)} }

func (d *decoder) uvarint(what string) uint64 { d.What = what; return d.Uvarint() }
func (d *decoder) varint(what string) int64   { d.What = what; return d.Varint() }
func (d *decoder) str(what string) string     { d.What = what; return d.String() }
func (d *decoder) byte1(what string) byte     { d.What = what; return d.Byte() }

// count reads a length that must fit in what is left, each item taking at
// least one byte.
func (d *decoder) count(what string) int { d.What = what; return d.Len64(d.Uvarint()) }

func (d *decoder) money(what string) catalog.Money {
	return catalog.Money{Amount: d.varint(what + " amount"), Currency: d.str(what + " currency")}
}

func (d *decoder) record() *record {
	r := &record{ID: d.str("record id")}
	r.ContentV = d.uvarint("content_v")
	r.DeletedV = d.uvarint("deleted_v")
	r.RatingV = d.uvarint("rating_v")
	flags := d.byte1("record flags")
	if flags&recContent != 0 {
		d.What = "content of " + r.ID
		r.Content = d.Product()
	}
	if flags&recRating != 0 {
		d.What = "rating avg"
		r.Rating = &catalog.Rating{Avg: d.Float64(), Count: int(d.varint("rating count"))}
	}
	if n := d.count("prices"); n > 0 {
		r.Prices = make(map[string]priceState, n)
		for range n {
			k := d.str("price variant")
			r.Prices[k] = priceState{V: d.uvarint("price v"), Price: d.money("price"), CompareAt: d.money("compare_at")}
		}
	}
	if n := d.count("stock"); n > 0 {
		r.Stock = make(map[string]stockState, n)
		for range n {
			k := d.str("stock cell")
			r.Stock[k] = stockState{V: d.uvarint("stock v"), Available: int(d.varint("available"))}
		}
	}
	return r
}

func (d *decoder) counts(what string) map[string]int64 {
	n := d.count(what)
	if n == 0 {
		return nil
	}
	m := make(map[string]int64, n)
	for range n {
		k := d.str(what + " id")
		m[k] = d.varint(what + " count")
	}
	return m
}

func (d *decoder) entry() *entry {
	e := &entry{Offsets: map[string]int64{}}
	for range d.count("offsets") {
		t := d.str("offset topic")
		e.Offsets[t] = d.varint("offset")
	}
	if n := d.count("records"); n > 0 {
		e.Records = make([]*record, 0, n)
		for range n {
			if d.Err() != nil {
				break
			}
			e.Records = append(e.Records, d.record())
		}
	}
	e.Sales = d.counts("sales")
	if n := d.count("orders"); n > 0 {
		e.Orders = make([]string, 0, n)
		for range n {
			e.Orders = append(e.Orders, d.str("order id"))
		}
	}
	return e
}

// decodeEntry decodes a whole entry; trailing bytes are an error.
func decodeEntry(b []byte) (*entry, error) {
	d := newDecoder(b)
	e := d.entry()
	if d.Err() == nil && d.Len() != 0 {
		d.What = "entry"
		d.Failf("%d bytes of trailing data", d.Len())
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return e, nil
}
