package catalog

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchProduct is a realistic catalog document: ten attributes, three
// variants with stock in three warehouses, a 600-character description.
func benchProduct() Product {
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
