package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/aisle/aisle/catalog"
)

// importFile imports text as an NDJSON (or CSV) file.
func (e *env) importText(name, text string, opts ImportOptions) (*ImportResult, error) {
	f := catalog.FileNDJSON
	if strings.HasSuffix(name, ".csv") {
		f = catalog.FileCSV
	}
	opts.Brokers = e.broker.Addrs()
	opts.SpoolDir = e.t.TempDir()
	return Import(e.ctx, []ImportSource{{Name: name, Format: f, R: strings.NewReader(text)}}, opts)
}

func ndjsonLine(id, title string, cents int) string {
	return fmt.Sprintf(`{"id":%q,"title":%q,"brand":"Acme","variants":[{"price_cents":%d,"stock":[{"warehouse_id":"w","available":2}]}]}`, id, title, cents)
}

func catalogFile(n int, title func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(ndjsonLine(fmt.Sprintf("imp-%04d", i), title(i), 100+i))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestImportBadRowsPublishNothing: a file with bad rows reports every
// problem with its line and field, and publishes nothing; with
// SkipInvalid the good rows are published.
func TestImportBadRowsPublishNothing(t *testing.T) {
	e := newEnv(t, 4)
	text := ndjsonLine("a", "Kettle", 100) + "\n" +
		`{"id":"b","title":"","variants":[{"price_cents":-5}]}` + "\n" +
		`not json` + "\n" +
		ndjsonLine("a", "Kettle again", 100) + "\n" +
		`{"id":"c","title":"Cup","colour":"red","variants":[{"price_cents":5}]}` + "\n" +
		ndjsonLine("d", "Dish", 100) + "\n" +
		`{"id":"e","title":"Egg cup","variants":[{"variant_id":"d-1","price_cents":5}]}` + "\n"
	res, err := e.importText("cat.ndjson", text, ImportOptions{})
	if !errors.Is(err, ErrInvalidRows) {
		t.Fatalf("err %v, want ErrInvalidRows", err)
	}
	var got []string
	for _, fe := range res.Errors {
		got = append(got, fmt.Sprintf("%d %s", fe.Line, fe.Field))
	}
	want := []string{"2 title", "2 variants[0].price_cents", "3 ", "4 id", "5 colour", "7 variants[0].variant_id"}
	if strings.Join(got, "|") != strings.Join(want, "|") || res.Invalid != 5 || res.ErrorCount != 6 {
		t.Fatalf("errors %q (invalid %d, count %d), want %q", got, res.Invalid, res.ErrorCount, want)
	}
	if !strings.HasPrefix(res.Errors[3].Error(), "cat.ndjson: line 4: id: repeats the product of line 1") {
		t.Errorf("duplicate reported as %q", res.Errors[3].Error())
	}
	ends, err := EndOffsets(e.ctx, e.prod, TopicProducts)
	if err != nil {
		t.Fatal(err)
	}
	for p, o := range ends[TopicProducts] {
		if o != 0 {
			t.Fatalf("partition %d holds %d records after a refused import", p, o)
		}
	}

	res, err = e.importText("cat.ndjson", text, ImportOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Errors[5].Reason, `"d-1" is a variant of product "d" (line 6) too`) {
		t.Errorf("a shared variant id reported as %q", res.Errors[5].Error())
	}
	if res.Created != 2 || res.Published != 2 || res.Invalid != 5 {
		t.Fatalf("skip-invalid: %+v", res)
	}
	e.start()
	defer e.stop()
	e.waitCaughtUp()
	if e.sink.len() != 2 || e.sink.get("a") == nil || e.sink.get("d") == nil {
		t.Fatalf("index holds %d products", e.sink.len())
	}
}

// TestImportReimportAndDeleteMissing: the same file again publishes
// nothing; a changed file publishes the changed products at the next
// version; --delete-missing tombstones the seller's products absent from
// the file and leaves other sellers' alone; a product of another seller is
// refused.
func TestImportReimportAndDeleteMissing(t *testing.T) {
	e := newEnv(t, 4)
	e.start()
	defer e.stop()
	file := catalogFile(50, func(i int) string { return fmt.Sprintf("kettle %d", i) })
	res, err := e.importText("v1.ndjson", file, ImportOptions{Seller: "s1"})
	if err != nil || res.Created != 50 || res.Published != 50 || res.Products != 50 || res.Variants != 50 {
		t.Fatalf("first import: %v %+v", err, res)
	}
	// Another seller's product, through the seller API's record.
	other := testProduct("other-1", 1)
	other.SellerID = "s2"
	e.produce(rec(t, other))
	e.waitCaughtUp()
	if e.sink.len() != 51 {
		t.Fatalf("index holds %d products, want 51", e.sink.len())
	}

	res, err = e.importText("v1.ndjson", file, ImportOptions{Seller: "s1"})
	if err != nil || res.Unchanged != 50 || res.Published != 0 {
		t.Fatalf("re-import: %v %+v", err, res)
	}
	ends, _ := EndOffsets(e.ctx, e.prod, TopicProducts)
	total := int64(0)
	for _, o := range ends[TopicProducts] {
		total += o
	}
	if total != 51 {
		t.Fatalf("the topic holds %d records after a no-op re-import, want 51", total)
	}

	// Change 5 titles, drop the last 10 products.
	changed := catalogFile(40, func(i int) string {
		if i%10 == 3 {
			return fmt.Sprintf("kettle %d, now in red", i)
		}
		return fmt.Sprintf("kettle %d", i)
	})
	res, err = e.importText("v2.ndjson", changed, ImportOptions{Seller: "s1", DeleteMissing: true})
	if err != nil || res.Updated != 4 || res.Unchanged != 36 || res.Deleted != 10 || res.Published != 14 {
		t.Fatalf("sync: %v %+v", err, res)
	}
	e.waitCaughtUp()
	if n := e.sink.len(); n != 41 {
		t.Fatalf("index holds %d products after the sync, want 41", n)
	}
	if p := e.sink.get("imp-0013"); p == nil || p.Version != 2 || !strings.Contains(p.Title, "red") {
		t.Fatalf("imp-0013 is %+v", p)
	}
	if p := e.sink.get("imp-0045"); p != nil {
		t.Fatalf("imp-0045 survived --delete-missing: %+v", p)
	}
	if e.sink.get("other-1") == nil {
		t.Fatal("--delete-missing of s1 deleted s2's product")
	}

	// A product of another seller is refused; a deleted one comes back
	// above its tombstone.
	res, err = e.importText("v3.ndjson", ndjsonLine("other-1", "mine now", 1)+"\n"+ndjsonLine("imp-0045", "back", 1)+"\n", ImportOptions{Seller: "s1"})
	if !errors.Is(err, ErrInvalidRows) || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Reason, `"other-1" belongs to seller s2`) {
		t.Fatalf("another seller's product: %v %+v", err, res)
	}
	res, err = e.importText("v3.ndjson", ndjsonLine("imp-0045", "back", 1)+"\n", ImportOptions{Seller: "s1"})
	if err != nil || res.Created != 1 {
		t.Fatalf("re-create: %v %+v", err, res)
	}
	e.waitCaughtUp()
	if p := e.sink.get("imp-0045"); p == nil || p.Version != 3 || p.Title != "back" {
		t.Fatalf("imp-0045 after re-create: %+v", p)
	}
}

// TestImportVariantsOnTopic: a variant id of a product on the topic (of
// a deleted one, one a newer version dropped, one of a record without the
// aisle-variants header, decoded instead) cannot be another product's in
// a file; the product itself may keep and change its own.
func TestImportVariantsOnTopic(t *testing.T) {
	e := newEnv(t, 4)
	line := func(id, vid string) string {
		return fmt.Sprintf(`{"id":%q,"title":"T %s","variants":[{"variant_id":%q,"price_cents":100}]}`, id, id, vid) + "\n"
	}
	if res, err := e.importText("a.ndjson", line("a", "shared-v")+line("b", "b-v"), ImportOptions{}); err != nil || res.Created != 2 {
		t.Fatalf("first import: %v %+v", err, res)
	}
	bare := rec(t, testProduct("c", 1)) // variant c-v, without the headers
	bare.Headers = nil
	e.produce(bare)
	// a is deleted: its variant id stays its own.
	if res, err := e.importText("b.ndjson", line("b", "b-v2")+line("c", "c-v"), ImportOptions{DeleteMissing: true}); err != nil || res.Deleted != 1 || res.Updated != 2 {
		t.Fatalf("sync: %v %+v", err, res)
	}
	res, err := e.importText("c.ndjson", line("d", "shared-v")+line("e", "c-v")+line("b", "b-v3")+line("f", "b-v"), ImportOptions{})
	if !errors.Is(err, ErrInvalidRows) {
		t.Fatalf("err %v, want ErrInvalidRows", err)
	}
	var got []string
	for _, fe := range res.Errors {
		got = append(got, fmt.Sprintf("%d %s: %s", fe.Line, fe.Field, fe.Reason))
	}
	want := []string{
		`1 variants[0].variant_id: "shared-v" is a variant of deleted product "a" on the catalog topic`,
		`2 variants[0].variant_id: "c-v" is a variant of product "c" on the catalog topic`,
		`4 variants[0].variant_id: "b-v" is a variant of product "b" on the catalog topic`,
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestImportCSV imports the CSV form with a file version.
func TestImportCSV(t *testing.T) {
	e := newEnv(t, 2)
	e.start()
	defer e.stop()
	csv := "id,version,title,price,stock,variant.size\nt-1,7,Tee,9.99,3,S\nt-1,,,10.99,1,M\nm-1,,Mug,4,,\n"
	res, err := e.importText("c.csv", csv, ImportOptions{})
	if err != nil || res.Created != 2 || res.Variants != 3 {
		t.Fatalf("%v %+v", err, res)
	}
	e.waitCaughtUp()
	if p := e.sink.get("t-1"); p == nil || p.Version != 7 || len(p.Variants) != 2 || p.Variants[1].Price.Amount != 1099 {
		t.Fatalf("t-1: %+v", p)
	}
	// The same version again is not published, even changed.
	res, err = e.importText("c.csv", strings.Replace(csv, "Tee", "T-shirt", 1), ImportOptions{})
	if err != nil || res.Older != 1 || res.Unchanged != 1 || res.Published != 0 {
		t.Fatalf("same version: %v %+v", err, res)
	}
}

// TestImportCI100k is the CI-sized form of the 1M-product import: 100,000
// products (a generated file) are published and every one is indexed.
func TestImportCI100k(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	e := newEnv(t, 4)
	path := filepath.Join(t.TempDir(), "big.ndjson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		fmt.Fprintf(f, `{"id":"g-%d","title":"generated kettle %d","category_path":["Kitchen","Kettles"],"variants":[{"price_cents":%d}]}`+"\n", i, i%977, 100+i%5000)
	}
	f.Close()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	res, err := Import(e.ctx, []ImportSource{{Name: path, Format: catalog.FileNDJSON, R: in}},
		ImportOptions{Brokers: e.broker.Addrs(), SpoolDir: t.TempDir()})
	if err != nil || res.Published != n {
		t.Fatalf("%v %+v", err, res)
	}
	t.Logf("%d products published in %.2f s after %.2f s of reading", n, res.Publish.Seconds(), res.Read.Seconds())
	e.start()
	defer e.stop()
	e.waitCaughtUp()
	if e.sink.len() != n {
		t.Fatalf("index holds %d of %d", e.sink.len(), n)
	}
}

// TestOpenCatalogFile reads a catalog file plain, gzip- and
// zstd-compressed (by name and by magic bytes), CSV by its name, and
// refuses a name that says no format.
func TestOpenCatalogFile(t *testing.T) {
	dir := t.TempDir()
	text := catalogFile(30, func(i int) string { return fmt.Sprintf("kettle %d", i) })
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(text))
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write([]byte(text))
	zw.Close()
	files := map[string][]byte{
		"a.ndjson": []byte(text), "b.ndjson.gz": gz.Bytes(), "c.jsonl.zst": zs.Bytes(),
		"d.ndjson.bin": gz.Bytes(), // an unknown suffix, but gzip's magic bytes: then .bin says no format
		"e.csv.gz":     nil, "f.txt": []byte(text),
	}
	var cgz bytes.Buffer
	cw := gzip.NewWriter(&cgz)
	cw.Write([]byte("id,title,price\nx,X,1\ny,Y,2\n"))
	cw.Close()
	files["e.csv.gz"] = cgz.Bytes()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		want int // products; -1: refused
	}{{"a.ndjson", 30}, {"b.ndjson.gz", 30}, {"c.jsonl.zst", 30}, {"e.csv.gz", 2}, {"d.ndjson.bin", -1}, {"f.txt", -1}} {
		src, c, err := OpenCatalogFile(filepath.Join(dir, tc.name), 0)
		if tc.want < 0 {
			if err == nil {
				c.Close()
				t.Errorf("%s: opened as %v", tc.name, src.Format)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		d, err := catalog.NewFileDecoder(src.R, src.Format, catalog.FileOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		n := 0
		for r := d.Next(); r != nil; r = d.Next() {
			if r.Product == nil {
				t.Fatalf("%s: %v", tc.name, r.Errors)
			}
			n++
		}
		if d.Err() != nil || n != tc.want {
			t.Errorf("%s: %d products, err %v; want %d", tc.name, n, d.Err(), tc.want)
		}
		c.Close()
	}
	// The gzip magic is recognised without the suffix, given the format.
	src, c, err := OpenCatalogFile(filepath.Join(dir, "d.ndjson.bin"), catalog.FileNDJSON)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, _ := io.ReadAll(src.R)
	if string(b) != text {
		t.Errorf("d.ndjson.bin with --format ndjson read %d bytes, not the text", len(b))
	}
}
