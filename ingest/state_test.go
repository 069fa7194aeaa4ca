package ingest

import (
	"fmt"
	"testing"

	"github.com/aisle/aisle/catalog"
)

func prod(id string, v uint64, title string) *catalog.ProductEvent {
	return &catalog.ProductEvent{Schema: 1, ID: id, Version: v, Product: &catalog.Product{
		ID: id, Title: title, Version: v,
		Variants: []catalog.Variant{{ID: id + "-v", Price: catalog.Money{Amount: 1000, Currency: "USD"}, Stock: map[string]int{"w1": 3}}},
	}}
}

func tomb(id string, v uint64) *catalog.ProductEvent {
	return &catalog.ProductEvent{Schema: 1, ID: id, Version: v, Deleted: true}
}

// TestOutOfOrderVersions is the scenario of the ingest issue: content v3,
// v1, v2, v5, v4, a tombstone v6 and v2 again, with price and stock events
// interleaved: the final state is v5's content with the latest price,
// deleted at v6, and the late v2 does not bring it back.
func TestOutOfOrderVersions(t *testing.T) {
	s := newState()
	want := []outcome{applied, stale, stale, applied, stale, applied, stale}
	evs := []*catalog.ProductEvent{prod("p", 3, "v3"), prod("p", 1, "v1"), prod("p", 2, "v2"), prod("p", 5, "v5"), prod("p", 4, "v4"), tomb("p", 6), prod("p", 2, "v2")}
	for i, e := range evs {
		if i == 2 {
			s.price(&catalog.PriceEvent{ProductID: "p", VariantID: "p-v", Version: 7, Price: catalog.Money{Amount: 700, Currency: "USD"}})
			s.price(&catalog.PriceEvent{ProductID: "p", VariantID: "p-v", Version: 6, Price: catalog.Money{Amount: 600, Currency: "USD"}})
		}
		if i == 4 {
			s.inventory(&catalog.InventoryEvent{ProductID: "p", VariantID: "p-v", WarehouseID: "w1", Version: 2, Available: 0})
		}
		if got := s.product(e); got != want[i] {
			t.Errorf("event %d (v%d deleted=%v): outcome %d, want %d", i, e.Version, e.Deleted, got, want[i])
		}
	}
	r := s.recs["p"]
	if !r.deleted() || r.effective(0) != nil {
		t.Fatal("product not deleted at v6")
	}
	if r.Content.Title != "v5" {
		t.Errorf("content is %q, want v5's", r.Content.Title)
	}
	// A newer content version brings it back, with the latest price and stock.
	s.product(prod("p", 7, "v7"))
	if r.ContentV != 5 || r.Content.Title != "v5" {
		t.Errorf("the stored record changed in place to v%d: records are copied on change", r.ContentV)
	}
	r = s.recs["p"]
	p := r.effective(0)
	if p == nil || p.Title != "v7" {
		t.Fatalf("v7 did not resurrect the product: %+v", p)
	}
	if p.Variants[0].Price.Amount != 700 {
		t.Errorf("price %d, want the latest (v7 of prices) 700", p.Variants[0].Price.Amount)
	}
	if p.Variants[0].Stock["w1"] != 0 || p.InStock() {
		t.Errorf("stock %v, want w1=0 from the inventory event", p.Variants[0].Stock)
	}
	if r.Content.Variants[0].Stock["w1"] != 3 {
		t.Error("effective() modified the content it started from")
	}
}

func TestDuplicatesAndTies(t *testing.T) {
	s := newState()
	if s.product(prod("a", 1, "x")) != applied || s.product(prod("a", 1, "x")) != duplicate {
		t.Fatal("a replayed event is not a duplicate")
	}
	s.product(tomb("a", 1))
	if s.recs["a"].effective(0) != nil {
		t.Fatal("a tombstone of the same version as the content must win")
	}
	if s.product(tomb("a", 1)) != duplicate {
		t.Fatal("replayed tombstone is not a duplicate")
	}
	// Price before content: kept, and applied when content arrives.
	s.price(&catalog.PriceEvent{ProductID: "b", VariantID: "b-v", Version: 1, Price: catalog.Money{Amount: 5, Currency: "USD"}})
	if s.recs["b"].effective(0) != nil {
		t.Fatal("a price alone made a product")
	}
	s.product(prod("b", 1, "b"))
	if p := s.recs["b"].effective(0); p.Variants[0].Price.Amount != 5 {
		t.Fatalf("price %d, want 5", p.Variants[0].Price.Amount)
	}
}

func BenchmarkEffective(b *testing.B) {
	s := newState()
	for i := range 1000 {
		s.product(prod(fmt.Sprint(i), 1, "t"))
		s.inventory(&catalog.InventoryEvent{ProductID: fmt.Sprint(i), VariantID: fmt.Sprint(i) + "-v", WarehouseID: "w2", Version: 1, Available: 4})
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range s.recs {
			_ = r.effective(0)
		}
	}
}

func TestOrderIDsBounded(t *testing.T) {
	s := newState()
	s.maxIDs = 3
	for i := range 5 {
		e := catalog.OrderEvent{OrderID: string(rune('a' + i)), Lines: []catalog.OrderLine{{ProductID: "p", Quantity: 2}}}
		if _, o := s.order(&e); o != applied {
			t.Fatalf("order %s: %v, want applied", e.OrderID, o)
		}
	}
	if got := s.orderIDsOldestFirst(); len(got) != 3 || got[0] != "c" || got[2] != "e" {
		t.Errorf("remembered %v, want [c d e]", got)
	}
	dup := catalog.OrderEvent{OrderID: "e", Lines: []catalog.OrderLine{{ProductID: "p", Quantity: 2}}}
	if _, o := s.order(&dup); o != duplicate || s.sales["p"] != 10 {
		t.Errorf("redelivered e: %v with sales %d, want duplicate and 10", o, s.sales["p"])
	}
}

func TestAddRatings(t *testing.T) {
	for _, c := range []struct{ a, b, want catalog.Rating }{
		{catalog.Rating{Avg: 4, Count: 3}, catalog.Rating{Avg: 1, Count: 1}, catalog.Rating{Avg: 3.25, Count: 4}},
		{catalog.Rating{}, catalog.Rating{Avg: 5, Count: 2}, catalog.Rating{Avg: 5, Count: 2}},
		{catalog.Rating{Avg: 4.5, Count: 10}, catalog.Rating{}, catalog.Rating{Avg: 4.5, Count: 10}},
	} {
		if got := addRatings(c.a, c.b); got != c.want {
			t.Errorf("addRatings(%+v, %+v) = %+v, want %+v", c.a, c.b, got, c.want)
		}
	}
}
