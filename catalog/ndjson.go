package catalog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// fileProduct is one NDJSON line of a catalog file: the seller API's
// product body (doc/api.md) plus the product's id and, optionally, the
// source system's version.
type fileProduct struct {
	ID           string                    `json:"id"`
	ExternalID   string                    `json:"external_id"`
	Version      uint64                    `json:"version"`
	Title        string                    `json:"title"`
	Description  string                    `json:"description"`
	Brand        string                    `json:"brand"`
	CategoryPath []string                  `json:"category_path"`
	Attributes   map[string]string         `json:"attributes"`
	Images       []string                  `json:"images"`
	ThumbnailURL string                    `json:"thumbnail_url"`
	Currency     string                    `json:"currency"`
	Rating       *Rating                   `json:"rating"`
	CreatedAt    time.Time                 `json:"created_at"`
	Variants     []fileVariant             `json:"variants"`
	Unknown      map[string]jsontext.Value `json:",unknown"`
}

type fileVariant struct {
	VariantID         string                    `json:"variant_id"`
	SKU               string                    `json:"sku"`
	Attributes        map[string]string         `json:"attributes"`
	PriceCents        *int64                    `json:"price_cents"`
	Price             jsontext.Value            `json:"price"`
	ComparePriceCents int64                     `json:"compare_price_cents"`
	ComparePrice      jsontext.Value            `json:"compare_at_price"`
	Stock             fileStockValue            `json:"stock"`
	Unknown           map[string]jsontext.Value `json:",unknown"`
}

type fileStock struct {
	WarehouseID string `json:"warehouse_id"`
	Available   int    `json:"available"`
}

// fileJSON are json v2's defaults: duplicate member names, invalid UTF-8
// and data after the value are refused.
var fileJSON = json.JoinOptions()

// decodeNDJSONLine decodes one NDJSON line of a catalog file.
func decodeNDJSONLine(line []byte, n int, opts FileOptions) Row {
	row := Row{Line: n}
	add := func(field, format string, args ...any) {
		row.Errors = append(row.Errors, RowError{Line: n, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	fp, ok := decodeFileLineFast(line)
	if !ok {
		// Unusual or invalid text: the general decoder decides and says
		// what is wrong.
		fp = fileProduct{}
		if err := json.Unmarshal(line, &fp, fileJSON); err != nil {
			field, reason := jsonProblem(err)
			add(field, "%s", reason)
			return row
		}
	}
	switch {
	case fp.ID != "" && fp.ExternalID != "" && fp.ID != fp.ExternalID:
		add("external_id", "differs from id %q; give one of them", fp.ID)
	case fp.ID == "" && fp.ExternalID == "":
		add("id", "is required (or external_id)")
	case fp.ID == "":
		fp.ID = fp.ExternalID
	}
	row.ID = fp.ID
	cur := fp.Currency
	if cur == "" {
		cur = opts.currency()
	} else if !KnownCurrency(cur) {
		add("currency", "%q is not a known currency", cur)
		cur = opts.currency()
	}
	p := &Product{
		ID: fp.ID, Title: fp.Title, Description: fp.Description, Brand: fp.Brand,
		Category: fp.CategoryPath, Attributes: fp.Attributes, Images: fp.Images,
		Thumbnail: fp.ThumbnailURL, Version: fp.Version, CreatedAt: fp.CreatedAt,
	}
	if fp.Rating != nil {
		p.Rating = *fp.Rating
	}
	p.Attributes = unknownAttributes("", fp.Unknown, p.Attributes, opts, add)
	for i := range fp.Variants {
		fv := &fp.Variants[i]
		f := "variants[" + strconv.Itoa(i) + "]"
		v := Variant{ID: fv.VariantID, SKU: fv.SKU, Attributes: fv.Attributes}
		if v.ID == "" {
			v.ID = fp.ID + "-" + strconv.Itoa(i+1)
		}
		v.Attributes = unknownAttributes(f+".", fv.Unknown, v.Attributes, opts, add)
		digits := MinorDigits(cur)
		switch {
		case fv.PriceCents != nil && len(fv.Price) > 0:
			add(f+".price", "and price_cents are both given; give one")
		case fv.PriceCents != nil:
			v.Price = Money{Amount: *fv.PriceCents, Currency: cur}
		case len(fv.Price) > 0:
			a, err := jsonDecimal(fv.Price, digits)
			if err != nil {
				add(f+".price", "%v", err)
			}
			v.Price = Money{Amount: a, Currency: cur}
		default:
			add(f+".price_cents", "is required (or price, in major units)")
		}
		switch {
		case fv.ComparePriceCents != 0 && len(fv.ComparePrice) > 0:
			add(f+".compare_at_price", "and compare_price_cents are both given; give one")
		case fv.ComparePriceCents != 0:
			v.CompareAt = Money{Amount: fv.ComparePriceCents, Currency: cur}
		case len(fv.ComparePrice) > 0:
			a, err := jsonDecimal(fv.ComparePrice, digits)
			if err != nil {
				add(f+".compare_at_price", "%v", err)
			}
			if a != 0 {
				v.CompareAt = Money{Amount: a, Currency: cur}
			}
		}
		v.Stock = fv.Stock.m
		for _, b := range fv.Stock.bad {
			add(f+".stock"+b.field, "%s", b.reason)
		}
		p.Variants = append(p.Variants, v)
	}
	if len(row.Errors) > 0 {
		return row
	}
	row.Errors = checkProduct(p, func(field string) (string, int) { return ndjsonField(field), n })
	if len(row.Errors) == 0 {
		row.Product = p
	}
	return row
}

// unknownAttributes handles the unknown members of an object: refused, or
// kept as attributes (text, numbers and booleans as their text).
func unknownAttributes(prefix string, unknown map[string]jsontext.Value, attrs map[string]string,
	opts FileOptions, add func(field, format string, args ...any)) map[string]string {
	for k, v := range unknown {
		if !opts.UnknownAsAttributes {
			add(prefix+k, "is not a field of the format (doc/import.md); import with --unknown-fields=attributes to keep it as an attribute")
			continue
		}
		var s string
		switch v.Kind() {
		case '"':
			if err := json.Unmarshal(v, &s); err != nil {
				add(prefix+k, "%v", err)
				continue
			}
		case '0', 't', 'f':
			s = string(v)
		case 'n':
			continue
		default:
			add(prefix+k, "is a JSON %s; only text, numbers and booleans can become attributes", kindName(v.Kind()))
			continue
		}
		if attrs == nil {
			attrs = map[string]string{}
		}
		if _, dup := attrs[k]; dup {
			add(prefix+k, "is also in attributes")
			continue
		}
		attrs[k] = s
	}
	return attrs
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return k.String()
}

// fileStockValue is a variant's stock as a line gives it: a list of
// {"warehouse_id","available"}, as the seller API takes it, or an object of
// units by warehouse. It is decoded in the same pass as the line; the
// problems of its entries are kept, with their place, for the row's
// errors.
type fileStockValue struct {
	m   map[string]int
	bad []fieldProblem
}

type fieldProblem struct{ field, reason string }

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (s *fileStockValue) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	problem := func(field, format string, args ...any) {
		s.bad = append(s.bad, fieldProblem{field, fmt.Sprintf(format, args...)})
	}
	switch d.PeekKind() {
	case 'n':
		_, err := d.ReadToken()
		return err
	case '[':
		if _, err := d.ReadToken(); err != nil {
			return err
		}
		s.m = map[string]int{}
		for j := 0; d.PeekKind() != ']'; j++ {
			var fs fileStock
			if err := json.UnmarshalDecode(d, &fs, json.RejectUnknownMembers(true)); err != nil {
				return err
			}
			f := "[" + strconv.Itoa(j) + "]"
			switch {
			case fs.WarehouseID == "":
				problem(f+".warehouse_id", "is empty")
			case fs.Available < 0:
				problem(f+".available", "is negative (%d)", fs.Available)
			default:
				if _, dup := s.m[fs.WarehouseID]; dup {
					problem(f+".warehouse_id", "%q repeats an earlier entry", fs.WarehouseID)
				}
				s.m[fs.WarehouseID] = fs.Available
			}
		}
		_, err := d.ReadToken()
		return err
	case '{':
		if err := json.UnmarshalDecode(d, &s.m); err != nil {
			return err
		}
		for w, q := range s.m {
			if w == "" {
				problem("", "names an empty warehouse")
			} else if q < 0 {
				problem("."+w, "is negative (%d)", q)
			}
		}
		return nil
	}
	return errors.New("must be a list of {warehouse_id, available} or an object of units by warehouse")
}

// jsonDecimal reads a price in major units given as a JSON number or
// string.
func jsonDecimal(v jsontext.Value, digits int) (int64, error) {
	s := string(v)
	switch v.Kind() {
	case '"':
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, err
		}
	case '0':
	default:
		return 0, fmt.Errorf("must be a number, in major units (19.99)")
	}
	return ParseDecimal(s, digits)
}

// ParseDecimal parses a non-negative amount in major units ("19.99") into
// minor units with the given number of decimal digits (1999 for 2).
// Trailing zeros beyond digits are accepted; other extra digits, signs,
// exponents and separators are not.
func ParseDecimal(s string, digits int) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" && (!dot || frac == "") {
		return 0, fmt.Errorf("%q is not an amount like 19.99", s)
	}
	extra := strings.TrimRight(frac, "0")
	if len(frac) > digits {
		if len(extra) > digits {
			return 0, fmt.Errorf("%q has more than %d decimals", s, digits)
		}
		frac = frac[:digits]
	}
	for _, part := range [2]string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, fmt.Errorf("%q is not an amount like 19.99 (digits and one point only)", s)
			}
		}
	}
	if len(whole) > 13 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	var n int64
	for i := 0; i < len(whole); i++ {
		n = n*10 + int64(whole[i]-'0')
	}
	for i := 0; i < digits; i++ {
		n *= 10
		if i < len(frac) {
			n += int64(frac[i] - '0')
		}
	}
	return n, nil
}

// MinorDigits returns the decimals of currency's minor unit: 0 for JPY, 2
// otherwise.
func MinorDigits(currency string) int {
	if currency == "JPY" {
		return 0
	}
	return 2
}

// jsonProblem turns a json v2 error into a file field and a reason.
func jsonProblem(err error) (field, reason string) {
	var se *json.SemanticError
	if errors.As(err, &se) {
		field = pointerField(string(se.JSONPointer))
		switch {
		case errors.Is(se.Err, json.ErrUnknownName):
			reason = "is not a field of the format (doc/import.md)"
		case se.GoType != nil && se.JSONKind != 0:
			reason = fmt.Sprintf("is a JSON %s; want %s", kindName(se.JSONKind), goTypeName(se.GoType.String()))
		case se.Err != nil:
			reason = se.Err.Error()
		default:
			reason = err.Error()
		}
		return field, reason
	}
	var sy *jsontext.SyntacticError
	if errors.As(err, &sy) {
		return pointerField(string(sy.JSONPointer)), "the line is not valid JSON: " + sy.Err.Error()
	}
	return "", "the line is not valid JSON: " + err.Error()
}

func goTypeName(t string) string {
	switch {
	case strings.HasPrefix(t, "map["):
		return "an object"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "*int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "a number"
	case t == "string":
		return "text"
	case t == "time.Time":
		return "an RFC 3339 time"
	}
	return "an object"
}

// pointerField turns a JSON pointer ("/variants/0/price_cents") into a file
// field ("variants[0].price_cents").
func pointerField(ptr string) string {
	if ptr == "" {
		return ""
	}
	var b strings.Builder
	for i, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if _, err := strconv.Atoi(tok); err == nil && i > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// ndjsonField names a Validate field as an NDJSON line spells it.
func ndjsonField(f string) string {
	for _, r := range [...][2]string{
		{".price.amount", ".price_cents"}, {".compare_at.amount", ".compare_price_cents"},
		{".price.currency", ".currency"}, {".compare_at.currency", ".currency"},
		{"category", "category_path"},
	} {
		f = strings.Replace(f, r[0], r[1], 1)
	}
	return f
}
