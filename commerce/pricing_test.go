package commerce

import (
	"errors"
	"testing"

	"github.com/aisle/aisle/catalog"
)

type variantMap map[string]*catalog.Product

func (m variantMap) ProductOfVariant(id string) (*catalog.Product, bool) {
	p, ok := m[id]
	return p, ok
}

func TestPriceCart(t *testing.T) {
	usd := func(n int64) catalog.Money { return catalog.Money{Amount: n, Currency: "USD"} }
	p := &catalog.Product{ID: "p1", Title: "Kettle", Variants: []catalog.Variant{
		{ID: "p1-a", Price: usd(1999)}, {ID: "p1-b", Price: usd(2499)}, {ID: "p1-eur", Price: catalog.Money{Amount: 1800, Currency: "EUR"}}}}
	cat := variantMap{"p1-a": p, "p1-b": p, "p1-eur": p}
	for _, c := range []struct {
		name  string
		items []Item
		cat   VariantFinder
		want  []SessionLine
		bad   string
	}{
		{"priced now", []Item{{VariantID: "p1-b", Quantity: 2}, {VariantID: "p1-a", Quantity: 1}}, cat,
			[]SessionLine{{"p1-b", "p1", "Kettle", 2, usd(2499)}, {"p1-a", "p1", "Kettle", 1, usd(1999)}}, ""},
		{"empty cart", nil, cat, []SessionLine{}, ""},
		{"gone", []Item{{VariantID: "p1-a", Quantity: 1}, {VariantID: "gone", Quantity: 1}}, cat, nil, "gone"},
		{"other currency", []Item{{VariantID: "p1-eur", Quantity: 1}}, cat, nil, "p1-eur"},
		{"no catalog", []Item{{VariantID: "p1-a", Quantity: 1}}, nil, nil, "p1-a"},
	} {
		got, err := PriceCart(c.items, c.cat, "USD")
		var ue *ItemUnavailableError
		switch {
		case c.bad != "" && (!errors.As(err, &ue) || ue.VariantID != c.bad):
			t.Errorf("%s: %v; want the unavailable %q", c.name, err, c.bad)
		case c.bad == "" && (err != nil || len(got) != len(c.want)):
			t.Errorf("%s: %v %v; want %v", c.name, got, err, c.want)
		case c.bad == "":
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("%s: line %d is %+v; want %+v", c.name, i, got[i], c.want[i])
				}
			}
		}
	}
}
