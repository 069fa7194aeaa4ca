package recs

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
)

func order(id, user string, at time.Time, products ...string) catalog.OrderEvent {
	e := catalog.OrderEvent{Schema: catalog.SchemaVersion, OrderID: id, UserID: user, PlacedAt: at}
	for _, p := range products {
		e.Lines = append(e.Lines, catalog.OrderLine{ProductID: p, VariantID: p + "-v", Quantity: 1})
	}
	return e
}

func newTestHome(t *testing.T, opts HomeOptions) (*Home, store) {
	t.Helper()
	o := synthetic(40, 5000, 2)
	l, err := Build(context.Background(), o, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHome(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.SetLists(l)
	return h, newStore(o.Items)
}

func ids(items []Item) []string {
	var s []string
	for _, it := range items {
		s = append(s, it.Product.ID)
	}
	return s
}

func TestHomePersonalized(t *testing.T) {
	h, s := newTestHome(t, HomeOptions{Aliases: map[string]string{"demo": "u1"}})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// u1 bought p8 and p9 (group 8-11), and p20 twice: a staple.
	h.Observe(order("o1", "u1", t0, "p8", "p20"))
	h.Observe(order("o2", "u1", t0.Add(time.Hour), "p9", "p20"))
	if !h.Observe(order("o3", "", t0, "p1")) || h.Observe(order("o1", "u1", t0, "p8", "p20")) {
		t.Error("Observe: a new order not taken or a redelivered one taken again")
	}
	if h.Orders("u1") != 2 || h.Orders("demo") != 2 {
		t.Fatalf("orders of u1 %d, of its alias %d: want 2", h.Orders("u1"), h.Orders("demo"))
	}
	got := h.Personalized(nil, "u1", 6, s)
	t.Logf("u1: %v", ids(got))
	if len(got) == 0 {
		t.Fatal("no personalized items")
	}
	seen := map[string]Item{}
	for _, it := range got {
		seen[it.Product.ID] = it
		if it.Because == "" {
			t.Errorf("%s: no reason", it.Product.ID)
		}
	}
	for _, bought := range []string{"p8", "p9"} {
		if _, ok := seen[bought]; ok {
			t.Errorf("%s was bought once and is recommended again", bought)
		}
	}
	if it, ok := seen["p20"]; !ok || it.Because != "p20" || got[0].Product.ID != "p20" {
		t.Errorf("staple p20 missing, not first or without itself as reason: %v", ids(got))
	}
	if _, ok := seen["p10"]; !ok {
		if _, ok := seen["p11"]; !ok {
			t.Errorf("neither p10 nor p11, bought with p8 and p9, recommended: %v", ids(got))
		}
	}
	alias := h.Personalized(nil, "demo", 6, s)
	if fmt.Sprint(ids(alias)) != fmt.Sprint(ids(got)) {
		t.Errorf("alias demo: %v, want u1's %v", ids(alias), ids(got))
	}
	// Out of stock now: gone at once.
	s[got[0].Product.ID].Variants[0].Stock = nil
	for _, it := range h.Personalized(nil, "u1", 6, s) {
		if it.Product.ID == got[0].Product.ID {
			t.Errorf("%s is out of stock and still recommended", it.Product.ID)
		}
	}
	if n := len(h.Personalized(nil, "nobody", 6, s)); n != 0 {
		t.Errorf("a user with no orders got %d items", n)
	}
}

func TestHomePerCategory(t *testing.T) {
	h, s := newTestHome(t, HomeOptions{PerCategory: 1})
	for _, p := range s {
		p.Category = []string{"Root", "only"}
	}
	h.Observe(order("o1", "u", time.Now(), "p8", "p9", "p12"))
	if got := h.Personalized(nil, "u", 5, s); len(got) != 1 {
		t.Errorf("one category, PerCategory 1: %v, want one item", ids(got))
	}
}

func TestHomeStaplesHalfTheRow(t *testing.T) {
	h, s := newTestHome(t, HomeOptions{})
	t0 := time.Now()
	for i := range 3 {
		h.Observe(order(fmt.Sprint("o", i), "u", t0.Add(time.Duration(i)*time.Hour), "p8", "p13", "p22", "p30"))
	}
	got := h.Personalized(nil, "u", 4, s)
	staples := 0
	for _, it := range got {
		if it.Because == it.Product.ID {
			staples++
		}
	}
	if len(got) != 4 || staples != 2 {
		t.Errorf("four staples, limit 4: %v with %d staples, want 4 items, 2 staples", ids(got), staples)
	}
}

func TestHomePopular(t *testing.T) {
	h, s := newTestHome(t, HomeOptions{})
	base := h.Popular(nil, 5, s)
	if len(base) != 5 {
		t.Fatalf("popular: %d items, want 5", len(base))
	}
	for i := 1; i < len(base); i++ {
		if base[i].Count > base[i-1].Count {
			t.Errorf("popular not by count: %v", base)
		}
	}
	// A new product sells more than the top one: it leads after a refresh.
	s["new"] = &catalog.Product{ID: "new", Title: "new", Variants: []catalog.Variant{{ID: "new-v", Stock: map[string]int{"w": 1}}}}
	for i := range base[0].Count + 1 {
		h.Observe(order(fmt.Sprint("n", i), "", time.Now(), "new"))
	}
	h.mu.Lock()
	h.popAt = time.Time{} // skip the refresh interval
	h.mu.Unlock()
	got := h.Popular(nil, 5, s)
	if got[0].Product.ID != "new" || got[0].Count != base[0].Count+1 {
		t.Errorf("after live orders: first %s with %d, want new with %d", got[0].Product.ID, got[0].Count, base[0].Count+1)
	}
	delete(s, "new")
	if got := h.Popular(nil, 5, s); len(got) != 5 || got[0].Product.ID == "new" {
		t.Errorf("deleted product still popular: %v", ids(got))
	}
}

func TestHomeBounds(t *testing.T) {
	h, _ := newTestHome(t, HomeOptions{MaxUsers: 2, MaxOrders: 3, MaxSeenOrders: 4})
	t0 := time.Now()
	for i := range 5 {
		h.Observe(order(fmt.Sprint("a", i), "a", t0.Add(time.Duration(i)*time.Minute), "p1"))
	}
	if n := h.Orders("a"); n != 3 {
		t.Errorf("user a keeps %d orders, want 3", n)
	}
	h.Observe(order("b0", "b", t0.Add(time.Hour), "p1"))
	h.Observe(order("c0", "c", t0.Add(2*time.Hour), "p1"))
	if h.Orders("a") != 0 || h.Orders("b") != 1 || h.Orders("c") != 1 {
		t.Errorf("after a third user: a %d, b %d, c %d orders; want a forgotten", h.Orders("a"), h.Orders("b"), h.Orders("c"))
	}
	h.mu.Lock()
	seen := len(h.seen.ids)
	h.mu.Unlock()
	if seen != 4 {
		t.Errorf("%d order ids remembered, want the bound 4", seen)
	}
}

func TestEvaluateHomeBeatsPopularity(t *testing.T) {
	train := synthetic(400, 20000, 5)
	test := synthetic(400, 2000, 6).Baskets
	l, err := Build(context.Background(), train, Options{})
	if err != nil {
		t.Fatal(err)
	}
	learned, pop := Evaluate(l, test, EvalOptions{Seed: 1})
	home, pop2 := EvaluateHome(l, test, nil, HomeOptions{}, EvalOptions{Seed: 1})
	t.Logf("%v\n%v\n%v", home, learned, pop)
	if pop2.String() != pop.String() {
		t.Errorf("popularity differs between the evaluations: %v vs %v (not the same hidden items)", pop2, pop)
	}
	if home.HitRate < 2*pop.HitRate || home.HitRate < 0.9*learned.HitRate {
		t.Errorf("home HR@10 %.3f: want twice popularity %.3f and near the lists' %.3f", home.HitRate, pop.HitRate, learned.HitRate)
	}
}

func TestHomeOptionsValidate(t *testing.T) {
	err := HomeOptions{MaxUsers: -1, Decay: 2, StapleWeight: -1, Aliases: map[string]string{"x": ""}}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"MaxUsers", "Decay", "StapleWeight", "Aliases"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func BenchmarkHomePersonalized(b *testing.B) {
	o := synthetic(2000, 50000, 2)
	l, err := Build(context.Background(), o, Options{})
	if err != nil {
		b.Fatal(err)
	}
	h, _ := NewHome(HomeOptions{})
	h.SetLists(l)
	s := newStore(o.Items)
	t0 := time.Now()
	for i := range 10 {
		var ps []string
		for j := range 10 {
			ps = append(ps, o.Items[(i*37+j*11)%len(o.Items)])
		}
		h.Observe(order(fmt.Sprint(i), "u", t0.Add(time.Duration(i)*time.Hour), ps...))
	}
	b.ReportAllocs()
	var dst []Item
	for b.Loop() {
		dst = h.Personalized(dst[:0], "u", 10, s)
	}
}

// TestHomeConcurrent observes orders, swaps lists and reads both rows at
// once (run with -race).
func TestHomeConcurrent(t *testing.T) {
	h, s := newTestHome(t, HomeOptions{MaxUsers: 8, MaxSeenOrders: 64})
	l := h.lists.Load()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				u := fmt.Sprint("u", i%10)
				switch g {
				case 0:
					h.Observe(order(fmt.Sprint("o", i), u, time.Unix(int64(i), 0), fmt.Sprint("p", i%40), fmt.Sprint("p", (i+1)%40)))
				case 1:
					h.Personalized(nil, u, 10, s)
				case 2:
					h.Popular(nil, 10, s)
				default:
					h.SetLists(l)
				}
			}
		})
	}
	wg.Wait()
	if n := len(h.Personalized(nil, "u9", 10, s)); n == 0 {
		t.Error("no personalized row after the concurrent orders")
	}
}
