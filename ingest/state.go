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
	// RatingV and Rating are the newest review summary of the
	// catalog.ratings topic; RatingV 0 means none arrived and the
	// product document's own rating stands.
	RatingV uint64          `json:"rating_v,omitempty"`
	Rating  *catalog.Rating `json:"rating,omitempty"`
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
//
// It also holds what the orders of the partition sold: units per product
// id (the products live on whichever partition their own key chooses) and
// the ids of the last MaxOrderIDs orders applied, so a redelivered order
// counts once. Orders are keyed by order id, so every copy of one order
// lands on the same partition.
type state struct {
	recs map[string]*record

	sales    map[string]int64 // product id -> units sold by this partition's orders
	orderIDs map[string]struct{}
	ring     []string // the same ids, oldest first from ringNext
	ringNext int
	maxIDs   int
}

// DefaultMaxOrderIDs is how many order ids each partition remembers to drop
// redelivered orders; see Options.MaxOrderIDs.
const DefaultMaxOrderIDs = 100_000

func newState() *state {
	return &state{recs: map[string]*record{}, sales: map[string]int64{}, orderIDs: map[string]struct{}{}, maxIDs: DefaultMaxOrderIDs}
}

// rating applies a review summary, versioned per product like prices.
func (s *state) rating(e *catalog.RatingEvent) outcome {
	o := compare(e.Version, s.get(e.ProductID).RatingV)
	if o == applied {
		r := s.edit(e.ProductID)
		rt := e.Rating
		r.RatingV, r.Rating = e.Version, &rt
	}
	return o
}

// order adds an order's units to the sales of its products, once per order
// id, and returns the products whose sales changed. An order id seen among
// the last maxIDs is a duplicate.
func (s *state) order(e *catalog.OrderEvent) ([]string, outcome) {
	if _, dup := s.orderIDs[e.OrderID]; dup {
		return nil, duplicate
	}
	s.rememberOrder(e.OrderID)
	var ids []string
	for _, l := range e.Lines {
		if !contains(ids, l.ProductID) {
			ids = append(ids, l.ProductID)
		}
		s.sales[l.ProductID] += int64(l.Quantity)
	}
	return ids, applied
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// rememberOrder adds id to the bounded set of order ids, forgetting the
// oldest beyond maxIDs.
func (s *state) rememberOrder(id string) {
	if s.maxIDs <= 0 {
		return
	}
	if len(s.ring) < s.maxIDs {
		s.ring = append(s.ring, id)
	} else {
		delete(s.orderIDs, s.ring[s.ringNext])
		s.ring[s.ringNext] = id
		s.ringNext = (s.ringNext + 1) % len(s.ring)
	}
	s.orderIDs[id] = struct{}{}
}

// orderIDsOldestFirst returns the remembered order ids, oldest first.
func (s *state) orderIDsOldestFirst() []string {
	out := make([]string, 0, len(s.ring))
	out = append(out, s.ring[s.ringNext:]...)
	return append(out, s.ring[:s.ringNext]...)
}

// get returns the record of id to read; an unknown id reads as an empty
// record, which is not stored.
func (s *state) get(id string) *record {
	if r := s.recs[id]; r != nil {
		return r
	}
	return &record{ID: id}
}

// edit returns the record of id to change: a copy, stored in its place, so
// that a record is never modified once stored. A snapshot being written in
// the background keeps the records it captured; the price and stock maps
// are copied by whoever changes them.
func (s *state) edit(id string) *record {
	r := &record{ID: id}
	if old := s.recs[id]; old != nil {
		*r = *old
	}
	s.recs[id] = r
	return r
}

func (s *state) product(e *catalog.ProductEvent) outcome {
	r := s.get(e.ID)
	if e.Deleted {
		o := compare(e.Version, r.DeletedV)
		if o == applied {
			s.edit(e.ID).DeletedV = e.Version
		}
		return o
	}
	o := compare(e.Version, r.ContentV)
	if o == applied {
		r := s.edit(e.ID)
		r.ContentV = e.Version
		r.Content = e.Product
	}
	return o
}

func (s *state) price(e *catalog.PriceEvent) outcome {
	o := compare(e.Version, s.get(e.ProductID).Prices[e.VariantID].V)
	if o == applied {
		r := s.edit(e.ProductID)
		r.Prices = maps.Clone(r.Prices)
		if r.Prices == nil {
			r.Prices = map[string]priceState{}
		}
		r.Prices[e.VariantID] = priceState{V: e.Version, Price: e.Price, CompareAt: e.CompareAt}
	}
	return o
}

func (s *state) inventory(e *catalog.InventoryEvent) outcome {
	k := e.VariantID + "\x00" + e.WarehouseID
	o := compare(e.Version, s.get(e.ProductID).Stock[k].V)
	if o == applied {
		r := s.edit(e.ProductID)
		r.Stock = maps.Clone(r.Stock)
		if r.Stock == nil {
			r.Stock = map[string]stockState{}
		}
		r.Stock[k] = stockState{V: e.Version, Available: e.Available}
	}
	return o
}

// SalesWindowDays turns units sold on the orders topic into a sales
// velocity (units a day): as if they were sold over the last 30 days, the
// window corpora uses for the shipped Instacart orders. Counts never decay;
// a full reindex from the retained orders recounts them.
const SalesWindowDays = 30

// effective returns the product to index for r, or nil when it must not be
// in the index (deleted, or only prices and stock seen so far). The
// product's own prices and stock are the starting values; events on the
// price and inventory topics override them. The result is a new value: the
// index keeps it, so it is never modified afterwards.
//
// units are the units sold by the orders seen on the orders topic: they add
// units / SalesWindowDays to the document's SalesVelocity, the sales signal
// of ranking. A review summary from the ratings topic is added to the
// document's rating: the product document carries the ratings imported
// with the catalog, the summary those posted here since.
func addRatings(a, b catalog.Rating) catalog.Rating {
	n := a.Count + b.Count
	if a.Count <= 0 || n <= 0 {
		return b
	}
	if b.Count <= 0 {
		return a
	}
	return catalog.Rating{Avg: (a.Avg*float64(a.Count) + b.Avg*float64(b.Count)) / float64(n), Count: n}
}

func (r *record) effective(units int64) *catalog.Product {
	if r.Content == nil || r.deleted() {
		return nil
	}
	if len(r.Prices) == 0 && len(r.Stock) == 0 && r.RatingV == 0 && units == 0 {
		return r.Content
	}
	p := *r.Content
	if r.RatingV > 0 && r.Rating != nil {
		p.Rating = addRatings(r.Content.Rating, *r.Rating)
	}
	if units > 0 {
		p.SalesVelocity += float64(units) / SalesWindowDays
	}
	if len(r.Prices) == 0 && len(r.Stock) == 0 {
		return &p
	}
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
