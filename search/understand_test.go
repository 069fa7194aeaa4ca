package search

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/aisle/aisle/catalog"
)

// kettles returns n products titled title, of colour color ("" for no
// colour attribute), with ids prefix0, prefix1...
func kettles(prefix, title, color string, n int) []*catalog.Product {
	ps := make([]*catalog.Product, n)
	for i := range ps {
		p := &catalog.Product{ID: prefix + strconv.Itoa(i), Title: title, Category: []string{"Home", "Kitchen"}, Version: 1,
			Variants: []catalog.Variant{{ID: prefix + strconv.Itoa(i) + "-v1", Price: catalog.Money{Amount: 3000, Currency: "USD"},
				Stock: map[string]int{"wh-1": 3}}}}
		if color != "" {
			p.Attributes = map[string]string{"color": color}
		}
		ps[i] = p
	}
	return ps
}

// TestColorFiltersOnlyWhenItKeepsTheBestMatches: a colour named in the
// query filters when every one of the best matches has that colour and the
// filter keeps every full match (it drops only partial matches of another
// or no colour); when a product of no colour matches every word, or the
// best matches say nothing of their colour, it stays a boost and nothing
// vanishes.
func TestColorFiltersOnlyWhenItKeepsTheBestMatches(t *testing.T) {
	for _, c := range []struct {
		name     string
		ps       [][]*catalog.Product
		q        string
		filtered bool
		total    [2]int // on pages 1 and 2 (page 2 is relaxed)
	}{
		{"every full match white", [][]*catalog.Product{
			kettles("w", "white kettle", "White", 12),
			kettles("b", "black kettle", "Black", 4),
		}, "white kettle", true, [2]int{12, 12}}, // unfiltered, page 2 adds the black kettles
		{"a full match of no colour", [][]*catalog.Product{
			kettles("w", "white kettle", "White", 12),
			kettles("d", "white kettle descaler tablets for limescale", "", 3),
			kettles("b", "black kettle", "Black", 4),
		}, "white kettle", false, [2]int{15, 19}},
		{"most lack a colour", [][]*catalog.Product{
			kettles("w", "white kettle", "White", 3),
			kettles("n", "white kettle", "", 9),
			kettles("b", "black kettle", "Black", 4),
		}, "white kettle", false, [2]int{12, 16}},
		{"best matches of two colours", [][]*catalog.Product{
			kettles("w", "white kettle", "White", 6),
			kettles("b", "kettle white and black", "Black", 6),
		}, "white kettle", false, [2]int{12, 12}},
		{"too few of the colour", [][]*catalog.Product{
			kettles("w", "white kettle", "White", 4),
			kettles("b", "black kettle", "Black", 8),
		}, "white kettle", false, [2]int{12, 12}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := New(Options{Shards: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Upsert(slices.Concat(c.ps...)...); err != nil {
				t.Fatal(err)
			}
			if err := e.RebuildSpelling(); err != nil {
				t.Fatal(err)
			}
			for page := 1; page <= 2; page++ {
				res, err := e.Search(context.Background(), &Request{Query: c.q, PageSize: 10, Page: page, Facets: true})
				if err != nil {
					t.Fatal(err)
				}
				u := res.Understood
				if u == nil || !slices.Equal(u.Colors, []string{"White"}) {
					t.Fatalf("understood %+v, want colour White", u)
				}
				if got := slices.Contains(u.Filtered, "color"); got != c.filtered || res.Total != c.total[page-1] {
					t.Errorf("page %d: filtered %v, total %d; want color filtered %v, total %d", page, u.Filtered, res.Total, c.filtered, c.total[page-1])
				}
				if page == 1 && c.filtered {
					for i, h := range res.Hits {
						if h.Product.Attributes["color"] != "White" {
							t.Errorf("hit %d %s is %q", i, h.Product.ID, h.Product.Attributes["color"])
						}
					}
				}
			}
		})
	}
	// A colour the request filters itself is left as the request says.
	e, err := New(Options{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Upsert(slices.Concat(kettles("w", "white kettle", "White", 12), kettles("b", "black kettle", "Black", 4))...); err != nil {
		t.Fatal(err)
	}
	if err := e.RebuildSpelling(); err != nil {
		t.Fatal(err)
	}
	r := &Request{Query: "white kettle", PageSize: 20}
	r.Filter.Attrs = map[string][]string{"color": {"White", "Black"}}
	res, err := e.Search(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Understood == nil || slices.Contains(res.Understood.Filtered, "color") || res.Total != 16 {
		t.Errorf("request's own colour filter: understood %+v, total %d; want no colour filter added, 16", res.Understood, res.Total)
	}
}
