package catalog

import (
	stdjson "encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(t testing.TB, a, b []byte) bool {
	var x, y any
	if err := stdjson.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := stdjson.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

func checkEventEncoding(t testing.TB, e ProductEvent) {
	got, err := AppendProductEvent(nil, &e)
	if err != nil {
		t.Fatalf("AppendProductEvent: %v", err)
	}
	want, err := stdjson.Marshal(e)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	if !sameJSON(t, got, want) {
		t.Fatalf("AppendProductEvent\n%s\njson.Marshal\n%s", got, want)
	}
}

func TestAppendProductEvent(t *testing.T) {
	p := binaryProduct()
	checkEventEncoding(t, ProductEvent{Schema: SchemaVersion, ID: p.ID, Version: 7, Product: &p})
	checkEventEncoding(t, ProductEvent{Schema: SchemaVersion, ID: "gone", Version: 9, Deleted: true})
	odd := Product{ID: "o<&>\u2028\"\\", Title: "ünïcode \x01 tab\t", Rating: Rating{Avg: 1e-7, Count: 1},
		SalesVelocity: 1e22, SellerQuality: 0.125, Sponsored: -3, Badges: []string{}, Generated: []string{"price"},
		Variants:  []Variant{{ID: "v", Price: Money{Amount: -1}, CompareAt: Money{Currency: "USD"}, Stock: map[string]int{"b": 1, "a": -2}}},
		CreatedAt: time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.FixedZone("x", 5*3600+1800))}
	checkEventEncoding(t, ProductEvent{Schema: SchemaVersion, ID: odd.ID, Version: 1, Product: &odd})
	nilVariants := Product{ID: "n", Title: "t"}
	checkEventEncoding(t, ProductEvent{Schema: SchemaVersion, ID: "n", Version: 1, Product: &nilVariants})

	// What the decoder would dead-letter is refused.
	for _, bad := range []Product{
		{ID: "x", Title: "bad \xff utf-8"},
		{ID: "x", Title: "t", Rating: Rating{Avg: math.NaN()}},
		{ID: "x", Title: "t", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := AppendProductEvent(nil, &ProductEvent{Schema: 1, ID: "x", Version: 1, Product: &bad}); err == nil {
			t.Errorf("%+v encoded", bad)
		}
	}
	// And the decoder reads it back.
	v, err := AppendProductEvent(nil, &ProductEvent{Schema: SchemaVersion, ID: p.ID, Version: 7, Product: &p})
	if err != nil {
		t.Fatal(err)
	}
	e, err := DecodeProductEvent([]byte(p.ID), v)
	if err != nil {
		t.Fatal(err)
	}
	q := p
	q.Version = 7
	if !reflect.DeepEqual(*e.Product, q) {
		t.Fatalf("round trip\n%+v\nwant\n%+v", *e.Product, q)
	}
}

// FuzzAppendProductEvent: for any text and numbers, AppendProductEvent
// writes what json.Marshal writes, or refuses what it cannot.
func FuzzAppendProductEvent(f *testing.F) {
	f.Add("id", "title", "brand", "k", "v", 1.5, int64(100), int64(0))
	f.Add("<a&b>", "\u2028", "", "", "", 1e-9, int64(-1), int64(1e18))
	f.Fuzz(func(t *testing.T, id, title, brand, k, v string, avg float64, amount, unix int64) {
		p := Product{ID: id, Title: title, Brand: brand, Attributes: map[string]string{k: v, v: k},
			Rating: Rating{Avg: avg}, CreatedAt: time.Unix(unix%(1<<35), 0).UTC(),
			Variants: []Variant{{ID: k, Price: Money{Amount: amount, Currency: v}, Stock: map[string]int{k: int(amount % 1000)}}}}
		e := ProductEvent{Schema: 1, ID: id, Version: uint64(amount), Product: &p}
		got, err := AppendProductEvent(nil, &e)
		want, werr := stdjson.Marshal(e)
		if err != nil {
			return // refused: invalid UTF-8, NaN, a far time (json.Marshal replaces or fails)
		}
		if werr != nil {
			t.Fatalf("json.Marshal failed (%v) where AppendProductEvent wrote %s", werr, got)
		}
		if !sameJSON(t, got, want) {
			t.Fatalf("AppendProductEvent\n%s\njson.Marshal\n%s", got, want)
		}
	})
}

func BenchmarkAppendProductEvent(b *testing.B) {
	p := binaryProduct()
	e := ProductEvent{Schema: SchemaVersion, ID: p.ID, Version: 7, Product: &p}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendProductEvent(buf[:0], &e)
	}
}

func BenchmarkMarshalProductEvent(b *testing.B) {
	p := binaryProduct()
	e := ProductEvent{Schema: SchemaVersion, ID: p.ID, Version: 7, Product: &p}
	b.ReportAllocs()
	for b.Loop() {
		stdjson.Marshal(e)
	}
}
