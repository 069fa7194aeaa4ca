package bench

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/aisle/aisle/query"
)

// URI returns the search request path of q for the top k.
func URI(q *Query, k int) string {
	v := url.Values{}
	v.Set("q", q.Text)
	v.Set("page_size", strconv.Itoa(k))
	v.Set("facets", strconv.FormatBool(q.Facets))
	f := &q.Filter
	if f.Category != "" {
		v.Set("category", f.Category)
	}
	if len(f.Brands) > 0 {
		v.Set("brand", strings.Join(f.Brands, ","))
	}
	major := func(cents int64) string { return strconv.FormatFloat(float64(cents)/100, 'f', 2, 64) }
	if f.HasPriceMin {
		v.Set("price_min", major(f.PriceMin))
	}
	if f.HasPriceMax {
		v.Set("price_max", major(f.PriceMax))
	}
	if f.RatingMin > 0 {
		v.Set("rating_min", strconv.FormatFloat(f.RatingMin, 'g', -1, 64))
	}
	if f.InStock {
		v.Set("in_stock", "true")
	}
	for name, vals := range f.Attrs {
		v.Set("attr."+name, strings.Join(vals, ","))
	}
	if q.Sort != query.SortRelevance {
		v.Set("sort", q.Sort.String())
	}
	return "/api/v1/products/search?" + v.Encode()
}
