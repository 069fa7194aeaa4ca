package catalog

import (
	"testing"
)

var benchLine = []byte(`{"id":"b-1","title":"Stainless steel kettle 1","description":"A kettle that boils water quickly; brushed steel, 1.7 litres, auto shut-off. Model 1.","brand":"Acme","category_path":["Home","Kitchen","Kettles"],"attributes":{"color":"silver","capacity":"1.7 l"},"images":["https://img.example/1.jpg"],"variants":[{"variant_id":"b-1-1","sku":"K-1","price_cents":1001,"stock":{"wh-east":3,"wh-west":1}},{"variant_id":"b-1-2","price_cents":1201,"compare_price_cents":1501,"stock":{"wh-east":0}}]}`)

func BenchmarkDecodeNDJSONLine(b *testing.B) {
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	for b.Loop() {
		if r := decodeNDJSONLine(benchLine, 1, FileOptions{}); r.Product == nil {
			b.Fatal(r.Errors)
		}
	}
}

func BenchmarkContentHash(b *testing.B) {
	p := decodeNDJSONLine(benchLine, 1, FileOptions{}).Product
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		_, buf = ContentHash(p, buf)
	}
}

func BenchmarkValidate(b *testing.B) {
	p := decodeNDJSONLine(benchLine, 1, FileOptions{}).Product
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
