package bench

import (
	"net/url"
	"strings"
	"testing"

	"github.com/aisle/aisle/query"
)

func TestURI(t *testing.T) {
	q := &Query{Text: "usb cable", Facets: true, Sort: query.SortPriceAsc, Filter: query.Filter{
		Category: "electronics/cables", Brands: []string{"StarTech.com", "C2G"},
		PriceMin: 199, HasPriceMin: true, PriceMax: 5000, HasPriceMax: true, RatingMin: 4, InStock: true,
		Attrs: map[string][]string{"color": {"black"}},
	}}
	u, err := url.Parse(URI(q, 10))
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/api/v1/products/search" {
		t.Errorf("path %q", u.Path)
	}
	want := map[string]string{
		"q": "usb cable", "page_size": "10", "facets": "true", "category": "electronics/cables",
		"brand": "StarTech.com,C2G", "price_min": "1.99", "price_max": "50.00", "rating_min": "4",
		"in_stock": "true", "attr.color": "black", "sort": "price_asc",
	}
	got := u.Query()
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.Get(k), v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("extra parameters in %s", u.RawQuery)
	}
	if s := URI(&Query{Text: "tv"}, 5); strings.Contains(s, "sort=") {
		t.Errorf("relevance sort sent explicitly: %s", s)
	}
}
