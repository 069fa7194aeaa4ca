package corpora

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aisle/aisle/catalog"
)

// Icecat returns the 19,406 products of the Open Icecat sample published by
// o19s/chorus, in source order, as an electronics store. Title, description,
// brand, images, price (USD cents) and release date are the source's;
// the category is derived from the product type and title words by a rule
// table (see icecatCategory); stock, rating, sales velocity, seller and
// sponsorship are generated and marked in Product.Generated.
func Icecat() ([]*catalog.Product, error) {
	b, err := ReadFile(icecatProducts)
	if err != nil {
		return nil, err
	}
	quality := sellerQuality()
	names := make(map[string]string, 6000) // interned attribute names
	ps := make([]*catalog.Product, 0, 19500)
	err = lines(b, func(n int, line []byte) error {
		p, err := icecatProduct(line, names, &quality)
		if err != nil {
			return fmt.Errorf("corpora: reading %s line %d: %w", icecatProducts, n, err)
		}
		ps = append(ps, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	markBestsellers(ps)
	return ps, nil
}

// icecatKeptNumbers are the attr_n_* fields kept, as text, without prefix.
var icecatKeptNumbers = map[string]bool{
	"weight": true, "width": true, "depth": true, "height": true,
	"display_diagonal": true, "processor_frequency": true,
}

// icecatProduct maps one line of products.jsonl to a product.
func icecatProduct(line []byte, names map[string]string, quality *[Sellers]float64) (*catalog.Product, error) {
	p := &catalog.Product{Attributes: make(map[string]string, 16)}
	var (
		id, mpn, productType string
		eans                 []string
		price                int64
		imgMedium, imgHigh   string
		created              bool
	)
	intern := func(b []byte) string {
		if s, ok := names[string(b)]; ok {
			return s
		}
		s := string(b)
		names[s] = s
		return s
	}
	addAttr := func(name, value string) {
		if len(p.Attributes) >= catalog.MaxAttributes {
			return
		}
		if _, dup := p.Attributes[name]; !dup {
			p.Attributes[name] = value
		}
	}
	err := eachField(line, func(key []byte, kind byte, raw []byte) error {
		switch string(key) {
		case "id":
			id = string(raw)
		case "name":
			mpn = string(raw)
		case "title":
			p.Title = string(raw)
		case "short_description":
			p.Description = string(raw)
		case "supplier":
			p.Brand = strings.TrimSpace(string(raw))
		case "img_thumb":
			p.Thumbnail = string(raw)
		case "img_500x500":
			imgMedium = string(raw)
		case "img_high":
			imgHigh = string(raw)
		case "ean":
			var err error
			if eans, err = stringArray(raw); err != nil {
				return fmt.Errorf("ean: %w", err)
			}
		case "price":
			v, err := strconv.ParseFloat(string(raw), 64)
			if err != nil || v < 0 {
				return fmt.Errorf("price %q is not a non-negative number", raw)
			}
			price = int64(v)
		case "date_released":
			if len(raw) == 0 {
				break
			}
			t, err := time.Parse(time.RFC3339, string(raw))
			if err != nil {
				return fmt.Errorf("date_released: %w", err)
			}
			p.CreatedAt, created = t.UTC(), true
		default:
			switch {
			case bytes.HasPrefix(key, []byte("attr_t_")) && kind == kindString:
				name := intern(key[len("attr_t_"):])
				v := strings.TrimSpace(string(raw))
				if v == "" {
					break
				}
				if name == "product_type" {
					productType = v
				}
				addAttr(name, v)
				if name == "product_colour" {
					addAttr("color", v)
				}
			case bytes.HasPrefix(key, []byte("attr_b_")) && kind == kindBool:
				v := "no"
				if raw[0] == 't' {
					v = "yes"
				}
				addAttr(intern(key[len("attr_b_"):]), v)
			case bytes.HasPrefix(key, []byte("attr_n_")) && kind == kindNumber:
				if icecatKeptNumbers[string(key[len("attr_n_"):])] {
					addAttr(intern(key[len("attr_n_"):]), numberText(raw))
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, fmt.Errorf("product without id")
	}
	p.ID = "icecat-" + id
	p.Title = truncate(strings.TrimSpace(p.Title), catalog.MaxTitleBytes)
	p.Description = truncate(p.Description, catalog.MaxDescBytes)
	for _, img := range [...]string{imgMedium, imgHigh} {
		if img != "" {
			p.Images = append(p.Images, img)
		}
	}
	p.Category = icecatCategory(productType, p.Title)
	v := catalog.Variant{ID: p.ID + "-v1", SKU: mpn}
	if mpn != "" || len(eans) > 0 {
		v.Attributes = make(map[string]string, 2)
		if mpn != "" {
			v.Attributes["mpn"] = mpn
		}
		if len(eans) > 0 {
			v.Attributes["ean"] = eans[0]
		}
	}
	if v.SKU == "" && len(eans) > 0 {
		v.SKU = eans[0]
	}
	r := newRand(p.ID)
	if price <= 0 {
		// No Icecat product lacks a price today; generate one if a later
		// copy does: $5 to $500, log-uniform.
		price = int64(500 * math.Pow(100, r.Float64()))
		p.Generated = append(p.Generated, genPrice)
	}
	v.Price = catalog.Money{Amount: price, Currency: Currency}
	p.Variants = []catalog.Variant{v}
	fill(p, r, has{createdAt: created}, quality)
	return p, nil
}

// numberText formats a JSON number without a needless ".0".
func numberText(raw []byte) string {
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return string(raw)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Judgment is one graded relevance judgement of a product for a query.
type Judgment struct {
	Query     string
	ProductID string // as in Icecat(): "icecat-<id>"
	Rating    int    // 0 (irrelevant) to 3 (exact)
}

// IcecatJudgments returns the 3,668 judgements of judgments.csv over 135
// queries, in source order.
func IcecatJudgments() ([]Judgment, error) {
	b, err := ReadFile(icecatJudgments)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("corpora: reading %s: %w", icecatJudgments, err)
	}
	if strings.Join(head, ",") != "query,docid,rating" {
		return nil, fmt.Errorf("corpora: reading %s: header %q, want query,docid,rating", icecatJudgments, head)
	}
	js := make([]Judgment, 0, 3700)
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("corpora: reading %s: %w", icecatJudgments, err)
		}
		rating, err := strconv.Atoi(rec[2])
		if err != nil || rating < 0 || rating > 3 {
			return nil, fmt.Errorf("corpora: reading %s line %d: rating %q is not 0 to 3", icecatJudgments, line, rec[2])
		}
		js = append(js, Judgment{Query: rec[0], ProductID: "icecat-" + rec[1], Rating: rating})
	}
	return js, nil
}
