package index

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/aisle/aisle/catalog"
)

// edgeProducts are products with the fields build treats specially: empty
// brands and categories, values and names that fold to nothing, category
// levels that slug to nothing or to the same slug, duplicate ids.
func edgeProducts() []*catalog.Product {
	return []*catalog.Product{
		{ID: "e0"},
		{ID: "e1", Title: "  ", Brand: "!!", Category: []string{""}},
		{ID: "e2", Title: "Kettle", Brand: "ACME", Category: []string{"Home & Garden", "--", "Kettles"},
			Attributes: map[string]string{"": "red", "Color": "", "size": " - "}},
		{ID: "e3", Title: "kettle kettle KETTLE", Brand: "acme", Category: []string{"home garden", "", "kettles!"},
			Attributes: map[string]string{"COLOR": "Red"},
			Variants:   []catalog.Variant{{Attributes: map[string]string{"color": "Blue", "Size": "XL"}}, {Attributes: map[string]string{"size": "S"}}}},
		{ID: "e2", Title: "again", Category: []string{"Home & Garden"}, Sponsored: 3},
		{ID: "e5", Title: "Ünïcödé straße", Brand: "Straße", Category: []string{"Küche", "Töpfe"},
			Attributes: map[string]string{"Farbe": "Weiß"}},
	}
}

// TestBuildEqualsReference builds random product sets, realistic ones,
// the merge tests' small-vocabulary ones and edge cases, with build and
// with buildReference (the implementation before optimisation) on shared
// dictionaries, and compares every field of the two segments.
func TestBuildEqualsReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 8 {
		opts := mergeOptions()
		var ps []*catalog.Product
		switch round % 4 {
		case 0:
			ps = newCatalogGen(uint64(round)).products(200+r.IntN(300), "g")
		case 1:
			for i := range 300 + r.IntN(300) {
				ps = append(ps, randProduct(r, fmt.Sprintf("m%d", i)))
			}
		case 2:
			ps = edgeProducts()
		case 3:
			g := newCatalogGen(uint64(round))
			for i := range 400 {
				if r.IntN(3) == 0 {
					ps = append(ps, randProduct(r, fmt.Sprintf("m%d", i)))
				} else {
					ps = append(ps, g.product(fmt.Sprintf("g%d", i)))
				}
			}
			ps = append(ps, edgeProducts()...)
			r.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		}
		t.Run(fmt.Sprintf("round=%d/n=%d", round, len(ps)), func(t *testing.T) {
			// The dictionaries number new values in the order met, and
			// attributes are met in map order, so the first build numbers
			// them and the second finds them numbered.
			var got, want *segment
			if round%2 == 0 {
				want = buildReference(ps, opts, mergeNow)
				got = build(ps, opts, mergeNow)
			} else {
				got = build(ps, opts, mergeNow)
				want = buildReference(ps, opts, mergeNow)
			}
			// Posting numbers are not compared: attribute text is read in
			// map order, so even buildReference numbers terms differently
			// from one run to the next.
			sameSegment(t, got, want)
		})
	}
}

// TestBuildEmpty builds a segment of no products.
func TestBuildEmpty(t *testing.T) {
	opts := mergeOptions()
	sameSegment(t, build(nil, opts, mergeNow), buildReference(nil, opts, mergeNow))
}
