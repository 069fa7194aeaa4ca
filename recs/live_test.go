package recs

import (
	"context"
	"fmt"
	"testing"

	"github.com/aisle/aisle/catalog"
)

type liveProducts map[string]*catalog.Product

func (m liveProducts) Product(id string) (*catalog.Product, bool) { p, ok := m[id]; return p, ok }

func liveProduct(id string, stock int) *catalog.Product {
	return &catalog.Product{ID: id, Title: id, Variants: []catalog.Variant{{ID: id + "-v",
		Price: catalog.Money{Amount: 100, Currency: "USD"}, Stock: map[string]int{"w": stock}}}}
}

func liveOrder(id string, items ...string) catalog.OrderEvent {
	e := catalog.OrderEvent{OrderID: id}
	for _, it := range items {
		e.Lines = append(e.Lines, catalog.OrderLine{ProductID: it, Quantity: 1})
	}
	return e
}

// TestFresh: a pair that starts selling today shows in also bought and as
// a bundle once it reaches MinCount live orders; redeliveries count once;
// out-of-stock partners never show; the snapshot's lists keep their order.
func TestFresh(t *testing.T) {
	ps := liveProducts{"a": liveProduct("a", 5), "b": liveProduct("b", 5), "new": liveProduct("new", 5),
		"gone": liveProduct("gone", 0), "c": liveProduct("c", 5)}
	o := Orders{Items: []string{"a", "b", "c"}}
	for range 20 {
		o.Baskets = append(o.Baskets, []int32{0, 1})
	}
	for range 5 {
		o.Baskets = append(o.Baskets, []int32{2, 1})
	}
	l, err := Build(context.Background(), o, Options{})
	if err != nil {
		t.Fatal(err)
	}
	live := NewLive(LiveOptions{MinCount: 3})
	f := Fresh{Lists: l, Live: live}
	ids := func(items []Item) string {
		s := ""
		for _, it := range items {
			s += fmt.Sprintf("%s:%d ", it.Product.ID, it.Count)
		}
		return s
	}
	if got := ids(f.AlsoBought(nil, "a", 10, ps)); got != "b:20 " {
		t.Fatalf("before live orders: %q", got)
	}
	for i := range 3 {
		if !live.Observe(liveOrder(fmt.Sprint("o", i), "a", "new", "gone", "b")) {
			t.Fatalf("order o%d not counted", i)
		}
		live.Observe(liveOrder(fmt.Sprint("o", i), "a", "new")) // a redelivery
	}
	if got := ids(f.AlsoBought(nil, "a", 10, ps)); got != "b:23 new:3 " {
		t.Errorf("also bought with live orders = %q, want the snapshot's b (20+3) then new (3), no gone", got)
	}
	if got := ids(f.AlsoBought(nil, "a", 1, ps)); got != "b:23 " {
		t.Errorf("limit 1 = %q", got)
	}
	// "new" has no snapshot list: its bundle comes from live orders.
	bs := f.BoughtTogether(nil, "new", 3, ps)
	if len(bs) != 1 || len(bs[0].Products) != 2 || bs[0].Products[0].ID != "new" || bs[0].Count != 3 || bs[0].Price.Amount != 200 {
		t.Errorf("bundles of new = %+v, want new with a live partner, 3 orders, price 200", bs)
	}
	if bs := (Fresh{}).BoughtTogether(nil, "c", 3, ps); len(bs) != 0 {
		t.Errorf("no lists, no live: %+v", bs)
	}
}

func TestLiveBounded(t *testing.T) {
	live := NewLive(LiveOptions{MaxPartners: 4, MaxOrders: 10, MinCount: 1})
	for i := range 100 {
		live.Observe(liveOrder(fmt.Sprint("o", i), "a", fmt.Sprint("p", i)))
	}
	if n := len(live.partners["a"]); n != 4 {
		t.Errorf("a has %d partners, want at most 4", n)
	}
	if len(live.seen.ids) != 10 || len(live.seen.ring) != 10 {
		t.Errorf("remembers %d order ids (ring %d), want 10", len(live.seen.ids), len(live.seen.ring))
	}
	if live.Observe(liveOrder("o99", "a", "x")) {
		t.Error("a recent order id counted twice")
	}
	if !live.Observe(liveOrder("o0", "a", "x")) {
		t.Error("an order id forgotten long ago not counted")
	}
}

// TestLiveCarry: the live half of a batch that folds orders in counts
// only the orders the batch did not see, keeps the folded ones as seen
// (a replay does not count them again), and leaves the old Live as it
// was (served until the swap).
func TestLiveCarry(t *testing.T) {
	live := NewLive(LiveOptions{MinCount: 1, MaxOrders: 4})
	for i := range 6 { // o0 and o1 are forgotten: MaxOrders 4
		live.Observe(liveOrder(fmt.Sprint("o", i), "a", "b"))
	}
	live.Observe(liveOrder("o6", "a", "c"))
	if got := live.Count("a", "b"); got != 6 {
		t.Fatalf("a-b counted %d, want 6", got)
	}
	folded := map[string]bool{"o3": true, "o4": true, "o6": true}
	next := NewLive(LiveOptions{MinCount: 1, MaxOrders: 4})
	live.Carry(next, func(id string) bool { return folded[id] })
	if got, want := next.Count("a", "b"), 1; got != want { // o5 only (o2 forgotten by then)
		t.Errorf("a-b after folding o3, o4, o6: %d, want %d", got, want)
	}
	if got := next.Count("a", "c"); got != 0 {
		t.Errorf("a-c after folding o6: %d, want 0", got)
	}
	if got := live.Count("a", "b"); got != 6 {
		t.Errorf("the old Live changed: a-b %d", got)
	}
	if next.Observe(liveOrder("o6", "a", "c")) || next.Observe(liveOrder("o5", "a", "b")) {
		t.Error("a folded or counted order was counted again")
	}
	if !next.Observe(liveOrder("o7", "a", "c")) || next.Count("a", "c") != 1 {
		t.Error("a new order was not counted after the swap")
	}
	if got := next.Orders(); got != 4 {
		t.Errorf("%d orders remembered, want 4", got)
	}
}
