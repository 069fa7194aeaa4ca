package catalog

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"
)

// fileFastAgrees checks the fast reader against the general decoder on
// line: when it reads line, json.Unmarshal must read it too, to an equal
// fileProduct. It reports whether the fast reader read line.
func fileFastAgrees(t *testing.T, line []byte) bool {
	t.Helper()
	got, ok := decodeFileLineFast(line)
	if !ok {
		return false
	}
	var want fileProduct
	if err := json.Unmarshal(line, &want, fileJSON); err != nil {
		t.Fatalf("the fast reader reads %q, the general decoder refuses it: %v", line, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the fast reader and the general decoder differ on %q:\n fast    %+v\n general %+v", line, got, want)
	}
	return true
}

// fastLines are catalog lines the fast reader must read itself: the
// example catalog, AppendNDJSON's lines, and a few written by hand.
func fastLines(t testing.TB) map[string][]byte {
	out := map[string][]byte{"bench": benchLine}
	ex, err := os.ReadFile("../corpora/example/my-catalog.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range bytes.Split(bytes.TrimSpace(ex), []byte("\n")) {
		out["example line "+string(rune('a'+i))] = l
	}
	for name, p := range binaryCases() {
		if name == "big values" || name == "zero" {
			continue
		}
		b, err := AppendNDJSON(nil, &p)
		if err != nil {
			t.Fatal(err)
		}
		out["AppendNDJSON "+name] = b
	}
	out["by hand"] = []byte(` {"external_id":"e\"1","version":7,"title":"T\u00e9","currency":"EUR","rating":{"avg":4.5,"count":2},"created_at":"2024-05-01T09:30:00.5Z","thumbnail_url":"u","variants":[{"price_cents":0,"compare_price_cents":5,"stock":null,"attributes":{}},{"sku":"s","price_cents":-1,"stock":[]}]} `)
	return out
}

// TestFileLineFast checks that ordinary catalog lines take the fast path
// and read as the general decoder reads them, and that what it gives up
// on is still reported as before.
func TestFileLineFast(t *testing.T) {
	for name, l := range fastLines(t) {
		if !fileFastAgrees(t, l) {
			t.Errorf("%s: the fast reader gave up on %q", name, l)
		}
	}
	for _, c := range []struct {
		name, line string
		valid      bool
	}{
		{"unknown member", `{"id":"a","title":"A","colour":"red","variants":[{"price_cents":1}]}`, false},
		{"price in units", `{"id":"a","title":"A","variants":[{"price":"1.50"}]}`, true},
		{"negative stock", `{"id":"a","title":"A","variants":[{"price_cents":1,"stock":{"w":-1}}]}`, false},
		{"repeated warehouse", `{"id":"a","title":"A","variants":[{"price_cents":1,"stock":[{"warehouse_id":"w","available":1},{"warehouse_id":"w","available":2}]}]}`, false},
		{"empty warehouse", `{"id":"a","title":"A","variants":[{"price_cents":1,"stock":[{"available":1}]}]}`, false},
		{"time with offset", `{"id":"a","title":"A","created_at":"2024-05-01T09:30:00+02:00","variants":[{"price_cents":1}]}`, true},
		{"one-digit hour", `{"id":"a","title":"A","created_at":"2024-05-01T9:30:00Z","variants":[{"price_cents":1}]}`, false},
		{"string for number", `{"id":"a","title":"A","variants":[{"price_cents":"1"}]}`, false},
	} {
		if _, ok := decodeFileLineFast([]byte(c.line)); ok {
			t.Errorf("%s: the fast reader read %q", c.name, c.line)
		}
		row := decodeNDJSONLine([]byte(c.line), 1, FileOptions{})
		if (row.Product != nil) != c.valid {
			t.Errorf("%s: valid %v, want %v (%v)", c.name, row.Product != nil, c.valid, row.Errors)
		}
	}
}

// FuzzFileLineFast holds the fast reader to the general decoder: whatever
// it reads, json.Unmarshal reads to an equal fileProduct.
func FuzzFileLineFast(f *testing.F) {
	for _, l := range fastLines(f) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, b []byte) { fileFastAgrees(t, b) })
}

func BenchmarkDecodeFileLineGeneral(b *testing.B) {
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		var fp fileProduct
		if err := json.Unmarshal(benchLine, &fp, fileJSON); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeFileLineFast(b *testing.B) {
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, ok := decodeFileLineFast(benchLine); !ok {
			b.Fatal("gave up")
		}
	}
}
