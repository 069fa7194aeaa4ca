package commerce

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// CartFormat is the version of the encoded cart.
//
// Changelog:
//
//	1: {"format":1,"clock":{replica:counter},"entries":{variant:[{"r","c","q"}]}}
const CartFormat = 1

// Errors callers branch on.
var (
	ErrQuantity = errors.New("commerce: quantity must be positive")
	ErrVariant  = errors.New("commerce: empty variant id")
	ErrReplica  = errors.New("commerce: empty replica id")
	ErrCorrupt  = errors.New("commerce: corrupt cart")
)

// Dot names one write: the counter-th write made on replica.
type Dot struct {
	Replica string `json:"r"`
	Counter uint64 `json:"c"`
}

// dotValue is one surviving write of an entry and the quantity it set.
type dotValue struct {
	Dot
	Qty int `json:"q"`
}

// Cart is an add-wins observed-remove map from variant id to quantity.
//
// Quantities are multi-value registers: Add and SetQuantity replace every
// dot they observe with one new dot carrying the new quantity. When
// concurrent writes to one variant survive a merge, the cart shows the
// largest of their quantities (two replicas each adding one unit of a
// variant the cart lacked show 1, not 2; a shopper can raise it, but an
// item is never lost).
type Cart struct {
	replica string
	clock   map[string]uint64
	entries map[string][]dotValue // dots sorted by (replica, counter)
}

// Item is one line of a cart as the shopper sees it.
type Item struct {
	VariantID string `json:"variant_id"`
	Quantity  int    `json:"quantity"`
}

// NewCart returns an empty cart whose local writes take dots of replica.
func NewCart(replica string) *Cart {
	return &Cart{replica: replica, clock: map[string]uint64{}, entries: map[string][]dotValue{}}
}

// Replica returns the replica id local writes use.
func (c *Cart) Replica() string { return c.replica }

// SetReplica sets the replica id local writes use (a decoded cart has none).
func (c *Cart) SetReplica(replica string) { c.replica = replica }

// Quantity returns the quantity of variant, 0 when absent.
func (c *Cart) Quantity(variant string) int {
	q := 0
	for _, d := range c.entries[variant] {
		q = max(q, d.Qty)
	}
	return q
}

// Items returns the cart's lines sorted by variant id.
func (c *Cart) Items() []Item {
	items := make([]Item, 0, len(c.entries))
	for _, v := range slices.Sorted(maps.Keys(c.entries)) {
		items = append(items, Item{VariantID: v, Quantity: c.Quantity(v)})
	}
	return items
}

// Len returns the number of lines.
func (c *Cart) Len() int { return len(c.entries) }

// Add adds qty units of variant to what the cart shows (quantities
// accumulate: adding 2 to a line of 3 gives 5). This is the API's
// add-with-quantity; SetQuantity replaces the quantity instead.
func (c *Cart) Add(variant string, qty int) error {
	if qty <= 0 {
		return fmt.Errorf("%w: add %d of %q", ErrQuantity, qty, variant)
	}
	return c.write(variant, c.Quantity(variant)+qty)
}

// SetQuantity sets the quantity of variant; 0 removes it.
func (c *Cart) SetQuantity(variant string, qty int) error {
	if qty < 0 {
		return fmt.Errorf("%w: set %d of %q", ErrQuantity, qty, variant)
	}
	if qty == 0 {
		return c.Remove(variant)
	}
	return c.write(variant, qty)
}

// Remove removes variant, forgetting only the writes this cart has seen:
// a concurrent write on another replica survives the next merge.
func (c *Cart) Remove(variant string) error {
	if variant == "" {
		return ErrVariant
	}
	delete(c.entries, variant)
	return nil
}

func (c *Cart) write(variant string, qty int) error {
	if variant == "" {
		return ErrVariant
	}
	if c.replica == "" {
		return ErrReplica
	}
	c.clock[c.replica]++
	c.entries[variant] = []dotValue{{Dot{c.replica, c.clock[c.replica]}, qty}}
	return nil
}

// Merge joins other into c: a dot survives if both carts hold it, or if
// the cart lacking it has not seen it. Other is not modified.
func (c *Cart) Merge(other *Cart) {
	merged := make(map[string][]dotValue, max(len(c.entries), len(other.entries)))
	for v, mine := range c.entries {
		merged[v] = joinDots(mine, c.clock, other.entries[v], other.clock)
	}
	for v, theirs := range other.entries {
		if _, ok := c.entries[v]; !ok {
			merged[v] = joinDots(nil, c.clock, theirs, other.clock)
		}
	}
	for v, d := range merged {
		if len(d) == 0 {
			delete(merged, v)
		}
	}
	c.entries = merged
	for r, n := range other.clock {
		c.clock[r] = max(c.clock[r], n)
	}
}

// joinDots keeps (a ∩ b) ∪ (a \ seen by cb) ∪ (b \ seen by ca), sorted.
func joinDots(a []dotValue, ca map[string]uint64, b []dotValue, cb map[string]uint64) []dotValue {
	var out []dotValue
	for _, d := range a {
		if d.Counter > cb[d.Replica] || slices.ContainsFunc(b, func(e dotValue) bool { return e.Dot == d.Dot }) {
			out = append(out, d)
		}
	}
	for _, d := range b {
		if d.Counter > ca[d.Replica] && !slices.ContainsFunc(a, func(e dotValue) bool { return e.Dot == d.Dot }) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(x, y dotValue) int {
		return cmp.Or(cmp.Compare(x.Replica, y.Replica), cmp.Compare(x.Counter, y.Counter))
	})
	return out
}

// Absorb folds a guest cart into c at sign-in as local writes of c: each
// guest line raises c's quantity to at least the guest's. Taking the
// larger quantity makes a retried sign-in harmless. Guest and user carts
// have unrelated histories, so their dots must not be merged with Merge.
func (c *Cart) Absorb(guest *Cart) error {
	for _, it := range guest.Items() {
		if it.Quantity > c.Quantity(it.VariantID) {
			if err := c.write(it.VariantID, it.Quantity); err != nil {
				return err
			}
		}
	}
	return nil
}

// Clone returns a deep copy of c.
func (c *Cart) Clone() *Cart {
	d := &Cart{replica: c.replica, clock: maps.Clone(c.clock), entries: make(map[string][]dotValue, len(c.entries))}
	for v, dots := range c.entries {
		d.entries[v] = slices.Clone(dots)
	}
	return d
}

type cartJSON struct {
	Format  int                   `json:"format"`
	Clock   map[string]uint64     `json:"clock"`
	Entries map[string][]dotValue `json:"entries"`
}

// Encode returns the cart's deterministic encoding (JSON with sorted map
// keys and sorted dots; the replica id is not encoded): equal carts
// encode to equal bytes.
func (c *Cart) Encode() []byte {
	b, err := json.Marshal(cartJSON{CartFormat, c.clock, c.entries})
	if err != nil {
		panic(fmt.Sprintf("commerce: encoding cart: %v", err)) // only strings and ints
	}
	return b
}

// DecodeCart decodes and validates an encoded cart; local writes of the
// result take dots of replica.
func DecodeCart(b []byte, replica string) (*Cart, error) {
	var j cartJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if j.Format != CartFormat {
		return nil, fmt.Errorf("%w: format %d, want %d", ErrCorrupt, j.Format, CartFormat)
	}
	c := &Cart{replica: replica, clock: j.Clock, entries: j.Entries}
	if c.clock == nil {
		c.clock = map[string]uint64{}
	}
	if c.entries == nil {
		c.entries = map[string][]dotValue{}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks the invariants Merge relies on: every dot is covered by
// the clock, quantities are positive, dots are sorted and unique, and no
// dot appears under two variants.
func (c *Cart) Validate() error {
	seen := map[Dot]string{}
	for v, dots := range c.entries {
		if v == "" || len(dots) == 0 {
			return fmt.Errorf("%w: variant %q with %d dots", ErrCorrupt, v, len(dots))
		}
		for i, d := range dots {
			switch {
			case d.Replica == "" || d.Counter == 0 || d.Counter > c.clock[d.Replica]:
				return fmt.Errorf("%w: dot %s:%d of %q outside clock %d", ErrCorrupt, d.Replica, d.Counter, v, c.clock[d.Replica])
			case d.Qty <= 0:
				return fmt.Errorf("%w: quantity %d of %q", ErrCorrupt, d.Qty, v)
			case i > 0 && cmp.Or(cmp.Compare(dots[i-1].Replica, d.Replica), cmp.Compare(dots[i-1].Counter, d.Counter)) >= 0:
				return fmt.Errorf("%w: dots of %q not sorted", ErrCorrupt, v)
			}
			if w, dup := seen[d.Dot]; dup {
				return fmt.Errorf("%w: dot %s:%d under %q and %q", ErrCorrupt, d.Replica, d.Counter, w, v)
			}
			seen[d.Dot] = v
		}
	}
	return nil
}
