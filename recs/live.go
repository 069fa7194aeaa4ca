package recs

import (
	"cmp"
	"slices"
	"sync"

	"github.com/aisle/aisle/catalog"
)

// Fresh co-purchases between batch builds (issue 6, "Freshness"). Live
// counts the pairs of products in the orders seen on the orders topic
// since the snapshot was built, and Fresh serves a snapshot's lists with
// those counts layered on: a product that starts selling with another
// today gets that partner in "also bought" and a bundle in "bought
// together" without waiting for the next build.

// LiveOptions bound a Live. The zero value of a field means its default.
type LiveOptions struct {
	// MinCount is the fewest live co-purchases that show a pair; default 3.
	MinCount int
	// MaxPartners bounds the partners counted per product; when full, a
	// new partner replaces the least counted one. Default 64.
	MaxPartners int
	// MaxOrders bounds the order ids remembered to drop redeliveries;
	// default 100,000.
	MaxOrders int
	// MaxBasket caps the products of one order counted, as Options does;
	// default 50.
	MaxBasket int
}

func (o *LiveOptions) ensureDefaults() {
	if o.MinCount <= 0 {
		o.MinCount = 3
	}
	if o.MaxPartners <= 0 {
		o.MaxPartners = 64
	}
	if o.MaxOrders <= 0 {
		o.MaxOrders = 100_000
	}
	if o.MaxBasket <= 0 {
		o.MaxBasket = 50
	}
}

// Live counts co-purchases of live orders. Safe for concurrent use.
type Live struct {
	opts     LiveOptions
	mu       sync.RWMutex
	partners map[string][]livePair // product -> partners, unsorted
	seen     seenOrders
}

type livePair struct {
	id    string
	count int32
}

// NewLive returns an empty Live.
func NewLive(opts LiveOptions) *Live {
	opts.ensureDefaults()
	return &Live{opts: opts, partners: map[string][]livePair{}, seen: newSeenOrders(opts.MaxOrders)}
}

// Observe counts the pairs of products of e, once per order id; it
// reports whether e was counted.
func (l *Live) Observe(e catalog.OrderEvent) bool {
	if e.OrderID == "" {
		return false
	}
	items := make([]string, 0, min(len(e.Lines), l.opts.MaxBasket))
	for _, ln := range e.Lines {
		if ln.ProductID != "" && !slices.Contains(items, ln.ProductID) && len(items) < l.opts.MaxBasket {
			items = append(items, ln.ProductID)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.seen.add(e.OrderID, items) {
		return false
	}
	l.count(items)
	return true
}

// count adds the pairs of items. Called with l.mu held.
func (l *Live) count(items []string) {
	for _, a := range items {
		for _, b := range items {
			if a != b {
				l.add(a, b)
			}
		}
	}
}

// Carry counts into dst, a new Live, the orders l remembers that folded
// does not name, in the order l saw them; those folded count as seen in
// dst (a redelivery or a replay is not counted again). It is the live
// half of a batch build that folds live orders in: build the new
// recommender over the new lists and an empty dst, then, with the orders
// stopped, Carry and serve it, and each order counts once, by the batch
// or live. The orders l has forgotten (past MaxOrders) are not carried.
func (l *Live) Carry(dst *Live, folded func(orderID string) bool) {
	if dst == l {
		panic("recs: Live.Carry into itself")
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	dst.mu.Lock()
	defer dst.mu.Unlock()
	for i := range l.seen.ring {
		o := l.seen.ring[(l.seen.next+i)%len(l.seen.ring)]
		if dst.seen.add(o.id, o.items) && !folded(o.id) {
			dst.count(o.items)
		}
	}
}

// Orders returns the number of orders l remembers.
func (l *Live) Orders() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.seen.ring)
}

func (l *Live) add(a, b string) {
	ps := l.partners[a]
	least := -1
	for i := range ps {
		if ps[i].id == b {
			ps[i].count++
			return
		}
		if least < 0 || ps[i].count < ps[least].count {
			least = i
		}
	}
	if len(ps) < l.opts.MaxPartners {
		l.partners[a] = append(ps, livePair{b, 1})
		return
	}
	ps[least] = livePair{b, 1} // the least counted makes room
}

// Count returns the live co-purchases of a and b.
func (l *Live) Count(a, b string) int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, p := range l.partners[a] {
		if p.id == b {
			return int(p.count)
		}
	}
	return 0
}

// top appends the partners of id with at least MinCount live
// co-purchases, most first.
func (l *Live) top(dst []livePair, id string) []livePair {
	l.mu.RLock()
	for _, p := range l.partners[id] {
		if int(p.count) >= l.opts.MinCount {
			dst = append(dst, p)
		}
	}
	l.mu.RUnlock()
	slices.SortFunc(dst, func(a, b livePair) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return dst
}

// seenOrders is a bounded set of order ids: past its size the oldest id
// is forgotten, so a copy of an order redelivered after that many newer
// ones counts again.
type seenOrders struct {
	ids  map[string]struct{}
	ring []seenOrder // in arrival order from ring[next]
	next int
	max  int
}

// seenOrder is an order remembered: its id and the products counted.
type seenOrder struct {
	id    string
	items []string
}

func newSeenOrders(n int) seenOrders {
	return seenOrders{ids: map[string]struct{}{}, max: max(n, 1)}
}

// add reports whether id is new, and remembers it with its items.
func (s *seenOrders) add(id string, items []string) bool {
	if _, dup := s.ids[id]; dup {
		return false
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, seenOrder{id, items})
	} else {
		delete(s.ids, s.ring[s.next].id)
		s.ring[s.next] = seenOrder{id, items}
		s.next = (s.next + 1) % len(s.ring)
	}
	s.ids[id] = struct{}{}
	return true
}

// Fresh serves a snapshot's lists with the live co-purchases layered on.
// Lists may be nil (no snapshot yet). Safe for concurrent use.
type Fresh struct {
	Lists *Lists
	Live  *Live
}

// AlsoBought answers the snapshot's also-bought list of id, each item's
// Count raised by its live co-purchases, followed, up to limit, by
// partners only live orders show (MinCount or more, most first), with
// Score 0: the snapshot's order stays, and a partner that starts selling
// today fills the places the snapshot leaves.
func (f Fresh) AlsoBought(dst []Item, id string, limit int, ps Products) []Item {
	start := len(dst)
	if f.Lists != nil {
		dst = f.Lists.AlsoBought(dst, id, limit, ps)
	}
	if f.Live == nil {
		return dst
	}
	for i := start; i < len(dst); i++ {
		dst[i].Count += f.Live.Count(id, dst[i].Product.ID)
	}
	for _, p := range f.Live.top(nil, id) {
		if len(dst)-start >= limit {
			break
		}
		if slices.ContainsFunc(dst[start:], func(it Item) bool { return it.Product.ID == p.id }) {
			continue
		}
		q, ok := ps.Product(p.id)
		if !ok || q == nil || !q.InStock() {
			continue
		}
		dst = append(dst, Item{Product: q, Count: int(p.count)})
	}
	return dst
}

// BoughtTogether answers the snapshot's bundles of id; when it has none,
// the pair of id and its most bought live partner (MinCount or more
// orders), so a bundle that starts selling today shows up.
func (f Fresh) BoughtTogether(dst []Bundle, id string, limit int, ps Products) []Bundle {
	start := len(dst)
	if f.Lists != nil {
		dst = f.Lists.BoughtTogether(dst, id, limit, ps)
	}
	if len(dst) > start || f.Live == nil || limit <= 0 {
		return dst
	}
	anchor, ok := ps.Product(id)
	if !ok || anchor == nil || !anchor.InStock() {
		return dst
	}
	for _, p := range f.Live.top(nil, id) {
		q, ok := ps.Product(p.id)
		if !ok || q == nil || !q.InStock() {
			continue
		}
		b := Bundle{Products: []*catalog.Product{anchor, q}, Count: int(p.count)}
		b.Price = sumPrice(b.Products)
		return append(dst, b)
	}
	return dst
}
