package recs

import (
	"github.com/aisle/aisle/catalog"
)

// Neighbor is one also-bought item of another.
type Neighbor struct {
	Item  int32   // index into the items
	Score float32 // the scorer's score, higher first
	Count int32   // orders holding both items
}

// bundle is one frequently-bought-together set of an anchor item: the
// anchor and one or two others (items[1] is -1 for a pair).
type bundle struct {
	items [2]int32
	count int32   // orders holding the whole bundle
	lift  float32 // bundle support over the product of the items' supports
}

// Lists are built recommendation lists, immutable once built or read.
type Lists struct {
	scorer   Scorer
	orders   int64    // baskets counted (with at least two items)
	items    []string // item names
	count    []int32  // orders holding each item
	alsoOff  []uint32 // item x's neighbours are also[alsoOff[x]:alsoOff[x+1]]
	also     []Neighbor
	bundleOf []uint32 // item x's bundles are bundles[bundleOf[x]:bundleOf[x+1]]
	bundles  []bundle
	byID     map[string]int32
}

// index builds the lookup from item name to index.
func (l *Lists) index() {
	l.byID = make(map[string]int32, len(l.items))
	for i, id := range l.items {
		l.byID[id] = int32(i)
	}
}

func (l *Lists) flatten(rows []row) {
	na, nb := 0, 0
	for _, r := range rows {
		na += len(r.also)
		nb += len(r.bundles)
	}
	l.also = make([]Neighbor, 0, na)
	l.bundles = make([]bundle, 0, nb)
	for x, r := range rows {
		l.also = append(l.also, r.also...)
		l.bundles = append(l.bundles, r.bundles...)
		l.alsoOff[x+1] = uint32(len(l.also))
		l.bundleOf[x+1] = uint32(len(l.bundles))
	}
}

// Stats describe built lists.
type Stats struct {
	Scorer     Scorer
	Orders     int64 // baskets counted
	Items      int   // items named
	WithAlso   int   // items with at least one also-bought neighbour
	Neighbors  int   // also-bought entries
	WithBundle int   // items anchoring at least one bundle
	Pairs      int   // bundles of two
	Triples    int   // bundles of three
}

// Stats returns counts of l.
func (l *Lists) Stats() Stats {
	s := Stats{Scorer: l.scorer, Orders: l.orders, Items: len(l.items), Neighbors: len(l.also)}
	for x := range l.items {
		if l.alsoOff[x+1] > l.alsoOff[x] {
			s.WithAlso++
		}
		if l.bundleOf[x+1] > l.bundleOf[x] {
			s.WithBundle++
		}
	}
	for _, b := range l.bundles {
		if b.items[1] < 0 {
			s.Pairs++
		} else {
			s.Triples++
		}
	}
	return s
}

// Neighbors returns the also-bought neighbours of item x, best first. The
// slice belongs to l and must not be modified.
func (l *Lists) Neighbors(x int32) []Neighbor {
	if x < 0 || int(x) >= len(l.items) {
		return nil
	}
	return l.also[l.alsoOff[x]:l.alsoOff[x+1]]
}

// Products is what serving needs of the catalog: the product with an id,
// as it is now, or false when there is none (deleted, never indexed).
// search.Engine has it.
type Products interface {
	Product(id string) (*catalog.Product, bool)
}

// Item is one recommended product.
type Item struct {
	Product *catalog.Product
	Score   float64
	// Count is the number of orders that hold both this product and the
	// one it is recommended for.
	Count int
	// Because, in a personalized home row, is the id of the user's past
	// purchase that contributed most to this product (the product's own
	// id for a staple bought again).
	Because string
	// Reason says why a fallback recommended the product (ReasonSimilar,
	// ReasonSimilarBought, "often bought with ... products", "best seller
	// in ..."); empty for the item's own co-purchases.
	Reason string
}

// The reasons of the lists that are not the product's own co-purchases.
const (
	// ReasonSimilar marks a similar item.
	ReasonSimilar = "similar item"
	// ReasonSimilarBought marks an also-bought item borrowed from the
	// lists of the product's content neighbours.
	ReasonSimilarBought = "customers who bought similar items also bought"
	// ReasonBoughtTogether marks a bundle of the product's own orders.
	ReasonBoughtTogether = "often bought together"
)

// AlsoBought appends to dst up to limit products bought by the customers
// who bought id, best first, skipping those ps does not know or that are
// out of stock now. It returns dst unchanged for an item with no orders.
func (l *Lists) AlsoBought(dst []Item, id string, limit int, ps Products) []Item {
	x, ok := l.byID[id]
	if !ok {
		return dst
	}
	n := 0
	for _, nb := range l.Neighbors(x) {
		if n >= limit {
			break
		}
		p, ok := ps.Product(l.items[nb.Item])
		if !ok || p == nil || !p.InStock() {
			continue
		}
		dst = append(dst, Item{Product: p, Score: float64(nb.Score), Count: int(nb.Count)})
		n++
	}
	return dst
}

// Bundle is a set of products frequently bought together, the anchor first.
type Bundle struct {
	Products []*catalog.Product
	// Price is the sum of the products' prices (catalog.Product.Price),
	// zero when their currencies differ.
	Price catalog.Money
	// Support is the share of all orders holding the whole bundle,
	// Confidence the share of the anchor's orders that do, and Lift the
	// support over the product of the items' own supports.
	Support, Confidence, Lift float64
	Count                     int // orders holding the whole bundle
	// Reason says where the bundle comes from: ReasonBoughtTogether for
	// the product's own orders (or empty), else the fallback's reason.
	Reason string
}

// BoughtTogether appends to dst up to limit bundles anchored on id, pairs
// by confidence then triples by confidence, skipping every bundle with a
// product ps does not know or that is out of stock now, the anchor
// included.
func (l *Lists) BoughtTogether(dst []Bundle, id string, limit int, ps Products) []Bundle {
	x, ok := l.byID[id]
	if !ok {
		return dst
	}
	anchor, ok := ps.Product(id)
	if !ok || anchor == nil || !anchor.InStock() {
		return dst
	}
	n := 0
	for _, b := range l.bundles[l.bundleOf[x]:l.bundleOf[x+1]] {
		if n >= limit {
			break
		}
		bd := Bundle{Products: []*catalog.Product{anchor}, Count: int(b.count), Lift: float64(b.lift)}
		ok := true
		for _, y := range b.items {
			if y < 0 {
				break
			}
			p, found := ps.Product(l.items[y])
			if !found || p == nil || !p.InStock() {
				ok = false
				break
			}
			bd.Products = append(bd.Products, p)
		}
		if !ok {
			continue
		}
		bd.Support = float64(b.count) / float64(max(l.orders, 1))
		bd.Confidence = float64(b.count) / float64(max(l.count[x], 1))
		bd.Price = sumPrice(bd.Products)
		dst = append(dst, bd)
		n++
	}
	return dst
}

// sumPrice adds the products' prices, or returns zero when their
// currencies differ.
func sumPrice(ps []*catalog.Product) catalog.Money {
	var sum catalog.Money
	for i, p := range ps {
		pr, _ := p.Price()
		if i == 0 {
			sum.Currency = pr.Currency
		} else if pr.Currency != sum.Currency {
			return catalog.Money{}
		}
		sum.Amount += pr.Amount
	}
	return sum
}

// Index returns the index of the item named id.
func (l *Lists) Index(id string) (int32, bool) {
	x, ok := l.byID[id]
	return x, ok
}

// Popular returns the items by the number of orders holding them, most
// first, at most n.
func (l *Lists) Popular(n int) []int32 {
	return topByCount(l.count, n)
}

// Orders returns the orders holding the item named id (0 for none).
func (l *Lists) Orders(id string) int {
	if x, ok := l.byID[id]; ok {
		return int(l.count[x])
	}
	return 0
}
