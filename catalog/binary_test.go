package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// binaryProduct is a realistic catalog document: ten attributes, three
// variants with stock in three warehouses, a 600-character description.
func binaryProduct() Product {
	desc := strings.Repeat("Industry-leading noise cancelling with two processors and eight microphones. ", 8)[:600]
	p := Product{
		ID:          "p-000123456",
		Title:       "Sony WH-1000XM5 Wireless Noise Cancelling Over-Ear Headphones",
		Description: desc,
		Brand:       "Sony",
		Category:    []string{"Electronics", "Audio", "Headphones"},
		Attributes: map[string]string{
			"color": "black", "connectivity": "Bluetooth 5.3", "weight": "250 g",
			"battery_life": "30 h", "driver_size": "30 mm", "noise_cancelling": "yes",
			"microphone": "8 beamforming", "charging": "USB-C", "foldable": "no",
			"warranty": "1 year",
		},
		SellerID:      "s-42",
		Images:        []string{"https://img.example.com/p-000123456/1.jpg", "https://img.example.com/p-000123456/2.jpg"},
		Thumbnail:     "https://img.example.com/p-000123456/thumb.jpg",
		Rating:        Rating{Avg: 4.6, Count: 1203},
		SalesVelocity: 12.5,
		SellerQuality: 0.93,
		Badges:        []string{"bestseller"},
		CreatedAt:     time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC),
		UpdatedAt:     time.Date(2026, 11, 20, 17, 4, 5, 123000000, time.UTC),
		Version:       7,
	}
	for i, c := range []string{"black", "silver", "midnight-blue"} {
		p.Variants = append(p.Variants, Variant{
			ID:         fmt.Sprintf("%s-%s", p.ID, c),
			SKU:        fmt.Sprintf("WH1000XM5/%d", i),
			Attributes: map[string]string{"color": c},
			Price:      Money{Amount: 29999 + int64(i)*1000, Currency: "USD"},
			CompareAt:  Money{Amount: 39999, Currency: "USD"},
			Stock:      map[string]int{"wh-east": 3 + i, "wh-west": 12, "wh-central": 0},
		})
	}
	return p
}

func binaryCases() map[string]Product {
	full := binaryProduct()
	full.Sponsored = 150
	full.Generated = []string{"price", "rating"}
	return map[string]Product{
		"zero": {},
		"empty slices and maps": {
			Category: []string{}, Attributes: map[string]string{}, Variants: []Variant{},
			Images: []string{}, Badges: []string{}, Generated: []string{},
		},
		"variant with empty maps": {ID: "p", Variants: []Variant{{ID: "v", Attributes: map[string]string{}, Stock: map[string]int{}}}},
		"variant with nil maps":   {ID: "p", Variants: []Variant{{ID: "v", Price: Money{Amount: 1, Currency: "EUR"}}}},
		"empty strings kept":      {ID: "p", Category: []string{"", "a", ""}, Attributes: map[string]string{"": "", "k": ""}},
		"unicode": {
			ID: "p-ü", Title: "Kopfhörer 🎧 «日本語»", Brand: "Æon", Category: []string{"Électronique", "音響"},
			Attributes: map[string]string{"couleur": "bleu ciel", "größe": "XL"},
		},
		"big values": {
			ID: "p", Sponsored: math.MinInt64, Version: math.MaxUint64,
			Rating:        Rating{Avg: math.MaxFloat64, Count: math.MaxInt},
			SalesVelocity: math.SmallestNonzeroFloat64, SellerQuality: math.Inf(-1),
			Variants: []Variant{{Price: Money{Amount: math.MaxInt64}, CompareAt: Money{Amount: math.MinInt64},
				Stock: map[string]int{"w": math.MinInt, "x": -1}}},
			Description: strings.Repeat("long ", 10000),
		},
		"epoch and far times": {
			ID: "p", CreatedAt: time.Unix(0, 0).UTC(), UpdatedAt: time.Date(2262, 1, 1, 0, 0, 0, 1, time.UTC),
		},
		"full": full,
	}
}

// TestProductBinaryRoundTrip checks that every field survives, nil and empty
// slices and maps included (both are preserved as they were).
func TestProductBinaryRoundTrip(t *testing.T) {
	for name, p := range binaryCases() {
		t.Run(name, func(t *testing.T) {
			b := AppendProduct([]byte("prefix"), &p)
			got, rest, err := DecodeProduct(append(b[len("prefix"):], "tail"...))
			if err != nil {
				t.Fatal(err)
			}
			if string(rest) != "tail" {
				t.Errorf("rest = %q, want %q", rest, "tail")
			}
			if !reflect.DeepEqual(*got, p) {
				t.Errorf("round trip differs:\n got %#v\nwant %#v", *got, p)
			}
		})
	}
}

// TestProductBinaryTimes checks that a time keeps its instant, loses its
// location and monotonic reading, and that the zero time stays zero.
func TestProductBinaryTimes(t *testing.T) {
	loc := time.FixedZone("UTC+5", 5*3600)
	p := Product{CreatedAt: time.Now(), UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, loc)}
	got, _, err := DecodeProduct(AppendProduct(nil, &p))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want time.Time }{{got.CreatedAt, p.CreatedAt}, {got.UpdatedAt, p.UpdatedAt}} {
		if !c.got.Equal(c.want) || c.got.Location() != time.UTC || c.got != c.got.Round(0) {
			t.Errorf("time %v decoded as %v, want the same instant in UTC without monotonic reading", c.want, c.got)
		}
	}
	zero, _, _ := DecodeProduct(AppendProduct(nil, &Product{}))
	if !zero.CreatedAt.IsZero() || !zero.UpdatedAt.IsZero() {
		t.Errorf("zero times decoded as %v, %v", zero.CreatedAt, zero.UpdatedAt)
	}
}

// TestProductBinaryDeterministic checks that map order does not change the
// bytes.
func TestProductBinaryDeterministic(t *testing.T) {
	p := binaryProduct()
	want := AppendProduct(nil, &p)
	for range 20 {
		q := binaryProduct()
		if got := AppendProduct(nil, &q); !bytes.Equal(got, want) {
			t.Fatal("two encodings of the same product differ")
		}
	}
}

func TestProductBinaryTruncated(t *testing.T) {
	p := binaryCases()["full"]
	b := AppendProduct(nil, &p)
	for n := range len(b) {
		_, _, err := DecodeProduct(b[:n:n])
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decoding %d of %d bytes: err = %v, want ErrCorrupt", n, len(b), err)
		}
	}
}

func TestProductBinaryErrors(t *testing.T) {
	p := Product{ID: "abc"}
	good := AppendProduct(nil, &p)
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "product format version at byte 0: need 1 bytes, 0 left"},
		{"version", append([]byte{2}, good[1:]...), "product format version at byte 1: format version 2, want 1"},
		{"string bytes too many", append([]byte{1, 100}, good[2:]...), "string bytes at byte 2: length 100 exceeds"},
		{"string bytes too few", append([]byte{1, 2}, good[2:]...), "id at byte 3: string of 3 bytes exceeds the 2 declared"},
		{"string bytes unused", append(append([]byte{1, 4}, good[2:]...), 'x'), "string bytes at byte 46: 1 declared string bytes left unused"},
		{"huge count", []byte{1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, "category at byte 11: count"},
		{"bad time tag", func() []byte { b := AppendProduct(nil, &Product{}); b[len(b)-4] = 7; return b }(), "created_at at byte"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := DecodeProduct(c.b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestDecoderPrimitives(t *testing.T) {
	b := AppendUvarint(nil, 300)
	b = AppendVarint(b, -5)
	b = AppendString(b, "héllo")
	b = AppendFloat64(b, 2.5)
	b = AppendUint32(b, 0xdeadbeef)
	b = append(b, 9, 8)
	d := NewDecoder(b)
	if got := d.Uvarint(); got != 300 {
		t.Errorf("Uvarint = %d", got)
	}
	if got := d.Varint(); got != -5 {
		t.Errorf("Varint = %d", got)
	}
	if got := d.String(); got != "héllo" {
		t.Errorf("String = %q", got)
	}
	if got := d.Float64(); got != 2.5 {
		t.Errorf("Float64 = %v", got)
	}
	if got := d.Uint32(); got != 0xdeadbeef {
		t.Errorf("Uint32 = %x", got)
	}
	if got := d.Bytes(2); !bytes.Equal(got, []byte{9, 8}) || d.Len() != 0 || d.Err() != nil {
		t.Errorf("Bytes = %v, Len = %d, Err = %v", got, d.Len(), d.Err())
	}
	d.What = "the answer"
	if got := d.Uint32(); got != 0 || d.Err() == nil || d.Err().Error() != "catalog: corrupt binary data: the answer at byte 24: need 4 bytes, 0 left" {
		t.Errorf("Uint32 past the end = %d, %v", got, d.Err())
	}
	d.What = "later"
	if d.Uvarint() != 0 || !strings.Contains(d.Err().Error(), "the answer") {
		t.Errorf("error is not sticky: %v", d.Err())
	}
}

func FuzzDecodeProduct(f *testing.F) {
	for _, p := range binaryCases() {
		f.Add(AppendProduct(nil, &p))
	}
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _, err := DecodeProduct(b)
		if err != nil {
			return
		}
		b2 := AppendProduct(nil, p)
		p2, rest, err := DecodeProduct(b2)
		if err != nil || len(rest) != 0 {
			t.Fatalf("re-encoded product does not decode: %v, %d bytes left", err, len(rest))
		}
		// Compare bytes rather than values: NaN floats are not DeepEqual.
		if b3 := AppendProduct(nil, p2); !bytes.Equal(b3, b2) {
			t.Fatalf("re-encoded product decodes differently:\n%#v\n%#v", p, p2)
		}
	})
}

func BenchmarkAppendProduct(b *testing.B) {
	p := binaryProduct()
	b.Run("binary", func(b *testing.B) {
		buf := AppendProduct(nil, &p)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendProduct(buf[:0], &p)
		}
	})
	b.Run("json", func(b *testing.B) {
		buf, _ := json.Marshal(&p)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodeProduct(b *testing.B) {
	p := binaryProduct()
	b.Run("binary", func(b *testing.B) {
		buf := AppendProduct(nil, &p)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := DecodeProduct(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		buf, _ := json.Marshal(&p)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			var q Product
			if err := json.Unmarshal(buf, &q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

var updateBinary = flag.Bool("update-binary", false, "rewrite testdata/product_v1.bin")

// TestProductBinaryFixture decodes a product written by format version 1,
// kept in testdata so that a change of the format cannot go unnoticed.
func TestProductBinaryFixture(t *testing.T) {
	const path = "testdata/product_v1.bin"
	p := binaryCases()["full"]
	if *updateBinary {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, AppendProduct(nil, &p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, rest, err := DecodeProduct(b)
	if err != nil || len(rest) != 0 {
		t.Fatalf("decoding %s: %v, %d bytes left", path, err, len(rest))
	}
	if !reflect.DeepEqual(*got, p) {
		t.Errorf("%s decodes to\n%#v\nwant\n%#v", path, *got, p)
	}
	if !bytes.Equal(AppendProduct(nil, &p), b) {
		t.Errorf("AppendProduct no longer writes %s; bump ProductFormat and keep the old fixture", path)
	}
}
