package catalog

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on a product. They bound memory per document and keep a single
// listing from dominating an index shard.
const (
	MaxVariants      = 100
	MaxTitleBytes    = 512
	MaxDescBytes     = 64 << 10
	MaxAttributes    = 200
	MaxCategoryDepth = 8
	MaxIDBytes       = 128
	// MaxPriceCents bounds a price (ten billion in the currency's major
	// unit) and MaxUnits the units of a variant in one warehouse (and of
	// one stock change): far above anything real, and low enough that
	// sums over warehouses, reservations, cart lines and orders cannot
	// overflow an int64 (doc/api.md).
	MaxPriceCents = 1_000_000_000_000
	MaxUnits      = 1_000_000_000
)

// ErrInvalid is wrapped by every validation error, so callers can branch on
// errors.Is(err, catalog.ErrInvalid).
var ErrInvalid = errors.New("catalog: invalid product")

// Currencies are the ISO 4217 codes Aisle accepts.
var currencies = map[string]bool{
	"USD": true, "EUR": true, "GBP": true, "INR": true, "JPY": true,
	"CAD": true, "AUD": true, "CHF": true, "CNY": true, "SEK": true,
	"NOK": true, "DKK": true, "PLN": true, "BRL": true, "MXN": true,
}

// KnownCurrency reports whether code is a currency Aisle accepts.
func KnownCurrency(code string) bool { return currencies[code] }

// FieldError is one problem with one field of a product.
type FieldError struct {
	Field   string
	Message string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError lists every problem found in a product.
type ValidationError struct {
	ProductID string
	Fields    []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "catalog: invalid product %q: ", e.ProductID)
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Error())
	}
	return b.String()
}

func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Validate checks p and returns a *ValidationError listing every problem, or
// nil.
func (p *Product) Validate() error {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	checkText := func(field, s string, max int) {
		if !utf8.ValidString(s) {
			add(field, "is not valid UTF-8")
		}
		if len(s) > max {
			add(field, "is %d bytes, more than the limit of %d", len(s), max)
		}
	}
	switch {
	case p.ID == "":
		add("id", "is empty")
	default:
		checkText("id", p.ID, MaxIDBytes)
	}
	if strings.TrimSpace(p.Title) == "" {
		add("title", "is empty")
	}
	checkText("title", p.Title, MaxTitleBytes)
	checkText("description", p.Description, MaxDescBytes)
	checkText("brand", p.Brand, MaxTitleBytes)
	if len(p.Category) > MaxCategoryDepth {
		add("category", "has %d levels, more than the limit of %d", len(p.Category), MaxCategoryDepth)
	}
	for i, c := range p.Category {
		if strings.TrimSpace(c) == "" {
			add(fmt.Sprintf("category[%d]", i), "is empty")
		}
		checkText(fmt.Sprintf("category[%d]", i), c, MaxTitleBytes)
	}
	if len(p.Attributes) > MaxAttributes {
		add("attributes", "has %d entries, more than the limit of %d", len(p.Attributes), MaxAttributes)
	}
	if p.Rating.Avg < 0 || p.Rating.Avg > 5 {
		add("rating.avg", "is %g, outside 0 to 5", p.Rating.Avg)
	}
	if p.Rating.Count < 0 {
		add("rating.count", "is negative (%d)", p.Rating.Count)
	}
	if p.SalesVelocity < 0 {
		add("sales_velocity", "is negative (%g)", p.SalesVelocity)
	}
	if p.Sponsored < 0 {
		add("sponsored_bid", "is negative (%d)", p.Sponsored)
	}
	switch n := len(p.Variants); {
	case n == 0:
		add("variants", "is empty: a product needs at least one variant with a price")
	case n > MaxVariants:
		add("variants", "has %d entries, more than the limit of %d", n, MaxVariants)
	}
	seen := make(map[string]bool, len(p.Variants))
	for i := range p.Variants {
		v := &p.Variants[i]
		f := fmt.Sprintf("variants[%d]", i)
		if v.ID == "" {
			add(f+".variant_id", "is empty")
		} else if seen[v.ID] {
			add(f+".variant_id", "%q repeats an earlier variant", v.ID)
		}
		seen[v.ID] = true
		if v.Price.Amount < 0 {
			add(f+".price.amount", "is negative (%d)", v.Price.Amount)
		} else if v.Price.Amount > MaxPriceCents {
			add(f+".price.amount", "is %d, more than the limit of %d", v.Price.Amount, int64(MaxPriceCents))
		}
		if !KnownCurrency(v.Price.Currency) {
			add(f+".price.currency", "%q is not a known currency", v.Price.Currency)
		}
		if v.CompareAt.Amount < 0 {
			add(f+".compare_at.amount", "is negative (%d)", v.CompareAt.Amount)
		} else if v.CompareAt.Amount > MaxPriceCents {
			add(f+".compare_at.amount", "is %d, more than the limit of %d", v.CompareAt.Amount, int64(MaxPriceCents))
		}
		if v.CompareAt.Amount > 0 && v.CompareAt.Currency != v.Price.Currency {
			add(f+".compare_at.currency", "%q differs from the price currency %q", v.CompareAt.Currency, v.Price.Currency)
		}
		for w, q := range v.Stock {
			if q < 0 {
				add(f+".stock."+w, "is negative (%d)", q)
			} else if q > MaxUnits {
				add(f+".stock."+w, "is %d units, more than the limit of %d", q, MaxUnits)
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{ProductID: p.ID, Fields: errs}
}

// ErrIDTaken is an id that another product already uses: a seller may not
// give its product a variant id that another product holds.
var ErrIDTaken = errors.New("catalog: the id belongs to another product")

// MaxSellerIDBytes bounds the ids a seller chooses (variant and warehouse
// ids): short enough for every endpoint that takes them in a path or a
// body (the cart takes up to 256 bytes).
const MaxSellerIDBytes = 128

// CheckSellerID checks an id a seller chooses: 1 to MaxSellerIDBytes
// bytes of ASCII letters, digits and "-", "_", ".", ":", so that it can
// stand in a URL path unescaped (a "/" could never be PATCHed) and holds
// no control byte.
func CheckSellerID(id string) error {
	if id == "" {
		return errors.New("is empty")
	}
	if len(id) > MaxSellerIDBytes {
		return fmt.Errorf("has %d bytes; at most %d", len(id), MaxSellerIDBytes)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return fmt.Errorf("holds %q at byte %d; use letters, digits, '-', '_', '.' and ':'", id[i:i+1], i)
		}
	}
	return nil
}
