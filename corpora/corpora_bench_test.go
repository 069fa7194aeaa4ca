package corpora

import "testing"

func BenchmarkDefaultStore(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ps, err := DefaultStore()
		if err != nil {
			b.Fatal(err)
		}
		if len(ps) < 90_000 {
			b.Fatalf("%d products", len(ps))
		}
	}
}

func BenchmarkIcecat(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Icecat(); err != nil {
			b.Fatal(err)
		}
	}
}
