package app

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/recs"
)

// inStock answers every id with a product in stock, so the lists are
// compared without the serving filter.
type inStock struct{}

func (inStock) Product(id string) (*catalog.Product, bool) {
	return &catalog.Product{ID: id, Variants: []catalog.Variant{{ID: id, Stock: map[string]int{"w": 1},
		Price: catalog.Money{Amount: 100, Currency: "USD"}}}}, true
}

// TestBundlesCrossCheckRetail cross-checks the association rules of
// recs.Build on the FIMI retail baskets (88,162 baskets of a Belgian
// supermarket) against a plain count: for every item, its bundles of two
// are exactly the partners a brute-force count finds above the support,
// confidence and lift thresholds, ranked by co-count, with the same
// counts and lifts.
func TestBundlesCrossCheckRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("counts every pair of 88,162 baskets")
	}
	raw, err := corpora.RetailBaskets()
	if err != nil {
		t.Fatal(err)
	}
	opts := recs.Options{}.EnsureDefaults()
	// Items as recs sees them, and the baskets after its rules: distinct
	// items, at most MaxBasket of them, two or more.
	dense := map[int32]int32{}
	o := recs.Orders{}
	var baskets [][]int32
	for _, b := range raw {
		var bk []int32
		for _, x := range b {
			d, ok := dense[x]
			if !ok {
				d = int32(len(o.Items))
				dense[x] = d
				o.Items = append(o.Items, "r"+strconv.Itoa(int(x)))
			}
			if !slices.Contains(bk, d) && len(bk) < opts.MaxBasket {
				bk = append(bk, d)
			}
		}
		o.Baskets = append(o.Baskets, bk)
		if len(bk) >= 2 {
			baskets = append(baskets, bk)
		}
	}
	l, err := recs.Build(context.Background(), o, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The plain count.
	n := len(o.Items)
	count := make([]float64, n)
	pairs := map[[2]int32]int{}
	for _, b := range baskets {
		for _, x := range b {
			count[x]++
		}
		for i, x := range b {
			for _, y := range b[i+1:] {
				a, c := min(x, y), max(x, y)
				pairs[[2]int32{a, c}]++
			}
		}
	}
	orders := float64(len(baskets))
	type rule struct {
		partner int32
		count   int
		lift    float64
	}
	want := make([][]rule, n)
	for k, c := range pairs {
		if c < opts.MinCoCount || float64(c) < opts.BundleMinSupport*orders {
			continue
		}
		for _, d := range [2][2]int32{{k[0], k[1]}, {k[1], k[0]}} {
			x, y := d[0], d[1]
			conf := float64(c) / count[x]
			lift := float64(c) * orders / (count[x] * count[y])
			if conf >= opts.BundleMinConfidence && lift >= opts.BundleMinLift {
				want[x] = append(want[x], rule{y, c, lift})
			}
		}
	}
	anchors, rules := 0, 0
	for x := range n {
		ws := want[x]
		slices.SortFunc(ws, func(a, b rule) int {
			if a.count != b.count {
				return b.count - a.count
			}
			if a.lift != b.lift {
				if a.lift > b.lift {
					return -1
				}
				return 1
			}
			return int(a.partner - b.partner)
		})
		ws = ws[:min(len(ws), opts.BundlePairs)]
		var got []rule
		for _, b := range l.BoughtTogether(nil, o.Items[x], 100, inStock{}) {
			if len(b.Products) == 2 {
				y := dense[mustAtoi(t, b.Products[1].ID[1:])]
				got = append(got, rule{y, b.Count, b.Lift})
			}
		}
		if len(got) != len(ws) {
			t.Errorf("item %s: %d pair bundles, the plain count finds %d", o.Items[x], len(got), len(ws))
			continue
		}
		for i := range ws {
			if got[i].partner != ws[i].partner || got[i].count != ws[i].count || math.Abs(got[i].lift-ws[i].lift) > 1e-3*ws[i].lift {
				t.Errorf("item %s, bundle %d: %+v, the plain count says %+v", o.Items[x], i, got[i], ws[i])
				break
			}
		}
		if len(ws) > 0 {
			anchors++
			rules += len(ws)
		}
	}
	if anchors == 0 {
		t.Fatal("no item has a bundle: the thresholds leave nothing to compare")
	}
	t.Logf("retail: %d baskets of two items or more, %d items; %d anchors with %d pair bundles, all as the plain count", len(baskets), n, anchors, rules)
}

func mustAtoi(t *testing.T, s string) int32 {
	t.Helper()
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(fmt.Errorf("item id %q: %w", s, err))
	}
	return int32(v)
}
