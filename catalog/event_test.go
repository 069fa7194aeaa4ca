package catalog

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecodeProductEvent(t *testing.T) {
	p := valid()
	good, _ := json.Marshal(ProductEvent{Schema: SchemaVersion, ID: "p1", Version: 3, Product: &p})
	cases := []struct {
		name  string
		key   string
		value string
		ok    bool
	}{
		{"upsert", "p1", string(good), true},
		{"tombstone", "p1", `{"schema":1,"id":"p1","version":4,"deleted":true}`, true},
		{"unknown fields ignored", "p1", `{"schema":1,"id":"p1","version":4,"deleted":true,"extra":{"a":1}}`, true},
		{"missing version", "p1", `{"schema":1,"id":"p1","deleted":true}`, false},
		{"missing product", "p1", `{"schema":1,"id":"p1","version":2}`, false},
		{"tombstone with product", "p1", `{"schema":1,"id":"p1","version":2,"deleted":true,"product":{}}`, false},
		{"key mismatch", "p2", string(good), false},
		{"future schema", "p1", `{"schema":2,"id":"p1","version":4,"deleted":true}`, false},
		{"not json", "p1", `{"schema":1,`, false},
		{"trailing data", "p1", `{"schema":1,"id":"p1","version":4,"deleted":true} {}`, false},
		{"invalid product", "p1", `{"schema":1,"id":"p1","version":2,"product":{"id":"p1","title":"","variants":[]}}`, false},
		{"names match case-sensitively", "p1", `{"Schema":1,"ID":"p1","Version":4,"Deleted":true}`, false},
		{"duplicate name", "p1", `{"schema":1,"id":"p1","version":4,"version":5,"deleted":true}`, false},
		{"invalid UTF-8", "p1", "{\"schema\":1,\"id\":\"p1\",\"version\":4,\"deleted\":true,\"x\":\"\xff\"}", false},
		{"null version", "p1", `{"schema":1,"id":"p1","version":null,"deleted":true}`, false},
		{"version as string", "p1", `{"schema":1,"id":"p1","version":"4","deleted":true}`, false},
	}
	for _, c := range cases {
		e, err := DecodeProductEvent([]byte(c.key), []byte(c.value))
		if c.ok != (err == nil) {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrBadEvent) {
			t.Errorf("%s: %v does not wrap ErrBadEvent", c.name, err)
		}
		if err == nil && e.Product != nil && e.Product.Version != e.Version {
			t.Errorf("%s: product version %d, event version %d", c.name, e.Product.Version, e.Version)
		}
	}
}

func TestDecodeAspectEvents(t *testing.T) {
	if _, err := DecodePriceEvent([]byte("p1"), []byte(`{"schema":1,"product_id":"p1","variant_id":"v","version":2,"price":{"amount":100,"currency":"USD"}}`)); err != nil {
		t.Errorf("price: %v", err)
	}
	for _, bad := range []string{
		`{"schema":1,"product_id":"p1","variant_id":"v","version":2,"price":{"amount":-1,"currency":"USD"}}`,
		`{"schema":1,"product_id":"p1","variant_id":"v","version":2,"price":{"amount":1,"currency":"ABC"}}`,
		`{"schema":1,"product_id":"p1","variant_id":"v","price":{"amount":1,"currency":"USD"}}`,
	} {
		if _, err := DecodePriceEvent([]byte("p1"), []byte(bad)); !errors.Is(err, ErrBadEvent) {
			t.Errorf("price %s: err %v", bad, err)
		}
	}
	if _, err := DecodeInventoryEvent([]byte("p1"), []byte(`{"schema":1,"product_id":"p1","variant_id":"v","warehouse_id":"w","version":1,"available":5}`)); err != nil {
		t.Errorf("inventory: %v", err)
	}
	if _, err := DecodeInventoryEvent([]byte("p1"), []byte(`{"schema":1,"product_id":"p1","variant_id":"v","warehouse_id":"w","version":1,"available":-5}`)); err == nil {
		t.Error("negative stock accepted")
	}
	if _, err := DecodeOrderEvent([]byte("o1"), []byte(`{"schema":1,"order_id":"o1","lines":[{"product_id":"p1","quantity":0}]}`)); err == nil {
		t.Error("order line with quantity 0 accepted")
	}
}

func FuzzDecodeEvents(f *testing.F) {
	f.Add([]byte("p1"), []byte(`{"schema":1,"id":"p1","version":4,"deleted":true}`))
	f.Add([]byte("p1"), []byte(`{"schema":1,"id":"p1","version":2,"product":{"id":"p1","title":"x","variants":[{"variant_id":"v","price":{"amount":1,"currency":"USD"}}]}}`))
	f.Add([]byte("p1"), []byte(`{"schema":1,"product_id":"p1","variant_id":"v","warehouse_id":"w","version":1,"available":5}`))
	f.Add([]byte("p1"), []byte(`{"schema":1,"product_id":"p1","variant_id":"v","version":7,"price":{"amount":1499,"currency":"USD"},"compare_at":{"amount":1999,"currency":"USD"}}`))
	f.Add([]byte("p1"), []byte(`{"schema":1,"product_id":"p1","version":5,"rating":{"avg":4.5,"count":2},"distribution":[0,0,0,1,1]}`))
	f.Add([]byte("o1"), []byte(`{"schema":1,"order_id":"o1","placed_at":"2026-11-23T20:00:00Z","lines":[{"product_id":"p1","variant_id":"v","quantity":2,"price":{"amount":1499,"currency":"USD"}}]}`))
	f.Add([]byte("p1"), []byte(`{"schema":1,"id":"p1","version":4,"deleted":true,"id":"p1"}`))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		if e, err := DecodeProductEvent(key, value); err == nil {
			if e.Version == 0 || e.ID != string(key) || (e.Product == nil) == !e.Deleted {
				t.Fatalf("accepted an invalid product event: %+v", e)
			}
			if e.Product != nil && e.Product.Validate() != nil {
				t.Fatal("accepted an invalid product")
			}
		}
		if e, err := DecodePriceEvent(key, value); err == nil && (e.Price.Amount < 0 || e.Version == 0) {
			t.Fatalf("accepted an invalid price event: %+v", e)
		}
		if e, err := DecodeInventoryEvent(key, value); err == nil && (e.Available < 0 || e.Version == 0) {
			t.Fatalf("accepted an invalid inventory event: %+v", e)
		}
		if e, err := DecodeRatingEvent(key, value); err == nil && (e.Version == 0 || e.ProductID != string(key)) {
			t.Fatalf("accepted an invalid rating event: %+v", e)
		}
		if e, err := DecodeOrderEvent(key, value); err == nil && (e.OrderID == "" || len(e.Lines) == 0) {
			t.Fatalf("accepted an invalid order event: %+v", e)
		}
	})
}
