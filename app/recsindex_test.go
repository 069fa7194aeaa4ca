package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/recs"
)

// TestSimilarFileRestart: the first start builds the similar items and
// writes them to the data directory; the next start reads them (the same
// answers, the products added meanwhile kept); a corrupt or stale file is
// built again, and the log says why.
func TestSimilarFileRestart(t *testing.T) {
	var ps []*catalog.Product
	for k, kind := range []string{"toner cartridge", "wireless mouse", "green tea", "whole milk"} {
		for i := range 30 {
			id := fmt.Sprintf("p%d-%d", k, i)
			ps = append(ps, &catalog.Product{ID: id, Title: fmt.Sprintf("%s model %d", kind, i), Category: []string{"Dept" + kind[:1], kind},
				Variants: []catalog.Variant{{ID: id + "-v", Price: catalog.Money{Amount: 100, Currency: "USD"}, Stock: map[string]int{"w": 1}}}})
		}
	}
	o := recs.Orders{Items: []string{"p0-0", "p1-0", "p2-0"}, Baskets: [][]int32{{0, 1}, {0, 1}, {1, 2}, {0, 2}}}
	l, err := recs.Build(context.Background(), o, recs.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), SimilarFile)
	start := func(ps []*catalog.Product) (*recs.SimilarIndex, bool, string) {
		t.Helper()
		var log bytes.Buffer
		sim, loaded, err := loadServedRecs(context.Background(), path, ps, l, nil, 1, &log)
		if err != nil {
			t.Fatal(err)
		}
		var h productHook
		h.attach(sim, path, loaded)
		h.observe([]*catalog.Product{ps[0]}) // unchanged: not added
		if err := h.save(); err != nil {
			t.Fatal(err)
		}
		return sim, loaded, log.String()
	}
	cat := storeCatalog{}
	for _, p := range ps {
		cat[p.ID] = p
	}
	built, loaded, _ := start(ps)
	if loaded {
		t.Fatal("the first start read a similar-items file")
	}
	// A product created after the build, then a stop.
	fresh := &catalog.Product{ID: "new-tea", Title: "green tea jasmine", Category: []string{"Deptg", "green tea"},
		Variants: []catalog.Variant{{ID: "new-tea-v", Price: catalog.Money{Amount: 1, Currency: "USD"}, Stock: map[string]int{"w": 1}}}}
	var h productHook
	h.attach(built, path, true)
	h.observe([]*catalog.Product{fresh})
	if err := h.save(); err != nil {
		t.Fatal(err)
	}
	cat[fresh.ID] = fresh
	read, loaded, _ := start(ps)
	if !loaded {
		t.Fatal("the second start built the similar items again")
	}
	for _, id := range []string{"p0-3", "p2-7", "new-tea"} {
		a, b := built.Similar(nil, id, 5, cat), read.Similar(nil, id, 5, cat)
		if len(a) == 0 || !slices.EqualFunc(a, b, func(x, y recs.Item) bool { return x.Product.ID == y.Product.ID && x.Score == y.Score }) {
			t.Errorf("similar items of %s: %d before the restart, %d after, or different", id, len(a), len(b))
		}
	}
	if _, added := read.Len(); added != 1 {
		t.Errorf("%d products added after the restart, want 1", added)
	}
	// A flipped byte: built again, said on the log, and written again.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, loaded, log := start(ps); loaded || !strings.Contains(log, "corrupt") {
		t.Errorf("a corrupt file: loaded %v, log %q", loaded, log)
	}
	if _, loaded, _ := start(ps); !loaded {
		t.Error("the file written after the corrupt one was not read")
	}
	// Another catalog: stale, built again.
	if _, loaded, log := start(ps[1:]); loaded || !strings.Contains(log, "other inputs") {
		t.Errorf("a stale file: loaded %v, log %q", loaded, log)
	}
}
