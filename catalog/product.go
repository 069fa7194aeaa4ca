package catalog

import (
	"time"
)

// Product is one listing of the store: what a shopper finds in search and
// sees on a product page. Prices and stock live on its Variants.
type Product struct {
	ID          string            `json:"id"`
	Title       string            `json:"title"`
	Description string            `json:"description,omitempty"`
	Brand       string            `json:"brand,omitempty"`
	Category    []string          `json:"category,omitempty"` // path from the root, e.g. ["Electronics", "Audio", "Headphones"]
	Attributes  map[string]string `json:"attributes,omitempty"`
	Variants    []Variant         `json:"variants"`
	SellerID    string            `json:"seller_id,omitempty"`
	Images      []string          `json:"images,omitempty"`
	Thumbnail   string            `json:"thumbnail_url,omitempty"`
	Rating      Rating            `json:"rating"`
	// SalesVelocity is units sold per day, smoothed.
	SalesVelocity float64 `json:"sales_velocity,omitempty"`
	// SellerQuality is the seller's quality score in [0, 1].
	SellerQuality float64 `json:"seller_quality,omitempty"`
	// Sponsored is the cost-per-click bid in minor units of the product's
	// currency; zero means the product is not sponsored.
	Sponsored int64     `json:"sponsored_bid,omitempty"`
	Badges    []string  `json:"badges,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   uint64    `json:"version"`
	// Generated names the fields that were not in the source data but
	// generated with a fixed seed (for example "price" or "rating"). No
	// evaluation may use a generated field.
	Generated []string `json:"generated,omitempty"`
}

// Rating is the average of a product's reviews, on a 0-5 scale.
type Rating struct {
	Avg   float64 `json:"avg"`
	Count int     `json:"count"`
}

// Variant is one buyable version of a product: a size, a colour, a pack.
type Variant struct {
	ID         string            `json:"variant_id"`
	SKU        string            `json:"sku,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Price      Money             `json:"price"`
	CompareAt  Money             `json:"compare_at,omitzero"` // the struck-through "was" price; zero when none
	Stock      map[string]int    `json:"stock,omitempty"`     // units available per warehouse id
}

// Money is an amount in minor units (cents, paise) of a currency.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Stock returns the units available across all warehouses.
func (v *Variant) TotalStock() int {
	n := 0
	for _, q := range v.Stock {
		if q > 0 {
			n += q
		}
	}
	return n
}

// InStock reports whether any variant has stock in any warehouse.
func (p *Product) InStock() bool {
	for i := range p.Variants {
		if p.Variants[i].TotalStock() > 0 {
			return true
		}
	}
	return false
}

// TotalStock returns the units available across all variants.
func (p *Product) TotalStock() int {
	n := 0
	for i := range p.Variants {
		n += p.Variants[i].TotalStock()
	}
	return n
}

// Offer is what a result list shows of a product's price and stock: the
// variant a shopper would buy (the cheapest in stock, or the cheapest) with
// its price and struck-through compare-at price, and whether any variant is
// in stock.
type Offer struct {
	Price, Was Money
	InStock    bool
}

// Offer returns p's offer; see Offer.
func (p *Product) Offer() Offer {
	price, was := p.Price()
	return Offer{Price: price, Was: was, InStock: p.InStock()}
}

// Price returns the lowest variant price, preferring variants in stock, and
// the compare-at price of that variant. It returns zero Money for a product
// without variants.
func (p *Product) Price() (price, was Money) {
	best := -1
	bestIn := false
	for i := range p.Variants {
		v := &p.Variants[i]
		in := v.TotalStock() > 0
		switch {
		case best < 0,
			in && !bestIn,
			in == bestIn && v.Price.Amount < p.Variants[best].Price.Amount:
			best, bestIn = i, in
		}
	}
	if best < 0 {
		return Money{}, Money{}
	}
	v := &p.Variants[best]
	return v.Price, v.CompareAt
}

// IsGenerated reports whether field was generated rather than taken from the
// source data.
func (p *Product) IsGenerated(field string) bool {
	for _, g := range p.Generated {
		if g == field {
			return true
		}
	}
	return false
}
