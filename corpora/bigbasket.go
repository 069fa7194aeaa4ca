package corpora

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/aisle/aisle/catalog"
)

// BigBasket returns the grocery and household products of the BigBasket
// list, as a store in USD. Rows that repeat the same product name and brand
// are merged into one product with one variant per row (see README.md): the
// product takes the id, category and title of its first row, and each
// variant the row's prices. Prices are converted from INR at inrPerUSD.
func BigBasket() ([]*catalog.Product, error) {
	b, err := ReadFile(bigbasketProducts)
	if err != nil {
		return nil, err
	}
	rows, err := bigbasketRows(b)
	if err != nil {
		return nil, err
	}
	// Group rows by name and brand, keeping the order of first appearance.
	type key struct{ name, brand string }
	groups := make(map[key]int, len(rows))
	var order [][]bigbasketRow
	for _, r := range rows {
		k := key{r.name, r.brand}
		if i, ok := groups[k]; ok {
			order[i] = append(order[i], r)
			continue
		}
		groups[k] = len(order)
		order = append(order, []bigbasketRow{r})
	}
	quality := sellerQuality()
	ps := make([]*catalog.Product, 0, len(order))
	for _, g := range order {
		ps = append(ps, bigbasketProduct(g, &quality))
	}
	markBestsellers(ps)
	return ps, nil
}

// bigbasketRow is one row of products.csv.
type bigbasketRow struct {
	index                      int
	name, brand                string
	category, subCategory, typ string
	salePrice, marketPrice     float64 // INR
	rating                     float64
	hasRating                  bool
}

func bigbasketRows(b []byte) ([]bigbasketRow, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("corpora: reading %s: %w", bigbasketProducts, err)
	}
	want := []string{"index", "product", "category", "sub_category", "brand", "sale_price", "market_price", "type", "rating"}
	if len(head) < len(want) || !slices.Equal(head[:len(want)], want) {
		return nil, fmt.Errorf("corpora: reading %s: header %q, want %q", bigbasketProducts, head, want)
	}
	rows := make([]bigbasketRow, 0, 28000)
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("corpora: reading %s: %w", bigbasketProducts, err)
		}
		if len(rec) < len(want) {
			return nil, fmt.Errorf("corpora: reading %s line %d: %d fields, want at least %d", bigbasketProducts, line, len(rec), len(want))
		}
		row := bigbasketRow{
			name:        strings.TrimSpace(rec[1]),
			category:    strings.TrimSpace(rec[2]),
			subCategory: strings.TrimSpace(rec[3]),
			brand:       strings.TrimSpace(rec[4]),
			typ:         strings.TrimSpace(rec[7]),
		}
		var errs [4]error
		row.index, errs[0] = strconv.Atoi(rec[0])
		row.salePrice, errs[1] = strconv.ParseFloat(rec[5], 64)
		row.marketPrice, errs[2] = strconv.ParseFloat(rec[6], 64)
		if s := strings.TrimSpace(rec[8]); s != "" {
			row.rating, errs[3] = strconv.ParseFloat(s, 64)
			row.hasRating = errs[3] == nil && row.rating >= 0 && row.rating <= 5
		}
		for _, e := range errs {
			if e != nil {
				return nil, fmt.Errorf("corpora: reading %s line %d: %w", bigbasketProducts, line, e)
			}
		}
		if row.salePrice < 0 || row.marketPrice < 0 {
			return nil, fmt.Errorf("corpora: reading %s line %d: negative price", bigbasketProducts, line)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// bigbasketProduct builds the product of one group of rows.
func bigbasketProduct(g []bigbasketRow, quality *[Sellers]float64) *catalog.Product {
	first := g[0]
	p := &catalog.Product{
		ID:    "bigbasket-" + strconv.Itoa(first.index),
		Title: first.name,
		Brand: first.brand,
	}
	if p.Title == "" {
		// One row has no name: name it after its brand and type.
		p.Title = strings.TrimSpace(first.brand + " " + first.typ)
	}
	p.Title = truncate(p.Title, catalog.MaxTitleBytes)
	for _, c := range []string{first.category, first.subCategory, first.typ} {
		if c != "" {
			p.Category = append(p.Category, c)
		}
	}
	// Variants in order of price, so "pack 1" is the cheapest; rows of equal
	// price keep source order.
	vs := slices.Clone(g)
	slices.SortStableFunc(vs, func(a, b bigbasketRow) int {
		if c := cmpFloat(a.marketPrice, b.marketPrice); c != 0 {
			return c
		}
		return cmpFloat(a.salePrice, b.salePrice)
	})
	var ratingSum float64
	var rated int
	for i, r := range vs {
		v := catalog.Variant{
			ID:    p.ID + "-v" + strconv.Itoa(i+1),
			SKU:   "bigbasket-" + strconv.Itoa(r.index),
			Price: catalog.Money{Amount: inrToCents(r.salePrice), Currency: Currency},
		}
		if len(vs) > 1 {
			v.Attributes = map[string]string{"pack": "pack " + strconv.Itoa(i+1)}
		}
		if r.marketPrice > r.salePrice {
			if was := inrToCents(r.marketPrice); was > v.Price.Amount {
				v.CompareAt = catalog.Money{Amount: was, Currency: Currency}
			}
		}
		p.Variants = append(p.Variants, v)
		if r.hasRating {
			ratingSum += r.rating
			rated++
		}
	}
	if len(p.Variants) > catalog.MaxVariants {
		p.Variants = p.Variants[:catalog.MaxVariants]
	}
	src := has{}
	if rated > 0 {
		p.Rating.Avg = math.Round(ratingSum/float64(rated)*10) / 10
		src.ratingAvg = true
	}
	fill(p, newRand(p.ID), src, quality)
	return p
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
