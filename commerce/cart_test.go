package commerce

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// mergeFunc joins src into dst; the property test runs against Cart.Merge
// and against mutations of it.
type mergeFunc func(dst, src *Cart)

func realMerge(dst, src *Cart) { dst.Merge(src) }

// naiveMerge is the mutation: a union of every dot ignoring the clocks,
// the Dynamo paper's resurfacing delete. The property test must catch it.
func naiveMerge(dst, src *Cart) {
	for v, theirs := range src.entries {
		for _, d := range theirs {
			if !slices.ContainsFunc(dst.entries[v], func(e dotValue) bool { return e.Dot == d.Dot }) {
				dst.entries[v] = append(dst.entries[v], d)
			}
		}
		slices.SortFunc(dst.entries[v], func(x, y dotValue) int {
			if x.Replica != y.Replica {
				return strings.Compare(x.Replica, y.Replica)
			}
			return int(x.Counter) - int(y.Counter)
		})
	}
	for r, n := range src.clock {
		dst.clock[r] = max(dst.clock[r], n)
	}
}

// op is one cart operation in the oracle's log.
type op struct {
	variant string
	write   bool // Add or SetQuantity; false for Remove
	qty     int
	past    map[int]bool // ops known to the replica before this one
}

// oracle is the specification: a replica knows a set of ops; a write is
// visible when no known op on the same variant had it in its past; the
// quantity is the largest of the visible writes.
type oracle struct{ ops []op }

func (o *oracle) items(known map[int]bool) []Item {
	qty := map[string]int{}
	for i := range known {
		w := o.ops[i]
		if !w.write {
			continue
		}
		superseded := false
		for j := range known {
			if j != i && o.ops[j].variant == w.variant && o.ops[j].past[i] {
				superseded = true
				break
			}
		}
		if !superseded {
			qty[w.variant] = max(qty[w.variant], w.qty)
		}
	}
	items := []Item{}
	for _, v := range slices.Sorted(maps.Keys(qty)) {
		items = append(items, Item{v, qty[v]})
	}
	return items
}

type replica struct {
	cart  *Cart
	known map[int]bool
}

type message struct {
	to    int
	cart  *Cart
	known map[int]bool
}

// compare reports how got differs from the oracle's want.
func compare(got, want []Item) error {
	g := map[string]int{}
	for _, it := range got {
		g[it.VariantID] = it.Quantity
	}
	w := map[string]int{}
	for _, it := range want {
		w[it.VariantID] = it.Quantity
	}
	for v, q := range w {
		if g[v] == 0 {
			return fmt.Errorf("lost add: %q (want quantity %d) missing from %v", v, q, got)
		}
		if g[v] != q {
			return fmt.Errorf("quantity of %q: got %d, want %d", v, g[v], q)
		}
	}
	for v := range g {
		if w[v] == 0 {
			return fmt.Errorf("resurfaced remove: %q in %v, want %v", v, got, want)
		}
	}
	return nil
}

// checkHistory runs one random history over n replicas and checks every
// replica against the oracle after every step, convergence at the end,
// and the merge laws on the states seen along the way.
func checkHistory(seed uint64, n int, merge mergeFunc) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	variants := []string{"a", "b", "c", "d"}
	reps := make([]*replica, n)
	for i := range reps {
		reps[i] = &replica{NewCart(fmt.Sprintf("r%d", i)), map[int]bool{}}
	}
	var or oracle
	var net []message
	var states []*Cart
	steps := 10 + rng.IntN(40)
	for step := range steps {
		i := rng.IntN(n)
		r := reps[i]
		switch k := rng.IntN(10); {
		case k < 5: // local op
			v := variants[rng.IntN(len(variants))]
			o := op{variant: v, past: maps.Clone(r.known)}
			var err error
			switch rng.IntN(3) {
			case 0:
				q := 1 + rng.IntN(3)
				o.write, o.qty = true, r.cart.Quantity(v)+q
				err = r.cart.Add(v, q)
			case 1:
				o.write, o.qty = true, 1+rng.IntN(3)
				err = r.cart.SetQuantity(v, o.qty)
			default:
				err = r.cart.Remove(v)
			}
			if err != nil {
				return err
			}
			r.known[len(or.ops)] = true
			or.ops = append(or.ops, o)
		case k < 8: // send a copy of replica i to another
			to := (i + 1 + rng.IntN(n-1)) % n
			c := r.cart.Clone()
			net = append(net, message{to, c, maps.Clone(r.known)})
			states = append(states, c)
		default: // deliver a message, sometimes keeping it for a duplicate
			if len(net) == 0 {
				continue
			}
			m := rng.IntN(len(net))
			msg := net[m]
			if rng.IntN(3) > 0 {
				net = slices.Delete(net, m, m+1)
			}
			r = reps[msg.to]
			merge(r.cart, msg.cart)
			maps.Copy(r.known, msg.known)
		}
		if err := compare(r.cart.Items(), or.items(r.known)); err != nil {
			return fmt.Errorf("step %d, replica %s: %w", step, r.cart.replica, err)
		}
	}
	// Deliver what is left in random order, then sync everyone.
	rng.Shuffle(len(net), func(a, b int) { net[a], net[b] = net[b], net[a] })
	for _, msg := range net {
		merge(reps[msg.to].cart, msg.cart)
		maps.Copy(reps[msg.to].known, msg.known)
	}
	for range 2 {
		for _, a := range rng.Perm(n) {
			for _, b := range rng.Perm(n) {
				if a != b {
					merge(reps[a].cart, reps[b].cart.Clone())
					maps.Copy(reps[a].known, reps[b].known)
				}
			}
		}
	}
	want := or.items(reps[0].known)
	for _, r := range reps {
		states = append(states, r.cart.Clone())
		if !bytes.Equal(r.cart.Encode(), reps[0].cart.Encode()) {
			return fmt.Errorf("no convergence: %s %s vs %s", r.cart.Encode(), r.cart.replica, reps[0].cart.Encode())
		}
		if err := compare(r.cart.Items(), want); err != nil {
			return fmt.Errorf("after sync, replica %s: %w", r.cart.replica, err)
		}
	}
	// Merge laws on states seen along the way.
	join := func(a, b *Cart) *Cart { c := a.Clone(); merge(c, b); return c }
	for range 8 {
		a, b, c := states[rng.IntN(len(states))], states[rng.IntN(len(states))], states[rng.IntN(len(states))]
		if !bytes.Equal(join(a, b).Encode(), join(b, a).Encode()) {
			return fmt.Errorf("not commutative: %s, %s", a.Encode(), b.Encode())
		}
		if !bytes.Equal(join(join(a, b), c).Encode(), join(a, join(b, c)).Encode()) {
			return fmt.Errorf("not associative: %s, %s, %s", a.Encode(), b.Encode(), c.Encode())
		}
		if !bytes.Equal(join(a, a).Encode(), a.Encode()) {
			return fmt.Errorf("not idempotent: %s", a.Encode())
		}
	}
	return nil
}

const histories = 10_000

func TestCartHistories(t *testing.T) {
	for seed := range uint64(histories) {
		n := 2 + int(seed%2)
		if err := checkHistory(seed, n, realMerge); err != nil {
			t.Fatalf("%d replicas, seed %d: %v", n, seed, err)
		}
	}
	t.Logf("%d histories (half on 2 replicas, half on 3): no violation", histories)
}

// TestCartHistoriesCatchNaiveMerge is the mutation test: a union merge
// must fail the property test, and by resurfacing a remove.
func TestCartHistoriesCatchNaiveMerge(t *testing.T) {
	caught, resurfaced := 0, 0
	var first error
	for seed := range uint64(histories) {
		if err := checkHistory(seed, 2+int(seed%2), naiveMerge); err != nil {
			if first == nil {
				first = err
			}
			caught++
			if strings.Contains(err.Error(), "resurfaced remove") {
				resurfaced++
			}
		}
	}
	if caught == 0 || resurfaced == 0 {
		t.Fatalf("naive union merge not caught: %d failing histories, %d resurfaced removes", caught, resurfaced)
	}
	t.Logf("naive union merge fails %d of %d histories (%d by a resurfaced remove); first: %v", caught, histories, resurfaced, first)
}

func TestCartConcurrentAddWins(t *testing.T) {
	a, b := NewCart("a"), NewCart("b")
	must(t, a.Add("shoe", 1))
	b.Merge(a)
	must(t, a.Remove("shoe")) // a removes what it saw
	must(t, b.Add("shoe", 1)) // b concurrently adds one more
	must(t, b.Add("sock", 2))
	a2, b2 := a.Clone(), b.Clone()
	a2.Merge(b)
	b2.Merge(a)
	want := []Item{{"shoe", 2}, {"sock", 2}}
	if !slices.Equal(a2.Items(), want) || !slices.Equal(b2.Items(), want) {
		t.Fatalf("got %v and %v, want %v", a2.Items(), b2.Items(), want)
	}
}

func TestCartObservedRemoveStays(t *testing.T) {
	a, b := NewCart("a"), NewCart("b")
	must(t, a.Add("shoe", 1))
	old := a.Clone()
	b.Merge(a)
	must(t, b.Remove("shoe"))
	a.Merge(b)
	a.Merge(old) // a stale copy delivered late
	b.Merge(old)
	if a.Len() != 0 || b.Len() != 0 {
		t.Fatalf("removed item came back: %v %v", a.Items(), b.Items())
	}
	must(t, a.SetQuantity("shoe", 4)) // added again: back
	b.Merge(a)
	if got := b.Items(); !slices.Equal(got, []Item{{"shoe", 4}}) {
		t.Fatalf("got %v", got)
	}
}

func TestCartAbsorbGuest(t *testing.T) {
	user, guest := NewCart("s1"), NewCart("s1")
	must(t, user.Add("shoe", 1))
	must(t, user.Add("hat", 3))
	must(t, guest.Add("shoe", 2))
	must(t, guest.Add("sock", 1))
	must(t, guest.Add("hat", 1))
	must(t, user.Absorb(guest))
	must(t, user.Absorb(guest)) // a retried sign-in changes nothing
	want := []Item{{"hat", 3}, {"shoe", 2}, {"sock", 1}}
	if got := user.Items(); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCartEncodeRoundTrip(t *testing.T) {
	a, b := NewCart("a"), NewCart("b")
	must(t, a.Add("x", 2))
	must(t, b.Add("x", 5))
	must(t, b.Add("y", 1))
	a.Merge(b)
	c, err := DecodeCart(a.Encode(), "c")
	must(t, err)
	if !bytes.Equal(c.Encode(), a.Encode()) || !slices.Equal(c.Items(), []Item{{"x", 5}, {"y", 1}}) {
		t.Fatalf("round trip: %s vs %s", c.Encode(), a.Encode())
	}
	for _, bad := range []string{`{}`, `{"format":1,"clock":{},"entries":{"x":[{"r":"a","c":1,"q":1}]}}`,
		`{"format":1,"clock":{"a":1},"entries":{"x":[{"r":"a","c":1,"q":0}]}}`,
		`{"format":1,"clock":{"a":2},"entries":{"x":[{"r":"a","c":1,"q":1}],"y":[{"r":"a","c":1,"q":1}]}}`} {
		if _, err := DecodeCart([]byte(bad), "c"); err == nil {
			t.Errorf("DecodeCart(%s) accepted", bad)
		}
	}
	if err := NewCart("").Add("x", 1); err == nil {
		t.Error("write without a replica accepted")
	}
}

func FuzzDecodeCart(f *testing.F) {
	a := NewCart("a")
	a.Add("x", 2)
	f.Add(a.Encode())
	f.Add([]byte(`{"format":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCart(b, "z")
		if err != nil {
			return
		}
		d, err := DecodeCart(c.Encode(), "z")
		if err != nil || !bytes.Equal(d.Encode(), c.Encode()) {
			t.Fatalf("re-decode: %v", err)
		}
		c.Merge(d)
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
