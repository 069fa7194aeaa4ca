package commerce

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aisle/aisle/catalog"
)

// Errors inventory callers branch on.
var (
	ErrOutOfStock    = errors.New("commerce: out of stock")
	ErrNoReservation = errors.New("commerce: no such reservation")
	ErrState         = errors.New("commerce: reservation in the wrong state")
	ErrIdempotency   = errors.New("commerce: idempotency key reused with different lines")
	ErrLine          = errors.New("commerce: bad reservation line")
)

// Stock is one (variant, warehouse) cell. Version grows by one with every
// change of the cell, so it orders the cell's inventory events.
type Stock struct {
	ProductID   string
	VariantID   string
	WarehouseID string
	Available   int
	Reserved    int
	Version     uint64
}

// Event returns the stock as the inventory event search consumes.
func (s Stock) Event() catalog.InventoryEvent {
	return catalog.InventoryEvent{Schema: catalog.SchemaVersion, ProductID: s.ProductID, VariantID: s.VariantID,
		WarehouseID: s.WarehouseID, Version: s.Version, Available: s.Available}
}

// Line asks for Quantity units of a variant from one warehouse.
type Line struct {
	VariantID   string `json:"variant_id"`
	WarehouseID string `json:"warehouse_id"`
	Quantity    int    `json:"quantity"`
}

// ReservationState is where a reservation is in its life.
type ReservationState string

const (
	Soft      ReservationState = "soft"      // held for a cart until it expires
	Hard      ReservationState = "hard"      // held for a checkout
	Deducted  ReservationState = "deducted"  // paid: units left the stock
	Released  ReservationState = "released"  // soft reservation given back
	Cancelled ReservationState = "cancelled" // hard reservation given back
)

type reservation struct {
	State   ReservationState `json:"state"`
	Lines   []Line           `json:"lines"`
	Expires int64            `json:"expires,omitempty"` // unix ns, soft only
}

// normalize sums lines per cell and sorts them, so that a retried call
// with the same lines in another order matches.
func normalize(lines []Line) ([]Line, error) {
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: no lines", ErrLine)
	}
	out := make([]Line, 0, len(lines))
	for _, l := range lines {
		if l.VariantID == "" || l.WarehouseID == "" || strings.IndexByte(l.VariantID, 0) >= 0 || l.Quantity <= 0 {
			return nil, fmt.Errorf("%w: %+v", ErrLine, l)
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Line) int {
		return cmp.Or(strings.Compare(a.VariantID, b.VariantID), strings.Compare(a.WarehouseID, b.WarehouseID))
	})
	j := 0
	for _, l := range out[1:] {
		if l.VariantID == out[j].VariantID && l.WarehouseID == out[j].WarehouseID {
			out[j].Quantity += l.Quantity
		} else {
			j++
			out[j] = l
		}
	}
	return out[:j+1], nil
}

func stockKey(variant, warehouse string) []byte {
	return []byte(variant + "\x00" + warehouse)
}

// A stock value is available, reserved and version as 8-byte big-endian
// integers followed by the product id.
func decodeStock(key, v []byte) (Stock, error) {
	var s Stock
	i := bytes.IndexByte(key, 0)
	if i < 0 || len(v) < 24 {
		return s, fmt.Errorf("commerce: corrupt stock cell %q: %d bytes", key, len(v))
	}
	s.VariantID, s.WarehouseID = string(key[:i]), string(key[i+1:])
	s.Available = int(int64(binary.BigEndian.Uint64(v)))
	s.Reserved = int(int64(binary.BigEndian.Uint64(v[8:])))
	s.Version = binary.BigEndian.Uint64(v[16:])
	s.ProductID = string(v[24:])
	return s, nil
}

func encodeStock(s Stock) []byte {
	b := make([]byte, 24, 24+len(s.ProductID))
	binary.BigEndian.PutUint64(b, uint64(int64(s.Available)))
	binary.BigEndian.PutUint64(b[8:], uint64(int64(s.Reserved)))
	binary.BigEndian.PutUint64(b[16:], s.Version)
	return append(b, s.ProductID...)
}

func getStock(tx kvTx, variant, warehouse string) (Stock, bool, error) {
	k := stockKey(variant, warehouse)
	v := tx.Bucket(bucketStock).Get(k)
	if v == nil {
		return Stock{VariantID: variant, WarehouseID: warehouse}, false, nil
	}
	s, err := decodeStock(k, v)
	return s, true, err
}

// Topics of the events the store enqueues to its outbox (the names of
// ingest/topics.go, which this layer cannot import).
const (
	TopicInventory = "catalog.inventory" // a stock cell changed, keyed by product id
	TopicOrders    = "orders"            // an order was placed, keyed by order id
)

// putStock writes s with the next version and enqueues its inventory
// event in the same transaction, panicking on a broken invariant: every
// caller checks before it writes. A cell without a product id (stock set
// for no known product) gets no event: its consumers could not key it.
//
// The event's Available is the cell's Available, which reservations have
// already taken their units out of (move shifts units from available to
// reserved): it is what can still be sold, so search shows a product out
// of stock as soon as every unit is held by a cart or a checkout.
func putStock(tx kvTx, s *Stock) error {
	if s.Available < 0 || s.Reserved < 0 {
		panic(fmt.Sprintf("commerce: negative stock %+v", *s))
	}
	s.Version++
	if err := tx.Bucket(bucketStock).Put(stockKey(s.VariantID, s.WarehouseID), encodeStock(*s)); err != nil {
		return err
	}
	if s.ProductID == "" {
		return nil
	}
	ev, err := json.Marshal(s.Event())
	if err != nil {
		return err
	}
	return enqueue(tx, TopicInventory, []byte(s.ProductID), ev)
}

// AdoptStock takes in a stock change another writer published to the
// inventory topic (a seller's PATCH through the catalog writer): when e's
// version is above the cell's, the cell's available units and version
// become e's, so the store's next change of the cell publishes a higher
// version than the seller's and the index applies it. Reserved units are
// kept. It enqueues nothing and reports whether the cell changed.
func (s *Store) AdoptStock(e catalog.InventoryEvent) (bool, error) {
	if e.VariantID == "" || e.WarehouseID == "" || strings.IndexByte(e.VariantID, 0) >= 0 || strings.IndexByte(e.WarehouseID, 0) >= 0 || e.Available < 0 {
		return false, fmt.Errorf("%w: inventory event %+v", ErrLine, e)
	}
	changed := false
	err := s.txn(func(tx kvTx) (error, error) {
		changed = false
		st, _, err := getStock(tx, e.VariantID, e.WarehouseID)
		if err != nil || e.Version <= st.Version {
			return nil, err
		}
		st.Available, st.Version = e.Available, e.Version
		if st.ProductID == "" {
			st.ProductID = e.ProductID
		}
		changed = true
		return nil, tx.Bucket(bucketStock).Put(stockKey(st.VariantID, st.WarehouseID), encodeStock(st))
	})
	return changed, err
}

// SeedStock copies each variant's catalog stock (units per warehouse)
// into the cells that do not exist yet, for a first start over a catalog;
// existing cells are kept. Seeded cells start at version 0 and enqueue no
// event: the catalog already shows that stock. It returns the cells it
// created.
func (s *Store) SeedStock(products []*catalog.Product) (int, error) {
	// Keys in order: bbolt appends to the B+tree instead of splitting
	// pages at random, 20-40 times faster for a first seed.
	type cell struct {
		key   []byte
		stock Stock
	}
	var cells []cell
	for _, p := range products {
		for _, v := range p.Variants {
			if v.ID == "" || strings.IndexByte(v.ID, 0) >= 0 {
				continue
			}
			for wh, units := range v.Stock {
				if wh == "" || units < 0 {
					continue
				}
				cells = append(cells, cell{stockKey(v.ID, wh), Stock{ProductID: p.ID, Available: units}})
			}
		}
	}
	slices.SortFunc(cells, func(a, b cell) int { return bytes.Compare(a.key, b.key) })
	n := 0
	err := s.db.update(func(tx kvTx) error {
		n = 0
		b := tx.Bucket(bucketStock)
		if fb, ok := b.(interface{ setFillPercent(float64) }); ok {
			fb.setFillPercent(0.9) // mostly appended
		}
		for _, cl := range cells {
			if b.Get(cl.key) != nil {
				continue
			}
			if err := b.Put(cl.key, encodeStock(cl.stock)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("commerce: seeding stock: %w", err)
	}
	return n, nil
}

// SetStock sets the available units of a cell (receiving stock, a
// count); reserved units are kept.
func (s *Store) SetStock(productID, variant, warehouse string, available int) (Stock, error) {
	if available < 0 || variant == "" || warehouse == "" || strings.IndexByte(variant, 0) >= 0 {
		return Stock{}, fmt.Errorf("%w: set %d of %q in %q", ErrLine, available, variant, warehouse)
	}
	var out Stock
	err := s.txn(func(tx kvTx) (error, error) {
		st, _, err := getStock(tx, variant, warehouse)
		if err != nil {
			return nil, err
		}
		st.ProductID, st.Available = productID, available
		out = st
		return nil, putStock(tx, &out)
	})
	return out, err
}

// Stock returns one cell; a cell never set has zero units and version 0.
func (s *Store) Stock(variant, warehouse string) (Stock, error) {
	var out Stock
	err := s.db.view(func(tx kvTx) error {
		var err error
		out, _, err = getStock(tx, variant, warehouse)
		return err
	})
	return out, err
}

// Stocks returns every cell, read from one consistent snapshot.
func (s *Store) Stocks() ([]Stock, error) {
	var out []Stock
	err := s.db.view(func(tx kvTx) error {
		return tx.Bucket(bucketStock).ForEach(func(k, v []byte) error {
			st, err := decodeStock(k, v)
			out = append(out, st)
			return err
		})
	})
	return out, err
}

func getResv(tx kvTx, id string) (*reservation, error) {
	v := tx.Bucket(bucketResv).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	r := new(reservation)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("commerce: corrupt reservation %q: %w", id, err)
	}
	return r, nil
}

func putResv(tx kvTx, id string, r *reservation) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketResv).Put([]byte(id), b)
}

func expiryKey(ns int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(ns))
}

func expiryIndexKey(ns int64, id string) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), uint64(ns)), id...)
}

// adj moves delta×quantity units of every line from available to
// reserved (negative delta gives them back).
type adj struct {
	lines []Line
	delta int
}

// move applies adjs to the cells in memory, checks that no cell goes
// negative, and only then writes every changed cell once. It returns the
// changed cells in the order the lines first name them; a refusal (out
// of stock) writes nothing.
func move(tx kvTx, adjs ...adj) ([]Stock, error, error) {
	cells := map[string]*Stock{}
	var order []string
	for _, a := range adjs {
		for _, l := range a.lines {
			k := string(stockKey(l.VariantID, l.WarehouseID))
			st := cells[k]
			if st == nil {
				s, ok, err := getStock(tx, l.VariantID, l.WarehouseID)
				if err != nil {
					return nil, nil, err
				}
				if !ok && a.delta > 0 {
					return nil, fmt.Errorf("%w: %d of %q in warehouse %q, no stock kept", ErrOutOfStock, l.Quantity, l.VariantID, l.WarehouseID), nil
				}
				st = &s
				cells[k] = st
				order = append(order, k)
			}
			st.Available -= a.delta * l.Quantity
			st.Reserved += a.delta * l.Quantity
		}
	}
	for _, k := range order {
		st := cells[k]
		if st.Available < 0 {
			var want int
			for _, a := range adjs {
				for _, l := range a.lines {
					if string(stockKey(l.VariantID, l.WarehouseID)) == k && a.delta > 0 {
						want += l.Quantity
					}
				}
			}
			return nil, fmt.Errorf("%w: %d of %q in warehouse %q, %d available", ErrOutOfStock, want, st.VariantID, st.WarehouseID, st.Available+want), nil
		}
		if st.Reserved < 0 {
			return nil, nil, fmt.Errorf("commerce: giving back more of %q in %q than reserved (%d)", st.VariantID, st.WarehouseID, st.Reserved)
		}
	}
	for _, k := range order {
		if err := putStock(tx, cells[k]); err != nil {
			return nil, nil, err
		}
	}
	out := make([]Stock, len(order))
	for i, k := range order {
		out[i] = *cells[k]
	}
	return out, nil, nil
}

func current(tx kvTx, lines []Line) ([]Stock, error) {
	out := make([]Stock, len(lines))
	for i, l := range lines {
		st, _, err := getStock(tx, l.VariantID, l.WarehouseID)
		if err != nil {
			return nil, err
		}
		out[i] = st
	}
	return out, nil
}

// SoftReserve holds lines for a cart for ttl (Options.SoftTTL when 0)
// under id, all lines or none; ErrOutOfStock names a short line. Calling
// it again for a held or released id replaces the hold with the new lines
// and expiry in one transaction (the cart changed, or the shopper came
// back); a hard, deducted or cancelled id is ErrState.
func (s *Store) SoftReserve(id string, lines []Line, ttl time.Duration) ([]Stock, error) {
	lines, err := normalize(lines)
	if err != nil {
		return nil, err
	}
	if ttl <= 0 {
		ttl = s.opts.SoftTTL
	}
	expires := s.opts.Now().Add(ttl).UnixNano()
	var out []Stock
	err = s.txn(func(tx kvTx) (error, error) {
		r, err := getResv(tx, id)
		if err != nil {
			return nil, err
		}
		adjs := []adj{{lines, 1}}
		switch {
		case r == nil || r.State == Released:
		case r.State == Soft: // the cart changed or the hold is renewed
			adjs = []adj{{r.Lines, -1}, {lines, 1}}
		default:
			return fmt.Errorf("%w: %q is %s", ErrState, id, r.State), nil
		}
		var refusal error
		out, refusal, err = move(tx, adjs...)
		if refusal != nil || err != nil {
			return refusal, err
		}
		if r != nil && r.State == Soft {
			if err := tx.Bucket(bucketExpiry).Delete(expiryIndexKey(r.Expires, id)); err != nil {
				return nil, err
			}
		}
		if err := tx.Bucket(bucketExpiry).Put(expiryIndexKey(expires, id), nil); err != nil {
			return nil, err
		}
		return nil, putResv(tx, id, &reservation{State: Soft, Lines: lines, Expires: expires})
	})
	return out, err
}

// HardReserve reserves every line for a checkout under the idempotency
// key id, all or none. A soft reservation under id is replaced by the
// hard one in the same transaction; a released (expired) one is ignored. A retried call with the same id and
// lines reserves nothing more and returns the current stock.
func (s *Store) HardReserve(id string, lines []Line) ([]Stock, error) {
	lines, err := normalize(lines)
	if err != nil {
		return nil, err
	}
	var out []Stock
	err = s.txn(func(tx kvTx) (error, error) {
		var refusal error
		out, refusal, err = hardReserveTx(tx, id, lines)
		return refusal, err
	})
	return out, err
}

// hardReserveTx is HardReserve inside tx, for normalized lines; a
// refusal writes nothing.
func hardReserveTx(tx kvTx, id string, lines []Line) ([]Stock, error, error) {
	r, err := getResv(tx, id)
	if err != nil {
		return nil, nil, err
	}
	if r != nil && r.State == Released {
		r = nil // the cart's hold expired: reserve afresh
	}
	if r != nil && r.State != Soft {
		if !slices.Equal(r.Lines, lines) {
			return nil, fmt.Errorf("%w: %q", ErrIdempotency, id), nil
		}
		if r.State != Hard && r.State != Deducted {
			return nil, fmt.Errorf("%w: %q is %s", ErrState, id, r.State), nil
		}
		out, err := current(tx, lines)
		return out, nil, err
	}
	// The new lines are checked as if the soft hold were given back.
	adjs := []adj{{lines, 1}}
	if r != nil {
		adjs = []adj{{r.Lines, -1}, {lines, 1}}
	}
	out, refusal, err := move(tx, adjs...)
	if refusal != nil || err != nil {
		return nil, refusal, err
	}
	if r != nil {
		if err := tx.Bucket(bucketExpiry).Delete(expiryIndexKey(r.Expires, id)); err != nil {
			return nil, nil, err
		}
	}
	return out, nil, putResv(tx, id, &reservation{State: Hard, Lines: lines})
}

// transition moves reservation id from one of the states in from to to,
// giving units back to available, or with deduct taking them out of
// reserved. Repeating a finished transition changes nothing.
func (s *Store) transition(id string, from []ReservationState, to ReservationState, deduct bool) ([]Stock, error) {
	var out []Stock
	err := s.txn(func(tx kvTx) (error, error) {
		var refusal, err error
		out, refusal, err = transitionTx(tx, id, from, to, deduct)
		return refusal, err
	})
	return out, err
}

// transitionTx is transition inside tx.
func transitionTx(tx kvTx, id string, from []ReservationState, to ReservationState, deduct bool) ([]Stock, error, error) {
	r, err := getResv(tx, id)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case r == nil:
		return nil, fmt.Errorf("%w: %q", ErrNoReservation, id), nil
	case r.State == to:
		out, err := current(tx, r.Lines)
		return out, nil, err
	case !slices.Contains(from, r.State):
		return nil, fmt.Errorf("%w: %q is %s, cannot become %s", ErrState, id, r.State, to), nil
	}
	var out []Stock
	if deduct {
		out = make([]Stock, len(r.Lines))
		for i, l := range r.Lines {
			st, _, err := getStock(tx, l.VariantID, l.WarehouseID)
			if err != nil {
				return nil, nil, err
			}
			if st.Reserved < l.Quantity {
				return nil, nil, fmt.Errorf("commerce: deducting %d of %q in %q with %d reserved", l.Quantity, l.VariantID, l.WarehouseID, st.Reserved)
			}
			st.Reserved -= l.Quantity
			out[i] = st
			if err := putStock(tx, &out[i]); err != nil {
				return nil, nil, err
			}
		}
	} else if out, _, err = move(tx, adj{r.Lines, -1}); err != nil {
		return nil, nil, err
	}
	if r.State == Soft {
		if err := tx.Bucket(bucketExpiry).Delete(expiryIndexKey(r.Expires, id)); err != nil {
			return nil, nil, err
		}
	}
	r.State, r.Expires = to, 0
	return out, nil, putResv(tx, id, r)
}

// Release gives a soft reservation's units back (an item left the cart).
func (s *Store) Release(id string) ([]Stock, error) {
	return s.transition(id, []ReservationState{Soft}, Released, false)
}

// Cancel gives a hard reservation's units back (a declined payment, a
// cancelled order before payment).
func (s *Store) Cancel(id string) ([]Stock, error) {
	return s.transition(id, []ReservationState{Hard, Soft}, Cancelled, false)
}

// Deduct takes a hard reservation's units out of stock (payment taken).
func (s *Store) Deduct(id string) ([]Stock, error) {
	return s.transition(id, []ReservationState{Hard}, Deducted, true)
}

// Sweep releases up to batch soft reservations expired at now, in one
// transaction, and returns how many it released and the cells changed.
func (s *Store) Sweep(now time.Time, batch int) (int, []Stock, error) {
	var n int
	var out []Stock
	limit := expiryKey(now.UnixNano())
	err := s.txn(func(tx kvTx) (error, error) {
		n, out = 0, nil
		var expired [][]byte
		c := tx.Bucket(bucketExpiry).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], limit) <= 0 && len(expired) < batch; k, _ = c.Next() {
			expired = append(expired, slices.Clone(k))
		}
		for _, k := range expired {
			id := string(k[8:])
			r, err := getResv(tx, id)
			if err != nil {
				return nil, err
			}
			if err := tx.Bucket(bucketExpiry).Delete(k); err != nil {
				return nil, err
			}
			if r == nil || r.State != Soft {
				continue
			}
			cells, _, err := move(tx, adj{r.Lines, -1})
			if err != nil {
				return nil, err
			}
			out = append(out, cells...)
			r.State, r.Expires = Released, 0
			if err := putResv(tx, id, r); err != nil {
				return nil, err
			}
			n++
		}
		return nil, nil
	})
	return n, out, err
}
