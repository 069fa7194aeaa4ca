package server

import (
	"encoding/json"
	"net"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/search"
	"github.com/valyala/fasthttp"
)

// newCtx returns a GET request context for uri, as the server would see it.
func newCtx(uri string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod("GET")
	req.SetRequestURI(uri)
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, nil)
	return ctx
}

func parseQuery(qs string) (*search.Request, *paramError) {
	var args fasthttp.Args
	args.Parse(qs)
	var a searchArgs
	if err := a.parse(&args, 2); err != nil {
		return nil, err
	}
	r := a.req
	return &r, nil
}

func TestParseSearchArgsErrors(t *testing.T) {
	long := strings.Repeat("a", search.MaxQueryBytes+1)
	for _, c := range []struct{ qs, param, code string }{
		{"sort=cheapest", "sort", CodeInvalidParameter},
		{"price_min=abc", "price_min", CodeInvalidParameter},
		{"price_min=-5", "price_min", CodeInvalidParameter},
		{"price_max=NaN", "price_max", CodeInvalidParameter},
		{"price_max=Inf", "price_max", CodeInvalidParameter},
		{"price_max=1e3", "price_max", CodeInvalidParameter},
		{"price_max=0x10", "price_max", CodeInvalidParameter},
		{"price_min=.", "price_min", CodeInvalidParameter},
		{"price_min=1.2.3", "price_min", CodeInvalidParameter},
		{"price_min=99999999999999", "price_min", CodeInvalidParameter},
		{"price_min=300&price_max=200", "price_min", CodeInvalidParameter},
		{"rating_min=5.5", "rating_min", CodeInvalidParameter},
		{"rating_min=-1", "rating_min", CodeInvalidParameter},
		{"rating_min=NaN", "rating_min", CodeInvalidParameter},
		{"rating_min=four", "rating_min", CodeInvalidParameter},
		{"page_size=101", "page_size", CodeInvalidParameter},
		{"page_size=0", "page_size", CodeInvalidParameter},
		{"page_size=-1", "page_size", CodeInvalidParameter},
		{"page_size=9999999999", "page_size", CodeInvalidParameter},
		{"page=0", "page", CodeInvalidParameter},
		{"page=-2", "page", CodeInvalidParameter},
		{"page=1.5", "page", CodeInvalidParameter},
		{"page=501&page_size=20", "page", CodeInvalidParameter},
		{"page=101&page_size=100", "page", CodeInvalidParameter},
		{"page=10001", "page", CodeInvalidParameter},
		{"q=" + long, "q", CodeInvalidParameter},
		{"q=%ff", "q", CodeInvalidParameter},
		{"brand=%c3%28", "brand", CodeInvalidParameter},
		{"attr.color=%80", "attr.color", CodeInvalidParameter},
		{"in_stock=yes", "in_stock", CodeInvalidParameter},
		{"facets=maybe", "facets", CodeInvalidParameter},
		{"facets=brand", "facets", CodeInvalidParameter},
		{"facets=brand:0", "facets", CodeInvalidParameter},
		{"facets=brand:101", "facets", CodeInvalidParameter},
		{"facets=brand:x", "facets", CodeInvalidParameter},
		{"facets=:5", "facets", CodeInvalidParameter},
		{"facets=" + strings.Repeat("c:1,", 17), "facets", CodeInvalidParameter},
		{"relax=2", "relax", CodeInvalidParameter},
		{"q=a&q=b", "q", CodeInvalidParameter},
		{"sort=rating&sort=rating", "sort", CodeInvalidParameter},
		{"attr.=red", "attr.", CodeInvalidParameter},
		{"category=" + strings.Repeat("x", MaxValueBytes+1), "category", CodeInvalidParameter},
		{"brand=" + strings.Repeat("b,", MaxFilterValues+1), "brand", CodeInvalidParameter},
		{"querry=tv", "querry", CodeUnknownParameter},
		{"Q=tv", "Q", CodeUnknownParameter},
		{"pagesize=10", "pagesize", CodeUnknownParameter},
		{"=x", "", CodeUnknownParameter},
	} {
		_, err := parseQuery(c.qs)
		if err == nil {
			t.Errorf("%.60s: no error", c.qs)
			continue
		}
		if err.Param != c.param || err.Code != c.code || err.Message == "" {
			t.Errorf("%.60s: %+v, want param %q code %s", c.qs, err, c.param, c.code)
		}
	}
}

// TestSearchErrorsOverHTTP checks the 400 body of every error kind through
// the handler.
func TestSearchErrorsOverHTTP(t *testing.T) {
	s := New(testSvc(newTestEngine(t)), Options{})
	for _, c := range []struct{ qs, param, code string }{
		{"sort=cheapest", "sort", CodeInvalidParameter},
		{"price_min=300&price_max=200", "price_min", CodeInvalidParameter},
		{"page=501", "page", CodeInvalidParameter},
		{"q=%ff", "q", CodeInvalidParameter},
		{"colour=red", "colour", CodeUnknownParameter},
	} {
		ctx := newCtx("/api/v1/products/search?" + c.qs)
		s.Handler()(ctx)
		var e errorBody
		if err := json.Unmarshal(ctx.Response.Body(), &e); err != nil {
			t.Fatalf("%s: %v: %s", c.qs, err, ctx.Response.Body())
		}
		if ctx.Response.StatusCode() != 400 || e.Error.Param != c.param || e.Error.Code != c.code || e.Error.Message == "" {
			t.Errorf("%s: %d %s", c.qs, ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}

func TestParseSearchArgs(t *testing.T) {
	for _, c := range []struct {
		qs   string
		want search.Request
	}{
		{"", search.Request{Page: 1, PageSize: 20, Facets: true}},
		{"q=red+shoes&sort=price_asc&page=3&page_size=50&facets=false",
			search.Request{Query: "red shoes", Sort: query.SortPriceAsc, Page: 3, PageSize: 50}},
		{"q=&price_min=&sort=&page=",
			search.Request{Page: 1, PageSize: 20, Facets: true}},
		{"price_min=19.99&price_max=200&rating_min=4.5&in_stock=true&category=electronics/audio",
			search.Request{Page: 1, PageSize: 20, Facets: true, Filter: query.Filter{
				Category: "electronics/audio", PriceMin: 1999, HasPriceMin: true, PriceMax: 20000, HasPriceMax: true,
				RatingMin: 4.5, InStock: true}}},
		{"price_min=0.015&price_max=.5",
			search.Request{Page: 1, PageSize: 20, Facets: true, Filter: query.Filter{
				PriceMin: 2, HasPriceMin: true, PriceMax: 50, HasPriceMax: true}}},
		{"price_min=0&price_max=0",
			search.Request{Page: 1, PageSize: 20, Facets: true, Filter: query.Filter{HasPriceMin: true, HasPriceMax: true}}},
		{"brand=sony,bose&brand=jbl,&attr.color=black,%20white&attr.size=xl&relax=false&plain=1",
			search.Request{Page: 1, PageSize: 20, Facets: true, NoRelax: true, Plain: true, Filter: query.Filter{
				Brands: []string{"sony", "bose", "jbl"},
				Attrs:  map[string][]string{"color": {"black", "white"}, "size": {"xl"}}}}},
		{"page=500&page_size=20", search.Request{Page: 500, PageSize: 20, Facets: true}},
		{"page=100&page_size=100", search.Request{Page: 100, PageSize: 100, Facets: true}},
	} {
		got, err := parseQuery(c.qs)
		if err != nil {
			t.Errorf("%s: %v", c.qs, err)
			continue
		}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.qs, *got, c.want)
		}
	}
}

func TestParsePrice(t *testing.T) {
	for _, c := range []struct {
		in     string
		digits int
		want   int64
	}{
		{"19.99", 2, 1999}, {"19.9", 2, 1990}, {"19", 2, 1900}, {"19.", 2, 1900}, {".99", 2, 99},
		{"19.994", 2, 1999}, {"19.995", 2, 2000}, {"0.005", 2, 1}, {"1500", 0, 1500}, {"1500.5", 0, 1501},
	} {
		got, err := parsePrice("p", []byte(c.in), c.digits)
		if err != nil || got != c.want {
			t.Errorf("parsePrice(%q, %d) = %d, %v; want %d", c.in, c.digits, got, err, c.want)
		}
	}
}

func FuzzParseSearchArgs(f *testing.F) {
	for _, s := range []string{
		"", "q=tv", "q=red+shoes&brand=sony,bose&price_min=20&price_max=200.5&sort=rating&page=2&page_size=50",
		"attr.color=black,white&attr.size=m&in_stock=1&facets=false&rating_min=4",
		"q=%ff", "page=501", "x=1", "brand=a&brand=b", "price_min=1e9", "=&&=", "q=a&q=b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, qs string) {
		r, err := parseQuery(qs)
		if err != nil {
			if err.Message == "" || (err.Code != CodeInvalidParameter && err.Code != CodeUnknownParameter) {
				t.Fatalf("%q: bad error %+v", qs, err)
			}
			if err.Param == "" && err.Code != CodeUnknownParameter {
				t.Fatalf("%q: error names no parameter: %+v", qs, err)
			}
			return
		}
		if r.Page < 1 || r.PageSize < 1 || r.PageSize > search.MaxPageSize || r.Page*r.PageSize > search.MaxResultDepth {
			t.Fatalf("%q: page %d page_size %d out of limits", qs, r.Page, r.PageSize)
		}
		if len(r.Query) > search.MaxQueryBytes || !utf8.ValidString(r.Query) {
			t.Fatalf("%q: query %q out of limits", qs, r.Query)
		}
		f := &r.Filter
		if f.PriceMin < 0 || f.PriceMax < 0 || f.HasPriceMin && f.HasPriceMax && f.PriceMin > f.PriceMax {
			t.Fatalf("%q: prices %d..%d", qs, f.PriceMin, f.PriceMax)
		}
		if !(f.RatingMin >= 0 && f.RatingMin <= 5) {
			t.Fatalf("%q: rating_min %v", qs, f.RatingMin)
		}
		if len(f.Brands) > MaxFilterValues || len(f.Attrs) > MaxAttrFilters {
			t.Fatalf("%q: %d brands, %d attributes", qs, len(f.Brands), len(f.Attrs))
		}
		for _, b := range f.Brands {
			if b == "" || !utf8.ValidString(b) {
				t.Fatalf("%q: brand %q", qs, b)
			}
		}
		for k, vs := range f.Attrs {
			if k == "" || len(vs) == 0 {
				t.Fatalf("%q: attribute %q: %q", qs, k, vs)
			}
		}
		if _, ok := query.ParseSort(r.Sort.String()); !ok {
			t.Fatalf("%q: sort %v", qs, r.Sort)
		}
	})
}
