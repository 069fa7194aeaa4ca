package recs

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/aisle/aisle/catalog"
)

// textProduct is an in-stock product with a title and a category path.
func textProduct(id, title string, cat ...string) *catalog.Product {
	return &catalog.Product{ID: id, Title: title, Category: cat, Variants: []catalog.Variant{{ID: id + "-v",
		Price: catalog.Money{Amount: 100, Currency: "USD"}, Stock: map[string]int{"w": 2}}}}
}

// textCatalog is a small store of two domains, titles only (no brand,
// attributes, description or orders): three kinds of product in
// Electronics, two in Grocery, ten products of each kind.
func textCatalog() []*catalog.Product {
	kinds := []struct {
		title string
		cat   []string
	}{
		{"toner cartridge black", []string{"Electronics", "Printers", "Toner"}},
		{"wireless mouse optical", []string{"Electronics", "Accessories", "Mice"}},
		{"laptop notebook 15 inch", []string{"Electronics", "Computers", "Laptops"}},
		{"organic whole milk", []string{"Grocery", "Dairy", "Milk"}},
		{"sourdough bread loaf", []string{"Grocery", "Bakery", "Bread"}},
	}
	var ps []*catalog.Product
	for k, kind := range kinds {
		for i := range 10 {
			ps = append(ps, textProduct(fmt.Sprintf("k%d-%d", k, i), fmt.Sprintf("%s model%d", kind.title, i*7+k), kind.cat...))
		}
	}
	return ps
}

func TestContentVector(t *testing.T) {
	ps := textCatalog()
	c, err := NewContent(ps, ContentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vec := func(p *catalog.Product) []float32 { return c.Vector(nil, p) }
	a, b, other := vec(ps[0]), vec(ps[1]), vec(ps[15])
	for _, v := range [][]float32{a, b, other} {
		if len(v) != c.Dim() {
			t.Fatalf("vector of %d dims, want %d", len(v), c.Dim())
		}
		var sq float64
		for _, x := range v {
			sq += float64(x) * float64(x)
		}
		if math.Abs(sq-1) > 1e-4 {
			t.Fatalf("squared norm %v, want 1", sq)
		}
	}
	if ab, ao := dot(a, b), dot(a, other); ab <= ao+0.3 {
		t.Errorf("two toner cartridges at cosine %.3f, a toner and a mouse at %.3f; want the first far higher", ab, ao)
	}
	// A product the vectoriser never saw, with a plural and another word
	// order, is still nearest its kind: at index time, no rebuild.
	fresh := textProduct("new", "Black Toner Cartridges", "Electronics", "Printers", "Toner")
	f := vec(fresh)
	if ft, fm := dot(f, a), dot(f, other); ft <= fm {
		t.Errorf("a new toner at cosine %.3f of a toner and %.3f of a mouse", ft, fm)
	}
	// Deterministic: the same product gives the same vector.
	if !slices.Equal(vec(ps[0]), a) {
		t.Error("two vectors of one product differ")
	}
	// A product with no text has the zero vector, not NaN.
	for _, x := range vec(&catalog.Product{ID: "empty"}) {
		if x != 0 {
			t.Fatal("a product without text has a non-zero vector")
		}
	}
	if _, err := NewContent(nil, ContentOptions{Dim: -1, Buckets: 3, Spread: 99}); err == nil || strings.Count(err.Error(), "ContentOptions") != 3 {
		t.Errorf("invalid options: %v; want three problems listed", err)
	}
}

// TestSimilarIndex asks through the graph and through the exhaustive scan
// of small categories: the same answers.
func TestSimilarIndex(t *testing.T) {
	for _, ex := range []int{-1, 0} {
		t.Run(fmt.Sprintf("exhaustive=%d", ex), func(t *testing.T) { testSimilarIndex(t, ex) })
	}
}

func testSimilarIndex(t *testing.T, exhaustive int) {
	ps := textCatalog()
	c, err := NewContent(ps, ContentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := BuildSimilar(context.Background(), ps, c, nil, nil, SimilarOptions{Exhaustive: exhaustive})
	if err != nil {
		t.Fatal(err)
	}
	st := store{}
	for _, p := range ps {
		st[p.ID] = p
	}
	got := s.Similar(nil, "k0-0", 5, st)
	if len(got) != 5 {
		t.Fatalf("%d similar items, want 5", len(got))
	}
	for _, it := range got {
		if !strings.HasPrefix(it.Product.ID, "k0-") || it.Reason != ReasonSimilar {
			t.Errorf("similar item of a toner: %s (%s)", it.Product.ID, it.Reason)
		}
	}
	// Out of stock and deleted products leave the list at once.
	oos := *st[got[0].Product.ID]
	oos.Variants = []catalog.Variant{{ID: "x", Stock: map[string]int{"w": 0}}}
	st[oos.ID] = &oos
	delete(st, got[1].Product.ID)
	toners := 0
	for _, it := range s.Similar(nil, "k0-0", 9, st) {
		if it.Product.ID == got[0].Product.ID || it.Product.ID == got[1].Product.ID {
			t.Errorf("%s served while out of stock or deleted", it.Product.ID)
		}
		if strings.HasPrefix(it.Product.ID, "k0-") {
			toners++
		}
	}
	if toners != 7 {
		t.Errorf("%d similar toners, want the 7 left", toners)
	}
	// The top-level category holds: a milk's similar items are groceries,
	// even when asked for more than its kind has.
	for _, it := range s.Similar(nil, "k3-0", 30, st) {
		if it.Product.Category[0] != "Grocery" {
			t.Errorf("a milk's similar item %s is in %v", it.Product.ID, it.Product.Category)
		}
	}
	// A product created now is similar-searchable at once, and among
	// others' similar items.
	fresh := textProduct("fresh", "Toner cartridge black XL", "Electronics", "Printers", "Toner")
	if got := s.Similar(nil, "fresh", 3, st); len(got) != 0 {
		t.Fatalf("an unknown product has %d similar items", len(got))
	}
	st["fresh"] = fresh
	if err := s.Add(fresh); err != nil {
		t.Fatal(err)
	}
	if got := s.Similar(nil, "fresh", 3, st); len(got) != 3 || !strings.HasPrefix(got[0].Product.ID, "k0-") {
		t.Errorf("the new toner's similar items: %v", itemIDs(got))
	}
	found := false
	for _, it := range s.Similar(nil, "k0-3", 9, st) {
		found = found || it.Product.ID == "fresh"
	}
	if !found {
		t.Error("the new toner is not among a toner's 9 similar items")
	}
	if b, a := s.Len(); b != 50 || a != 1 {
		t.Errorf("Len %d built, %d added; want 50 and 1", b, a)
	}
}

func itemIDs(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Product.ID+" ("+it.Reason+")")
	}
	return out
}

// TestSimilarHybrid: a product with many orders is placed by its
// co-purchases, one without by its content, in the same graph.
func TestSimilarHybrid(t *testing.T) {
	ps := textCatalog()
	// Orders pair each toner with a laptop: k0-i with k2-i.
	o := Orders{}
	for _, p := range ps {
		o.Items = append(o.Items, p.ID)
	}
	for rep := range 40 {
		for i := range 10 {
			o.Baskets = append(o.Baskets, []int32{int32(i), int32(20 + i), int32(20 + (i+rep)%10)})
		}
	}
	e, _, err := Embed(context.Background(), o, EmbedOptions{Dim: 8, Seed: 1, MinOrders: 5})
	if err != nil {
		t.Fatal(err)
	}
	l, err := Build(context.Background(), o, Options{})
	if err != nil {
		t.Fatal(err)
	}
	counts := func(id string) int {
		x, ok := l.Index(id)
		if !ok {
			return 0
		}
		return int(l.count[x])
	}
	c, err := NewContent(ps, ContentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := BuildSimilar(context.Background(), ps, c, e, counts, SimilarOptions{Blend: 5})
	if err != nil {
		t.Fatal(err)
	}
	st := store{}
	for _, p := range ps {
		st[p.ID] = p
	}
	// The toner k0-1 is bought with the laptops: its nearest includes one.
	laptop := false
	for _, it := range s.Similar(nil, "k0-1", 10, st) {
		laptop = laptop || strings.HasPrefix(it.Product.ID, "k2-")
	}
	if !laptop {
		t.Errorf("a toner bought with laptops has none among its similar items: %v", itemIDs(s.Similar(nil, "k0-1", 10, st)))
	}
	// The mouse has no orders: its neighbours are the mice.
	for _, it := range s.Similar(nil, "k1-1", 5, st) {
		if !strings.HasPrefix(it.Product.ID, "k1-") {
			t.Errorf("a mouse without orders has %s among its similar items", it.Product.ID)
		}
	}
}
