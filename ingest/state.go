package ingest

import (
	"maps"

	"github.com/aisle/aisle/catalog"
)

// record is all that ingest knows about one product id: its latest content
// and tombstone versions, and the price and stock overrides that arrived on
// their own topics, each with its own version.
type record struct {
	ID       string                `json:"id"`
	Content  *catalog.Product      `json:"content,omitempty"`
	ContentV uint64                `json:"content_v"`
	DeletedV uint64                `json:"deleted_v,omitempty"`
	Prices   map[string]priceState `json:"prices,omitempty"` // by variant id
	Stock    map[string]stockState `json:"stock,omitempty"`  // by variant id + "\x00" + warehouse id
}

type priceState struct {
	V         uint64        `json:"v"`
	Price     catalog.Money `json:"price"`
	CompareAt catalog.Money `json:"compare_at"`
}

type stockState struct {
	V         uint64 `json:"v"`
	Available int    `json:"available"`
}

// deleted reports whether the newest word on the product is a tombstone: a
// tombstone wins over any content of a lower or equal version.
func (r *record) deleted() bool { return r.DeletedV > 0 && r.DeletedV >= r.ContentV }

// outcome says what an event did.
type outcome uint8

const (
	applied   outcome = iota
	stale             // older than what the state holds
	duplicate         // the same version again
)

func compare(v, have uint64) outcome {
	switch {
	case v > have:
		return applied
	case v == have:
		return duplicate
	}
	return stale
}

// state is the records of one partition. It belongs to one goroutine.
type state struct {
	recs map[string]*record
}

func newState() *state { return &state{recs: map[string]*record{}} }

func (s *state) get(id string) *record {
	r := s.recs[id]
	if r == nil {
		r = &record{ID: id}
		s.recs[id] = r
	}
	return r
}

func (s *state) product(e *catalog.ProductEvent) outcome {
	r := s.get(e.ID)
	if e.Deleted {
		o := compare(e.Version, r.DeletedV)
		if o == applied {
			r.DeletedV = e.Version
		}
		return o
	}
	o := compare(e.Version, r.ContentV)
	if o == applied {
		r.ContentV = e.Version
		r.Content = e.Product
	}
	return o
}

func (s *state) price(e *catalog.PriceEvent) outcome {
	r := s.get(e.ProductID)
	o := compare(e.Version, r.Prices[e.VariantID].V)
	if o == applied {
		if r.Prices == nil {
			r.Prices = map[string]priceState{}
		}
		r.Prices[e.VariantID] = priceState{V: e.Version, Price: e.Price, CompareAt: e.CompareAt}
	}
	return o
}

func (s *state) inventory(e *catalog.InventoryEvent) outcome {
	r := s.get(e.ProductID)
	k := e.VariantID + "\x00" + e.WarehouseID
	o := compare(e.Version, r.Stock[k].V)
	if o == applied {
		if r.Stock == nil {
			r.Stock = map[string]stockState{}
		}
		r.Stock[k] = stockState{V: e.Version, Available: e.Available}
	}
	return o
}

// effective returns the product to index for r, or nil when it must not be
// in the index (deleted, or only prices and stock seen so far). The
// product's own prices and stock are the starting values; events on the
// price and inventory topics override them. The result is a new value: the
// index keeps it, so it is never modified afterwards.
func (r *record) effective() *catalog.Product {
	if r.Content == nil || r.deleted() {
		return nil
	}
	if len(r.Prices) == 0 && len(r.Stock) == 0 {
		return r.Content
	}
	p := *r.Content
	p.Variants = make([]catalog.Variant, len(r.Content.Variants))
	for i, v := range r.Content.Variants {
		if ps, ok := r.Prices[v.ID]; ok {
			v.Price, v.CompareAt = ps.Price, ps.CompareAt
		}
		stock := v.Stock
		copied := false
		for k, st := range r.Stock {
			vid, wh, _ := cut0(k)
			if vid != v.ID {
				continue
			}
			if !copied {
				stock = maps.Clone(v.Stock)
				if stock == nil {
					stock = map[string]int{}
				}
				copied = true
			}
			stock[wh] = st.Available
		}
		v.Stock = stock
		p.Variants[i] = v
	}
	return &p
}

func cut0(k string) (string, string, bool) {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return k[:i], k[i+1:], true
		}
	}
	return k, "", false
}
