package server

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/recs"
	"github.com/valyala/fasthttp"
)

// lowStockBelow is the stock under which a variant is LOW_STOCK and shows
// how many are left.
const lowStockBelow = 5

// Stock statuses of a variant or product.
const (
	StatusInStock    = "IN_STOCK"
	StatusLowStock   = "LOW_STOCK"
	StatusOutOfStock = "OUT_OF_STOCK"
)

// productPage is the JSON of GET /api/v1/products/{id}. The product page
// is far colder than search, so it uses encoding/json.
type productPage struct {
	ProductID      string            `json:"product_id"`
	Title          string            `json:"title"`
	Description    string            `json:"description"`
	Brand          string            `json:"brand"`
	CategoryPath   []string          `json:"category_path"`
	CategorySlug   string            `json:"category_slug"`
	Attributes     map[string]string `json:"attributes"`
	Price          price             `json:"price"`
	InStock        bool              `json:"in_stock"`
	StockStatus    string            `json:"stock_status"`
	QuantityHint   string            `json:"quantity_hint,omitempty"`
	Variants       []variantPage     `json:"variants"`
	Images         []string          `json:"images"`
	ThumbnailURL   string            `json:"thumbnail_url"`
	Badges         []string          `json:"badges"`
	Seller         seller            `json:"seller"`
	ReviewsSummary reviews           `json:"reviews_summary"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	// RelatedProducts are the in-stock products bought with this one, or
	// when it has no co-purchases the similar ones; empty until the
	// recommendations are loaded.
	RelatedProducts []relatedItem `json:"related_products"`
}

type relatedItem struct {
	ProductID string `json:"product_id"`
	Title     string `json:"title"`
	Image     string `json:"image,omitempty"`
	Price     price  `json:"price"`
	Reason    string `json:"reason"`
}

// relatedLimit bounds related_products.
const relatedLimit = 8

type variantPage struct {
	VariantID    string            `json:"variant_id"`
	SKU          string            `json:"sku"`
	Attributes   map[string]string `json:"attributes"`
	Price        price             `json:"price"`
	StockStatus  string            `json:"stock_status"`
	QuantityHint string            `json:"quantity_hint,omitempty"`
}

type seller struct {
	ID      string  `json:"id"`
	Quality float64 `json:"quality"`
}

type reviews struct {
	Avg   float64 `json:"avg"`
	Count int     `json:"count"`
}

// price is a price in major units, encoded as the search response does.
type price struct {
	price, was catalog.Money
}

func (p price) MarshalJSON() ([]byte, error) {
	return appendPrice(nil, p.price, p.was), nil
}

// stockStatus returns the status for n units and, when few are left, the
// hint that says how many.
func stockStatus(n int) (status, hint string) {
	switch {
	case n <= 0:
		return StatusOutOfStock, ""
	case n < lowStockBelow:
		return StatusLowStock, "only " + strconv.Itoa(n) + " left"
	}
	return StatusInStock, ""
}

func newProductPage(p *catalog.Product) *productPage {
	pr, was := p.Price()
	pg := &productPage{
		ProductID:      p.ID,
		Title:          p.Title,
		Description:    p.Description,
		Brand:          p.Brand,
		CategoryPath:   nonNil(p.Category),
		CategorySlug:   string(appendSlug(nil, p.Category)),
		Attributes:     nonNilMap(p.Attributes),
		Price:          price{pr, was},
		InStock:        p.InStock(),
		Variants:       make([]variantPage, len(p.Variants)),
		Images:         nonNil(p.Images),
		ThumbnailURL:   p.Thumbnail,
		Badges:         nonNil(p.Badges),
		Seller:         seller{ID: p.SellerID, Quality: finite(p.SellerQuality)},
		ReviewsSummary: reviews{Avg: finite(p.Rating.Avg), Count: p.Rating.Count},
		CreatedAt:      p.CreatedAt,
		UpdatedAt:      p.UpdatedAt,
	}
	pg.StockStatus, pg.QuantityHint = stockStatus(p.TotalStock())
	for i := range p.Variants {
		v := &p.Variants[i]
		vp := &pg.Variants[i]
		vp.VariantID, vp.SKU = v.ID, v.SKU
		vp.Attributes = nonNilMap(v.Attributes)
		vp.Price = price{v.Price, v.CompareAt}
		vp.StockStatus, vp.QuantityHint = stockStatus(v.TotalStock())
	}
	return pg
}

func (s *Server) product(ctx *fasthttp.RequestCtx, id string) {
	p, ok := s.eng.Product(id)
	if !ok || p == nil {
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no product with id "+strconv.Quote(id), "")
		return
	}
	pg := newProductPage(p)
	pg.RelatedProducts = s.related(p)
	body, err := json.Marshal(pg)
	if err != nil {
		s.logf("server: product %q: %v", id, err)
		writeError(ctx, fasthttp.StatusInternalServerError, CodeInternal, "internal error", "")
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

// related returns the product page's related products: also bought, or
// similar items for a product without co-purchases. The lists skip
// deleted and out-of-stock products (recs.Products is the live index).
func (s *Server) related(p *catalog.Product) []relatedItem {
	out := []relatedItem{}
	h := s.recsNow()
	var items []recs.Item
	reason := "customers who bought this also bought"
	if h.r != nil {
		items = h.r.AlsoBought(make([]recs.Item, 0, relatedLimit), p.ID, relatedLimit, s.eng)
	}
	if len(items) == 0 && h.sim != nil {
		items, reason = h.sim.Similar(items[:0], p.ID, relatedLimit, s.eng), "similar item"
	}
	for _, it := range items {
		q := it.Product
		pr, was := q.Price()
		why := reason
		if it.Reason != "" {
			why = it.Reason
		}
		out = append(out, relatedItem{ProductID: q.ID, Title: q.Title, Image: productImage(q), Price: price{pr, was}, Reason: why})
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// finite maps NaN and infinities, which JSON cannot hold, to zero.
func finite(f float64) float64 {
	if f != f || f > 1e308 || f < -1e308 {
		return 0
	}
	return f
}
