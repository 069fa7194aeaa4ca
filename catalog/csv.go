package catalog

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CSV catalog files: a header row naming the columns, then one row a
// variant; the rows of one product are consecutive and share its id. The
// product's own columns (title, brand, ...) are read from its first row; a
// later row may leave them empty or repeat them, but not change them.
// doc/import.md lists the columns.

// Column kinds of a CSV catalog file.
const (
	colID = iota
	colVersion
	colTitle
	colDescription
	colBrand
	colCategory
	colImages
	colThumbnail
	colCurrency
	colRating
	colRatingCount
	colCreatedAt
	colVariantID
	colSKU
	colPrice
	colPriceCents
	colCompare
	colCompareCents
	colStock      // units in FileOptions.Warehouse
	colStockAt    // stock.<warehouse>
	colAttr       // attr.<name>, or an unknown column kept as an attribute
	colVariantAtt // variant.<name>
)

// productColumns are the columns of the product, not of one variant: a
// product's later rows must agree with its first on them.
var csvColumns = map[string]int{
	"id": colID, "external_id": colID, "version": colVersion, "title": colTitle,
	"description": colDescription, "brand": colBrand, "category": colCategory,
	"images": colImages, "thumbnail_url": colThumbnail, "currency": colCurrency,
	"rating": colRating, "rating_count": colRatingCount, "created_at": colCreatedAt,
	"variant_id": colVariantID, "sku": colSKU, "price": colPrice, "price_cents": colPriceCents,
	"compare_at_price": colCompare, "compare_price_cents": colCompareCents, "stock": colStock,
}

// CategorySeparator separates the levels of a CSV category path.
const CategorySeparator = " > "

type csvColumn struct {
	kind int
	name string // the header's text
	key  string // the warehouse or attribute name
}

type csvReader struct {
	r    *csv.Reader
	opts FileOptions
	cols []csvColumn
	id   int // index of the id column

	peek     []string // the next product's first row, read ahead
	peekLine int
	peekErr  *RowError
	done     error
}

func newCSVReader(r io.Reader, opts FileOptions) (*csvReader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: the CSV file is empty; it needs a header row", ErrFile)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the CSV header: %v", ErrFile, err)
	}
	c := &csvReader{r: cr, opts: opts, id: -1}
	seen := map[string]bool{}
	var problems []string
	has := map[int]bool{}
	for i, h := range head {
		name := strings.TrimSpace(h)
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff") // a spreadsheet's byte order mark
		}
		col := csvColumn{name: name}
		if k, ok := csvColumns[name]; ok {
			col.kind = k
		} else if w, ok := strings.CutPrefix(name, "stock."); ok && w != "" {
			col.kind, col.key = colStockAt, w
		} else if a, ok := strings.CutPrefix(name, "attr."); ok && a != "" {
			col.kind, col.key = colAttr, a
		} else if a, ok := strings.CutPrefix(name, "variant."); ok && a != "" {
			col.kind, col.key = colVariantAtt, a
		} else if opts.UnknownAsAttributes && name != "" {
			col.kind, col.key = colAttr, name
		} else {
			problems = append(problems, fmt.Sprintf("column %d %q is not a column of the format (doc/import.md); import with --unknown-fields=attributes to keep it as an attribute", i+1, name))
			continue
		}
		if seen[name] || (col.kind == colID && has[colID]) {
			problems = append(problems, fmt.Sprintf("column %d %q repeats an earlier column", i+1, name))
		}
		seen[name], has[col.kind] = true, true
		if col.kind == colID {
			c.id = i
		}
		c.cols = append(c.cols, col)
	}
	if len(c.cols) != len(head) && len(problems) == 0 {
		problems = append(problems, "unusable columns")
	}
	if !has[colID] {
		problems = append(problems, `no "id" column`)
	}
	if !has[colTitle] {
		problems = append(problems, `no "title" column`)
	}
	if !has[colPrice] && !has[colPriceCents] {
		problems = append(problems, `no "price" (or "price_cents") column`)
	}
	if has[colPrice] && has[colPriceCents] {
		problems = append(problems, `both "price" and "price_cents" columns; keep one`)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: line 1 (the CSV header): %s", ErrFile, strings.Join(problems, "; "))
	}
	return c, nil
}

// read reads the next record into the lookahead.
func (c *csvReader) read() {
	c.peek, c.peekErr = nil, nil
	if c.done != nil {
		return
	}
	rec, err := c.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			c.peekLine = pe.StartLine
			c.peekErr = &RowError{Line: pe.StartLine, Reason: "the row is not valid CSV: " + pe.Err.Error()}
			return
		}
		if err != io.EOF {
			err = fmt.Errorf("catalog: reading the CSV file: %w", err)
		}
		c.done = err
		return
	}
	c.peek = rec
	c.peekLine, _ = c.r.FieldPos(0)
}

// next returns the rows of the next product.
func (c *csvReader) next() (Chunk, error) {
	if c.peek == nil && c.peekErr == nil {
		c.read()
	}
	if c.peekErr != nil {
		ch := Chunk{Line: c.peekLine, err: c.peekErr}
		c.read()
		return ch, nil
	}
	if c.peek == nil {
		return Chunk{}, c.done
	}
	ch := Chunk{Line: c.peekLine}
	id := c.field(c.peek, c.id)
	for {
		ch.rows = append(ch.rows, c.peek)
		ch.rowL = append(ch.rowL, c.peekLine)
		c.read()
		if c.peek == nil || id == "" || c.field(c.peek, c.id) != id || len(ch.rows) > MaxVariants {
			return ch, nil
		}
	}
}

func (c *csvReader) field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// decode builds the product of a chunk's rows.
func (c *csvReader) decode(ch Chunk) Row {
	row := Row{Line: ch.Line}
	add := func(line int, field, format string, args ...any) {
		row.Errors = append(row.Errors, RowError{Line: line, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	p := &Product{}
	first := map[int]string{} // column -> the product's value, from its first row
	cur := c.opts.currency()
	short := false // a row with the wrong number of fields
	for ri, rec := range ch.rows {
		line := ch.rowL[ri]
		if len(rec) != len(c.cols) {
			add(line, "", "has %d fields; the header has %d", len(rec), len(c.cols))
			short = true
			continue
		}
		v := Variant{}
		var price, compare string
		var priceCents, compareCents bool
		for i, col := range c.cols {
			val := strings.TrimSpace(rec[i])
			switch col.kind {
			case colVariantID:
				v.ID = val
				continue
			case colSKU:
				v.SKU = val
				continue
			case colPrice, colPriceCents:
				price, priceCents = val, col.kind == colPriceCents
				continue
			case colCompare, colCompareCents:
				compare, compareCents = val, col.kind == colCompareCents
				continue
			case colStock, colStockAt:
				if val == "" {
					continue
				}
				w := col.key
				if col.kind == colStock {
					w = c.opts.warehouse()
				}
				q, err := strconv.Atoi(val)
				if err != nil || q < 0 {
					add(line, col.name, "%q is not a whole number of units", val)
					continue
				}
				if v.Stock == nil {
					v.Stock = map[string]int{}
				}
				v.Stock[w] = q
				continue
			case colVariantAtt:
				if val != "" {
					if v.Attributes == nil {
						v.Attributes = map[string]string{}
					}
					v.Attributes[col.key] = val
				}
				continue
			}
			// A product column.
			if ri > 0 {
				if val != "" && val != first[i] {
					add(line, col.name, "is %q; the product's first row (line %d) says %q, and a product has one", val, ch.rowL[0], first[i])
				}
				continue
			}
			first[i] = val
			if val == "" {
				continue
			}
			switch col.kind {
			case colID:
				p.ID = val
			case colVersion:
				n, err := strconv.ParseUint(val, 10, 64)
				if err != nil {
					add(line, col.name, "%q is not a positive whole number", val)
				}
				p.Version = n
			case colTitle:
				p.Title = val
			case colDescription:
				p.Description = val
			case colBrand:
				p.Brand = val
			case colCategory:
				for _, lvl := range strings.Split(val, CategorySeparator) {
					p.Category = append(p.Category, strings.TrimSpace(lvl))
				}
			case colImages:
				for _, u := range strings.Split(val, "|") {
					if u = strings.TrimSpace(u); u != "" {
						p.Images = append(p.Images, u)
					}
				}
			case colThumbnail:
				p.Thumbnail = val
			case colCurrency:
				if !KnownCurrency(val) {
					add(line, col.name, "%q is not a known currency", val)
				} else {
					cur = val
				}
			case colRating:
				f, err := strconv.ParseFloat(val, 64)
				if err != nil {
					add(line, col.name, "%q is not a number", val)
				}
				p.Rating.Avg = f
			case colRatingCount:
				n, err := strconv.Atoi(val)
				if err != nil {
					add(line, col.name, "%q is not a whole number", val)
				}
				p.Rating.Count = n
			case colCreatedAt:
				t, err := time.Parse(time.RFC3339, val)
				if err != nil {
					add(line, col.name, "%q is not an RFC 3339 time (2024-05-01T10:00:00Z)", val)
				}
				p.CreatedAt = t
			case colAttr:
				if p.Attributes == nil {
					p.Attributes = map[string]string{}
				}
				p.Attributes[col.key] = val
			}
		}
		if v.ID == "" {
			v.ID = p.ID + "-" + strconv.Itoa(ri+1)
		}
		v.Price.Currency = cur
		switch {
		case price == "" && priceCents:
			add(line, "price_cents", "is required")
		case price == "":
			add(line, "price", "is required")
		case priceCents:
			n, err := strconv.ParseInt(price, 10, 64)
			if err != nil {
				add(line, "price_cents", "%q is not a whole number of minor units", price)
			}
			v.Price.Amount = n
		default:
			n, err := ParseDecimal(price, MinorDigits(cur))
			if err != nil {
				add(line, "price", "%v", err)
			}
			v.Price.Amount = n
		}
		if compare != "" {
			var n int64
			var err error
			if compareCents {
				n, err = strconv.ParseInt(compare, 10, 64)
			} else {
				n, err = ParseDecimal(compare, MinorDigits(cur))
			}
			if err != nil {
				f := "compare_at_price"
				if compareCents {
					f = "compare_price_cents"
				}
				add(line, f, "%v", err)
			}
			if n != 0 {
				v.CompareAt = Money{Amount: n, Currency: cur}
			}
		}
		p.Variants = append(p.Variants, v)
	}
	row.ID = p.ID
	if short {
		return row // the product's other problems cannot be told
	}
	// Validation runs even after the problems above, so a row reports all
	// of its problems at once; a field already reported is not repeated.
	for _, e := range checkProduct(p, func(field string) (string, int) {
		if i, rest, ok := variantIndex(field); ok && i < len(ch.rowL) {
			return csvField(rest), ch.rowL[i]
		}
		return csvField(field), ch.Line
	}) {
		if !slices.ContainsFunc(row.Errors, func(o RowError) bool { return o.Line == e.Line && o.Field == e.Field }) {
			row.Errors = append(row.Errors, e)
		}
	}
	sortRowErrors(row.Errors)
	if len(row.Errors) == 0 {
		row.Product = p
	}
	return row
}

// csvField names a Validate field as a CSV header spells it.
func csvField(f string) string {
	switch {
	case f == "price.amount" || f == "price.currency":
		return "price"
	case f == "compare_at.amount":
		return "compare_at_price"
	case f == "compare_at.currency":
		return "currency"
	case strings.HasPrefix(f, "stock."):
		return f
	case strings.HasPrefix(f, "category"):
		return "category"
	case f == "rating.avg":
		return "rating"
	case f == "rating.count":
		return "rating_count"
	case f == "variants":
		return ""
	}
	return f
}
