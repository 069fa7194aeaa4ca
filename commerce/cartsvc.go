package commerce

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// The cart service's writes. Each runs in one transaction, fsynced
// before it returns: the cart, its record on the carts topic in the
// outbox (keyed by user id, the value Cart.Encode), and the cart's soft
// stock hold, so a crash leaves all three or none. Remote carts read from
// the carts topic are merged with MergeRemote, which publishes nothing.

// TopicCarts is the topic every cart write is published to, keyed by
// user id (the ingest package names it too; commerce cannot import it).
const TopicCarts = "carts"

// CartHoldPrefix prefixes the user id in the id of a cart's soft
// reservation.
const CartHoldPrefix = "cart:"

// ErrCartLimit is returned when a write would pass a CartLimits bound.
var ErrCartLimit = errors.New("commerce: cart limit")

// ErrCartLines is the ErrCartLimit of a cart past its MaxLines.
var ErrCartLines = fmt.Errorf("%w: too many lines", ErrCartLimit)

// CartLimits bound a cart; zero fields take the defaults.
type CartLimits struct {
	MaxQuantity int // per line; default 99
	MaxLines    int // per cart; default 100
}

func (l CartLimits) withDefaults() CartLimits {
	if l.MaxQuantity <= 0 {
		l.MaxQuantity = 99
	}
	if l.MaxLines <= 0 {
		l.MaxLines = 100
	}
	return l
}

// Check returns ErrCartLimit naming the bound c passes, or nil.
func (l CartLimits) Check(c *Cart) error {
	l = l.withDefaults()
	if c.Len() > l.MaxLines {
		return fmt.Errorf("%w: %d lines, at most %d", ErrCartLines, c.Len(), l.MaxLines)
	}
	for _, it := range c.Items() {
		if it.Quantity > l.MaxQuantity {
			return fmt.Errorf("%w: %d of %q, at most %d a line", ErrCartLimit, it.Quantity, it.VariantID, l.MaxQuantity)
		}
	}
	return nil
}

// Hold is the stock state of one cart line.
type Hold int

const (
	// Untracked: the store keeps no stock for the variant; the caller
	// decides from its own data (the catalog).
	Untracked Hold = iota
	// Held: the line's units are soft-reserved in one warehouse.
	Held
	// Short: no warehouse has the units free; the line stays in the cart.
	Short
)

func (h Hold) String() string {
	switch h {
	case Held:
		return "held"
	case Short:
		return "short"
	}
	return "untracked"
}

// CartState is a cart with the stock state of each line.
type CartState struct {
	Cart  *Cart
	Holds map[string]Hold // by variant id
	// Cells are the stock cells the write changed (for inventory events).
	Cells []Stock
}

// UpdateCart runs fn on the cart of userID and, in the same transaction,
// stores the cart, enqueues it on TopicCarts and re-holds its stock (see
// holdCart); it returns once that is fsynced. An error from fn, or a
// cart past limits after fn, stores nothing and is returned. fn may run
// more than once with group commit, each time on a freshly loaded cart.
func (s *Store) UpdateCart(userID string, limits CartLimits, fn func(*Cart) error) (*CartState, error) {
	if userID == "" {
		return nil, errors.New("commerce: empty user id")
	}
	var out *CartState
	err := s.txn(func(tx kvTx) (error, error) {
		c, err := s.getCart(tx, userID)
		if err != nil {
			return nil, err
		}
		if err := fn(c); err != nil {
			return err, nil
		}
		if err := limits.Check(c); err != nil {
			return err, nil
		}
		if out, err = s.writeCart(tx, userID, c); err != nil {
			return nil, err
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// writeCart stores, publishes and holds c as userID's cart inside tx.
func (s *Store) writeCart(tx kvTx, userID string, c *Cart) (*CartState, error) {
	enc := c.Encode()
	if err := tx.Bucket(bucketCarts).Put([]byte(userID), enc); err != nil {
		return nil, err
	}
	if err := enqueue(tx, TopicCarts, []byte(userID), enc); err != nil {
		return nil, err
	}
	holds, cells, err := s.holdCart(tx, userID, c)
	if err != nil {
		return nil, err
	}
	return &CartState{Cart: c, Holds: holds, Cells: cells}, nil
}

// MergeGuestCart folds the guest cart into the user's cart at sign-in
// (Cart.Absorb), deletes the guest cart and gives back its hold, and
// stores, publishes and holds the user's cart, in one transaction. A
// retried sign-in changes nothing more.
func (s *Store) MergeGuestCart(guestID, userID string, limits CartLimits) (*CartState, error) {
	if guestID == "" || userID == "" || guestID == userID {
		return nil, fmt.Errorf("commerce: merging guest %q into user %q", guestID, userID)
	}
	var out *CartState
	err := s.txn(func(tx kvTx) (error, error) {
		guest, err := s.getCart(tx, guestID)
		if err != nil {
			return nil, err
		}
		user, err := s.getCart(tx, userID)
		if err != nil {
			return nil, err
		}
		if err := user.Absorb(guest); err != nil {
			return err, nil
		}
		if err := limits.Check(user); err != nil {
			return err, nil
		}
		if guest.Len() > 0 {
			if err := tx.Bucket(bucketCarts).Delete([]byte(guestID)); err != nil {
				return nil, err
			}
			if _, _, err := s.holdCart(tx, guestID, NewCart(s.opts.Replica)); err != nil {
				return nil, err
			}
		}
		out, err = s.writeCart(tx, userID, user)
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MergeRemote joins a cart another replica published (Cart.Encode) into
// userID's stored cart. It writes only when the merge changes the cart,
// and publishes nothing, so replicas do not echo each other; it holds no
// stock (the replica that took the write holds it). It reports whether
// the stored cart changed. A corrupt value is an ErrCorrupt error.
func (s *Store) MergeRemote(userID string, encoded []byte) (bool, error) {
	if userID == "" {
		return false, fmt.Errorf("%w: empty user id", ErrCorrupt)
	}
	remote, err := DecodeCart(encoded, s.opts.Replica)
	if err != nil {
		return false, fmt.Errorf("remote cart of %q: %w", userID, err)
	}
	// Most records are this replica's own writes or already merged: a
	// read answers those without a write transaction.
	same := false
	err = s.db.view(func(tx kvTx) error {
		c, err := s.getCart(tx, userID)
		if err != nil {
			return err
		}
		before := c.Encode()
		c.Merge(remote)
		same = bytes.Equal(before, c.Encode())
		return nil
	})
	if err != nil || same {
		if errors.Is(err, ErrClosed) {
			err = ErrClosed
		}
		return false, err
	}
	changed := false
	err = s.txn(func(tx kvTx) (error, error) {
		c, err := s.getCart(tx, userID)
		if err != nil {
			return nil, err
		}
		before := c.Encode()
		c.Merge(remote)
		after := c.Encode()
		if changed = !bytes.Equal(before, after); !changed {
			return nil, nil
		}
		return nil, tx.Bucket(bucketCarts).Put([]byte(userID), after)
	})
	return changed, err
}

// CartState returns the cart of userID with the stock state of each
// line: Held while the cart's soft reservation covers it, otherwise Short
// or Untracked by the stock free now.
func (s *Store) CartState(userID string) (*CartState, error) {
	var out *CartState
	err := s.db.view(func(tx kvTx) error {
		c, err := s.getCart(tx, userID)
		if err != nil {
			return err
		}
		r, err := getResv(tx, CartHoldPrefix+userID)
		if err != nil {
			return err
		}
		held := map[string]int{}
		given := map[string]map[string]int{} // variant -> warehouse -> units
		if r != nil && r.State == Soft {
			for _, l := range r.Lines {
				held[l.VariantID] += l.Quantity
				if given[l.VariantID] == nil {
					given[l.VariantID] = map[string]int{}
				}
				given[l.VariantID][l.WarehouseID] += l.Quantity
			}
		}
		out = &CartState{Cart: c, Holds: make(map[string]Hold, c.Len())}
		for _, it := range c.Items() {
			if held[it.VariantID] >= it.Quantity {
				out.Holds[it.VariantID] = Held
				continue
			}
			// A line holding part of its units (the hoarding bounds)
			// counts its own hold as free, as holdCart does.
			_, free, _, cells := bestCell(tx, it.VariantID, given[it.VariantID])
			switch {
			case cells == 0:
				out.Holds[it.VariantID] = Untracked
			case free >= it.Quantity:
				out.Holds[it.VariantID] = Held // free now, though not held
			default:
				out.Holds[it.VariantID] = Short
			}
		}
		return nil
	})
	if errors.Is(err, ErrClosed) {
		return nil, ErrClosed
	}
	return out, err
}

// bestCell returns the warehouse of variant with the most units free,
// counting as free the units given[warehouse] this cart holds already,
// the units free there, its units in all (available and reserved), and
// how many cells the variant has. Ties go to the first warehouse id in
// byte order.
func bestCell(tx kvTx, variant string, given map[string]int) (warehouse string, free, units, cells int) {
	prefix := []byte(variant + "\x00")
	c := tx.Bucket(bucketStock).Cursor()
	free = -1
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		st, err := decodeStock(k, v)
		if err != nil {
			continue // a corrupt cell holds nothing; the inventory code reports it
		}
		cells++
		if f := st.Available + given[st.WarehouseID]; f > free {
			warehouse, free, units = st.WarehouseID, f, st.Available+st.Reserved
		}
	}
	return warehouse, max(free, 0), units, cells
}

// holdCart replaces the soft reservation CartHoldPrefix+userID with one
// holding every line of c that some warehouse can hold whole, each in the
// warehouse with the most units free (counting the units the old hold
// gives back), expiring after Options.SoftTTL. A line no warehouse can
// hold is Short and holds nothing; the cart keeps it. A hard reservation
// under the id (a checkout took the hold over) is left alone and every
// line is reported by the stock free. It returns the state of every line
// and the cells it changed.
func (s *Store) holdCart(tx kvTx, userID string, c *Cart) (map[string]Hold, []Stock, error) {
	id := CartHoldPrefix + userID
	if strings.IndexByte(userID, 0) >= 0 {
		return nil, nil, fmt.Errorf("commerce: user id %q holds a NUL byte", userID)
	}
	r, err := getResv(tx, id)
	if err != nil {
		return nil, nil, err
	}
	hard := r != nil && r.State == Hard
	var old []Line
	if r != nil && r.State == Soft {
		old = r.Lines
	}
	givenBack := map[string]map[string]int{} // variant -> warehouse -> units
	for _, l := range old {
		if givenBack[l.VariantID] == nil {
			givenBack[l.VariantID] = map[string]int{}
		}
		givenBack[l.VariantID][l.WarehouseID] += l.Quantity
	}
	items := c.Items()
	holds := make(map[string]Hold, len(items))
	var lines []Line
	cartHeld := 0
	for _, it := range items {
		w, free, units, cells := bestCell(tx, it.VariantID, givenBack[it.VariantID])
		// Against hoarding, a line holds at most MaxHoldPerLine units, the
		// cart at most MaxHoldPerCart, and no hold takes a cell below
		// SoftHoldKeep of its units (softHoldable); a line holding less
		// (or nothing) is still Held while the stock covers it whole, and
		// its checkout reserves the rest at confirm. It is Short only when
		// the stock cannot cover it.
		held := s.softHoldable(it.Quantity, cartHeld, free, units)
		switch {
		case cells == 0:
			holds[it.VariantID] = Untracked
		case free < it.Quantity:
			holds[it.VariantID] = Short
		case hard:
			holds[it.VariantID] = Held
		default:
			holds[it.VariantID] = Held
			if held > 0 {
				lines = append(lines, Line{VariantID: it.VariantID, WarehouseID: w, Quantity: held})
				cartHeld += held
			}
		}
	}
	if hard || (len(old) == 0 && len(lines) == 0) {
		return holds, nil, nil
	}
	var adjs []adj
	if len(old) > 0 {
		adjs = append(adjs, adj{old, -1})
	}
	if len(lines) > 0 {
		adjs = append(adjs, adj{lines, 1})
	}
	cells, refusal, err := move(tx, adjs...)
	if err != nil {
		return nil, nil, err
	}
	if refusal != nil { // cannot happen: every line was checked above
		return nil, nil, fmt.Errorf("commerce: holding the cart of %q: %w", userID, refusal)
	}
	exp := tx.Bucket(bucketExpiry)
	if len(old) > 0 {
		if err := exp.Delete(expiryIndexKey(r.Expires, id)); err != nil {
			return nil, nil, err
		}
	}
	if len(lines) == 0 {
		return holds, cells, putResv(tx, id, &reservation{State: Released, Lines: old})
	}
	expires := s.opts.Now().Add(s.opts.SoftTTL).UnixNano()
	if err := exp.Put(expiryIndexKey(expires, id), nil); err != nil {
		return nil, nil, err
	}
	return holds, cells, putResv(tx, id, &reservation{State: Soft, Lines: lines, Expires: expires})
}

// softHoldable returns how many of a line's want units a cart may
// soft-hold, the cart holding cartHeld units already, from a cell with
// free units free (counting the cart's own hold) of units in all: up to
// MaxHoldPerLine, and those whole or nothing within MaxHoldPerCart and
// SoftHoldKeep. Whole, because a line held in part by those bounds would
// keep its units held after its checkout is refused for the rest.
func (s *Store) softHoldable(want, cartHeld, free, units int) int {
	held := want
	if m := s.opts.MaxHoldPerLine; m > 0 {
		held = min(held, m)
	}
	if m := s.opts.MaxHoldPerCart; m > 0 && cartHeld+held > m {
		return 0
	}
	if k := s.opts.SoftHoldKeep; k > 0 && held > free-int(math.Ceil(k*float64(units))) {
		return 0
	}
	return held
}

// consumedKey is the meta key of the next offset to read of one partition
// of a topic a replica consumes.
func consumedKey(topic string, partition int32) []byte {
	return binary.BigEndian.AppendUint32([]byte("consumed\x00"+topic+"\x00"), uint32(partition))
}

// ConsumedOffsets returns the next offset to read of each of the first
// partitions partitions of topic, as MarkConsumed recorded it; -1 for a
// partition never read.
func (s *Store) ConsumedOffsets(topic string, partitions int32) (map[int32]int64, error) {
	out := make(map[int32]int64, partitions)
	err := s.db.view(func(tx kvTx) error {
		meta := tx.Bucket(bucketMeta)
		for p := range partitions {
			out[p] = -1
			if v := meta.Get(consumedKey(topic, p)); len(v) == 8 {
				out[p] = int64(binary.BigEndian.Uint64(v))
			}
		}
		return nil
	})
	if errors.Is(err, ErrClosed) {
		return nil, ErrClosed
	}
	return out, err
}

// MarkConsumed records the next offsets to read of topic's partitions,
// so a restarted consumer resumes there; an offset never moves back. A
// consumer marks after it applied the records before next, so a crash
// between the two only redelivers (carts merge idempotently).
func (s *Store) MarkConsumed(topic string, next map[int32]int64) error {
	return s.txn(func(tx kvTx) (error, error) {
		meta := tx.Bucket(bucketMeta)
		for p, off := range next {
			k := consumedKey(topic, p)
			if v := meta.Get(k); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) >= off {
				continue
			}
			if err := meta.Put(k, binary.BigEndian.AppendUint64(nil, uint64(off))); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
}
