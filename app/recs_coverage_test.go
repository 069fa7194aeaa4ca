package app

import (
	"context"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/recs"
)

// storeCatalog is the shipped store as served: its own (generated) stock.
type storeCatalog map[string]*catalog.Product

func (c storeCatalog) Product(id string) (*catalog.Product, bool) {
	p, ok := c[id]
	return p, ok
}

// TestRecsCoverage asks, for every product of the shipped store, the
// recommendations serving gives (servedRecs over the lists of every
// shipped order; content vectors only, the co-purchase embeddings take
// half a minute more): at least 95% of the products have also-bought and
// bought-together (issue 18 asks 95% for also-bought), and every in-stock
// product of a leaf category of 10 or more products has similar items.
// Before issue 18 only products with orders had lists (22.7%
// also-bought, 2.1% bought-together) and only 13.3% similar items.
func TestRecsCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the similar-items graph of 93,710 products")
	}
	ps, err := corpora.DefaultStore()
	if err != nil {
		t.Fatal(err)
	}
	o, err := instacartOrders(nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := recs.Build(context.Background(), o, recs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r, sim, err := servedRecs(context.Background(), ps, l, nil, recs.NewLive(recs.LiveOptions{}), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("similar-items index of %d products in %v", len(ps), time.Since(start))
	cat := make(storeCatalog, len(ps))
	for _, p := range ps {
		cat[p.ID] = p
	}
	start = time.Now()
	c := recs.MeasureCoverage(ps, cat, r, sim, 10)
	share := func(n, of int) float64 { return float64(n) / float64(max(of, 1)) }
	t.Logf("coverage asked in %v: %d products (%d in stock): also-bought %.4f (own orders %.4f), bought-together %.4f (%.4f of those in stock), similar %.4f; in stock in categories of 10+: %d, with similar items %d",
		time.Since(start), c.Products, c.InStock, share(c.AlsoBought, c.Products), share(c.AlsoOwn, c.Products),
		share(c.BoughtTogether, c.Products), share(c.BoughtTogetherInStock, c.InStock), share(c.Simil, c.Products), c.InStockBig, c.SimilarInStockBig)
	t.Logf("deepest fallback used: %v", c.ByReason)
	if share(c.AlsoBought, c.Products) < 0.95 {
		t.Errorf("also-bought for %.4f of the products, want at least 0.95; without: %v", share(c.AlsoBought, c.Products), c.MissingAlso)
	}
	// A bundle is something to put in the cart: none for a product out of
	// stock.
	if share(c.BoughtTogetherInStock, c.InStock) < 0.95 {
		t.Errorf("bought-together for %.4f of the in-stock products, want at least 0.95", share(c.BoughtTogetherInStock, c.InStock))
	}
	if c.SimilarInStockBig != c.InStockBig {
		t.Errorf("%d of %d in-stock products of categories of 10+ have similar items, want all; without: %v", c.SimilarInStockBig, c.InStockBig, c.MissingSimilarInStock)
	}
}
