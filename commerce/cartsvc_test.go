package commerce

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// cartRecords returns the carts records of the outbox, oldest first.
func cartRecords(t *testing.T, s *Store) []Record {
	t.Helper()
	recs, err := s.Pending(100_000)
	must(t, err)
	var out []Record
	for _, r := range recs {
		if r.Topic == TopicCarts {
			out = append(out, r)
		}
	}
	return out
}

func stockOf(t *testing.T, s *Store, v, w string) (avail, resv int) {
	t.Helper()
	st, err := s.Stock(v, w)
	must(t, err)
	return st.Available, st.Reserved
}

// TestUpdateCartPublishesAndHolds walks one cart through the writes of the
// API and checks, after each, the outbox record and the soft hold: the
// warehouse with the most units free holds a line, a line no warehouse can
// hold whole is Short and holds nothing, a variant without stock cells is
// Untracked, and the cart is always written.
func TestUpdateCartPublishesAndHolds(t *testing.T) {
	// Whole lines held: the hoarding bounds are TestCartHoldsCannotHoard's.
	s, err := openTest(t, Options{Path: filepath.Join(t.TempDir(), "c.db"), Replica: "r1", GroupCommit: true, SoftHoldKeep: -1})
	must(t, err)
	defer s.Close()
	_, err = s.SetStock("p", "v", "w1", 3)
	must(t, err)
	_, err = s.SetStock("p", "v", "w2", 5)
	must(t, err)
	steps := []struct {
		name   string
		fn     func(*Cart) error
		hold   Hold
		w1, w2 int // available after
	}{
		{"add 4", func(c *Cart) error { return c.Add("v", 4) }, Held, 3, 1},
		{"raise to 6", func(c *Cart) error { return c.SetQuantity("v", 6) }, Short, 3, 5},
		{"lower to 2", func(c *Cart) error { return c.SetQuantity("v", 2) }, Held, 3, 3},
		{"add 1", func(c *Cart) error { return c.Add("v", 1) }, Held, 3, 2},
		{"remove", func(c *Cart) error { return c.Remove("v") }, Untracked, 3, 5},
	}
	for i, st := range steps {
		cs, err := s.UpdateCart("u1", CartLimits{}, st.fn)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if h := cs.Holds["v"]; cs.Cart.Quantity("v") > 0 && h != st.hold {
			t.Errorf("%s: hold %v, want %v", st.name, h, st.hold)
		}
		if a, _ := stockOf(t, s, "v", "w1"); a != st.w1 {
			t.Errorf("%s: w1 available %d, want %d", st.name, a, st.w1)
		}
		if a, _ := stockOf(t, s, "v", "w2"); a != st.w2 {
			t.Errorf("%s: w2 available %d, want %d", st.name, a, st.w2)
		}
		recs := cartRecords(t, s)
		if len(recs) != i+1 {
			t.Fatalf("%s: %d carts records, want %d", st.name, len(recs), i+1)
		}
		last := recs[len(recs)-1]
		if string(last.Key) != "u1" || string(last.Value) != string(cs.Cart.Encode()) {
			t.Errorf("%s: record %q = %s, want the cart %s", st.name, last.Key, last.Value, cs.Cart.Encode())
		}
		got, err := s.CartState("u1")
		must(t, err)
		if !slices.Equal(got.Cart.Items(), cs.Cart.Items()) {
			t.Errorf("%s: stored %v, answered %v", st.name, got.Cart.Items(), cs.Cart.Items())
		}
		if q := cs.Cart.Quantity("v"); q > 0 && got.Holds["v"] != st.hold {
			t.Errorf("%s: CartState hold %v, want %v", st.name, got.Holds["v"], st.hold)
		}
	}
	cs, err := s.UpdateCart("u1", CartLimits{}, func(c *Cart) error { return c.Add("nocells", 2) })
	must(t, err)
	if cs.Holds["nocells"] != Untracked {
		t.Errorf("a variant without cells: %v", cs.Holds["nocells"])
	}
}

// TestCartHoldExpires: the sweeper gives back a cart's hold after the TTL;
// the cart keeps its items, and the next write holds again.
func TestCartHoldExpires(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, err := openTest(t, Options{Path: filepath.Join(t.TempDir(), "c.db"), Replica: "r", Now: clock, SoftHoldKeep: -1})
	must(t, err)
	defer s.Close()
	_, err = s.SetStock("p", "v", "w", 2)
	must(t, err)
	_, err = s.UpdateCart("u", CartLimits{}, func(c *Cart) error { return c.Add("v", 2) })
	must(t, err)
	if a, r := stockOf(t, s, "v", "w"); a != 0 || r != 2 {
		t.Fatalf("held: available %d reserved %d", a, r)
	}
	if n, _, err := s.Sweep(now.Add(14*time.Minute), 100); err != nil || n != 0 {
		t.Fatalf("sweep before the TTL released %d (%v)", n, err)
	}
	if n, _, err := s.Sweep(now.Add(15*time.Minute), 100); err != nil || n != 1 {
		t.Fatalf("sweep at the TTL released %d (%v)", n, err)
	}
	if a, r := stockOf(t, s, "v", "w"); a != 2 || r != 0 {
		t.Fatalf("swept: available %d reserved %d", a, r)
	}
	cs, err := s.CartState("u")
	must(t, err)
	if cs.Cart.Quantity("v") != 2 || cs.Holds["v"] != Held {
		t.Fatalf("after the sweep: %v %v", cs.Cart.Items(), cs.Holds)
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	// Another cart takes the units; this cart's line is now short.
	_, err = s.UpdateCart("u2", CartLimits{}, func(c *Cart) error { return c.Add("v", 1) })
	must(t, err)
	cs, err = s.UpdateCart("u", CartLimits{}, func(c *Cart) error { return c.Add("other", 1) })
	must(t, err)
	if cs.Holds["v"] != Short || cs.Cart.Quantity("v") != 2 {
		t.Fatalf("short after another cart held a unit: %v %v", cs.Holds, cs.Cart.Items())
	}
	if a, r := stockOf(t, s, "v", "w"); a != 1 || r != 1 {
		t.Fatalf("available %d reserved %d, want 1 and 1", a, r)
	}
}

func TestCartLimits(t *testing.T) {
	s := openStore(t, "r", false)
	lim := CartLimits{MaxQuantity: 5, MaxLines: 3}
	for _, c := range []struct {
		name string
		fn   func(*Cart) error
		ok   bool
	}{
		{"5 of a", func(c *Cart) error { return c.Add("a", 5) }, true},
		{"one more a", func(c *Cart) error { return c.Add("a", 1) }, false},
		{"b and c", func(c *Cart) error { c.Add("b", 1); return c.Add("c", 1) }, true},
		{"a fourth line", func(c *Cart) error { return c.Add("d", 1) }, false},
		{"set a to 2", func(c *Cart) error { return c.SetQuantity("a", 2) }, true},
	} {
		_, err := s.UpdateCart("u", lim, c.fn)
		if c.ok != (err == nil) || (err != nil && !errors.Is(err, ErrCartLimit)) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	cs, err := s.CartState("u")
	must(t, err)
	if got := cs.Cart.Items(); !slices.Equal(got, []Item{{"a", 2}, {"b", 1}, {"c", 1}}) {
		t.Errorf("cart %v", got)
	}
	if n := len(cartRecords(t, s)); n != 3 {
		t.Errorf("%d records; refused writes must publish nothing", n)
	}
}

// TestMergeGuestCart: sign-in folds the guest cart into the user's, gives
// back the guest's hold and holds the user's cart; a retry changes
// nothing.
func TestMergeGuestCart(t *testing.T) {
	s := openStore(t, "r", true)
	_, err := s.SetStock("p", "v", "w", 10)
	must(t, err)
	_, err = s.UpdateCart("guest-1", CartLimits{}, func(c *Cart) error { return c.Add("v", 3) })
	must(t, err)
	_, err = s.UpdateCart("user", CartLimits{}, func(c *Cart) error { c.Add("v", 1); return c.Add("x", 1) })
	must(t, err)
	for i := range 2 {
		cs, err := s.MergeGuestCart("guest-1", "user", CartLimits{})
		must(t, err)
		if got := cs.Cart.Items(); !slices.Equal(got, []Item{{"v", 3}, {"x", 1}}) {
			t.Fatalf("merge %d: %v", i, got)
		}
		if a, r := stockOf(t, s, "v", "w"); a != 7 || r != 3 {
			t.Fatalf("merge %d: available %d reserved %d, want 7 and 3", i, a, r)
		}
		g, err := s.Load("guest-1")
		must(t, err)
		if g.Len() != 0 {
			t.Fatalf("merge %d: guest cart kept %v", i, g.Items())
		}
	}
	recs := cartRecords(t, s)
	if last := recs[len(recs)-1]; string(last.Key) != "user" {
		t.Fatalf("last record keyed %q", last.Key)
	}
	if _, err := s.MergeGuestCart("user", "user", CartLimits{}); err == nil {
		t.Fatal("merging a cart into itself accepted")
	}
}

// TestMergeRemoteReplicas: carts records of replica A, delivered to B
// twice and in reverse order, give B A's cart; B writes only when the cart
// changes and publishes nothing; a concurrent add on B survives.
func TestMergeRemoteReplicas(t *testing.T) {
	a, b := openStore(t, "a", true), openStore(t, "b", true)
	for i := range 5 {
		_, err := a.UpdateCart("u", CartLimits{}, func(c *Cart) error { return c.Add(fmt.Sprintf("v%d", i%3), 1) })
		must(t, err)
	}
	_, err := a.UpdateCart("u", CartLimits{}, func(c *Cart) error { return c.Remove("v1") })
	must(t, err)
	_, err = b.UpdateCart("u", CartLimits{}, func(c *Cart) error { return c.Add("bee", 1) })
	must(t, err)
	bOut := len(cartRecords(t, b))
	recs := cartRecords(t, a)
	slices.Reverse(recs)
	for _, pass := range []string{"first", "again"} {
		changed := 0
		for _, r := range recs {
			ok, err := b.MergeRemote(string(r.Key), r.Value)
			must(t, err)
			if ok {
				changed++
			}
		}
		if pass == "again" && changed != 0 {
			t.Errorf("a redelivery changed the cart %d times", changed)
		}
	}
	cb, err := b.Load("u")
	must(t, err)
	if got := cb.Items(); !slices.Equal(got, []Item{{"bee", 1}, {"v0", 2}, {"v2", 1}}) {
		t.Fatalf("B after merging A: %v", got)
	}
	if n := len(cartRecords(t, b)); n != bOut {
		t.Fatalf("merging published %d records", n-bOut)
	}
	if _, err := b.MergeRemote("u", []byte(`{"format":1,"clock":{},"entries":{"v":[{"r":"z","c":1,"q":1}]}}`)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a corrupt remote cart: %v", err)
	}
}

// TestCartWritesConcurrentStock: 16 goroutines, each its own cart, add and
// remove units of one variant with 10 units under group commit: reserved
// units always equal the held lines, never more than the stock.
func TestCartWritesConcurrentStock(t *testing.T) {
	s := openStore(t, "r", true)
	_, err := s.SetStock("p", "v", "w", 10)
	must(t, err)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			user := fmt.Sprintf("u%d", g)
			for i := range 20 {
				_, err := s.UpdateCart(user, CartLimits{}, func(c *Cart) error {
					if i%3 == 2 {
						return c.Remove("v")
					}
					return c.SetQuantity("v", 1+(g+i)%3)
				})
				if err != nil {
					t.Error(err)
					return
				}
				if a, r := stockOf(t, s, "v", "w"); a < 0 || a+r != 10 {
					t.Errorf("available %d reserved %d", a, r)
				}
			}
		})
	}
	wg.Wait()
	held := 0
	for g := range 16 {
		must(t, s.db.view(func(tx kvTx) error {
			r, err := getResv(tx, CartHoldPrefix+fmt.Sprintf("u%d", g))
			if r != nil && r.State == Soft {
				for _, l := range r.Lines {
					held += l.Quantity
				}
			}
			return err
		}))
	}
	if _, r := stockOf(t, s, "v", "w"); r != held || r > 10 {
		t.Fatalf("reserved %d of 10, the holds hold %d", r, held)
	}
}

func TestConsumedOffsets(t *testing.T) {
	s := openStore(t, "r", true)
	got, err := s.ConsumedOffsets(TopicCarts, 3)
	must(t, err)
	if got[0] != -1 || got[2] != -1 || len(got) != 3 {
		t.Fatalf("fresh: %v", got)
	}
	must(t, s.MarkConsumed(TopicCarts, map[int32]int64{0: 5, 2: 9}))
	must(t, s.MarkConsumed(TopicCarts, map[int32]int64{0: 3, 1: 1})) // 0 never moves back
	got, err = s.ConsumedOffsets(TopicCarts, 3)
	must(t, err)
	if got[0] != 5 || got[1] != 1 || got[2] != 9 {
		t.Fatalf("marked: %v", got)
	}
	if other, _ := s.ConsumedOffsets("other", 1); other[0] != -1 {
		t.Fatalf("another topic: %v", other)
	}
}

// TestCartHoldsCannotHoard (issue 14 item 4): however many carts hold a
// product (guests are free to mint), soft holds leave SoftHoldKeep of each
// cell available, so the product never shows sold out for holds alone and
// a checkout reaches those units; a cart holds at most MaxHoldPerCart
// units over its lines; a line holding part of its units is Held while
// the stock covers it.
func TestCartHoldsCannotHoard(t *testing.T) {
	s := openStore(t, "r", false)
	_, err := s.SetStock("p", "v", "w", 150)
	must(t, err)
	for i := range 20 {
		cs, err := s.UpdateCart(fmt.Sprintf("guest-%d", i), CartLimits{}, func(c *Cart) error { return c.Add("v", 10) })
		must(t, err)
		if cs.Holds["v"] != Held {
			t.Fatalf("cart %d: line %v, want held", i, cs.Holds["v"])
		}
	}
	// Lines are held whole or not at all: 7 carts hold 10 each, the
	// eighth would leave 70 of 150.
	if a, r := stockOf(t, s, "v", "w"); a != 80 || r != 70 {
		t.Errorf("20 carts of 10 units hold: available %d reserved %d; want 80 and 70", a, r)
	}
	if _, err := s.HardReserve("order-1", []Line{{"v", "w", 80}}); err != nil {
		t.Errorf("a checkout of the 80 units the carts left: %v", err)
	}
	// One cart over many products holds at most MaxHoldPerCart (30).
	for i := range 5 {
		_, err := s.SetStock("q", fmt.Sprintf("u%d", i), "w", 1000)
		must(t, err)
	}
	cs, err := s.UpdateCart("greedy", CartLimits{}, func(c *Cart) error {
		for i := range 5 {
			if err := c.Add(fmt.Sprintf("u%d", i), 10); err != nil {
				return err
			}
		}
		return nil
	})
	must(t, err)
	held := 0
	for i := range 5 {
		v := fmt.Sprintf("u%d", i)
		_, r := stockOf(t, s, v, "w")
		held += r
		if cs.Holds[v] != Held {
			t.Errorf("%s: %v, want held (the stock covers it)", v, cs.Holds[v])
		}
	}
	if held != 30 {
		t.Errorf("a cart of 5 lines of 10 units holds %d units; want 30", held)
	}
	got, err := s.CartState("greedy")
	must(t, err)
	for v, h := range got.Holds {
		if h != Held {
			t.Errorf("CartState %s: %v, want held", v, h)
		}
	}
}
