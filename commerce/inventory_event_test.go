package commerce

import (
	"fmt"
	"testing"

	"github.com/aisle/aisle/catalog"
)

// TestStockEventsInOutbox: every stock change enqueues the changed cell's
// inventory event, in the same transaction, keyed by product id; a
// refused reservation enqueues nothing; SeedStock enqueues nothing and
// keeps existing cells.
func TestStockEventsInOutbox(t *testing.T) {
	s := openStore(t, "r", false)
	n, err := s.SeedStock([]*catalog.Product{{ID: "p", Variants: []catalog.Variant{
		{ID: "v", Stock: map[string]int{"w1": 3, "w2": 1}}, {ID: "u", Stock: map[string]int{"w1": 0}}}}})
	must(t, err)
	if n != 3 {
		t.Fatalf("seeded %d cells, want 3", n)
	}
	if n, err := s.OutboxLen(); err != nil || n != 0 {
		t.Fatalf("seeding enqueued %d events (%v)", n, err)
	}
	if n, err := s.SeedStock([]*catalog.Product{{ID: "p", Variants: []catalog.Variant{{ID: "v", Stock: map[string]int{"w1": 99}}}}}); err != nil || n != 0 {
		t.Fatalf("a second seed created %d cells (%v)", n, err)
	}
	steps := []struct {
		name string
		op   func() error
		want []catalog.InventoryEvent // Available per event, in order
	}{
		{"hard", func() error { _, err := s.HardReserve("o1", []Line{{"v", "w1", 2}, {"v", "w2", 1}}); return err },
			[]catalog.InventoryEvent{{VariantID: "v", WarehouseID: "w1", Available: 1, Version: 1}, {VariantID: "v", WarehouseID: "w2", Available: 0, Version: 1}}},
		{"refused", func() error { s.HardReserve("o2", []Line{{"v", "w1", 2}}); return nil }, nil},
		{"deduct", func() error { _, err := s.Deduct("o1"); return err },
			[]catalog.InventoryEvent{{VariantID: "v", WarehouseID: "w1", Available: 1, Version: 2}, {VariantID: "v", WarehouseID: "w2", Available: 0, Version: 2}}},
		{"soft", func() error { _, err := s.SoftReserve("c", []Line{{"v", "w1", 1}}, 0); return err },
			[]catalog.InventoryEvent{{VariantID: "v", WarehouseID: "w1", Available: 0, Version: 3}}},
		{"release", func() error { _, err := s.Release("c"); return err },
			[]catalog.InventoryEvent{{VariantID: "v", WarehouseID: "w1", Available: 1, Version: 4}}},
		{"set", func() error { _, err := s.SetStock("p", "u", "w1", 5); return err },
			[]catalog.InventoryEvent{{VariantID: "u", WarehouseID: "w1", Available: 5, Version: 1}}},
	}
	for _, st := range steps {
		before, err := s.Pending(1000)
		must(t, err)
		must(t, st.op())
		after, err := s.Pending(1000)
		must(t, err)
		got := after[len(before):]
		if len(got) != len(st.want) {
			t.Fatalf("%s: %d events, want %d", st.name, len(got), len(st.want))
		}
		for i, r := range got {
			e, err := catalog.DecodeInventoryEvent(r.Key, r.Value)
			if err != nil || r.Topic != TopicInventory {
				t.Fatalf("%s: event %d on %q: %v", st.name, i, r.Topic, err)
			}
			w := st.want[i]
			if e.ProductID != "p" || e.VariantID != w.VariantID || e.WarehouseID != w.WarehouseID || e.Available != w.Available || e.Version != w.Version {
				t.Fatalf("%s: event %d is %+v, want %+v", st.name, i, e, w)
			}
		}
	}
}

// TestAdoptStock: a seller's newer stock event replaces the cell's units
// and version, an older or equal one does not, and the store's next change
// publishes above the seller's version.
func TestAdoptStock(t *testing.T) {
	s := openStore(t, "r", false)
	if _, err := s.SeedStock([]*catalog.Product{{ID: "p", Variants: []catalog.Variant{{ID: "v", Stock: map[string]int{"w": 5}}}}}); err != nil {
		t.Fatal(err)
	}
	ev := catalog.InventoryEvent{ProductID: "p", VariantID: "v", WarehouseID: "w", Version: 4, Available: 9}
	if ok, err := s.AdoptStock(ev); err != nil || !ok {
		t.Fatalf("AdoptStock v4 = %v, %v", ok, err)
	}
	ev.Version, ev.Available = 4, 1
	if ok, _ := s.AdoptStock(ev); ok {
		t.Error("an equal version was adopted")
	}
	if st, _ := s.Stock("v", "w"); st.Available != 9 || st.Version != 4 {
		t.Errorf("cell after adoption = %+v, want 9 units at version 4", st)
	}
	if _, err := s.SoftReserve("cart-1", []Line{{"v", "w", 2}}, 0); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Pending(10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("outbox after a reservation: %d records, %v", len(recs), err)
	}
	got, err := catalog.DecodeInventoryEvent(recs[0].Key, recs[0].Value)
	if err != nil || got.Version != 5 || got.Available != 7 {
		t.Errorf("published %+v (%v), want version 5 with 7 available", got, err)
	}
	if _, err := s.AdoptStock(catalog.InventoryEvent{VariantID: "v", WarehouseID: "w", Available: -1, Version: 9}); err == nil {
		t.Error("negative units adopted")
	}
}

// TestVariantProducts: the product a variant id's cells belong to, read
// in one transaction for many ids (issue 14 item 2: the durable record
// of who holds an id); ids without cells, or with a NUL, are absent, and
// an id that prefixes another does not match it.
func TestVariantProducts(t *testing.T) {
	s := openStore(t, "r", false)
	_, err := s.SeedStock([]*catalog.Product{
		{ID: "p1", Variants: []catalog.Variant{{ID: "v", Stock: map[string]int{"w1": 3, "w2": 0}}, {ID: "vv", Stock: map[string]int{"w1": 1}}}},
		{ID: "p2", Variants: []catalog.Variant{{ID: "u", Stock: map[string]int{"w2": 2}}}},
	})
	must(t, err)
	got, err := s.VariantProducts([]string{"v", "vv", "u", "x", "v\x00w1", ""})
	must(t, err)
	want := map[string]string{"v": "p1", "vv": "p1", "u": "p2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("VariantProducts = %v, want %v", got, want)
	}
}
