package search

import (
	"fmt"
	"testing"

	"github.com/aisle/aisle/catalog"
)

// TestProductOfVariant: the variant index follows Upsert, Apply and
// Delete, including a product replaced without one of its variants and a
// variant moved to another product.
func TestProductOfVariant(t *testing.T) {
	e, err := New(Options{Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	ps := fixture(50, 1)
	two := *ps[0]
	two.Variants = append([]catalog.Variant{}, ps[0].Variants...)
	two.Variants = append(two.Variants, catalog.Variant{ID: "p0000-v2", Price: catalog.Money{Amount: 5, Currency: "USD"}})
	ps[0] = &two
	if err := e.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	check := func(step, variant, want string) {
		t.Helper()
		p, ok := e.ProductOfVariant(variant)
		switch {
		case want == "" && ok:
			t.Errorf("%s: variant %q found in %q; want none", step, variant, p.ID)
		case want != "" && (!ok || p.ID != want):
			t.Errorf("%s: variant %q: %v %v; want product %q", step, variant, p, ok, want)
		case ok && VariantOf(p, variant) == nil:
			t.Errorf("%s: product %q lacks variant %q", step, p.ID, variant)
		}
	}
	for i := range 50 {
		check("upsert", fmt.Sprintf("p%04d-v1", i), fmt.Sprintf("p%04d", i))
	}
	check("upsert", "p0000-v2", "p0000")
	check("upsert", "nope", "")

	// Replaced without v2: v2 is gone.
	one := *ps[0]
	one.Variants = one.Variants[:1]
	one.Version++
	if err := e.Apply([]*catalog.Product{&one}, nil); err != nil {
		t.Fatal(err)
	}
	check("replace", "p0000-v2", "")
	check("replace", "p0000-v1", "p0000")

	// A variant moved to another product, then the old one deleted: the
	// variant stays with its new product.
	moved := *ps[1]
	moved.Variants = append([]catalog.Variant{}, ps[1].Variants...)
	moved.Variants = append(moved.Variants, ps[2].Variants[0])
	moved.Version++
	if err := e.Upsert(&moved); err != nil {
		t.Fatal(err)
	}
	if err := e.Delete("p0002"); err != nil {
		t.Fatal(err)
	}
	check("move", "p0002-v1", "p0001")
	if err := e.Apply(nil, []string{"p0003"}); err != nil {
		t.Fatal(err)
	}
	check("delete", "p0003-v1", "")
	check("delete", "p0004-v1", "p0004")
}

func BenchmarkProductOfVariant(b *testing.B) {
	e, err := New(Options{Shards: 4})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Upsert(fixture(1000, 1)...); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := e.ProductOfVariant("p0500-v1"); !ok {
			b.Fatal("not found")
		}
	}
}

// TestProductOfVariantConcurrent: lookups race upserts and deletes (run
// with -race); a variant of a product never deleted is always found.
func TestProductOfVariantConcurrent(t *testing.T) {
	e, err := New(Options{Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	ps := fixture(200, 2)
	if err := e.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			p := *ps[100+i%100]
			p.Version = uint64(2 + i)
			if i%2 == 0 {
				e.Upsert(&p)
			} else {
				e.Delete(p.ID)
			}
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		for i := range 100 {
			if _, ok := e.ProductOfVariant(fmt.Sprintf("p%04d-v1", i)); !ok {
				t.Fatalf("p%04d-v1 lost while other products changed", i)
			}
		}
	}
}
