package search

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aisle/aisle/catalog"
)

var (
	fxBrands = []string{"Sony", "Bose", "Apple", "Samsung", "Anker", "JBL"}
	fxCats   = [][]string{
		{"Electronics", "Audio", "Headphones"},
		{"Electronics", "Audio", "Speakers"},
		{"Electronics", "Computers", "Laptops"},
		{"Electronics", "Computers", "Accessories"},
		{"Grocery", "Snacks"},
	}
	fxWords  = []string{"wireless", "headphones", "speaker", "laptop", "cable", "charger", "noise", "cancelling", "portable", "bluetooth"}
	fxColors = []string{"black", "white", "red", "blue"}
)

// fixture returns n random products with a fixed seed.
func fixture(n int, seed uint64) []*catalog.Product {
	r := rand.New(rand.NewPCG(seed, 7))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ps := make([]*catalog.Product, n)
	for i := range ps {
		title := ""
		for j := range 2 + r.IntN(4) {
			if j > 0 {
				title += " "
			}
			title += fxWords[r.IntN(len(fxWords))]
		}
		stock := map[string]int{"wh-1": 0}
		if r.IntN(4) > 0 {
			stock["wh-1"] = 1 + r.IntN(20)
		}
		p := &catalog.Product{
			ID:            fmt.Sprintf("p%04d", i),
			Title:         title,
			Brand:         fxBrands[r.IntN(len(fxBrands))],
			Category:      fxCats[r.IntN(len(fxCats))],
			Attributes:    map[string]string{"color": fxColors[r.IntN(len(fxColors))]},
			Rating:        catalog.Rating{Avg: float64(r.IntN(51)) / 10, Count: r.IntN(100)},
			SalesVelocity: r.Float64() * 10,
			CreatedAt:     base.Add(time.Duration(r.IntN(700)) * 24 * time.Hour),
			Variants: []catalog.Variant{{
				ID:    fmt.Sprintf("p%04d-v1", i),
				Price: catalog.Money{Amount: int64(100 + r.IntN(60000)), Currency: "USD"},
				Stock: stock,
			}},
			Version: 1,
		}
		if r.IntN(20) == 0 {
			p.Sponsored = 50
		}
		ps[i] = p
	}
	return ps
}
