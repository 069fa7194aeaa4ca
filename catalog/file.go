package catalog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Catalog files: a store's whole catalog, or part of it, in one file, as
// doc/import.md specifies. Two formats:
//
//   - NDJSON: one product a line, shaped as the seller API's product body
//     plus its id (FileNDJSON);
//   - CSV with a header row: one row a variant, the rows of one product
//     consecutive (FileCSV).
//
// A FileDecoder reads a file one product at a time. Reading (NextChunk) is
// sequential; turning a chunk into a product (Decode) is pure and safe to
// call from several goroutines, so an importer can decode in parallel. A
// row that cannot become a valid product is not fatal: its Row carries
// every problem found, and reading goes on. Only a read error of the
// underlying io.Reader, or a CSV header that cannot be used, stops it.

// Format is the syntax of a catalog file.
type Format int

// The formats of a catalog file.
const (
	FileNDJSON Format = iota + 1
	FileCSV
)

func (f Format) String() string {
	switch f {
	case FileNDJSON:
		return "ndjson"
	case FileCSV:
		return "csv"
	}
	return "format(" + strconv.Itoa(int(f)) + ")"
}

// MaxFileLine bounds one NDJSON line (one product); a longer line is a row
// error and is skipped. It is above what the product limits allow
// (MaxDescBytes and MaxVariants).
const MaxFileLine = 4 << 20

// FileOptions say how to read a catalog file.
type FileOptions struct {
	// Currency is the currency of prices that do not name theirs; empty
	// means USD.
	Currency string
	// UnknownAsAttributes keeps a field (NDJSON member, CSV column) the
	// format does not define as an attribute of the product (or, inside
	// a variant, of the variant) instead of refusing the row.
	UnknownAsAttributes bool
	// Warehouse is the warehouse of a CSV "stock" column; empty means
	// "default".
	Warehouse string
}

func (o FileOptions) currency() string {
	if o.Currency == "" {
		return "USD"
	}
	return o.Currency
}

func (o FileOptions) warehouse() string {
	if o.Warehouse == "" {
		return "default"
	}
	return o.Warehouse
}

// ErrFile is wrapped by the errors that stop reading a catalog file.
var ErrFile = errors.New("catalog: bad catalog file")

// Row is one product read from a catalog file: the product, or the problems
// that keep it from being one.
type Row struct {
	// Line is the 1-based line of the product's first row.
	Line int
	// ID is the product id the row names, when it names one.
	ID string
	// Product is the decoded, valid product; nil when Errors is not empty.
	Product *Product
	// Errors lists every problem of the row, each with the line it is on.
	Errors []RowError
}

// RowError is one problem of a catalog file row.
type RowError struct {
	Line int
	// Field is the field as the file spells it ("variants[1].price_cents",
	// the CSV column "price"); empty for the row as a whole.
	Field  string
	Reason string
}

func (e RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason)
}

// Chunk is the raw text of one product of a catalog file: one NDJSON line
// or the CSV rows of one product. It owns its bytes.
type Chunk struct {
	Line int
	line []byte     // NDJSON
	rows [][]string // CSV
	rowL []int      // CSV: the line of each row
	err  *RowError  // a problem found while reading (an overlong line, a CSV syntax error)
}

// Size returns the bytes of the chunk's text, about.
func (c *Chunk) Size() int {
	n := len(c.line)
	for _, r := range c.rows {
		for _, f := range r {
			n += len(f) + 1
		}
	}
	return n
}

// FileDecoder reads the products of a catalog file.
type FileDecoder struct {
	format Format
	opts   FileOptions
	err    error

	// NDJSON
	br   *bufio.Reader
	line int

	// CSV
	csv *csvReader
}

// NewFileDecoder returns a decoder of the catalog file r in format f. For
// CSV it reads and checks the header: an error there is returned at once.
func NewFileDecoder(r io.Reader, f Format, opts FileOptions) (*FileDecoder, error) {
	if !KnownCurrency(opts.currency()) {
		return nil, fmt.Errorf("%w: currency %q is not known", ErrFile, opts.Currency)
	}
	d := &FileDecoder{format: f, opts: opts}
	switch f {
	case FileNDJSON:
		d.br = bufio.NewReaderSize(r, 256<<10)
	case FileCSV:
		c, err := newCSVReader(r, opts)
		if err != nil {
			return nil, err
		}
		d.csv = c
	default:
		return nil, fmt.Errorf("%w: unknown format %v", ErrFile, f)
	}
	return d, nil
}

// NextChunk reads the next product's text. It returns false at the end of
// the file or on a read error (see Err).
func (d *FileDecoder) NextChunk() (Chunk, bool) {
	if d.err != nil {
		return Chunk{}, false
	}
	if d.format == FileCSV {
		c, err := d.csv.next()
		if err != nil {
			if err != io.EOF {
				d.err = err
			}
			return Chunk{}, false
		}
		return c, true
	}
	for {
		line, err := d.readLine()
		if err != nil {
			if err != io.EOF {
				d.err = fmt.Errorf("catalog: reading line %d: %w", d.line+1, err)
			}
			return Chunk{}, false
		}
		d.line++
		if line == nil { // overlong
			return Chunk{Line: d.line, err: &RowError{Line: d.line, Reason: fmt.Sprintf("the line is longer than %d bytes", MaxFileLine)}}, true
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue // blank lines are allowed, as in most NDJSON tools
		}
		return Chunk{Line: d.line, line: line}, true
	}
}

// readLine returns the next line without its newline, as a fresh slice;
// nil and no error for a line over MaxFileLine (skipped); io.EOF at the end.
func (d *FileDecoder) readLine() ([]byte, error) {
	var buf []byte
	over := false
	for {
		frag, err := d.br.ReadSlice('\n')
		if !over {
			if len(buf)+len(frag) > MaxFileLine+1 {
				over, buf = true, nil
			} else {
				buf = append(buf, frag...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && (len(frag) > 0 || len(buf) > 0 || over):
			err = nil
		case err != nil:
			return nil, err
		}
		if over {
			return nil, nil
		}
		buf = bytes.TrimSuffix(buf, []byte{'\n'})
		buf = bytes.TrimSuffix(buf, []byte{'\r'})
		if buf == nil {
			buf = []byte{}
		}
		return buf, nil
	}
}

// Decode turns a chunk into a Row. It is safe for concurrent use.
func (d *FileDecoder) Decode(c Chunk) Row {
	if c.err != nil {
		return Row{Line: c.Line, Errors: []RowError{*c.err}}
	}
	if d.format == FileCSV {
		return d.csv.decode(c)
	}
	return decodeNDJSONLine(c.line, c.Line, d.opts)
}

// Next reads and decodes the next product; nil at the end or on a read
// error (see Err).
func (d *FileDecoder) Next() *Row {
	c, ok := d.NextChunk()
	if !ok {
		return nil
	}
	r := d.Decode(c)
	return &r
}

// Err returns the error that stopped reading, if any; reaching the end of
// the file is not an error.
func (d *FileDecoder) Err() error { return d.err }

// checkProduct validates p, turning its problems into row errors with the
// file's field names; name maps a Validate field and says on which line it
// is.
func checkProduct(p *Product, name func(field string) (string, int)) []RowError {
	err := p.Validate()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		f, l := name("")
		return []RowError{{Line: l, Field: f, Reason: err.Error()}}
	}
	out := make([]RowError, 0, len(ve.Fields))
	for _, fe := range ve.Fields {
		f, l := name(fe.Field)
		out = append(out, RowError{Line: l, Field: f, Reason: fe.Message})
	}
	return out
}

// variantIndex parses "variants[3].rest" into 3 and "rest".
func variantIndex(field string) (int, string, bool) {
	rest, ok := strings.CutPrefix(field, "variants[")
	if !ok {
		return 0, "", false
	}
	i := strings.IndexByte(rest, ']')
	if i < 0 {
		return 0, "", false
	}
	n, err := strconv.Atoi(rest[:i])
	if err != nil {
		return 0, "", false
	}
	return n, strings.TrimPrefix(rest[i+1:], "."), true
}

// sortRowErrors orders errors by line, keeping the order within a line.
func sortRowErrors(es []RowError) {
	slices.SortStableFunc(es, func(a, b RowError) int { return a.Line - b.Line })
}
