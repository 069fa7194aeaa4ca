package search

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
)

func spellFixture(t *testing.T, opts Options) *Engine {
	t.Helper()
	opts.Shards = 3
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Upsert(fixture(600, 11)...); err != nil {
		t.Fatal(err)
	}
	if err := e.RebuildSpelling(); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSearchSpelling(t *testing.T) {
	e := spellFixture(t, Options{PopularQueries: []string{"wireless headphones"}})
	ctx := context.Background()
	for _, c := range []struct {
		q, dym, from string
	}{
		{"wirelss hedphones", "wireless headphones", "wirelss hedphones"},
		{"portible speaker", "portable speaker", "portible speaker"},
		{"wireless headphones", "", ""},
		{"laptop", "", ""},
		{"xyzzy", "", ""},
		{"ps5 cable", "", ""}, // a model number is never corrected; "cable" matched
	} {
		res, err := e.Search(ctx, &Request{Query: c.q})
		if err != nil {
			t.Fatal(err)
		}
		if res.DidYouMean != c.dym || res.CorrectedFrom != c.from {
			t.Errorf("%q: did_you_mean %q corrected_from %q, want %q %q", c.q, res.DidYouMean, res.CorrectedFrom, c.dym, c.from)
		}
		if c.from != "" && res.Total == 0 {
			t.Errorf("%q: corrected query found nothing", c.q)
		}
		res, err = e.Search(ctx, &Request{Query: c.q, NoSpell: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.DidYouMean != "" || res.CorrectedFrom != "" {
			t.Errorf("%q with NoSpell: corrected", c.q)
		}
	}
}

func TestSearchUnderstanding(t *testing.T) {
	e := spellFixture(t, Options{})
	ctx := context.Background()
	res, err := e.Search(ctx, &Request{Query: "wireless headphones under $100 4+ stars", PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	u := res.Understood
	if u == nil || !u.HasPriceMax || u.PriceMax != 100 || u.RatingMin != 4 {
		t.Fatalf("understood %+v", u)
	}
	if res.Total == 0 {
		t.Fatal("no result")
	}
	for _, h := range res.Hits {
		if p, _ := h.Product.Price(); p.Amount > 10000 || h.Product.Rating.Avg < 4 {
			t.Errorf("%s: price %d rating %g breaks the understood filter", h.Product.ID, p.Amount, h.Product.Rating.Avg)
		}
	}
	// An explicit filter wins over an understood one.
	res, err = e.Search(ctx, &Request{Query: "speaker under 100", Filter: filterPriceMax(500), PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Hits {
		if p, _ := h.Product.Price(); p.Amount > 500 {
			t.Errorf("%s: price %d above the request's 500", h.Product.ID, p.Amount)
		}
	}
	// A colour is a filter; a colour nobody has in the query's products
	// falls back to a keyword.
	res, err = e.Search(ctx, &Request{Query: "red speaker", PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Understood == nil || len(res.Understood.Colors) != 1 || res.Total == 0 {
		t.Fatalf("red speaker: understood %+v, total %d", res.Understood, res.Total)
	}
	for _, h := range res.Hits {
		if h.Product.Attributes["color"] != "red" {
			t.Errorf("%s is %s", h.Product.ID, h.Product.Attributes["color"])
		}
	}
	// A brand is boosted, not required.
	plain, err := e.Search(ctx, &Request{Query: "sony speaker", PageSize: 100, NoUnderstand: true})
	if err != nil {
		t.Fatal(err)
	}
	boosted, err := e.Search(ctx, &Request{Query: "sony speaker", PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if boosted.Understood == nil || len(boosted.Understood.Brands) != 1 || boosted.Total != plain.Total {
		t.Fatalf("sony speaker: understood %+v, total %d vs %d", boosted.Understood, boosted.Total, plain.Total)
	}
	if len(boosted.Hits) > 0 && boosted.Hits[0].Product.Brand != "Sony" {
		t.Errorf("sony speaker: first hit is %s", boosted.Hits[0].Product.Brand)
	}
}

func filterPriceMax(v int64) (f query.Filter) {
	f.PriceMax, f.HasPriceMax = v, true
	return f
}

func TestSuggestEngine(t *testing.T) {
	e := spellFixture(t, Options{PopularQueries: []string{"noise cancelling headphones"}})
	for _, c := range []struct{ q, first string }{
		{"noi", "noise"},
		{"noise canc", "noise cancelling"},
		{"nosie canc", "noise cancelling"}, // a typo in a finished word
		{"noise cancelling h", "noise cancelling headphones"},
	} {
		got := e.Suggest(c.q, 5)
		if len(got) == 0 || !strings.HasPrefix(got[0].Text, c.first) {
			t.Errorf("Suggest(%q) = %+v, want first %q...", c.q, got, c.first)
		}
	}
	if got := e.Suggest("", 5); len(got) != 0 {
		t.Errorf("Suggest(\"\") = %v", got)
	}
}

func TestSpellingRebuildsInBackground(t *testing.T) {
	e := spellFixture(t, Options{SpellRebuildDelay: time.Millisecond})
	before := e.SpellingStats()
	p := *fixture(1, 99)[0]
	p.ID, p.Title = "new-1", "Zanzibar gramophone"
	p.Variants = []catalog.Variant{{ID: "new-1-v1", Price: catalog.Money{Amount: 100, Currency: "USD"}}}
	if err := e.Upsert(&p); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.spelling.Load().dict.Freq("gramophone") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the spelling data was not rebuilt after an upsert")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if after := e.SpellingStats(); after.Words <= before.Words {
		t.Errorf("words %d -> %d", before.Words, after.Words)
	}
	for e.spellBusy.Load() {
		time.Sleep(time.Millisecond)
	}
}

// TestSearchRealWordError: a query of known words that shares few
// products ("house pad") is answered for the one-edit change the catalog
// holds far more of ("mouse pad"), and a pair the catalog does hold is
// left alone.
func TestSearchRealWordError(t *testing.T) {
	ps := fixture(200, 5)
	add := func(id, title string) {
		p := *ps[0]
		p.ID, p.Title = id, title
		p.Variants = []catalog.Variant{{ID: id + "-v1", Price: catalog.Money{Amount: 999, Currency: "USD"}, Stock: map[string]int{"wh-1": 3}}}
		ps = append(ps, &p)
	}
	for i := range 30 {
		add("mp"+strconv.Itoa(i), "gaming mouse pad")
	}
	for i := range 4 {
		add("hp"+strconv.Itoa(i), "house plant pot")
	}
	e, err := New(Options{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	if err := e.RebuildSpelling(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ q, from string }{
		{"house pad", "house pad"},
		{"house plant", ""},
		{"mouse pad", ""},
	} {
		res, err := e.Search(context.Background(), &Request{Query: c.q})
		if err != nil {
			t.Fatal(err)
		}
		if res.CorrectedFrom != c.from {
			t.Errorf("%q: corrected_from %q (did_you_mean %q), want %q", c.q, res.CorrectedFrom, res.DidYouMean, c.from)
		}
		if c.from != "" && (res.DidYouMean != "mouse pad" || res.Total < 30) {
			t.Errorf("%q: answered %q with %d results, want mouse pad with 30+", c.q, res.DidYouMean, res.Total)
		}
	}
}

// TestSearchUnderstandsSizes: with a size facet, "size m" and "xl" are
// understood as sizes that raise the products of that size above the
// others, which stay: a size is a boost, not a filter.
func TestSearchUnderstandsSizes(t *testing.T) {
	ps := fixture(50, 9)
	for i, size := range []string{"M", "XL", "M", "S", "XL", "M"} {
		p := *ps[i]
		p.ID, p.Title = "hood"+strconv.Itoa(i), "cotton hoodie"
		p.Attributes = map[string]string{"size": size}
		p.Variants = []catalog.Variant{{ID: p.ID + "-v1", Price: catalog.Money{Amount: 2500, Currency: "USD"}, Stock: map[string]int{"wh-1": 2}}}
		ps = append(ps, &p)
	}
	e, err := New(Options{Shards: 2, FacetAttributes: []string{"color", "size"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	if err := e.RebuildSpelling(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q     string
		first int // hits of the size first
		size  string
	}{
		{"hoodie size m", 3, "M"},
		{"xl hoodie", 2, "XL"},
		{"cotton hoodie", 0, ""},
	} {
		res, err := e.Search(context.Background(), &Request{Query: c.q})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if res.Understood != nil && len(res.Understood.Sizes) == 1 {
			got = res.Understood.Sizes[0]
		}
		if res.Total < 6 || got != c.size || res.Understood != nil && len(res.Understood.Filtered) > 0 {
			t.Errorf("%q: %d results, size %q understood, filtered %v; want 6+, %q, none", c.q, res.Total, got, res.Understood.Filtered, c.size)
		}
		for i, h := range res.Hits[:min(c.first, len(res.Hits))] {
			if h.Product.Attributes["size"] != c.size {
				t.Errorf("%q: hit %d %s has size %q", c.q, i, h.Product.ID, h.Product.Attributes["size"])
			}
		}
	}
}

// TestSearchCompounds: a non-word the catalog holds as two words is split
// ("gardenhose reel" -> "garden hose reel").
func TestSearchCompounds(t *testing.T) {
	ps := fixture(100, 8)
	for i := range 6 {
		p := *ps[0]
		p.ID, p.Title = "gh"+strconv.Itoa(i), "garden hose reel"
		p.Variants = []catalog.Variant{{ID: p.ID + "-v1", Price: catalog.Money{Amount: 4000, Currency: "USD"}, Stock: map[string]int{"wh-1": 2}}}
		ps = append(ps, &p)
	}
	e := newEngine(t, 2, ps)
	if err := e.RebuildSpelling(); err != nil {
		t.Fatal(err)
	}
	res, err := e.Search(context.Background(), &Request{Query: "gardenhose reel"})
	if err != nil {
		t.Fatal(err)
	}
	if res.DidYouMean != "garden hose reel" || res.Exact != 6 {
		t.Errorf("did_you_mean %q exact %d; want garden hose reel, 6", res.DidYouMean, res.Exact)
	}
}

// TestSearchJoins: two words the catalog writes as one are joined ("head
// phones" -> "headphones"), also when the words as typed match a few
// products, if the joined word is in far more ("lap top"); a pair the
// catalog writes apart is left alone.
func TestSearchJoins(t *testing.T) {
	var ps []*catalog.Product
	add := func(prefix, title string, n int) {
		for i := range n {
			id := prefix + strconv.Itoa(i)
			ps = append(ps, &catalog.Product{ID: id, Title: title, Version: 1,
				Variants: []catalog.Variant{{ID: id + "-v1", Price: catalog.Money{Amount: 2000, Currency: "USD"}, Stock: map[string]int{"wh-1": 1}}}})
		}
	}
	add("hp", "wireless headphones", 30)
	add("hd", "shower head", 4)
	add("ph", "phones case", 4)
	add("lt", "laptop sleeve", 210)
	add("tr", "lap tray with top cushion", 10)
	add("mp", "mouse pad", 12)
	add("mq", "mousepad xl", 3)
	add("ss", "samsung phone", 30)
	add("su", "sun hat", 5)
	e := newEngine(t, 2, ps)
	if err := e.RebuildSpelling(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ q, dym string }{
		{"head phones", "headphones"},
		{"wireless head phones", "wireless headphones"},
		{"lap top", "laptop"},
		{"mouse pad", ""},
		{"lap tray", ""},
		{"sam sung", "samsung"}, // a join before "sung" -> "sun", a real word the catalog lacks
	} {
		res, err := e.Search(context.Background(), &Request{Query: c.q})
		if err != nil {
			t.Fatal(err)
		}
		if res.DidYouMean != c.dym || c.dym != "" && (res.CorrectedFrom != c.q || res.Exact < 30) {
			t.Errorf("%q: did_you_mean %q from %q, %d exact; want %q", c.q, res.DidYouMean, res.CorrectedFrom, res.Exact, c.dym)
		}
	}
}
