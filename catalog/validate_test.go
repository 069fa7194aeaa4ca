package catalog

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func valid() Product {
	return Product{
		ID:    "p1",
		Title: "Sony WH-1000XM5 Wireless Headphones",
		Brand: "Sony",
		Variants: []Variant{{
			ID:    "p1-black",
			Price: Money{Amount: 29999, Currency: "USD"},
			Stock: map[string]int{"wh-east": 3},
		}},
		Rating:    Rating{Avg: 4.6, Count: 120},
		CreatedAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		Version:   1,
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		mod   func(p *Product)
		field string // "" when valid
	}{
		{"valid", func(p *Product) {}, ""},
		{"empty title", func(p *Product) { p.Title = "  " }, "title"},
		{"empty id", func(p *Product) { p.ID = "" }, "id"},
		{"negative price", func(p *Product) { p.Variants[0].Price.Amount = -1 }, "variants[0].price.amount"},
		{"unknown currency", func(p *Product) { p.Variants[0].Price.Currency = "XYZ" }, "variants[0].price.currency"},
		{"no variants", func(p *Product) { p.Variants = nil }, "variants"},
		{"too many variants", func(p *Product) {
			for i := range MaxVariants {
				v := p.Variants[0]
				v.ID = strings.Repeat("v", i+2)
				p.Variants = append(p.Variants, v)
			}
		}, "variants"},
		{"duplicate variant", func(p *Product) { p.Variants = append(p.Variants, p.Variants[0]) }, "variants[1].variant_id"},
		{"rating out of range", func(p *Product) { p.Rating.Avg = 5.5 }, "rating.avg"},
		{"negative stock", func(p *Product) { p.Variants[0].Stock["wh-east"] = -2 }, "variants[0].stock.wh-east"},
		{"invalid utf-8", func(p *Product) { p.Title = "bad \xff" }, "title"},
		{"long title", func(p *Product) { p.Title = strings.Repeat("a", MaxTitleBytes+1) }, "title"},
		{"compare-at currency", func(p *Product) { p.Variants[0].CompareAt = Money{Amount: 1, Currency: "EUR"} }, "variants[0].compare_at.currency"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := valid()
			p.Variants = append([]Variant(nil), p.Variants...)
			p.Variants[0].Stock = map[string]int{"wh-east": 3}
			c.mod(&p)
			err := p.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("valid product rejected: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want a *ValidationError wrapping ErrInvalid", err)
			}
			for _, f := range ve.Fields {
				if f.Field == c.field {
					return
				}
			}
			t.Fatalf("error %q does not name field %s", err, c.field)
		})
	}
}

func TestPriceAndStock(t *testing.T) {
	p := valid()
	p.Variants = []Variant{
		{ID: "a", Price: Money{Amount: 500, Currency: "USD"}}, // cheapest, out of stock
		{ID: "b", Price: Money{Amount: 900, Currency: "USD"}, CompareAt: Money{Amount: 1200, Currency: "USD"}, Stock: map[string]int{"w": 1}},
		{ID: "c", Price: Money{Amount: 700, Currency: "USD"}, Stock: map[string]int{"w": 2, "x": -1}}, // in stock, cheapest of those
	}
	price, _ := p.Price()
	if price.Amount != 700 {
		t.Errorf("Price = %d, want 700 (cheapest variant in stock)", price.Amount)
	}
	if got := p.TotalStock(); got != 3 {
		t.Errorf("TotalStock = %d, want 3 (negative stock counts as none)", got)
	}
	p.Variants[1].Stock, p.Variants[2].Stock = nil, nil
	if p.InStock() {
		t.Error("InStock with no stock anywhere")
	}
	if price, _ := p.Price(); price.Amount != 500 {
		t.Errorf("Price with nothing in stock = %d, want the cheapest, 500", price.Amount)
	}
}

func TestCategorySlug(t *testing.T) {
	cases := map[string][]string{
		"electronics/audio-video":     {"Electronics", "Audio & Video"},
		"beauty-hygiene/hair-care":    {"Beauty & Hygiene", "Hair Care "},
		"":                            nil,
		"kitchen-garden-pets/storage": {"Kitchen, Garden & Pets", "Storage"},
	}
	for want, path := range cases {
		if got := CategorySlug(path); got != want {
			t.Errorf("CategorySlug(%q) = %q, want %q", path, got, want)
		}
	}
}
