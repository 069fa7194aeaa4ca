package catalog

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// AppendProductEvent appends the JSON of e, the catalog.products event of
// doc/ingest.md, to dst: what json.Marshal writes (the same members, in
// the same order, with the same omissions), map keys sorted, about five
// times faster, for the importer and the seller writes. It refuses what
// DecodeProductEvent would dead-letter rather than write it: invalid
// UTF-8, a NaN or infinite number, a time outside years 0-9999.
// TestAppendProductEvent holds it to json.Marshal.
func AppendProductEvent(dst []byte, e *ProductEvent) ([]byte, error) {
	w := eventWriter{b: dst}
	w.raw(`{"schema":`)
	w.int(int64(e.Schema))
	w.raw(`,"id":`)
	w.str(e.ID)
	w.raw(`,"version":`)
	w.b = strconv.AppendUint(w.b, e.Version, 10)
	if e.Deleted {
		w.raw(`,"deleted":true`)
	}
	if p := e.Product; p != nil {
		w.raw(`,"product":`)
		w.product(p)
	}
	w.raw(`}`)
	if w.err != nil {
		return dst, fmt.Errorf("catalog: encoding the event of %q: %w", e.ID, w.err)
	}
	return w.b, nil
}

type eventWriter struct {
	b    []byte
	err  error
	keys []string
}

func (w *eventWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *eventWriter) int(n int64) { w.b = strconv.AppendInt(w.b, n, 10) }

func (w *eventWriter) str(s string) {
	var err error
	w.b, err = jsontext.AppendQuote(w.b, s)
	if err != nil && w.err == nil {
		w.err = err
	}
}

func (w *eventWriter) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if w.err == nil {
			w.err = fmt.Errorf("the number %v is not JSON", f)
		}
		w.b = append(w.b, '0')
		return
	}
	// As encoding/json: the shortest representation, exponent form only
	// for very small or large magnitudes.
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	w.b = strconv.AppendFloat(w.b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(w.b)
		if n >= 4 && w.b[n-4] == 'e' && w.b[n-3] == '-' && w.b[n-2] == '0' {
			w.b[n-2] = w.b[n-1]
			w.b = w.b[:n-1]
		}
	}
}

func (w *eventWriter) time(t time.Time) {
	if y := t.Year(); y < 0 || y > 9999 {
		if w.err == nil {
			w.err = fmt.Errorf("the time %v is outside years 0-9999", t)
		}
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

func (w *eventWriter) strings(ss []string) {
	w.b = append(w.b, '[')
	for i, s := range ss {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(s)
	}
	w.b = append(w.b, ']')
}

func (w *eventWriter) stringMap(m map[string]string) {
	w.keys = w.keys[:0]
	for k := range m {
		w.keys = append(w.keys, k)
	}
	slices.Sort(w.keys)
	w.b = append(w.b, '{')
	for i, k := range w.keys {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(k)
		w.b = append(w.b, ':')
		w.str(m[k])
	}
	w.b = append(w.b, '}')
}

func (w *eventWriter) intMap(m map[string]int) {
	w.keys = w.keys[:0]
	for k := range m {
		w.keys = append(w.keys, k)
	}
	slices.Sort(w.keys)
	w.b = append(w.b, '{')
	for i, k := range w.keys {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(k)
		w.b = append(w.b, ':')
		w.int(int64(m[k]))
	}
	w.b = append(w.b, '}')
}

func (w *eventWriter) money(m Money) {
	w.raw(`{"amount":`)
	w.int(m.Amount)
	w.raw(`,"currency":`)
	w.str(m.Currency)
	w.raw(`}`)
}

// product writes p as encoding/json does with the struct tags of Product.
func (w *eventWriter) product(p *Product) {
	w.raw(`{"id":`)
	w.str(p.ID)
	w.raw(`,"title":`)
	w.str(p.Title)
	if p.Description != "" {
		w.raw(`,"description":`)
		w.str(p.Description)
	}
	if p.Brand != "" {
		w.raw(`,"brand":`)
		w.str(p.Brand)
	}
	if len(p.Category) > 0 {
		w.raw(`,"category":`)
		w.strings(p.Category)
	}
	if len(p.Attributes) > 0 {
		w.raw(`,"attributes":`)
		w.stringMap(p.Attributes)
	}
	w.raw(`,"variants":`)
	if p.Variants == nil {
		w.raw(`null`)
	} else {
		w.b = append(w.b, '[')
		for i := range p.Variants {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.variant(&p.Variants[i])
		}
		w.b = append(w.b, ']')
	}
	if p.SellerID != "" {
		w.raw(`,"seller_id":`)
		w.str(p.SellerID)
	}
	if len(p.Images) > 0 {
		w.raw(`,"images":`)
		w.strings(p.Images)
	}
	if p.Thumbnail != "" {
		w.raw(`,"thumbnail_url":`)
		w.str(p.Thumbnail)
	}
	w.raw(`,"rating":{"avg":`)
	w.float(p.Rating.Avg)
	w.raw(`,"count":`)
	w.int(int64(p.Rating.Count))
	w.raw(`}`)
	if p.SalesVelocity != 0 {
		w.raw(`,"sales_velocity":`)
		w.float(p.SalesVelocity)
	}
	if p.SellerQuality != 0 {
		w.raw(`,"seller_quality":`)
		w.float(p.SellerQuality)
	}
	if p.Sponsored != 0 {
		w.raw(`,"sponsored_bid":`)
		w.int(p.Sponsored)
	}
	if len(p.Badges) > 0 {
		w.raw(`,"badges":`)
		w.strings(p.Badges)
	}
	w.raw(`,"created_at":`)
	w.time(p.CreatedAt)
	w.raw(`,"updated_at":`)
	w.time(p.UpdatedAt)
	w.raw(`,"version":`)
	w.b = strconv.AppendUint(w.b, p.Version, 10)
	if len(p.Generated) > 0 {
		w.raw(`,"generated":`)
		w.strings(p.Generated)
	}
	w.raw(`}`)
}

func (w *eventWriter) variant(v *Variant) {
	w.raw(`{"variant_id":`)
	w.str(v.ID)
	if v.SKU != "" {
		w.raw(`,"sku":`)
		w.str(v.SKU)
	}
	if len(v.Attributes) > 0 {
		w.raw(`,"attributes":`)
		w.stringMap(v.Attributes)
	}
	w.raw(`,"price":`)
	w.money(v.Price)
	if v.CompareAt != (Money{}) {
		w.raw(`,"compare_at":`)
		w.money(v.CompareAt)
	}
	if len(v.Stock) > 0 {
		w.raw(`,"stock":`)
		w.intMap(v.Stock)
	}
	w.raw(`}`)
}
