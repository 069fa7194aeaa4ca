package commerce

import (
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
