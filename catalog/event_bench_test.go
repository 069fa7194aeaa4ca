package catalog

import (
	"encoding/json"
	"testing"
)

// benchProduct is the realistic document of the binary codec's tests.
func benchProduct() Product { return binaryProduct() }

func benchProductEvent(b *testing.B) []byte {
	p := benchProduct()
	v, err := json.Marshal(ProductEvent{Schema: SchemaVersion, ID: p.ID, Version: p.Version, Product: &p})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func BenchmarkDecodeProductEvent(b *testing.B) {
	v := benchProductEvent(b)
	key := []byte("p-000123456")
	b.SetBytes(int64(len(v)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeProductEvent(key, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePriceEvent(b *testing.B) {
	v, _ := json.Marshal(PriceEvent{Schema: SchemaVersion, ProductID: "p-000123456", VariantID: "p-000123456-black",
		Version: 9, Price: Money{Amount: 27999, Currency: "USD"}, CompareAt: Money{Amount: 39999, Currency: "USD"}})
	key := []byte("p-000123456")
	b.SetBytes(int64(len(v)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodePriceEvent(key, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeInventoryEvent(b *testing.B) {
	v, _ := json.Marshal(InventoryEvent{Schema: SchemaVersion, ProductID: "p-000123456", VariantID: "p-000123456-black",
		WarehouseID: "wh-east", Version: 12, Available: 4})
	key := []byte("p-000123456")
	b.SetBytes(int64(len(v)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeInventoryEvent(key, v); err != nil {
			b.Fatal(err)
		}
	}
}
