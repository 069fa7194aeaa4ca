package catalog

import (
	"time"

	"github.com/go-json-experiment/json"
)

// fileLine is the NDJSON line AppendNDJSON writes: the fields of the
// catalog file format that a Product holds.
type fileLine struct {
	ID           string            `json:"id"`
	Title        string            `json:"title"`
	Description  string            `json:"description,omitempty"`
	Brand        string            `json:"brand,omitempty"`
	CategoryPath []string          `json:"category_path,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	Images       []string          `json:"images,omitempty"`
	ThumbnailURL string            `json:"thumbnail_url,omitempty"`
	Currency     string            `json:"currency,omitempty"`
	Rating       *Rating           `json:"rating,omitempty"`
	CreatedAt    *time.Time        `json:"created_at,omitempty"`
	Variants     []fileLineVariant `json:"variants"`
}

type fileLineVariant struct {
	VariantID         string            `json:"variant_id"`
	SKU               string            `json:"sku,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
	PriceCents        int64             `json:"price_cents"`
	ComparePriceCents int64             `json:"compare_price_cents,omitempty"`
	Stock             map[string]int    `json:"stock,omitempty"`
}

// AppendNDJSON appends p as one line of an NDJSON catalog file, with its
// newline: what NewFileDecoder reads back as p, less what the format does
// not carry (version, seller, sales, sponsorship, badges). Maps are
// written in key order. The currency is the first variant's.
func AppendNDJSON(dst []byte, p *Product) ([]byte, error) {
	l := fileLine{ID: p.ID, Title: p.Title, Description: p.Description, Brand: p.Brand,
		CategoryPath: p.Category, Attributes: p.Attributes, Images: p.Images, ThumbnailURL: p.Thumbnail}
	if p.Rating != (Rating{}) {
		r := p.Rating
		l.Rating = &r
	}
	if !p.CreatedAt.IsZero() {
		t := p.CreatedAt
		l.CreatedAt = &t
	}
	l.Variants = make([]fileLineVariant, len(p.Variants))
	for i := range p.Variants {
		v := &p.Variants[i]
		if i == 0 {
			l.Currency = v.Price.Currency
		}
		l.Variants[i] = fileLineVariant{VariantID: v.ID, SKU: v.SKU, Attributes: v.Attributes,
			PriceCents: v.Price.Amount, ComparePriceCents: v.CompareAt.Amount, Stock: v.Stock}
	}
	b, err := json.Marshal(&l, json.Deterministic(true))
	if err != nil {
		return dst, err
	}
	return append(append(dst, b...), '\n'), nil
}
