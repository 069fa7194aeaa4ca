package server

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/search"
	"github.com/valyala/fasthttp"
)

func TestAppendString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\n\r\t\b\f\x00\x1f\x7f", `"\n\r\t\b\f\u0000\u001f` + "\x7f" + `"`},
		{"caf\u00e9 \u65e5\u672c", "\"caf\u00e9 \u65e5\u672c\""},
		{"bad\xff\xfeend", `"bad\ufffd\ufffdend"`},
		{"\xe2\x82", `"\ufffd\ufffd"`},
		{"line\u2028sep\u2029", `"line\u2028sep\u2029"`},
		{"<a&b>", `"<a&b>"`},
	} {
		if got := string(appendString(nil, c.in)); got != c.want {
			t.Errorf("appendString(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// FuzzAppendString checks that every string encodes to valid JSON that
// decodes to the string with invalid bytes replaced, as encoding/json does.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00\xff", "\u2028", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encoded to invalid JSON %s: %v", s, b, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); got != want && got != replaceEach(s) {
			t.Fatalf("%q round-tripped to %q", s, got)
		}
	})
}

// replaceEach replaces every invalid byte (not every run) with U+FFFD.
func replaceEach(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

func TestAppendSlugMatchesCatalog(t *testing.T) {
	for _, path := range [][]string{
		nil, {"Electronics"}, {"Electronics", "Audio & Video", "Head-phones!"},
		{"  Ünïcode  Stuff ", "ÀÉÎ"}, {"bad\xffbyte", "\ufffd"}, {"---", "x"}, {"İstanbul", "ΣΑΣ"},
	} {
		if got, want := string(appendSlug(nil, path)), catalog.CategorySlug(path); got != want {
			t.Errorf("appendSlug(%q) = %q, catalog says %q", path, got, want)
		}
	}
}

func FuzzAppendSlug(f *testing.F) {
	f.Add("Electronics", "Audio & Video")
	f.Fuzz(func(t *testing.T, a, b string) {
		path := []string{a, b}
		if got, want := string(appendSlug(nil, path)), catalog.CategorySlug(path); got != want {
			t.Fatalf("appendSlug(%q) = %q, catalog says %q", path, got, want)
		}
		if !utf8.Valid(appendSlug(nil, path)) {
			t.Fatalf("invalid UTF-8 slug for %q", path)
		}
	})
}

func TestAppendMinor(t *testing.T) {
	for _, c := range []struct {
		amount int64
		digits int
		want   string
	}{
		{1999, 2, "19.99"}, {5, 2, "0.05"}, {0, 2, "0.00"}, {2000, 2, "20.00"}, {-150, 2, "-1.50"},
		{1500, 0, "1500"}, {-9223372036854775808, 2, "-9223372036854775808"},
	} {
		if got := string(appendMinor(nil, c.amount, c.digits)); got != c.want {
			t.Errorf("appendMinor(%d, %d) = %s, want %s", c.amount, c.digits, got, c.want)
		}
	}
}

func testResult() *search.Result {
	ps := testProducts()
	res := &search.Result{Total: 1234, Page: 2, PageSize: 20, Took: 1234567 * time.Nanosecond, Relaxed: true,
		FilterRelaxations: []search.Relaxation{{Param: "brand", Value: "sony", Total: 3}}}
	for i := range 20 {
		res.Hits = append(res.Hits, search.Hit{Product: ps[i%len(ps)], Score: 1, Sponsored: i == 0})
	}
	res.Facets = &search.Facets{
		Brand:      []search.FacetValue{{Value: "Sony", Count: 2}, {Value: "Bose", Count: 1}},
		Category:   []search.CategoryCount{{Slug: "electronics", Name: "Electronics", Level: 0, Count: 5}},
		Price:      []search.RangeCount{{Key: "0-50", From: 0, To: 5000, Count: 2}, {Key: "50+", From: 5000, Count: 3}},
		Rating:     []search.RangeCount{{Key: "4+", From: 4, To: 0, Count: 5}},
		Attributes: []search.AttributeFacet{{Name: "color", Values: []search.FacetValue{{Value: "black", Count: 5}}}},
	}
	return res
}

func TestAppendSearchResult(t *testing.T) {
	b := appendSearchResult(nil, testResult(), 2, nil)
	var v struct {
		Results []map[string]any `json:"results"`
		Facets  struct {
			Price []struct {
				From float64  `json:"from"`
				To   *float64 `json:"to"`
			} `json:"price"`
		} `json:"facets"`
		TookMs            float64 `json:"took_ms"`
		FilterRelaxations []struct {
			Param string `json:"param"`
			Total int    `json:"total"`
		} `json:"filter_relaxations"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if len(v.Results) != 20 || v.TookMs != 1.235 || len(v.FilterRelaxations) != 1 || v.FilterRelaxations[0].Total != 3 {
		t.Errorf("decoded %+v", v)
	}
	if p := v.Facets.Price; len(p) != 2 || *p[0].To != 50 || p[1].From != 50 || p[1].To != nil {
		t.Errorf("price facet %s", b)
	}
	empty := appendSearchResult(nil, &search.Result{Page: 1, PageSize: 20}, 2, nil)
	want := `{"results":[],"facets":null,"facets_exact":true,"total":0,"page":1,"page_size":20,"took_ms":0.000,"relaxed":false,"exact_total":0,"filter_relaxations":[]}`
	if string(empty) != want {
		t.Errorf("empty result:\n got %s\nwant %s", empty, want)
	}
	for _, sampled := range []bool{false, true} {
		res := testResult()
		res.Facets.Sampled = sampled
		var v struct {
			FacetsExact *bool `json:"facets_exact"`
		}
		if b := appendSearchResult(nil, res, 2, nil); json.Unmarshal(b, &v) != nil || v.FacetsExact == nil || *v.FacetsExact == sampled {
			t.Errorf("facets sampled %v: %s", sampled, b)
		}
	}
}

// TestFacetLimits: facet lists are trimmed to the defaults or to facets=
// name:N, keeping a selected value past the limit; facets=true and false
// are unchanged.
func TestFacetLimits(t *testing.T) {
	vals := func(n int, prefix string) []search.FacetValue {
		var out []search.FacetValue
		for i := range n {
			out = append(out, search.FacetValue{Value: prefix + strconv.Itoa(i), Count: 100 - i})
		}
		return out
	}
	var cats []search.CategoryCount
	for i := range 30 {
		cats = append(cats, search.CategoryCount{Slug: "c" + strconv.Itoa(i), Name: "C", Count: 1})
	}
	res := &search.Result{Page: 1, PageSize: 20, Facets: &search.Facets{Brand: vals(20, "b"), Category: cats,
		Attributes: []search.AttributeFacet{{Name: "color", Values: vals(20, "col")}, {Name: "size", Values: vals(20, "s")}}}}
	type facets struct {
		Brand []struct {
			Value string `json:"value"`
		} `json:"brand"`
		Category   []json.RawMessage `json:"category"`
		Attributes []struct {
			Values []json.RawMessage `json:"values"`
		} `json:"attributes"`
	}
	for _, tc := range []struct {
		query                      string
		brands, cats, color, sizes int
		lastBrand                  string
	}{
		{"facets=true", DefaultBrandValues, DefaultCategoryValues, DefaultAttrValues, DefaultAttrValues, "b9"},
		{"", DefaultBrandValues, DefaultCategoryValues, DefaultAttrValues, DefaultAttrValues, "b9"},
		{"facets=brand:50", 20, DefaultCategoryValues, DefaultAttrValues, DefaultAttrValues, "b19"},
		{"facets=brand:3,category:2,color:1", 3, 2, 1, DefaultAttrValues, "b2"},
		{"facets=brand:3&brand=B17", 4, DefaultCategoryValues, DefaultAttrValues, DefaultAttrValues, "b17"},
		{"facets=color:2&attr.color=col15,col1", DefaultBrandValues, DefaultCategoryValues, 3, DefaultAttrValues, "b9"},
	} {
		var args fasthttp.Args
		args.Parse(tc.query)
		var a searchArgs
		if err := a.parse(&args, 2); err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if !a.req.Facets {
			t.Errorf("%s: facets off", tc.query)
		}
		b := appendSearchResult(nil, res, 2, &a)
		var v struct {
			Facets facets `json:"facets"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v: %s", tc.query, err, b)
		}
		f := v.Facets
		if len(f.Brand) != tc.brands || len(f.Category) != tc.cats || len(f.Attributes) != 2 ||
			len(f.Attributes[0].Values) != tc.color || len(f.Attributes[1].Values) != tc.sizes {
			t.Errorf("%s: %d brands, %d categories, %d colors, %d sizes; want %d, %d, %d, %d", tc.query,
				len(f.Brand), len(f.Category), len(f.Attributes[0].Values), len(f.Attributes[1].Values), tc.brands, tc.cats, tc.color, tc.sizes)
		} else if last := f.Brand[len(f.Brand)-1].Value; last != tc.lastBrand {
			t.Errorf("%s: last brand %q, want %q", tc.query, last, tc.lastBrand)
		}
	}
	var args fasthttp.Args
	args.Parse("facets=false")
	var a searchArgs
	if err := a.parse(&args, 2); err != nil || a.req.Facets {
		t.Errorf("facets=false: %v, facets %v", err, a.req.Facets)
	}
}
