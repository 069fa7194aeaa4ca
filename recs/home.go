package recs

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aisle/aisle/catalog"
)

// HomeOptions configure a Home. The zero value of a field means its
// default.
type HomeOptions struct {
	// MaxUsers bounds the users whose orders are kept; default 100,000.
	// Beyond it the user whose newest order is oldest is forgotten.
	MaxUsers int
	// MaxOrders bounds the orders kept per user, newest kept; default 20.
	MaxOrders int
	// Decay is the weight of each order relative to the next newer one of
	// the same user: the newest weighs 1, the one before Decay, then
	// Decay², ...; default 0.8.
	Decay float64
	// StapleOrders is the number of a user's orders an item must be in to
	// count as a staple (bought again and again, like milk): a staple is
	// recommended again, every other item the user bought is left out.
	// Default 2.
	StapleOrders int
	// StapleWeight scales a staple's score, the sum of the weights of the
	// orders holding it, against the also-bought scores (per order, the
	// mean over its items of their neighbours' cosines, mostly under 0.3);
	// default 0.5. Staples fill at most half of a personalized row.
	StapleWeight float64
	// PerCategory bounds the items of one category (the last element of
	// the category path) in a row; default 3, negative for no bound.
	PerCategory int
	// Aliases maps a user id to the user whose history it reads, for
	// example a demo account to a seeded history.
	Aliases map[string]string
	// MaxSeenOrders bounds the order ids remembered to drop a redelivered
	// order; default 65,536.
	MaxSeenOrders int
}

// EnsureDefaults returns o with every zero field set to its default.
func (o HomeOptions) EnsureDefaults() HomeOptions {
	if o.MaxUsers == 0 {
		o.MaxUsers = 100_000
	}
	if o.MaxOrders == 0 {
		o.MaxOrders = 20
	}
	if o.Decay == 0 {
		o.Decay = 0.8
	}
	if o.StapleOrders == 0 {
		o.StapleOrders = 2
	}
	if o.StapleWeight == 0 {
		o.StapleWeight = 0.5
	}
	if o.PerCategory == 0 {
		o.PerCategory = 3
	}
	if o.MaxSeenOrders == 0 {
		o.MaxSeenOrders = 1 << 16
	}
	return o
}

// Validate lists every problem with o, or returns nil.
func (o HomeOptions) Validate() error {
	var errs []error
	for _, n := range []struct {
		name string
		v    int
	}{{"MaxUsers", o.MaxUsers}, {"MaxOrders", o.MaxOrders}, {"StapleOrders", o.StapleOrders}, {"MaxSeenOrders", o.MaxSeenOrders}} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("recs: HomeOptions.%s is negative (%d)", n.name, n.v))
		}
	}
	if o.Decay < 0 || o.Decay > 1 || math.IsNaN(o.Decay) {
		errs = append(errs, fmt.Errorf("recs: HomeOptions.Decay is %v; it must be in [0, 1]", o.Decay))
	}
	if o.StapleWeight < 0 || math.IsNaN(o.StapleWeight) || math.IsInf(o.StapleWeight, 0) {
		errs = append(errs, fmt.Errorf("recs: HomeOptions.StapleWeight is %v; it must be finite and not negative", o.StapleWeight))
	}
	for u, a := range o.Aliases {
		if u == "" || a == "" {
			errs = append(errs, fmt.Errorf("recs: HomeOptions.Aliases maps %q to %q; neither may be empty", u, a))
		}
	}
	return errors.Join(errs...)
}

// Home builds the rows of the home page: a personalized row from a user's
// orders and a popular row for everyone. Orders come in through Observe
// (the orders topic, the checkout); the also-bought lists through
// SetLists, hot-swapped like the server's. All methods are safe for
// concurrent use.
type Home struct {
	opts  HomeOptions
	lists atomic.Pointer[Lists]
	// scratch pools *homeScratch for Personalized.
	scratch sync.Pool

	mu       sync.Mutex
	users    map[string]*userOrders
	seen     seenOrders       // order ids observed, bounded
	live     map[string]int32 // product id -> orders observed
	pop      []string         // cached popular product ids, best first
	popStale bool
	popAt    time.Time
}

// userOrders are a user's kept orders, oldest first.
type userOrders struct {
	orders []pastOrder
	newest time.Time
}

type pastOrder struct {
	id    string
	at    time.Time
	items []string // distinct product ids
}

// popCandidates is how many popular products are cached: enough to fill
// a row when many are out of stock.
const popCandidates = 256

// popRefresh bounds how often live orders re-sort the popular products.
const popRefresh = time.Second

// NewHome returns an empty Home.
func NewHome(opts HomeOptions) (*Home, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.EnsureDefaults()
	return &Home{
		opts:     opts,
		users:    map[string]*userOrders{},
		seen:     newSeenOrders(opts.MaxSeenOrders),
		live:     map[string]int32{},
		popStale: true,
	}, nil
}

// SetLists makes l the also-bought lists and base popularity of h,
// replacing earlier ones without a pause.
func (h *Home) SetLists(l *Lists) {
	h.lists.Store(l)
	h.mu.Lock()
	h.popStale = true
	h.popAt = time.Time{}
	h.mu.Unlock()
}

// Observe records a placed order: its products count towards the popular
// row, and, when it names a user, it joins that user's history. An order
// id already observed (a redelivery) is ignored and Observe returns false.
func (h *Home) Observe(e catalog.OrderEvent) bool {
	if e.OrderID == "" || len(e.Lines) == 0 {
		return false
	}
	items := make([]string, 0, len(e.Lines))
	for _, ln := range e.Lines {
		if ln.ProductID != "" && !slices.Contains(items, ln.ProductID) {
			items = append(items, ln.ProductID)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.seen.add(e.OrderID, nil) {
		return false
	}
	for _, id := range items {
		h.live[id]++
	}
	h.popStale = true
	if e.UserID == "" {
		return true
	}
	u := h.users[e.UserID]
	if u == nil {
		if len(h.users) >= h.opts.MaxUsers {
			h.forgetOldestUser()
		}
		u = &userOrders{}
		h.users[e.UserID] = u
	}
	po := pastOrder{id: e.OrderID, at: e.PlacedAt, items: items}
	i, _ := slices.BinarySearchFunc(u.orders, po, func(a, b pastOrder) int { return a.at.Compare(b.at) })
	u.orders = slices.Insert(u.orders, i, po)
	if len(u.orders) > h.opts.MaxOrders {
		u.orders = slices.Delete(u.orders, 0, len(u.orders)-h.opts.MaxOrders)
	}
	if po.at.After(u.newest) {
		u.newest = po.at
	}
	return true
}

// forgetOldestUser drops the user whose newest order is oldest; a linear
// scan, run only when the user cap is reached.
func (h *Home) forgetOldestUser() {
	var (
		oldest string
		at     time.Time
		first  = true
	)
	for id, u := range h.users {
		if first || u.newest.Before(at) {
			oldest, at, first = id, u.newest, false
		}
	}
	delete(h.users, oldest)
}

// Orders returns the number of orders kept for user (after aliasing).
func (h *Home) Orders(user string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if u := h.users[h.alias(user)]; u != nil {
		return len(u.orders)
	}
	return 0
}

func (h *Home) alias(user string) string {
	if a, ok := h.opts.Aliases[user]; ok {
		return a
	}
	return user
}

// homeCand is one candidate of a personalized row.
type homeCand struct {
	item    int32
	score   float32
	because int32   // the bought item contributing most
	best    float32 // its contribution
	staple  bool
}

// homeScratch is homeRank's dense per-item state, kept zeroed between
// calls (only the touched entries are cleared), so a ranking allocates
// nothing once warm.
type homeScratch struct {
	cand       []homeCand // by item, valid where mark is set
	mark       []bool
	bought     []float32 // summed weight of the user's orders holding the item
	times      []int32   // the user's orders holding the item
	touched    []int32
	boughtList []int32
	out        []homeCand
}

func (s *homeScratch) size(n int) {
	if len(s.mark) != n {
		*s = homeScratch{cand: make([]homeCand, n), mark: make([]bool, n), bought: make([]float32, n), times: make([]int32, n)}
	}
}

// homeRank scores every item for a history of orders (item indexes of l,
// newest order first) and returns the candidates, best first: the
// also-bought neighbours of each bought item, weighted by Decay per older
// order, plus the staples (items in at least StapleOrders orders) scored
// by StapleWeight times the weights of their orders. Other items the user
// bought are left out. The result belongs to s, valid until its next use.
func homeRank(l *Lists, hist [][]int32, o *HomeOptions, s *homeScratch) []homeCand {
	s.size(len(l.items))
	s.touched, s.boughtList, s.out = s.touched[:0], s.boughtList[:0], s.out[:0]
	w := float32(1)
	for _, ord := range hist {
		for _, x := range ord {
			if s.times[x] == 0 {
				s.boughtList = append(s.boughtList, x)
			}
			s.bought[x] += w
			s.times[x]++
		}
		w *= float32(o.Decay)
	}
	w = 1
	for _, ord := range hist {
		// An order's neighbours weigh as much as one item's, whatever
		// its size: the mean over its items, so that a large order does
		// not drown the staples.
		ow := w / float32(max(len(ord), 1))
		for _, x := range ord {
			for _, nb := range l.Neighbors(x) {
				y := nb.Item
				if s.times[y] > 0 {
					continue
				}
				sc := ow * nb.Score
				c := &s.cand[y]
				if !s.mark[y] {
					s.mark[y] = true
					s.touched = append(s.touched, y)
					*c = homeCand{item: y, because: x, best: sc}
				} else if sc > c.best {
					c.because, c.best = x, sc
				}
				c.score += sc
			}
		}
		w *= float32(o.Decay)
	}
	for _, y := range s.touched {
		s.out = append(s.out, s.cand[y])
		s.mark[y] = false
	}
	for _, x := range s.boughtList {
		if int(s.times[x]) >= o.StapleOrders {
			s.out = append(s.out, homeCand{item: x, score: float32(o.StapleWeight) * s.bought[x], because: x, staple: true})
		}
		s.bought[x], s.times[x] = 0, 0
	}
	slices.SortFunc(s.out, func(a, b homeCand) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.item, b.item)
	})
	return s.out
}

// Personalized appends to dst up to limit products for user, best first:
// what customers also bought with the user's past purchases (newer orders
// weigh more), and the user's staples again; never another item the user
// already bought, nothing ps does not know or that is out of stock now,
// at most PerCategory of one category, staples at most half of the row
// (rounded up). Item.Because names the past
// purchase behind each product (the product itself for a staple). A user
// with no orders, or no lists yet, gets dst back unchanged.
func (h *Home) Personalized(dst []Item, user string, limit int, ps Products) []Item {
	l := h.lists.Load()
	if l == nil || limit <= 0 {
		return dst
	}
	h.mu.Lock()
	u := h.users[h.alias(user)]
	var orders []pastOrder
	if u != nil {
		orders = slices.Clone(u.orders) // the items slices are never modified
	}
	h.mu.Unlock()
	if len(orders) == 0 {
		return dst
	}
	hist := make([][]int32, 0, len(orders))
	for i := len(orders) - 1; i >= 0; i-- { // newest first
		var ord []int32
		for _, id := range orders[i].items {
			if x, ok := l.byID[id]; ok {
				ord = append(ord, x)
			}
		}
		hist = append(hist, ord)
	}
	sc, _ := h.scratch.Get().(*homeScratch)
	if sc == nil {
		sc = &homeScratch{}
	}
	defer h.scratch.Put(sc)
	cands := homeRank(l, hist, &h.opts, sc)
	perCat := map[string]int{}
	n, staples := 0, 0
	for _, c := range cands {
		if n >= limit {
			break
		}
		if c.staple && staples >= (limit+1)/2 {
			continue
		}
		p, ok := ps.Product(l.items[c.item])
		if !ok || p == nil || !p.InStock() {
			continue
		}
		if h.opts.PerCategory > 0 && len(p.Category) > 0 {
			cat := p.Category[len(p.Category)-1]
			if perCat[cat] >= h.opts.PerCategory {
				continue
			}
			perCat[cat]++
		}
		dst = append(dst, Item{Product: p, Score: float64(c.score), Because: l.items[c.because]})
		n++
		if c.staple {
			staples++
		}
	}
	return dst
}

// Popular appends to dst up to limit products by the number of orders
// holding them, most first: the orders the lists were built from plus
// those observed since. It skips products ps does not know or that are out
// of stock now. Item.Count is the order count.
func (h *Home) Popular(dst []Item, limit int, ps Products) []Item {
	l := h.lists.Load()
	h.mu.Lock()
	if h.popStale && time.Since(h.popAt) >= popRefresh {
		h.pop = h.popular(l)
		h.popStale = false
		h.popAt = time.Now()
	}
	pop := h.pop
	counts := make([]int32, len(pop))
	for i, id := range pop {
		counts[i] = h.live[id] + baseCount(l, id)
	}
	h.mu.Unlock()
	n := 0
	for i, id := range pop {
		if n >= limit {
			break
		}
		p, ok := ps.Product(id)
		if !ok || p == nil || !p.InStock() {
			continue
		}
		dst = append(dst, Item{Product: p, Score: float64(counts[i]), Count: int(counts[i])})
		n++
	}
	return dst
}

func baseCount(l *Lists, id string) int32 {
	if l == nil {
		return 0
	}
	if x, ok := l.byID[id]; ok {
		return l.count[x]
	}
	return 0
}

// popular sorts the products by base plus live order count; h.mu is held.
func (h *Home) popular(l *Lists) []string {
	type pc struct {
		id string
		n  int32
	}
	var all []pc
	in := map[string]bool{}
	if l != nil {
		for _, x := range topByCount(l.count, popCandidates) {
			id := l.items[x]
			in[id] = true
			all = append(all, pc{id, l.count[x] + h.live[id]})
		}
	}
	for id, n := range h.live {
		if !in[id] {
			all = append(all, pc{id, n + baseCount(l, id)})
		}
	}
	slices.SortFunc(all, func(a, b pc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := make([]string, 0, min(len(all), popCandidates))
	for _, c := range all[:min(len(all), popCandidates)] {
		out = append(out, c.id)
	}
	return out
}
