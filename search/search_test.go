package search

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
)

func newEngine(t testing.TB, shards int, ps []*catalog.Product) *Engine {
	t.Helper()
	e, err := New(Options{Shards: shards})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	return e
}

// matches is the brute-force reference: every word of q (AND) in the
// product's analyzed text, and every filter but the one skipped.
func matches(p *catalog.Product, q string, f *query.Filter, skip string) bool {
	text := query.AppendTerms(nil, strings.Join([]string{p.Title, p.Brand, strings.Join(p.Category, " "), p.Attributes["color"]}, " "))
	for _, w := range query.Words(q) {
		if w.Stop {
			continue
		}
		found := false
		for _, t := range w.Terms {
			if slices.Contains(text, t) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	price, _ := p.Price()
	if f.Category != "" && skip != "category" && !strings.HasPrefix(catalog.CategorySlug(p.Category)+"/", f.Category+"/") {
		return false
	}
	if len(f.Brands) > 0 && skip != "brand" && !slices.ContainsFunc(f.Brands, func(b string) bool { return strings.EqualFold(b, p.Brand) }) {
		return false
	}
	if skip != "price" && (f.HasPriceMin && price.Amount < f.PriceMin || f.HasPriceMax && price.Amount > f.PriceMax) {
		return false
	}
	if skip != "rating" && f.RatingMin > 0 && float32(p.Rating.Avg) < float32(f.RatingMin) {
		return false
	}
	if f.InStock && skip != "stock" && !p.InStock() {
		return false
	}
	if vals, ok := f.Attrs["color"]; ok && skip != "color" && !slices.Contains(vals, p.Attributes["color"]) {
		return false
	}
	return true
}

func randomFilter(r *rand.Rand) query.Filter {
	var f query.Filter
	if r.IntN(3) == 0 {
		c := fxCats[r.IntN(len(fxCats))]
		f.Category = catalog.CategorySlug(c[:1+r.IntN(len(c))])
	}
	for range r.IntN(3) {
		f.Brands = append(f.Brands, strings.ToLower(fxBrands[r.IntN(len(fxBrands))]))
	}
	if r.IntN(3) == 0 {
		f.PriceMin, f.HasPriceMin = int64(r.IntN(30000)), true
	}
	if r.IntN(3) == 0 {
		f.PriceMax, f.HasPriceMax = int64(30000+r.IntN(40000)), true
	}
	if r.IntN(3) == 0 {
		f.RatingMin = float64(r.IntN(5))
	}
	f.InStock = r.IntN(2) == 0
	if r.IntN(3) == 0 {
		f.Attrs = map[string][]string{"color": {fxColors[r.IntN(len(fxColors))]}}
	}
	return f
}

// TestAgainstBruteForce checks totals, hits and disjunctive facet counts
// against a scan of every product, for random queries and filters, on 1 and
// 5 shards.
func TestAgainstBruteForce(t *testing.T) {
	ps := fixture(600, 1)
	r := rand.New(rand.NewPCG(3, 4))
	for _, shards := range []int{1, 5} {
		e := newEngine(t, shards, ps)
		for i := range 300 {
			q := ""
			for range r.IntN(3) {
				q += fxWords[r.IntN(len(fxWords))] + " "
			}
			f := randomFilter(r)
			req := &Request{Query: q, Filter: f, Facets: true, PageSize: 100, NoRelax: true}
			res, err := e.Search(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("shards=%d case=%d q=%q f=%+v", shards, i, q, f)
			want := 0
			brands := map[string]int{}
			colors := map[string]int{}
			for _, p := range ps {
				if matches(p, q, &f, "") {
					want++
				}
				if matches(p, q, &f, "brand") {
					brands[p.Brand]++
				}
				if matches(p, q, &f, "color") {
					colors[p.Attributes["color"]]++
				}
			}
			if res.Total != want {
				t.Fatalf("%s: total %d, want %d", name, res.Total, want)
			}
			organic := 0
			for _, h := range res.Hits {
				if !matches(h.Product, q, &f, "") {
					t.Fatalf("%s: hit %s does not match", name, h.Product.ID)
				}
				if h.Offer != h.Product.Offer() {
					t.Fatalf("%s: hit %s offer %+v, product says %+v", name, h.Product.ID, h.Offer, h.Product.Offer())
				}
				if !h.Sponsored {
					organic++
				}
			}
			// Sponsored products take slots inside the page.
			if len(res.Hits) != min(want, 100) || organic < min(want, 100)-len(e.opts.Rank.SponsoredSlots) {
				t.Fatalf("%s: %d hits, %d organic, want %d", name, len(res.Hits), organic, min(want, 100))
			}
			for _, fv := range res.Facets.Brand {
				if fv.Count != brands[fv.Value] {
					t.Fatalf("%s: brand %s count %d, want %d", name, fv.Value, fv.Count, brands[fv.Value])
				}
			}
			for _, cc := range res.Facets.Category {
				n := 0
				for _, p := range ps {
					if matches(p, q, &f, "") && strings.HasPrefix(catalog.CategorySlug(p.Category)+"/", cc.Slug+"/") {
						n++
					}
				}
				if cc.Count != n {
					t.Fatalf("%s: category %s count %d, want %d", name, cc.Slug, cc.Count, n)
				}
			}
			for _, af := range res.Facets.Attributes {
				for _, fv := range af.Values {
					if fv.Count != colors[fv.Value] {
						t.Fatalf("%s: color %s count %d, want %d", name, fv.Value, fv.Count, colors[fv.Value])
					}
				}
			}
		}
	}
}

func TestSortOrders(t *testing.T) {
	e := newEngine(t, 3, fixture(300, 2))
	cases := []struct {
		sort query.Sort
		key  func(p *catalog.Product) float64
	}{
		{query.SortPriceAsc, func(p *catalog.Product) float64 { v, _ := p.Price(); return -float64(v.Amount) }},
		{query.SortPriceDesc, func(p *catalog.Product) float64 { v, _ := p.Price(); return float64(v.Amount) }},
		{query.SortRating, func(p *catalog.Product) float64 { return float64(float32(p.Rating.Avg)) }},
		{query.SortNewest, func(p *catalog.Product) float64 { return float64(p.CreatedAt.Unix()) }},
	}
	for _, c := range cases {
		var prev *catalog.Product
		for page := 1; page <= 3; page++ {
			res, err := e.Search(context.Background(), &Request{Query: "wireless", Sort: c.sort, Page: page, PageSize: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range res.Hits {
				if h.Sponsored {
					t.Fatalf("%v: sponsored hit in a non-relevance sort", c.sort)
				}
				if prev != nil && c.key(h.Product) > c.key(prev) {
					t.Fatalf("%v: %s (%g) after %s (%g)", c.sort, h.Product.ID, c.key(h.Product), prev.ID, c.key(prev))
				}
				prev = h.Product
			}
		}
	}
}

func TestPaginationIsStable(t *testing.T) {
	e := newEngine(t, 4, fixture(500, 3))
	var all []string
	for page := 1; page <= 5; page++ {
		res, err := e.Search(context.Background(), &Request{Query: "cable", Page: page, PageSize: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			if !h.Sponsored {
				all = append(all, h.Product.ID)
			}
		}
	}
	res, err := e.Search(context.Background(), &Request{Query: "cable", PageSize: 35})
	if err != nil {
		t.Fatal(err)
	}
	var one []string
	for _, h := range res.Hits {
		if !h.Sponsored {
			one = append(one, h.Product.ID)
		}
	}
	if !slices.Equal(all, one) {
		t.Fatalf("5 pages of 7 give %v\none page of 35 gives %v", all, one)
	}
}

func TestRelaxation(t *testing.T) {
	e := newEngine(t, 2, fixture(300, 4))
	res, err := e.Search(context.Background(), &Request{Query: "wireless zzzunknownword"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Relaxed || res.Total == 0 {
		t.Fatalf("relaxed=%v total=%d; want relaxed results", res.Relaxed, res.Total)
	}
	res, err = e.Search(context.Background(), &Request{Query: "wireless zzzunknownword", NoRelax: true})
	if err != nil || res.Total != 0 || res.Relaxed {
		t.Fatalf("NoRelax: total=%d relaxed=%v err=%v", res.Total, res.Relaxed, err)
	}
	// Filters that leave nothing: each droppable filter with its count.
	f := query.Filter{Brands: []string{"sony"}, PriceMax: 1, HasPriceMax: true}
	res, err = e.Search(context.Background(), &Request{Query: "wireless", Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 0 || len(res.FilterRelaxations) == 0 {
		t.Fatalf("total=%d relaxations=%v", res.Total, res.FilterRelaxations)
	}
	for _, rel := range res.FilterRelaxations {
		if rel.Param == "price" {
			want, _ := e.Search(context.Background(), &Request{Query: "wireless", Filter: query.Filter{Brands: []string{"sony"}}})
			if rel.Total != want.Total {
				t.Errorf("dropping price gives %d, but the search without it finds %d", rel.Total, want.Total)
			}
			return
		}
	}
	t.Errorf("no price relaxation in %v", res.FilterRelaxations)
}

func TestSponsoredSlots(t *testing.T) {
	e := newEngine(t, 2, fixture(800, 5))
	plain, err := e.Search(context.Background(), &Request{Query: "wireless", PageSize: 20})
	if err != nil {
		t.Fatal(err)
	}
	var organic, ads []string
	for i, h := range plain.Hits {
		if h.Sponsored {
			ads = append(ads, h.Product.ID)
			if !slices.Contains(e.opts.Rank.SponsoredSlots, i) {
				t.Errorf("sponsored hit at position %d, not a slot", i)
			}
		} else {
			organic = append(organic, h.Product.ID)
		}
	}
	if len(ads) == 0 {
		t.Fatal("no sponsored hit on a page with sponsored candidates")
	}
	// page_size is the page's size: sponsored products take slots in it,
	// and the second page's organic results start where the first's end.
	if len(plain.Hits) != 20 || len(organic) != 20-len(ads) {
		t.Errorf("%d hits, %d organic, %d sponsored; want 20 in all", len(plain.Hits), len(organic), len(ads))
	}
	second, err := e.Search(context.Background(), &Request{Query: "wireless", PageSize: 20, Page: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Hits) != 20 {
		t.Errorf("page 2 holds %d hits, want 20", len(second.Hits))
	}
	for _, h := range second.Hits {
		if h.Sponsored || slices.Contains(organic, h.Product.ID) {
			t.Errorf("page 2 repeats %s (sponsored %v)", h.Product.ID, h.Sponsored)
		}
	}
	for _, a := range ads {
		if slices.Contains(organic, a) {
			t.Errorf("%s is both sponsored and organic on the page", a)
		}
	}
}

func TestUpdatesAreAtomic(t *testing.T) {
	ps := fixture(400, 6)
	e := newEngine(t, 4, ps)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := e.Search(context.Background(), &Request{PageSize: 1})
				if err != nil || res.Total != len(ps) {
					errs <- fmt.Errorf("saw %d products (err %v), want %d", res.Total, err, len(ps))
					return
				}
			}
		}()
	}
	r := rand.New(rand.NewPCG(1, 1))
	for i := range 300 {
		p := *ps[r.IntN(len(ps))]
		p.Title = fmt.Sprintf("renamed %d", i)
		p.Version++
		if err := e.Upsert(&p); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := e.Len(); got != len(ps) {
		t.Fatalf("Len = %d after updates, want %d", got, len(ps))
	}
	res, _ := e.Search(context.Background(), &Request{Query: "renamed 299", NoRelax: true})
	if res.Total != 1 {
		t.Fatalf("last update found %d times, want 1", res.Total)
	}
}

func TestDelete(t *testing.T) {
	ps := fixture(100, 7)
	e := newEngine(t, 3, ps)
	if err := e.Delete(ps[0].ID, ps[1].ID, "unknown"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Product(ps[0].ID); ok {
		t.Fatal("deleted product still served")
	}
	if _, ok := e.Product(ps[2].ID); !ok {
		t.Fatal("live product missing")
	}
	if e.Len() != 98 {
		t.Fatalf("Len = %d, want 98", e.Len())
	}
}

func TestRejects(t *testing.T) {
	e := newEngine(t, 1, fixture(10, 8))
	bad := []*Request{
		{Query: strings.Repeat("a", MaxQueryBytes+1)},
		{Query: "\xff"},
		{PageSize: MaxPageSize + 1},
		{Page: 1001, PageSize: 10},
		{Filter: query.Filter{PriceMin: 10, HasPriceMin: true, PriceMax: 5, HasPriceMax: true}},
		{Filter: query.Filter{RatingMin: 6}},
	}
	for _, r := range bad {
		if _, err := e.Search(context.Background(), r); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%+v: err %v, want ErrInvalidRequest", r, err)
		}
	}
	p := *fixture(1, 9)[0]
	p.Variants = nil
	if err := e.Upsert(&p); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("upsert of invalid product: %v", err)
	}
}
