package recs

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/aisle/aisle/catalog"
)

// Also-bought and bought-together for every product (issue 18, point 3).
// Recs serves a product's own co-purchases (Fresh: the snapshot's lists
// and the live orders) and, when they are fewer than asked for, fills the
// list from fallbacks, each item saying which in Item.Reason:
//
//  1. the lists of its content neighbours that have orders, each weighed
//     by its similarity ("customers who bought similar items also bought");
//  2. its category's co-purchases: the products bought most often with any
//     product of the category, from the leaf up ("often bought with
//     Toner & Ink products");
//  3. its category's best sellers, from the leaf up: by orders, then,
//     where the category has none, by the catalog's sales velocity and
//     review count ("best seller in Toner & Ink").

// Recs is the served recommender: Fresh co-purchases with the fallbacks.
// Immutable once built, safe for concurrent use (Fresh's Live and the
// SimilarIndex are themselves safe).
type Recs struct {
	Fresh   Fresh
	Similar *SimilarIndex // nil: no content neighbours
	cats    map[string]*categoryLists
}

// categoryLists are the fallback lists of one category path (its key is
// the lower-cased path joined by ">").
type categoryLists struct {
	name string   // the last element of the path, as written
	co   []string // bought most often with the category's products
	best []string // best sellers
}

// CategoryOptions bound the category lists; zero means the default.
type CategoryOptions struct {
	// Keep is the length of each list; default 60.
	Keep int
}

// NewRecs builds the category lists of ps over f's lists and returns the
// recommender. sim may be nil.
func NewRecs(f Fresh, sim *SimilarIndex, ps []*catalog.Product, opts CategoryOptions) *Recs {
	keep := opts.Keep
	if keep <= 0 {
		keep = 60
	}
	type acc struct {
		name string
		co   map[int32]int64
		best []*catalog.Product
	}
	accs := map[string]*acc{}
	l := f.Lists
	var key []byte
	for _, p := range ps {
		if p == nil || len(p.Category) == 0 {
			continue
		}
		key = key[:0]
		x, hasX := int32(-1), false
		if l != nil {
			x, hasX = l.Index(p.ID)
		}
		for d, c := range p.Category {
			if d > 0 {
				key = append(key, '>')
			}
			key = appendLower(key, c)
			a := accs[string(key)]
			if a == nil {
				a = &acc{name: c, co: map[int32]int64{}}
				accs[string(key)] = a
			}
			a.best = append(a.best, p)
			if hasX {
				for _, nb := range l.Neighbors(x) {
					a.co[nb.Item] += int64(nb.Count)
				}
			}
		}
	}
	orders := func(id string) int32 {
		if l == nil {
			return 0
		}
		if x, ok := l.Index(id); ok {
			return l.count[x]
		}
		return 0
	}
	r := &Recs{Fresh: f, Similar: sim, cats: make(map[string]*categoryLists, len(accs))}
	for k, a := range accs {
		cl := &categoryLists{name: a.name}
		ids := make([]int32, 0, len(a.co))
		for y := range a.co {
			ids = append(ids, y)
		}
		slices.SortFunc(ids, func(p, q int32) int {
			if c := cmp.Compare(a.co[q], a.co[p]); c != 0 {
				return c
			}
			return cmp.Compare(p, q)
		})
		for _, y := range ids[:min(len(ids), keep)] {
			cl.co = append(cl.co, l.items[y])
		}
		slices.SortFunc(a.best, func(p, q *catalog.Product) int {
			if c := cmp.Compare(orders(q.ID), orders(p.ID)); c != 0 {
				return c
			}
			if c := cmp.Compare(q.SalesVelocity, p.SalesVelocity); c != 0 {
				return c
			}
			if c := cmp.Compare(q.Rating.Count, p.Rating.Count); c != 0 {
				return c
			}
			return cmp.Compare(p.ID, q.ID)
		})
		for _, p := range a.best[:min(len(a.best), keep)] {
			cl.best = append(cl.best, p.ID)
		}
		r.cats[k] = cl
	}
	return r
}

// neighbourLists is how many content neighbours lend their lists, and
// minLendSimilarity the cosine a neighbour needs to lend: about the
// similarity of two products that share their category and a title word
// or two, set before any evaluation and not tuned.
const (
	neighbourLists    = 20
	minLendSimilarity = 0.4
)

// AlsoBought appends to dst up to limit products: id's own co-purchases,
// then the fallbacks, skipping id itself, repeats, and products ps does
// not know or that are out of stock now.
func (r *Recs) AlsoBought(dst []Item, id string, limit int, ps Products) []Item {
	start := len(dst)
	dst = r.Fresh.AlsoBought(dst, id, limit, ps)
	if len(dst)-start >= limit {
		return dst
	}
	anchor, ok := ps.Product(id)
	if !ok || anchor == nil {
		return dst
	}
	have := func(pid string) bool {
		return pid == id || slices.ContainsFunc(dst[start:], func(it Item) bool { return it.Product.ID == pid })
	}
	add := func(pid string, score float64, reason string) bool {
		if have(pid) {
			return false
		}
		p, ok := ps.Product(pid)
		if !ok || p == nil || !p.InStock() {
			return false
		}
		dst = append(dst, Item{Product: p, Score: score, Reason: reason})
		return len(dst)-start >= limit
	}
	key := categoryKeys(anchor.Category)
	// Content neighbours lend only within the top-level category; one
	// without any co-purchase has nothing to lend.
	if r.Similar != nil && r.Fresh.Lists != nil && len(key) > 0 && r.cats[key[0]] != nil && len(r.cats[key[0]].co) > 0 {
		if r.borrow(id, topCategory(anchor), add) {
			return dst
		}
	}
	for d := len(key) - 1; d >= 0; d-- {
		cl := r.cats[key[d]]
		if cl == nil {
			continue
		}
		for i, pid := range cl.co {
			if add(pid, 1/float64(i+2), "often bought with "+cl.name+" products") {
				return dst
			}
		}
	}
	for d := len(key) - 1; d >= 0; d-- {
		cl := r.cats[key[d]]
		if cl == nil {
			continue
		}
		for i, pid := range cl.best {
			if add(pid, 1/float64(i+2), "best seller in "+cl.name) {
				return dst
			}
		}
	}
	return dst
}

// borrow adds the also-bought lists of id's content neighbours that have
// orders, best summed similarity × score first; it reports whether add
// filled the list.
func (r *Recs) borrow(id, top string, add func(string, float64, string) bool) bool {
	l := r.Fresh.Lists
	hits, ids, tops := r.Similar.Neighbors(nil, id, neighbourLists)
	type cand struct {
		item  int32
		score float64
	}
	var cands []cand
	at := map[int32]int{} // item -> index in cands
	for _, h := range hits {
		if int(h.ID) >= len(ids) || ids[h.ID] == id || tops[h.ID] != top {
			continue
		}
		x, ok := l.Index(ids[h.ID])
		if !ok {
			continue
		}
		sim := float64(1 - h.Dist)
		if sim < minLendSimilarity {
			continue
		}
		for _, nb := range l.Neighbors(x) {
			i, ok := at[nb.Item]
			if !ok {
				i = len(cands)
				at[nb.Item] = i
				cands = append(cands, cand{nb.Item, 0})
			}
			cands[i].score += sim * float64(nb.Score)
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.item, b.item)
	})
	for _, c := range cands {
		if add(l.items[c.item], c.score, ReasonSimilarBought) {
			return true
		}
	}
	return false
}

// categoryKeys returns the keys of each prefix of path, root first.
func categoryKeys(path []string) []string {
	keys := make([]string, len(path))
	var b []byte
	for d, c := range path {
		if d > 0 {
			b = append(b, '>')
		}
		b = appendLower(b, c)
		keys[d] = string(b)
	}
	return keys
}

// BoughtTogether appends to dst up to limit bundles anchored on id: its
// own (Fresh), or when it has none, the pair of id and the first
// also-bought fallback of another leaf category than id's (the first of
// any when all share it), with the fallback's reason.
func (r *Recs) BoughtTogether(dst []Bundle, id string, limit int, ps Products) []Bundle {
	start := len(dst)
	dst = r.Fresh.BoughtTogether(dst, id, limit, ps)
	if len(dst) > start || limit <= 0 {
		return dst
	}
	anchor, ok := ps.Product(id)
	if !ok || anchor == nil || !anchor.InStock() {
		return dst
	}
	items := r.AlsoBought(nil, id, 10, ps)
	if len(items) == 0 {
		return dst
	}
	pick := items[0]
	leaf := func(p *catalog.Product) string {
		if len(p.Category) == 0 {
			return ""
		}
		return strings.ToLower(p.Category[len(p.Category)-1])
	}
	for _, it := range items {
		if leaf(it.Product) != leaf(anchor) {
			pick = it
			break
		}
	}
	reason := pick.Reason
	if reason == "" {
		reason = "bought with " + anchor.Title + " in " + itoa(pick.Count) + " orders"
	}
	b := Bundle{Products: []*catalog.Product{anchor, pick.Product}, Count: pick.Count, Reason: reason}
	b.Price = sumPrice(b.Products)
	return append(dst, b)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Coverage counts the products of ps with at least one recommendation of
// each kind (sim may be nil), asked through serving with ps as the
// catalog. Products out of stock are counted apart: nothing is served for
// them as a recommendation, but their pages still show lists.
type Coverage struct {
	Products, InStock                  int
	AlsoBought, BoughtTogether, Simil  int // products with at least one
	BoughtTogetherInStock              int // in-stock products with a bundle (an anchor out of stock has none)
	AlsoOwn                            int // of which from their own orders
	InStockBig, SimilarInStockBig      int // in stock, in a leaf category of MinCategory or more products
	ByReason                           map[string]int
	MissingAlso, MissingSimilarInStock []string // up to 20 examples
}

// MeasureCoverage asks r and sim for every product of ps (through served,
// which knows them), on GOMAXPROCS goroutines, and counts what Coverage
// holds. minCategory is the
// size of a leaf category whose in-stock products must all have similar
// items (10 in the issue).
func MeasureCoverage(ps []*catalog.Product, served Products, r interface {
	AlsoBought([]Item, string, int, Products) []Item
	BoughtTogether([]Bundle, string, int, Products) []Bundle
}, sim interface {
	Similar([]Item, string, int, Products) []Item
}, minCategory int) Coverage {
	leafSize := map[string]int{}
	for _, p := range ps {
		leafSize[strings.Join(p.Category, ">")]++
	}
	workers := runtime.GOMAXPROCS(0)
	parts := make([]Coverage, workers)
	var wg sync.WaitGroup
	chunk := (len(ps) + workers - 1) / workers
	for w := range workers {
		lo, hi := min(len(ps), w*chunk), min(len(ps), (w+1)*chunk)
		wg.Go(func() { parts[w] = measureCoverage(ps[lo:hi], served, r, sim, minCategory, leafSize) })
	}
	wg.Wait()
	c := Coverage{ByReason: map[string]int{}}
	for _, p := range parts {
		c.Products += p.Products
		c.InStock += p.InStock
		c.AlsoBought += p.AlsoBought
		c.BoughtTogether += p.BoughtTogether
		c.BoughtTogetherInStock += p.BoughtTogetherInStock
		c.Simil += p.Simil
		c.AlsoOwn += p.AlsoOwn
		c.InStockBig += p.InStockBig
		c.SimilarInStockBig += p.SimilarInStockBig
		for k, v := range p.ByReason {
			c.ByReason[k] += v
		}
		c.MissingAlso = append(c.MissingAlso, p.MissingAlso...)
		c.MissingSimilarInStock = append(c.MissingSimilarInStock, p.MissingSimilarInStock...)
	}
	return c
}

func measureCoverage(ps []*catalog.Product, served Products, r interface {
	AlsoBought([]Item, string, int, Products) []Item
	BoughtTogether([]Bundle, string, int, Products) []Bundle
}, sim interface {
	Similar([]Item, string, int, Products) []Item
}, minCategory int, leafSize map[string]int) Coverage {
	c := Coverage{ByReason: map[string]int{}}
	var items []Item
	var bundles []Bundle
	for _, p := range ps {
		c.Products++
		if p.InStock() {
			c.InStock++
		}
		items = r.AlsoBought(items[:0], p.ID, 10, served)
		if len(items) > 0 {
			c.AlsoBought++
			reason := items[len(items)-1].Reason
			if items[0].Reason == "" {
				c.AlsoOwn++
			}
			if reason == "" {
				reason = "own co-purchases"
			} else if i := strings.Index(reason, " with "); i > 0 && strings.HasPrefix(reason, "often") {
				reason = "often bought with the category's products"
			} else if strings.HasPrefix(reason, "best seller in") {
				reason = "best seller in the category"
			}
			c.ByReason[reason]++
		} else if len(c.MissingAlso) < 20 {
			c.MissingAlso = append(c.MissingAlso, p.ID)
		}
		bundles = r.BoughtTogether(bundles[:0], p.ID, 3, served)
		if len(bundles) > 0 {
			c.BoughtTogether++
			if p.InStock() {
				c.BoughtTogetherInStock++
			}
		}
		big := p.InStock() && leafSize[strings.Join(p.Category, ">")] >= minCategory
		if big {
			c.InStockBig++
		}
		if sim == nil {
			continue
		}
		items = sim.Similar(items[:0], p.ID, 10, served)
		if len(items) > 0 {
			c.Simil++
			if big {
				c.SimilarInStockBig++
			}
		} else if big && len(c.MissingSimilarInStock) < 20 {
			c.MissingSimilarInStock = append(c.MissingSimilarInStock, p.ID)
		}
	}
	return c
}
