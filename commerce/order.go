package commerce

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aisle/aisle/catalog"
)

// Confirm and orders (doc/checkout.md).
//
// Confirm runs in three parts:
//
//  1. one transaction: replay the answer stored under the idempotency
//     key, or route the session's lines to warehouses against the stock
//     it reads (Warehouses.Route), give back the cart's soft hold and
//     hard-reserve every routed line (all or none) under a new order id,
//     and mark the session "confirming" with that order id;
//  2. the charge, keyed by the order id, so the provider answers a
//     repeated charge with the first one;
//  3. one transaction: approved, deduct the reservation, record the order
//     "placed", take its lines out of the cart, enqueue the orders event
//     and store the answer under the key; declined, cancel the
//     reservation (the units return), send the session back to the
//     payment step and store the 402 under the key.
//
// A crash or a provider error between 1 and 3 leaves the session
// "confirming" with its stock reserved. A retried confirm (with any key)
// or Recover resumes at 2 with the same charge key: one charge, one
// order.

var (
	bucketOrders     = []byte("orders")
	bucketUserOrders = []byte("userorders") // user id 0x00 placed-at ns 0x00 order id -> empty
)

// Order statuses.
const (
	OrderPlaced    = "placed"
	OrderRouted    = "routed"
	OrderShipped   = "shipped"
	OrderDelivered = "delivered"
	OrderCancelled = "cancelled"
)

// Order is a placed, paid order, stored in bucket "orders" under its id.
type Order struct {
	ID         string         `json:"order_id"`
	UserID     string         `json:"user_id"`
	CheckoutID string         `json:"checkout_id"`
	Status     string         `json:"status"`
	PlacedAt   time.Time      `json:"placed_at"`
	Lines      []SessionLine  `json:"lines"`
	Routed     []Line         `json:"routed"` // the reserved lines, per warehouse
	Subtotal   catalog.Money  `json:"subtotal"`
	Shipping   ShippingOption `json:"shipping"`
	Total      catalog.Money  `json:"total"`
	Address    Address        `json:"address"`
	ChargeID   string         `json:"charge_id"`
	Last4      string         `json:"last4"`
}

// Event returns the order as the orders topic carries it.
func (o *Order) Event() catalog.OrderEvent {
	e := catalog.OrderEvent{Schema: catalog.SchemaVersion, OrderID: o.ID, UserID: o.UserID, PlacedAt: o.PlacedAt}
	for _, l := range o.Lines {
		e.Lines = append(e.Lines, catalog.OrderLine{ProductID: l.ProductID, VariantID: l.VariantID, Quantity: l.Quantity, Price: l.Price})
	}
	return e
}

// getOrder reads order id inside tx; nil when there is none.
func getOrder(tx kvTx, id string) (*Order, error) {
	v := tx.Bucket(bucketOrders).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	o := new(Order)
	if err := json.Unmarshal(v, o); err != nil {
		return nil, fmt.Errorf("commerce: corrupt order %q: %w", id, err)
	}
	return o, nil
}

// EachOrder calls fn with the orders event of every order the store
// holds that was paid (not cancelled), in order id order, until fn returns
// false: what recommendations rebuild their users' histories from after
// a restart.
func (s *Store) EachOrder(fn func(catalog.OrderEvent) bool) error {
	return s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketOrders).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			o := new(Order)
			if err := json.Unmarshal(v, o); err != nil {
				return fmt.Errorf("commerce: corrupt order %q: %w", k, err)
			}
			if o.Status == OrderCancelled || len(o.Lines) == 0 {
				continue
			}
			if !fn(o.Event()) {
				return nil
			}
		}
		return nil
	})
}

// putOrder stores o inside tx (a status change by fulfillment, too).
func putOrder(tx kvTx, o *Order) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketOrders).Put([]byte(o.ID), b)
}

func userOrderKey(userID string, placed time.Time, id string) []byte {
	k := make([]byte, 0, len(userID)+len(id)+10)
	k = append(k, userID...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(placed.UnixNano()))
	return append(k, id...)
}

// DeclineError is a confirm whose charge was declined; the stock went
// back and the session waits for another card. It wraps ErrDeclined.
type DeclineError struct {
	CheckoutID string
	Code       string // "card_declined", "insufficient_funds"
}

func (e *DeclineError) Error() string {
	return fmt.Sprintf("commerce: payment declined (%s) for checkout %q; the reserved stock was released, give another card", e.Code, e.CheckoutID)
}
func (e *DeclineError) Unwrap() error { return ErrDeclined }

// Confirm places the order of session id: see the comment at the top of
// order.go. key is required. It returns the order, or a refusal:
// ErrWrongStep, *ShortError (ErrOutOfStock, naming the variant),
// *DeclineError (ErrDeclined), ErrIdemReused, ErrNoSession, ErrNotYours;
// ErrPaymentRetry when the provider did not answer (the stock stays
// reserved until a retry or Recover finishes the confirm).
func (c *Checkout) Confirm(ctx context.Context, userID, id, key string) (*Order, error) {
	if key == "" {
		return nil, invalid("Idempotency-Key", "is required to confirm")
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	fp := fingerprint("confirm", id, nil)
	now := c.opts.Now().UTC()
	var replay *idemRecord
	var sess *Session
	err := c.st.txn(func(tx kvTx) (error, error) {
		replay, sess = nil, nil
		rec, err := getIdem(tx, userID, key)
		if err != nil {
			return nil, err
		}
		if rec != nil {
			if rec.Fingerprint != fp {
				return fmt.Errorf("%w: %q", ErrIdemReused, key), nil
			}
			replay = rec
			return nil, nil
		}
		s, refusal, err := ownSession(tx, userID, id)
		if refusal != nil || err != nil {
			return refusal, err
		}
		switch s.Status {
		case StepConfirming: // resumed after a crash, a timeout or by a racing confirm
			sess = s
			return nil, nil
		case StepPlaced:
			return fmt.Errorf("%w: checkout %q is already placed as order %q", ErrWrongStep, id, s.OrderID), nil
		case StepConfirm:
		default:
			return fmt.Errorf("%w: checkout %q waits for the %s step before confirm", ErrWrongStep, id, s.Status), nil
		}
		refusal, err = c.reserve(tx, s, key, now)
		if refusal != nil || err != nil {
			return refusal, err
		}
		sess = s
		return nil, putSession(tx, s)
	})
	if err != nil {
		return nil, err
	}
	if replay != nil {
		return c.replayConfirm(userID, id, replay)
	}
	return c.finish(ctx, sess)
}

// reserve is part 1 of Confirm inside tx: route, give back the cart's
// soft hold, hard-reserve the routed lines under a new order id and
// mark s confirming (the caller stores it).
func (c *Checkout) reserve(tx kvTx, s *Session, key string, now time.Time) (error, error) {
	hold, err := getResv(tx, CartHoldPrefix+s.UserID)
	if err != nil {
		return nil, err
	}
	if hold != nil && hold.State != Soft {
		hold = nil
	}
	// The cart's own hold counts as free for its checkout.
	given := map[string]map[string]int{}
	if hold != nil {
		for _, l := range hold.Lines {
			if given[l.VariantID] == nil {
				given[l.VariantID] = map[string]int{}
			}
			given[l.VariantID][l.WarehouseID] += l.Quantity
		}
	}
	wants := make([]Want, len(s.Lines))
	for i, l := range s.Lines {
		wants[i] = Want{VariantID: l.VariantID, ProductID: l.ProductID, Quantity: l.Quantity}
	}
	var rerr error
	routed, refusal := c.ws.Route(Point{s.Address.Lat, s.Address.Lon}, wants, func(v string) map[string]int {
		m, err := variantStockTx(tx, v)
		if err != nil && rerr == nil {
			rerr = err
		}
		for w, n := range given[v] {
			m[w] += n
		}
		return m
	})
	if rerr != nil {
		return nil, rerr
	}
	if refusal != nil {
		if !errors.Is(refusal, ErrOutOfStock) {
			return nil, refusal
		}
		return refusal, nil
	}
	lines, err := normalize(routed)
	if err != nil {
		return nil, err
	}
	s.Attempt++
	orderID := "ord_" + strings.TrimPrefix(s.ID, "chk_") + "_" + strconv.Itoa(s.Attempt)
	if r, err := getResv(tx, orderID); err != nil || r != nil {
		return nil, cmpOr(err, fmt.Errorf("commerce: reservation %q exists before its confirm", orderID))
	}
	adjs := []adj{{lines, 1}}
	if hold != nil {
		adjs = []adj{{hold.Lines, -1}, {lines, 1}}
	}
	if _, refusal, err := move(tx, adjs...); refusal != nil || err != nil {
		// Route read the same stock, so a refusal here is a bug in it;
		// refuse all the same.
		return refusal, err
	}
	if hold != nil {
		if err := tx.Bucket(bucketExpiry).Delete(expiryIndexKey(hold.Expires, CartHoldPrefix+s.UserID)); err != nil {
			return nil, err
		}
		hold.State, hold.Expires = Released, 0
		if err := putResv(tx, CartHoldPrefix+s.UserID, hold); err != nil {
			return nil, err
		}
	}
	if err := putResv(tx, orderID, &reservation{State: Hard, Lines: lines}); err != nil {
		return nil, err
	}
	s.Status = StepConfirming
	s.Pending = &Pending{OrderID: orderID, Lines: lines, Since: now, Key: key}
	s.UpdatedAt = now
	return nil, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// replayConfirm answers a confirm retried with its key.
func (c *Checkout) replayConfirm(userID, id string, rec *idemRecord) (*Order, error) {
	if rec.Declined != "" {
		return nil, &DeclineError{CheckoutID: id, Code: rec.Declined}
	}
	return c.Order(userID, rec.OrderID)
}

// finish is parts 2 and 3 of Confirm for a confirming session.
func (c *Checkout) finish(ctx context.Context, s *Session) (*Order, error) {
	p := s.Pending
	if p == nil || s.Payment == nil {
		return nil, fmt.Errorf("commerce: checkout %q is confirming without a pending order or a card", s.ID)
	}
	total := s.Total()
	ch, cerr := c.pay.Charge(ctx, p.OrderID, total, *s.Payment)
	approved := cerr == nil
	if cerr != nil && !errors.Is(cerr, ErrDeclined) {
		return nil, fmt.Errorf("%w: %v", ErrPaymentRetry, cerr)
	}
	now := c.opts.Now().UTC()
	var out *Order
	var declined string
	err := c.st.txn(func(tx kvTx) (error, error) {
		out, declined = nil, ""
		cur, err := getSession(tx, s.ID)
		if err != nil {
			return nil, err
		}
		if cur == nil || cur.Status != StepConfirming || cur.Pending == nil || cur.Pending.OrderID != p.OrderID {
			// A racing confirm finished it first.
			o, err := getOrder(tx, p.OrderID)
			if err != nil || o != nil {
				out = o
				return nil, err
			}
			if cur != nil && cur.Declined != "" {
				declined = cur.Declined
				return nil, nil
			}
			return fmt.Errorf("%w: checkout %q moved on while confirming", ErrWrongStep, s.ID), nil
		}
		fp := fingerprint("confirm", s.ID, nil)
		if !approved {
			if _, refusal, err := transitionTx(tx, p.OrderID, []ReservationState{Hard}, Cancelled, false); refusal != nil || err != nil {
				return nil, cmpOr(err, refusal)
			}
			if cart, err := c.st.getCart(tx, cur.UserID); err != nil {
				return nil, err
			} else if _, _, err := c.st.holdCart(tx, cur.UserID, cart); err != nil { // hold the cart again
				return nil, err
			}
			cur.Status, cur.Pending, cur.Declined, cur.UpdatedAt = StepPayment, nil, cmpStr(ch.DeclineCode, "card_declined"), now
			declined = cur.Declined
			if err := putSession(tx, cur); err != nil {
				return nil, err
			}
			return nil, putIdem(tx, cur.UserID, p.Key, &idemRecord{Fingerprint: fp, Declined: declined})
		}
		if _, refusal, err := transitionTx(tx, p.OrderID, []ReservationState{Hard}, Deducted, true); refusal != nil || err != nil {
			return nil, cmpOr(err, refusal)
		}
		o := &Order{ID: p.OrderID, UserID: cur.UserID, CheckoutID: cur.ID, Status: OrderPlaced, PlacedAt: now,
			Lines: cur.Lines, Routed: p.Lines, Subtotal: cur.Subtotal, Shipping: *cur.Shipping, Total: total,
			Address: *cur.Address, ChargeID: ch.ID, Last4: ch.Last4}
		if err := putOrder(tx, o); err != nil {
			return nil, err
		}
		if err := tx.Bucket(bucketUserOrders).Put(userOrderKey(o.UserID, o.PlacedAt, o.ID), nil); err != nil {
			return nil, err
		}
		ev, err := json.Marshal(o.Event())
		if err != nil {
			return nil, err
		}
		if err := enqueue(tx, TopicOrders, []byte(o.ID), ev); err != nil {
			return nil, err
		}
		if err := c.takeFromCart(tx, o); err != nil {
			return nil, err
		}
		cur.Status, cur.Pending, cur.OrderID, cur.UpdatedAt = StepPlaced, nil, o.ID, now
		if err := putSession(tx, cur); err != nil {
			return nil, err
		}
		out = o
		return nil, putIdem(tx, cur.UserID, p.Key, &idemRecord{Fingerprint: fp, OrderID: o.ID})
	})
	if err != nil {
		return nil, err
	}
	if declined != "" {
		return nil, &DeclineError{CheckoutID: s.ID, Code: declined}
	}
	return out, nil
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// takeFromCart lowers the cart's quantities by the ordered ones (lines
// added since stay) and writes the cart as a cart write does: stored,
// published on the carts topic and re-held.
func (c *Checkout) takeFromCart(tx kvTx, o *Order) error {
	cart, err := c.st.getCart(tx, o.UserID)
	if err != nil {
		return err
	}
	changed := false
	for _, l := range o.Lines {
		q := cart.Quantity(l.VariantID)
		if q == 0 {
			continue
		}
		changed = true
		if err := cart.SetQuantity(l.VariantID, max(q-l.Quantity, 0)); err != nil {
			return err
		}
	}
	if !changed {
		return nil
	}
	_, err = c.st.writeCart(tx, o.UserID, cart)
	return err
}

// Recover finishes every confirm left "confirming" for longer than
// olderThan (a crash or a provider outage between the reservation and
// the charge's outcome): it charges with the same key, so the provider
// answers a charge it already made, and places or declines the order.
// It returns how many it finished and the first error.
func (c *Checkout) Recover(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := c.opts.Now().Add(-olderThan)
	var stuck []*Session
	err := c.st.db.view(func(tx kvTx) error {
		return tx.Bucket(bucketCheckout).ForEach(func(k, v []byte) error {
			if !bytes.Contains(v, []byte(`"status":"confirming"`)) {
				return nil
			}
			s := new(Session)
			if err := json.Unmarshal(v, s); err != nil {
				return fmt.Errorf("commerce: corrupt checkout session %q: %w", k, err)
			}
			if s.Status == StepConfirming && s.Pending != nil && s.Pending.Since.Before(cutoff) {
				stuck = append(stuck, s)
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	n := 0
	var first error
	for _, s := range stuck {
		if _, err := c.finish(ctx, s); err != nil && !errors.Is(err, ErrDeclined) {
			first = cmpOr(first, fmt.Errorf("commerce: recovering checkout %q: %w", s.ID, err))
			continue
		}
		n++
	}
	return n, first
}

// Order returns order id of userID.
func (c *Checkout) Order(userID, id string) (*Order, error) {
	var out *Order
	err := c.st.db.view(func(tx kvTx) error {
		o, err := getOrder(tx, id)
		switch {
		case err != nil:
			return err
		case o == nil:
			return fmt.Errorf("%w: %q", ErrNoOrder, id)
		case o.UserID != userID:
			return fmt.Errorf("%w: order %q", ErrNotYours, id)
		}
		out = o
		return nil
	})
	if errors.Is(err, ErrClosed) {
		return nil, ErrClosed
	}
	return out, err
}

// ErrNoOrder is an order id that does not exist.
var ErrNoOrder = errors.New("commerce: no such order")

// Orders returns the orders of userID, newest first, at most limit.
func (c *Checkout) Orders(userID string, limit int) ([]*Order, error) {
	var out []*Order
	err := c.st.db.view(func(tx kvTx) error {
		uo := tx.Bucket(bucketUserOrders)
		if uo == nil {
			return nil
		}
		prefix := append([]byte(userID), 0)
		var ids []string
		cur := uo.Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			if len(k) >= len(prefix)+8 {
				ids = append(ids, string(k[len(prefix)+8:]))
			}
		}
		slices.Reverse(ids)
		if limit > 0 && len(ids) > limit {
			ids = ids[:limit]
		}
		for _, id := range ids {
			o, err := getOrder(tx, id)
			if err != nil {
				return err
			}
			if o != nil {
				out = append(out, o)
			}
		}
		return nil
	})
	if errors.Is(err, ErrClosed) {
		return nil, ErrClosed
	}
	return out, err
}
