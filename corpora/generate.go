package corpora

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/aisle/aisle/catalog"
)

// Seed keys every generated field. A product's generator is a PCG seeded
// with (Seed, FNV-1a 64 of the product id), so a product's generated fields
// depend on its id only, not on load order or on the other products.
const Seed = 0xA15E_2026

// Currency is the one currency of the default store.
const Currency = "USD"

// Sellers is the number of generated sellers, "seller-01" to "seller-20".
const Sellers = 20

// Shares of the generated fields.
const (
	outOfStockShare = 0.08 // products with no stock in any warehouse
	lowStockShare   = 0.07 // products with fewer than 5 units in total
	sponsoredShare  = 0.02 // products with a cost-per-click bid
	bestsellerShare = 0.05 // top share of a set by sales velocity
)

// Generated-field names, as recorded in catalog.Product.Generated.
const (
	genPrice         = "price"
	genStock         = "stock"
	genRating        = "rating"
	genRatingCount   = "rating_count"
	genSalesVelocity = "sales_velocity"
	genSeller        = "seller"
	genSponsored     = "sponsored"
	genCreatedAt     = "created_at"
)

var (
	createdFrom = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	createdTo   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// newRand returns the generator of the product with the given id.
func newRand(id string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(id))
	return rand.New(rand.NewPCG(Seed, h.Sum64()))
}

// newPlaceRand returns the generator that places the stock of the
// product with the given id in warehouses.
func newPlaceRand(id string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(id))
	return rand.New(rand.NewPCG(Seed^placeStream, h.Sum64()))
}

// homeWarehouses draws the 4 distinct warehouses (indexes) a product's
// stock may be kept in.
func homeWarehouses(r *rand.Rand) [4]int {
	var h [4]int
	for i := 0; i < len(h); {
		if h[i] = r.IntN(NumWarehouses); !slices.Contains(h[:i], h[i]) {
			i++
		}
	}
	return h
}

// placeStock puts a variant's non-empty lots in distinct warehouses among
// homes, one lot each; a quarter of the time a lot of 2 units or more is
// split in two over a fourth home, so that a variant is kept in 1 to 4
// warehouses and its total is the sum of the lots. A variant without
// units is listed in one home with 0.
func placeStock(lots [3]int, homes [4]int, r *rand.Rand) map[string]int {
	var qs []int
	for _, q := range lots {
		if q > 0 {
			qs = append(qs, q)
		}
	}
	if len(qs) > 0 && r.IntN(4) == 0 {
		big := 0
		for j, q := range qs {
			if q > qs[big] {
				big = j
			}
		}
		if q := qs[big]; q >= 2 {
			a := 1 + r.IntN(q-1)
			qs[big] = q - a
			qs = append(qs, a)
		}
	}
	r.Shuffle(len(homes), func(i, j int) { homes[i], homes[j] = homes[j], homes[i] })
	if len(qs) == 0 {
		return map[string]int{warehouseID(homes[0]): 0}
	}
	out := make(map[string]int, len(qs))
	for j, q := range qs {
		out[warehouseID(homes[j])] = q
	}
	return out
}

// sellerQuality returns the fixed quality score in [0.6, 1] of each seller,
// indexed by seller number minus one.
func sellerQuality() [Sellers]float64 {
	var q [Sellers]float64
	for i := range q {
		r := rand.New(rand.NewPCG(Seed, uint64(i+1)))
		q[i] = math.Round((0.6+0.4*r.Float64())*100) / 100
	}
	return q
}

// sellerIDs are the generated seller ids; sellerID(n) is sellerIDs[n-1].
var sellerIDs = func() [Sellers]string {
	var ids [Sellers]string
	for i := range ids {
		ids[i] = fmt.Sprintf("seller-%02d", i+1)
	}
	return ids
}()

// has says which fields the source data gave for a product, so fill
// generates only the others.
type has struct {
	rating        bool // Rating.Avg and Rating.Count
	ratingAvg     bool // Rating.Avg only: Count is generated as "rating_count"
	salesVelocity bool
	createdAt     bool
}

// fill generates the fields a source does not give, in a fixed order of
// draws from r, and sets Version, UpdatedAt and the "sale" badge. Variants
// must already have their ids and prices.
func fill(p *catalog.Product, r *rand.Rand, src has, quality *[Sellers]float64) {
	// Stock, per variant and warehouse. The units are drawn from r as
	// three regional lots (the draws, and so every later field and every
	// variant's total, are those of the earlier three-warehouse layout);
	// placeStock then puts the lots in 1 to 4 of the product's home
	// warehouses, drawn by a generator of their own.
	u := r.Float64()
	place := newPlaceRand(p.ID)
	homes := homeWarehouses(place)
	for i := range p.Variants {
		v := &p.Variants[i]
		var lots [3]int
		for w := range lots {
			var q int
			switch {
			case u < outOfStockShare:
				q = 0
			case u < outOfStockShare+lowStockShare:
				if i == 0 { // low stock: at most 1 per lot, first variant only
					q = r.IntN(2)
				}
			default:
				if r.IntN(6) > 0 { // a region may not carry the product
					q = 5 + r.IntN(200)
				}
			}
			lots[w] = q
		}
		if u >= outOfStockShare+lowStockShare && lots[0]+lots[1]+lots[2] == 0 {
			lots[0] = 5 + r.IntN(50)
		}
		v.Stock = placeStock(lots, homes, place)
	}
	p.Generated = append(p.Generated, genStock)

	// Rating: a realistic skew towards 4-5 stars, review counts log-normal.
	switch {
	case src.rating:
	case src.ratingAvg:
		p.Rating.Count = 1 + int(math.Exp(2.5+1.3*r.NormFloat64()))
		p.Generated = append(p.Generated, genRatingCount)
	default:
		avg := 4.1 + 0.6*r.NormFloat64()
		p.Rating.Avg = math.Round(min(5, max(1, avg))*10) / 10
		p.Rating.Count = int(math.Exp(2 + 1.5*r.NormFloat64()))
		if p.Rating.Count == 0 {
			p.Rating.Avg = 0
		}
		p.Generated = append(p.Generated, genRating)
	}

	if !src.salesVelocity {
		p.SalesVelocity = math.Round(math.Exp(-1.5+1.2*r.NormFloat64())*1000) / 1000
		p.Generated = append(p.Generated, genSalesVelocity)
	}

	n := r.IntN(Sellers)
	p.SellerID = sellerIDs[n]
	p.SellerQuality = quality[n]
	p.Generated = append(p.Generated, genSeller)

	if r.Float64() < sponsoredShare {
		p.Sponsored = int64(5 + r.IntN(146)) // 5 to 150 cents per click
		p.Generated = append(p.Generated, genSponsored)
	}

	if !src.createdAt {
		span := createdTo.Sub(createdFrom) / time.Second
		p.CreatedAt = createdFrom.Add(time.Duration(r.Int64N(int64(span))) * time.Second)
		p.Generated = append(p.Generated, genCreatedAt)
	}
	p.UpdatedAt = p.CreatedAt
	p.Version = 1

	if price, was := p.Price(); was.Amount > price.Amount {
		p.Badges = append(p.Badges, "sale")
	}
}

// markBestsellers adds the "bestseller" badge to the products whose sales
// velocity is in the top bestsellerShare of ps (ties included, zero never).
func markBestsellers(ps []*catalog.Product) {
	if len(ps) == 0 {
		return
	}
	v := make([]float64, len(ps))
	for i, p := range ps {
		v[i] = p.SalesVelocity
	}
	slices.Sort(v)
	cut := v[int(float64(len(v))*(1-bestsellerShare))]
	for _, p := range ps {
		if p.SalesVelocity >= cut && p.SalesVelocity > 0 {
			p.Badges = append(p.Badges, "bestseller")
		}
	}
}

// truncate cuts s to at most n bytes at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// inrToCents converts an amount in rupees to USD cents at inrPerUSD,
// rounding half away from zero.
func inrToCents(rupees float64) int64 {
	return int64(math.Round(rupees * 100 / inrPerUSD))
}

// inrPerUSD is the fixed exchange rate used for BigBasket prices.
const inrPerUSD = 83.0
