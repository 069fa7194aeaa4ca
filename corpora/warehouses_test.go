package corpora

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestWarehouses(t *testing.T) {
	ws := Warehouses()
	if len(ws) != NumWarehouses {
		t.Fatalf("%d warehouses, want %d", len(ws), NumWarehouses)
	}
	if !slices.Equal(ws, Warehouses()) {
		t.Fatal("Warehouses differs between calls")
	}
	seen := map[string]bool{}
	cities := map[string]bool{}
	for i, w := range ws {
		if err := w.Validate(); err != nil {
			t.Error(err)
		}
		if w.ID != warehouseID(i) || seen[w.ID] {
			t.Errorf("warehouse %d: id %q", i, w.ID)
		}
		seen[w.ID] = true
		// Inside the continental US's bounding box.
		if w.Lat < 24.5 || w.Lat > 49.5 || w.Lon < -125 || w.Lon > -66.9 {
			t.Errorf("%s %q at (%v, %v) is outside the continental US", w.ID, w.Name, w.Lat, w.Lon)
		}
		metro, num, ok := strings.Cut(w.Name, " #")
		if !ok || num != strconv.Itoa(i+1) {
			t.Errorf("%s: name %q", w.ID, w.Name)
		}
		cities[metro] = true
	}
	if len(cities) < 40 {
		t.Errorf("warehouses in only %d metros", len(cities))
	}
	// The first one is pinned: a change of the generator must be deliberate
	// (doc/fulfillment.md lists it).
	if w := ws[0]; w.ID != "wh-001" || w.Name == "" {
		t.Errorf("first warehouse %+v", w)
	}
	t.Logf("first: %+v, last: %+v", ws[0], ws[len(ws)-1])
}

func TestPlaceStock(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	counts := map[int]int{}
	for range 20000 {
		var lots [3]int
		for i := range lots {
			if r.IntN(3) > 0 {
				lots[i] = r.IntN(40)
			}
		}
		homes := homeWarehouses(r)
		m := placeStock(lots, homes, r)
		sum := 0
		for id, q := range m {
			if q < 0 || !slices.ContainsFunc(homes[:], func(h int) bool { return warehouseID(h) == id }) {
				t.Fatalf("lots %v homes %v: %s holds %d", lots, homes, id, q)
			}
			sum += q
		}
		if sum != lots[0]+lots[1]+lots[2] || len(m) < 1 || len(m) > 4 {
			t.Fatalf("lots %v placed as %v", lots, m)
		}
		if sum > 0 {
			counts[len(m)]++
		}
	}
	for k := 1; k <= 4; k++ {
		if counts[k] == 0 {
			t.Errorf("no variant kept in %d warehouses: %v", k, counts)
		}
	}
}
