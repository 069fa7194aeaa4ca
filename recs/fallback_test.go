package recs

import (
	"context"
	"strings"
	"testing"
)

// TestRecsFallbacks: in a store where only some products sell, every
// product gets also-bought and bought-together, each item saying why.
func TestRecsFallbacks(t *testing.T) {
	ps := append(textCatalog(),
		textProduct("g1", "garden hose", "Garden", "Watering"),
		textProduct("g2", "watering can", "Garden", "Watering"),
		textProduct("g3", "rake", "Garden", "Tools"))
	ps[len(ps)-2].SalesVelocity = 5 // the catalog's own sales signal
	// Only toners 0-4 and breads sell, always with a milk: toners 5-9,
	// mice, laptops have no orders; Electronics has none beyond toners.
	o := Orders{}
	for _, p := range ps {
		o.Items = append(o.Items, p.ID)
	}
	for rep := range 30 {
		for i := range 5 {
			o.Baskets = append(o.Baskets, []int32{int32(i), int32(20 + (i+rep)%10)})  // toner + laptop
			o.Baskets = append(o.Baskets, []int32{int32(40 + i), int32(30 + rep%10)}) // bread + milk
		}
	}
	l, err := Build(context.Background(), o, Options{BundleMinSupport: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewContent(ps, ContentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := BuildSimilar(context.Background(), ps, c, nil, nil, SimilarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := store{}
	for _, p := range ps {
		st[p.ID] = p
	}
	r := NewRecs(Fresh{Lists: l, Live: NewLive(LiveOptions{})}, sim, ps, CategoryOptions{})

	own := r.AlsoBought(nil, "k0-0", 3, st)
	if len(own) != 3 || own[0].Reason != "" || !strings.HasPrefix(own[0].Product.ID, "k2-") {
		t.Errorf("a selling toner's own list: %v", itemIDs(own))
	}
	// A toner without orders borrows its sister toners' lists: laptops.
	borrowed := r.AlsoBought(nil, "k0-7", 3, st)
	if len(borrowed) != 3 {
		t.Fatalf("a toner without orders has %d also-bought", len(borrowed))
	}
	for _, it := range borrowed {
		if it.Reason != ReasonSimilarBought || !strings.HasPrefix(it.Product.ID, "k2-") {
			t.Errorf("a toner without orders borrowed %s (%s)", it.Product.ID, it.Reason)
		}
	}
	// A mouse: no order in its category, its content neighbours (mice)
	// have none: the co-purchases of Electronics, the nearest category
	// that has any.
	mouse := r.AlsoBought(nil, "k1-0", 12, st)
	if len(mouse) != 12 {
		t.Fatalf("a mouse has %d also-bought: %v", len(mouse), itemIDs(mouse))
	}
	for _, it := range mouse {
		if it.Product.ID == "k1-0" || it.Reason != "often bought with Electronics products" {
			t.Errorf("a mouse's also-bought %s (%s)", it.Product.ID, it.Reason)
		}
	}
	// Garden has no orders at all: its best sellers by the catalog's sales
	// velocity, the leaf's first.
	hose := r.AlsoBought(nil, "g1", 5, st)
	if got := itemIDs(hose); len(hose) != 2 || got[0] != "g2 (best seller in Watering)" || got[1] != "g3 (best seller in Garden)" {
		t.Errorf("a hose's also-bought: %v", got)
	}
	for _, id := range []string{"k0-0", "k0-7", "k1-0", "k4-0", "g1"} {
		bs := r.BoughtTogether(nil, id, 3, st)
		if len(bs) == 0 {
			t.Errorf("%s has no bought-together", id)
			continue
		}
		if bs[0].Products[0].ID != id || len(bs[0].Products) < 2 || bs[0].Reason == "" && bs[0].Count == 0 {
			t.Errorf("%s's bundle: %+v", id, bs[0])
		}
	}
	// Coverage over the store: everything has both lists.
	cov := MeasureCoverage(ps, st, r, sim, 10)
	if cov.AlsoBought != len(ps) || cov.BoughtTogether != len(ps) || cov.SimilarInStockBig != cov.InStockBig {
		t.Errorf("coverage %+v", cov)
	}
}
