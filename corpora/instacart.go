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
	"unicode"

	"github.com/aisle/aisle/catalog"
)

// instacartOrderDays turns an order count into a sales velocity: the orders
// of the train split are read as 30 days of sales, so SalesVelocity is the
// number of orders that contain the product divided by 30.
const instacartOrderDays = 30

// Instacart returns the 49,688 products of the Instacart 2017 release, as a
// grocery store in USD. Category is [department, aisle], title-cased. There
// is no brand and no price in the source: prices are generated per
// department and marked. SalesVelocity is real: the product's order count
// in order_products.csv divided by instacartOrderDays (zero for products in
// no order).
func Instacart() ([]*catalog.Product, error) {
	type result struct {
		counts []int32
		err    error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := InstacartOrderCounts()
		ch <- result{c, err}
	}()
	b, err := ReadFile(instacartProducts)
	if err != nil {
		<-ch
		return nil, err
	}
	res := <-ch
	if res.err != nil {
		return nil, res.err
	}
	return buildInstacart(b, res.counts)
}

func buildInstacart(b []byte, counts []int32) ([]*catalog.Product, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("corpora: reading %s: %w", instacartProducts, err)
	}
	want := []string{"product_id", "product_name", "aisle_id", "department_id", "aisle", "department"}
	if !slices.Equal(head, want) {
		return nil, fmt.Errorf("corpora: reading %s: header %q, want %q", instacartProducts, head, want)
	}
	quality := sellerQuality()
	titles := make(map[string]string, 160) // title-cased aisle and department names
	title := func(s string) string {
		if t, ok := titles[s]; ok {
			return t
		}
		t := titleCase(s)
		titles[s] = t
		return t
	}
	cats := make(map[[2]string][]string, 140) // shared category paths
	ps := make([]*catalog.Product, 0, 50000)
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("corpora: reading %s: %w", instacartProducts, err)
		}
		id, err := strconv.Atoi(rec[0])
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("corpora: reading %s line %d: product_id %q", instacartProducts, line, rec[0])
		}
		dept, aisle := strings.TrimSpace(rec[5]), strings.TrimSpace(rec[4])
		k := [2]string{dept, aisle}
		cat, ok := cats[k]
		if !ok {
			cat = []string{title(dept), title(aisle)}
			cats[k] = cat
		}
		p := &catalog.Product{
			ID:       "instacart-" + rec[0],
			Title:    truncate(strings.TrimSpace(rec[1]), catalog.MaxTitleBytes),
			Category: cat,
		}
		if id < len(counts) {
			p.SalesVelocity = float64(counts[id]) / instacartOrderDays
		}
		rng := newRand(p.ID)
		p.Variants = []catalog.Variant{{
			ID:    p.ID + "-v1",
			SKU:   p.ID,
			Price: catalog.Money{Amount: groceryPrice(dept, rng), Currency: Currency},
		}}
		p.Generated = append(p.Generated, genPrice)
		fill(p, rng, has{salesVelocity: true}, &quality)
		ps = append(ps, p)
	}
	markBestsellers(ps)
	return ps, nil
}

// groceryPriceMedian is the median generated price in cents per Instacart
// department; prices are log-normal around it (sigma 0.45), rounded to end in
// 9 cents.
var groceryPriceMedian = map[string]float64{
	"alcohol": 1299, "babies": 999, "bakery": 449, "beverages": 499,
	"breakfast": 449, "bulk": 699, "canned goods": 249, "dairy eggs": 399,
	"deli": 599, "dry goods pasta": 299, "frozen": 549, "household": 699,
	"international": 399, "meat seafood": 899, "missing": 499, "other": 499,
	"pantry": 399, "personal care": 799, "pets": 899, "produce": 299,
	"snacks": 399,
}

func groceryPrice(dept string, r interface{ NormFloat64() float64 }) int64 {
	median, ok := groceryPriceMedian[dept]
	if !ok {
		median = 499
	}
	c := median * math.Exp(0.45*r.NormFloat64())
	cents := int64(math.Round(c/10))*10 + 9 // x.x9
	return max(cents, 49)
}

// titleCase upper-cases the first letter of every word: "dairy eggs" ->
// "Dairy Eggs".
func titleCase(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if up {
			b.WriteRune(unicode.ToUpper(r))
		} else {
			b.WriteRune(r)
		}
		up = r == ' ' || r == '-' || r == '/'
	}
	return b.String()
}
