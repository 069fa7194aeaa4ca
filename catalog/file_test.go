package catalog

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// readAll decodes a whole catalog file.
func readAll(t testing.TB, f Format, text string, opts FileOptions) ([]*Product, []RowError, error) {
	d, err := NewFileDecoder(strings.NewReader(text), f, opts)
	if err != nil {
		return nil, nil, err
	}
	var ps []*Product
	var errs []RowError
	for r := d.Next(); r != nil; r = d.Next() {
		if r.Product != nil {
			if len(r.Errors) > 0 {
				t.Fatalf("line %d: a product and errors %v", r.Line, r.Errors)
			}
			ps = append(ps, r.Product)
		}
		errs = append(errs, r.Errors...)
	}
	return ps, errs, d.Err()
}

func errStrings(es []RowError) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Error())
	}
	return out
}

func TestNDJSON(t *testing.T) {
	good := `{"id":"k-1","title":"Kettle","brand":"Acme","category_path":["Kitchen","Kettles"],"attributes":{"color":"red"},` +
		`"images":["https://x/k.jpg"],"variants":[{"sku":"K1","price_cents":1999,"compare_price_cents":2499,"stock":[{"warehouse_id":"wh-east","available":3}]},` +
		`{"variant_id":"k-1-big","price":"24.5","stock":{"wh-west":2}}]}`
	ps, errs, err := readAll(t, FileNDJSON, good+"\n\n"+`{"external_id":"k-2","title":"Mug","variants":[{"price":4}]}`+"\r\n", FileOptions{})
	if err != nil || len(errs) > 0 {
		t.Fatalf("err %v, row errors %v", err, errs)
	}
	if len(ps) != 2 {
		t.Fatalf("%d products, want 2", len(ps))
	}
	k := ps[0]
	want := []Variant{
		{ID: "k-1-1", SKU: "K1", Price: Money{1999, "USD"}, CompareAt: Money{2499, "USD"}, Stock: map[string]int{"wh-east": 3}},
		{ID: "k-1-big", Price: Money{2450, "USD"}, Stock: map[string]int{"wh-west": 2}},
	}
	if !reflect.DeepEqual(k.Variants, want) || k.Brand != "Acme" || !reflect.DeepEqual(k.Category, []string{"Kitchen", "Kettles"}) ||
		k.Attributes["color"] != "red" || len(k.Images) != 1 {
		t.Errorf("kettle decoded as %+v", k)
	}
	if ps[1].ID != "k-2" || ps[1].Variants[0].Price.Amount != 400 {
		t.Errorf("mug decoded as %+v", ps[1])
	}
}

func TestNDJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		opts       FileOptions
		want       []string
	}{
		{"not json", `{"id":`, FileOptions{}, []string{"line 1: id: the line is not valid JSON"}},
		{"trailing", `{"id":"a","title":"A","variants":[{"price_cents":1}]} x`, FileOptions{}, []string{"line 1: the line is not valid JSON"}},
		{"no id", `{"title":"A","variants":[{"price_cents":1}]}`, FileOptions{}, []string{"line 1: id: is required"}},
		{"wrong type", `{"id":"a","title":"A","variants":[{"price_cents":"1"}]}`, FileOptions{}, []string{"line 1: variants[0].price_cents: is a JSON string; want a number"}},
		{"no price", `{"id":"a","title":"A","variants":[{"sku":"x"}]}`, FileOptions{}, []string{"line 1: variants[0].price_cents: is required"}},
		{"both prices", `{"id":"a","title":"A","variants":[{"price_cents":1,"price":1}]}`, FileOptions{}, []string{"line 1: variants[0].price: and price_cents are both given"}},
		{"bad decimal", `{"id":"a","title":"A","variants":[{"price":"1.999"}]}`, FileOptions{}, []string{`line 1: variants[0].price: "1.999" has more than 2 decimals`}},
		{"unknown refused", `{"id":"a","title":"A","colour":"red","variants":[{"price_cents":1,"size":"L"}]}`, FileOptions{},
			[]string{"line 1: colour: is not a field of the format", "line 1: variants[0].size: is not a field of the format"}},
		{"unknown object", `{"id":"a","title":"A","dims":{"w":1},"variants":[{"price_cents":1}]}`, FileOptions{UnknownAsAttributes: true},
			[]string{"line 1: dims: is a JSON object; only text"}},
		{"validation, every problem", `{"id":"a","title":" ","category_path":["x",""],"variants":[{"price_cents":-1},{"variant_id":"a-1","price_cents":5,"stock":[{"warehouse_id":"w","available":-2}]}]}`, FileOptions{},
			[]string{"line 1: variants[1].stock[0].available: is negative (-2)"}},
		{"validation", `{"id":"a","title":" ","category_path":["x",""],"variants":[{"price_cents":-1},{"variant_id":"a-1","price_cents":5}]}`, FileOptions{},
			[]string{"line 1: title: is empty", "line 1: category_path[1]: is empty", "line 1: variants[0].price_cents: is negative (-1)", `line 1: variants[1].variant_id: "a-1" repeats`}},
		{"duplicate member", `{"id":"a","id":"b","title":"A","variants":[{"price_cents":1}]}`, FileOptions{}, []string{"line 1: id: the line is not valid JSON: duplicate object member"}},
		{"stock entry", `{"id":"a","title":"A","variants":[{"price_cents":1,"stock":[{"warehouse":"w"}]}]}`, FileOptions{}, []string{"line 1: variants[0].stock[0].warehouse: is not a field of the format"}},
		{"stock shape", `{"id":"a","title":"A","variants":[{"price_cents":1,"stock":"x"}]}`, FileOptions{}, []string{"line 1: variants[0].stock: must be a list of {warehouse_id, available} or an object"}},
		{"stock object", `{"id":"a","title":"A","variants":[{"price_cents":1,"stock":{"w":-1}}]}`, FileOptions{}, []string{"line 1: variants[0].stock.w: is negative (-1)"}},
		{"currency", `{"id":"a","title":"A","currency":"XYZ","variants":[{"price_cents":1}]}`, FileOptions{}, []string{`line 1: currency: "XYZ" is not a known currency`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, errs, err := readAll(t, FileNDJSON, tc.line+"\n", tc.opts)
			if err != nil || len(ps) != 0 {
				t.Fatalf("err %v, products %v", err, ps)
			}
			got := errStrings(errs)
			if len(got) != len(tc.want) {
				t.Fatalf("errors %q, want %d like %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("error %d is %q, want it to start %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestNDJSONUnknownAsAttributes(t *testing.T) {
	ps, errs, err := readAll(t, FileNDJSON, `{"id":"a","title":"A","colour":"red","organic":true,"weight":1.5,"x":null,"variants":[{"price_cents":1,"size":"L"}]}`, FileOptions{UnknownAsAttributes: true})
	if err != nil || len(errs) > 0 || len(ps) != 1 {
		t.Fatalf("err %v, errors %v, %d products", err, errs, len(ps))
	}
	want := map[string]string{"colour": "red", "organic": "true", "weight": "1.5"}
	if !reflect.DeepEqual(ps[0].Attributes, want) || ps[0].Variants[0].Attributes["size"] != "L" {
		t.Errorf("attributes %v, variant %v", ps[0].Attributes, ps[0].Variants[0].Attributes)
	}
}

func TestNDJSONLongLine(t *testing.T) {
	long := `{"id":"a","title":"` + strings.Repeat("x", MaxFileLine) + `"}`
	ps, errs, err := readAll(t, FileNDJSON, long+"\n"+`{"id":"b","title":"B","variants":[{"price_cents":1}]}`, FileOptions{})
	if err != nil || len(ps) != 1 || ps[0].ID != "b" || len(errs) != 1 || errs[0].Line != 1 {
		t.Fatalf("err %v, products %d, errors %v", err, len(ps), errs)
	}
}

type failingReader struct{ r io.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk on fire")
	}
	return n, err
}

func TestFileReadError(t *testing.T) {
	d, _ := NewFileDecoder(failingReader{strings.NewReader(`{"id":"b","title":"B","variants":[{"price_cents":1}]}` + "\n")}, FileNDJSON, FileOptions{})
	n := 0
	for r := d.Next(); r != nil; r = d.Next() {
		n++
	}
	if n != 1 || d.Err() == nil || !strings.Contains(d.Err().Error(), "disk on fire") {
		t.Fatalf("%d rows, err %v", n, d.Err())
	}
}

const csvGood = "id,title,brand,category,variant_id,sku,price,compare_at_price,stock.wh-east,stock.wh-west,attr.material,variant.size,images\n" +
	"t-1,Tee,Acme,Clothing > Tops,,T-S,9.99,12,3,,cotton,S,https://x/1.jpg|https://x/2.jpg\n" +
	"t-1,,,,,T-M,10.49,,0,5,,M,\n" +
	"m-1,Mug,,Kitchen,m-1-v,,4,,,,,,\n"

func TestCSV(t *testing.T) {
	ps, errs, err := readAll(t, FileCSV, csvGood, FileOptions{})
	if err != nil || len(errs) > 0 || len(ps) != 2 {
		t.Fatalf("err %v, errors %v, %d products", err, errs, len(ps))
	}
	tee := ps[0]
	want := []Variant{
		{ID: "t-1-1", SKU: "T-S", Attributes: map[string]string{"size": "S"}, Price: Money{999, "USD"}, CompareAt: Money{1200, "USD"}, Stock: map[string]int{"wh-east": 3}},
		{ID: "t-1-2", SKU: "T-M", Attributes: map[string]string{"size": "M"}, Price: Money{1049, "USD"}, Stock: map[string]int{"wh-east": 0, "wh-west": 5}},
	}
	if !reflect.DeepEqual(tee.Variants, want) {
		t.Errorf("variants\n%+v\nwant\n%+v", tee.Variants, want)
	}
	if tee.Title != "Tee" || tee.Brand != "Acme" || !reflect.DeepEqual(tee.Category, []string{"Clothing", "Tops"}) ||
		tee.Attributes["material"] != "cotton" || len(tee.Images) != 2 {
		t.Errorf("tee %+v", tee)
	}
	if ps[1].ID != "m-1" || ps[1].Variants[0].ID != "m-1-v" || ps[1].Variants[0].Price.Amount != 400 {
		t.Errorf("mug %+v", ps[1])
	}
}

func TestCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		opts       FileOptions
		fatal      string
		want       []string
	}{
		{"empty", "", FileOptions{}, "the CSV file is empty", nil},
		{"no price column", "id,title\n", FileOptions{}, `no "price" (or "price_cents") column`, nil},
		{"unknown column", "id,title,price,colour\n", FileOptions{}, `column 4 "colour" is not a column of the format`, nil},
		{"repeated column", "id,title,price,title\n", FileOptions{}, `column 4 "title" repeats`, nil},
		{"rows", "id,title,price,stock\n" +
			"a,A,1.5,2\n" +
			"b,,x,\n" +
			"c,C,1,-1\n" +
			"d,D,1\n" +
			"e,E,1,1\n" +
			"e,F,2,1\n", FileOptions{}, "", []string{
			`line 3: price: "x" is not an amount`, "line 3: title: is empty",
			`line 4: stock: "-1" is not a whole number`,
			"line 5: has 3 fields; the header has 4",
			`line 7: title: is "F"; the product's first row (line 6) says "E"`,
		}},
		{"variant line", "id,title,price\nv,V,1\nv,,-\n", FileOptions{}, "", []string{`line 3: price: "-" is not an amount`}},
		{"syntax", "id,title,price\na,\"A,1\n", FileOptions{}, "", []string{"line 2: the row is not valid CSV"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, errs, err := readAll(t, FileCSV, tc.text, tc.opts)
			if tc.fatal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fatal) || !errors.Is(err, ErrFile) {
					t.Fatalf("err %v, want %q", err, tc.fatal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := errStrings(errs)
			if len(got) != len(tc.want) {
				t.Fatalf("errors %q (products %d), want %q", got, len(ps), tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("error %d is %q, want it to start %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestCSVUnknownAsAttributes(t *testing.T) {
	ps, errs, err := readAll(t, FileCSV, "id,title,price,colour\na,A,1,red\n", FileOptions{UnknownAsAttributes: true})
	if err != nil || len(errs) > 0 || len(ps) != 1 || ps[0].Attributes["colour"] != "red" {
		t.Fatalf("err %v, errors %v, products %+v", err, errs, ps)
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		s      string
		digits int
		want   int64
		ok     bool
	}{
		{"19.99", 2, 1999, true}, {"19.9", 2, 1990, true}, {"19", 2, 1900, true}, {".5", 2, 50, true},
		{"19.990", 2, 1999, true}, {"0", 2, 0, true}, {"1500", 0, 1500, true}, {"1500.0", 0, 1500, true},
		{"19.999", 2, 0, false}, {"-1", 2, 0, false}, {"1e3", 2, 0, false}, {"1,000", 2, 0, false},
		{"", 2, 0, false}, {".", 2, 0, false}, {"12345678901234", 2, 0, false}, {"1.5", 0, 0, false},
	} {
		got, err := ParseDecimal(tc.s, tc.digits)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDecimal(%q, %d) = %d, %v; want %d, ok %v", tc.s, tc.digits, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzNDJSON: any bytes decode without panicking, every row is a valid
// product or has errors with a line, and a decoded product survives being
// written back as a line.
func FuzzNDJSON(f *testing.F) {
	f.Add([]byte(`{"id":"k-1","title":"Kettle","variants":[{"price_cents":1999,"stock":[{"warehouse_id":"w","available":3}]}]}`))
	f.Add([]byte(`{"id":"a","title":"A","x":{"y":1},"variants":[{"price":"1.5","stock":{"w":1}}]}` + "\n\n{\"id\":"))
	f.Add([]byte("\xff\n{}\n[]\nnull\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []FileOptions{{}, {UnknownAsAttributes: true}} {
			checkFuzzed(t, FileNDJSON, data, opts)
		}
	})
}

// FuzzCSV is FuzzNDJSON for CSV files.
func FuzzCSV(f *testing.F) {
	f.Add([]byte(csvGood))
	f.Add([]byte("id,title,price,colour\na,A,1,red\na,,2,\n"))
	f.Add([]byte("id,title,price_cents,stock\n\"a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []FileOptions{{}, {UnknownAsAttributes: true}} {
			checkFuzzed(t, FileCSV, data, opts)
		}
	})
}

func checkFuzzed(t *testing.T, f Format, data []byte, opts FileOptions) {
	d, err := NewFileDecoder(bytes.NewReader(data), f, opts)
	if err != nil {
		if !errors.Is(err, ErrFile) {
			t.Fatalf("header error %v does not wrap ErrFile", err)
		}
		return
	}
	lines := bytes.Count(data, []byte{'\n'}) + 1
	for r := d.Next(); r != nil; r = d.Next() {
		if (r.Product == nil) == (len(r.Errors) == 0) {
			t.Fatalf("line %d: product %v with errors %v", r.Line, r.Product, r.Errors)
		}
		for _, e := range r.Errors {
			if e.Line < 1 || e.Line > lines || e.Reason == "" {
				t.Fatalf("error %+v: line outside 1..%d or no reason", e, lines)
			}
		}
		if r.Product != nil {
			if err := r.Product.Validate(); err != nil {
				t.Fatalf("line %d: decoded product is invalid: %v", r.Line, err)
			}
			if r.ID != r.Product.ID {
				t.Fatalf("row id %q, product id %q", r.ID, r.Product.ID)
			}
		}
	}
	if d.Err() != nil {
		t.Fatalf("reading from memory failed: %v", d.Err())
	}
}

// TestNDJSONRoundTrip: AppendNDJSON writes what the decoder reads back.
func TestNDJSONRoundTrip(t *testing.T) {
	p := binaryProduct()
	p.Version, p.SellerID, p.SalesVelocity, p.SellerQuality, p.Sponsored, p.Badges, p.Generated, p.UpdatedAt = 0, "", 0, 0, 0, nil, nil, p.UpdatedAt.AddDate(-100, 0, 0)
	line, err := AppendNDJSON(nil, &p)
	if err != nil {
		t.Fatal(err)
	}
	ps, errs, err := readAll(t, FileNDJSON, string(line), FileOptions{})
	if err != nil || len(errs) > 0 || len(ps) != 1 {
		t.Fatalf("err %v, errors %v, %d products", err, errs, len(ps))
	}
	got := ps[0]
	got.UpdatedAt = p.UpdatedAt
	if !reflect.DeepEqual(*got, p) {
		t.Fatalf("round trip\n%+v\nwant\n%+v", *got, p)
	}
}
