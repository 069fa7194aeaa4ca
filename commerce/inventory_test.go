package commerce

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCheckoutLastUnits is the oversell test: 200 goroutines
// check out the last S units in quantities of 1 or 2 while a checker
// reads every cell throughout.
func TestCheckoutLastUnits(t *testing.T) {
	for _, group := range []bool{false, true} {
		for _, S := range []int{0, 1, 7} {
			t.Run(fmt.Sprintf("group=%v/S=%d", group, S), func(t *testing.T) {
				s := openStore(t, "r", group)
				_, err := s.SetStock("p", "v", "w1", S)
				must(t, err)
				_, err = s.SetStock("p", "v2", "w1", 1000)
				must(t, err)
				stop := make(chan struct{})
				var reads atomic.Int64
				checker := make(chan error, 1)
				go func() {
					defer close(checker)
					for {
						select {
						case <-stop:
							return
						default:
						}
						cells, err := s.Stocks()
						if err != nil {
							checker <- err
							return
						}
						for _, c := range cells {
							want := map[string]int{"v": S, "v2": 1000}[c.VariantID]
							if c.Available < 0 || c.Reserved < 0 || c.Available+c.Reserved != want {
								checker <- fmt.Errorf("broken cell %+v (want %d units)", c, want)
								return
							}
						}
						reads.Add(1)
					}
				}()
				var won, lost atomic.Int64
				var wg sync.WaitGroup
				for i := range 200 {
					q := 1 + i%2
					lines := []Line{{"v", "w1", q}}
					if i%3 == 0 { // a multi-line checkout
						lines = append(lines, Line{"v2", "w1", 1})
					}
					wg.Go(func() {
						_, err := s.HardReserve(fmt.Sprintf("order-%d", i), lines)
						switch {
						case err == nil:
							won.Add(int64(q))
						case errors.Is(err, ErrOutOfStock):
							lost.Add(1)
						default:
							t.Errorf("checkout %d: %v", i, err)
						}
					})
				}
				wg.Wait()
				close(stop)
				if err := <-checker; err != nil {
					t.Fatal(err)
				}
				st, err := s.Stock("v", "w1")
				must(t, err)
				if int(won.Load()) != S-st.Available || st.Reserved != int(won.Load()) {
					t.Fatalf("reserved %d units, stock %+v of %d", won.Load(), st, S)
				}
				if S > 0 && won.Load() == 0 || lost.Load() == 0 {
					t.Fatalf("won %d units, %d lost", won.Load(), lost.Load())
				}
				t.Logf("S=%d: %d units reserved, %d left, %d out-of-stock, %d checker reads", S, won.Load(), st.Available, lost.Load(), reads.Load())
			})
		}
	}
}

func TestHardReserveIdempotent(t *testing.T) {
	for _, group := range []bool{false, true} {
		s := openStore(t, "r", group)
		_, err := s.SetStock("p", "v", "w", 5)
		must(t, err)
		lines := []Line{{"v", "w", 1}, {"v", "w", 1}} // summed to 2
		first, err := s.HardReserve("k1", lines)
		must(t, err)
		again, err := s.HardReserve("k1", []Line{{"v", "w", 2}})
		must(t, err)
		if first[0].Available != 3 || again[0] != first[0] {
			t.Fatalf("retry changed stock: %+v then %+v", first, again)
		}
		if _, err := s.HardReserve("k1", []Line{{"v", "w", 3}}); !errors.Is(err, ErrIdempotency) {
			t.Fatalf("reused key with other lines: %v", err)
		}
		c, err := s.Cancel("k1")
		must(t, err)
		if c[0].Available != 5 || c[0].Reserved != 0 {
			t.Fatalf("after cancel %+v", c[0])
		}
		if _, err := s.Cancel("k1"); err != nil {
			t.Fatalf("second cancel: %v", err)
		}
		if _, err := s.HardReserve("k1", lines); !errors.Is(err, ErrState) {
			t.Fatalf("reserve after cancel: %v", err)
		}
		if _, err := s.Deduct("nope"); !errors.Is(err, ErrNoReservation) {
			t.Fatalf("deduct unknown: %v", err)
		}
	}
}

func TestReserveAllOrNothing(t *testing.T) {
	s := openStore(t, "r", false)
	_, err := s.SetStock("p", "a", "w", 5)
	must(t, err)
	before, err := s.SetStock("p", "b", "w", 1)
	must(t, err)
	_, err = s.HardReserve("k", []Line{{"a", "w", 2}, {"b", "w", 2}})
	if !errors.Is(err, ErrOutOfStock) {
		t.Fatalf("short line: %v", err)
	}
	t.Log(err)
	cells, err := s.Stocks()
	must(t, err)
	for _, c := range cells {
		if c.Reserved != 0 || c.Version != before.Version {
			t.Fatalf("a refused reservation wrote %+v", c)
		}
	}
	if _, err := s.HardReserve("k2", []Line{{"nope", "w", 1}}); !errors.Is(err, ErrOutOfStock) {
		t.Fatalf("unknown cell: %v", err)
	}
	if _, err := s.HardReserve("k3", []Line{{"a", "w", 0}}); !errors.Is(err, ErrLine) {
		t.Fatalf("zero quantity: %v", err)
	}
}

func TestSoftReserveSweepDeduct(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s, err := openTest(t, Options{Path: filepath.Join(t.TempDir(), "s.db"), Replica: "r", Now: func() time.Time { return now }})
	must(t, err)
	defer s.Close()
	_, err = s.SetStock("p", "v", "w", 4)
	must(t, err)
	got, err := s.SoftReserve("cart-1", []Line{{"v", "w", 1}}, 0) // default 15 min
	must(t, err)
	if got[0].Available != 3 || got[0].Reserved != 1 {
		t.Fatalf("soft: %+v", got[0])
	}
	_, err = s.SoftReserve("cart-2", []Line{{"v", "w", 2}}, time.Minute)
	must(t, err)
	_, err = s.SoftReserve("cart-3", []Line{{"v", "w", 1}}, time.Minute)
	must(t, err)
	if _, err := s.SoftReserve("cart-4", []Line{{"v", "w", 1}}, 0); !errors.Is(err, ErrOutOfStock) {
		t.Fatalf("fifth unit: %v", err)
	}
	// cart-3 checks out: its soft hold becomes a hard one.
	h, err := s.HardReserve("cart-3", []Line{{"v", "w", 1}})
	must(t, err)
	if h[0].Available != 0 || h[0].Reserved != 4 {
		t.Fatalf("promoted: %+v", h[0])
	}
	if n, _, err := s.Sweep(now.Add(59*time.Second), 100); err != nil || n != 0 {
		t.Fatalf("early sweep released %d: %v", n, err)
	}
	n, cells, err := s.Sweep(now.Add(2*time.Minute), 100)
	must(t, err)
	if n != 1 || cells[0].Available != 2 || cells[0].Reserved != 2 {
		t.Fatalf("sweep released %d: %+v", n, cells)
	}
	n, cells, err = s.Sweep(now.Add(16*time.Minute), 100)
	must(t, err)
	if n != 1 || cells[0].Available != 3 || cells[0].Reserved != 1 {
		t.Fatalf("second sweep released %d: %+v", n, cells)
	}
	if _, err := s.Release("cart-1"); err != nil {
		t.Fatalf("release of a swept hold: %v", err)
	}
	d, err := s.Deduct("cart-3")
	must(t, err)
	if d[0].Available != 3 || d[0].Reserved != 0 {
		t.Fatalf("deducted: %+v", d[0])
	}
	if _, err := s.Cancel("cart-3"); !errors.Is(err, ErrState) {
		t.Fatalf("cancel after deduct: %v", err)
	}
	ev := d[0].Event()
	if ev.Available != 3 || ev.Version != d[0].Version || ev.ProductID != "p" || ev.WarehouseID != "w" {
		t.Fatalf("event %+v", ev)
	}
}

// TestReservationsRandom runs random concurrent operations with group
// commit and checks conservation: per cell, available + deducted equals
// what was stocked once every reservation has ended.
func TestReservationsRandom(t *testing.T) {
	s := openStore(t, "r", true)
	cells := []string{"a", "b", "c"}
	for _, c := range cells {
		_, err := s.SetStock("p", c, "w", 20)
		must(t, err)
	}
	var mu sync.Mutex
	deducted := map[string]int{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 2))
			for i := range 30 {
				id := fmt.Sprintf("g%d-%d", g, i/3)
				var lines []Line
				for _, c := range cells {
					if rng.IntN(2) == 0 {
						lines = append(lines, Line{c, "w", 1 + rng.IntN(2)})
					}
				}
				if len(lines) == 0 {
					lines = []Line{{"a", "w", 1}}
				}
				var err error
				switch i % 3 {
				case 0:
					if _, err = s.HardReserve(id, lines); err == nil && rng.IntN(2) == 0 {
						if _, err = s.Deduct(id); err == nil {
							mu.Lock()
							for _, l := range lines {
								deducted[l.VariantID] += l.Quantity
							}
							mu.Unlock()
						}
					}
				case 1:
					_, err = s.Cancel(id)
				case 2:
					// A reused key: refused, or a new reservation given back.
					if _, err = s.HardReserve(id, lines); err == nil {
						_, err = s.Cancel(id)
					}
				}
				if err != nil && !errors.Is(err, ErrOutOfStock) && !errors.Is(err, ErrNoReservation) &&
					!errors.Is(err, ErrState) && !errors.Is(err, ErrIdempotency) {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	all, err := s.Stocks()
	must(t, err)
	for _, c := range all {
		if c.Available < 0 || c.Reserved != 0 || c.Available+deducted[c.VariantID] != 20 {
			t.Fatalf("cell %+v, %d deducted", c, deducted[c.VariantID])
		}
	}
	t.Logf("deducted %v", deducted)
}

var errInjected = errors.New("injected store error")

// TestCheckoutRetriesUnderFaults: store errors are injected before
// commits (rolled back) and after them (the answer is lost, as in a
// timeout); clients retry with the same key until they get an answer.
// No key is reserved twice and stock is never oversold.
func TestCheckoutRetriesUnderFaults(t *testing.T) {
	for _, group := range []bool{false, true} {
		t.Run(fmt.Sprintf("group=%v", group), func(t *testing.T) {
			const S = 7
			s := openStore(t, "r", group)
			_, err := s.SetStock("p", "v", "w", S)
			must(t, err)
			var faults atomic.Int64
			var mu sync.Mutex
			rng := rand.New(rand.NewPCG(7, 7))
			s.fault = func(after bool) error {
				mu.Lock()
				defer mu.Unlock()
				if rng.IntN(3) == 0 {
					faults.Add(1)
					return fmt.Errorf("%w (after commit %v)", errInjected, after)
				}
				return nil
			}
			var won atomic.Int64
			var wg sync.WaitGroup
			for i := range 200 {
				q := 1 + i%2
				wg.Go(func() {
					for try := 0; ; try++ {
						_, err := s.HardReserve(fmt.Sprintf("order-%d", i), []Line{{"v", "w", q}})
						switch {
						case err == nil:
							won.Add(int64(q))
							return
						case errors.Is(err, ErrOutOfStock):
							return
						case errors.Is(err, errInjected) && try < 50:
							continue
						default:
							t.Errorf("checkout %d, try %d: %v", i, try, err)
							return
						}
					}
				})
			}
			wg.Wait()
			s.fault = nil
			st, err := s.Stock("v", "w")
			must(t, err)
			if st.Available < 0 || st.Reserved != int(won.Load()) || st.Available+st.Reserved != S {
				t.Fatalf("stock %+v, %d units acknowledged", st, won.Load())
			}
			t.Logf("%d faults injected; %d units reserved once each, %d left", faults.Load(), won.Load(), st.Available)
		})
	}
}

// TestSoftReserveFollowsCart: a cart's hold is replaced as the cart
// changes, renewed after it expired, and a checkout after expiry
// reserves afresh.
func TestSoftReserveFollowsCart(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s, err := openTest(t, Options{Path: filepath.Join(t.TempDir(), "s.db"), Replica: "r", Now: func() time.Time { return now }})
	must(t, err)
	defer s.Close()
	_, err = s.SetStock("p", "a", "w", 3)
	must(t, err)
	_, err = s.SetStock("p", "b", "w", 3)
	must(t, err)
	_, err = s.SoftReserve("cart", []Line{{"a", "w", 2}}, 0)
	must(t, err)
	got, err := s.SoftReserve("cart", []Line{{"a", "w", 1}, {"b", "w", 3}}, 0) // the cart changed
	must(t, err)
	if len(got) != 2 || got[0].Available != 2 || got[0].Reserved != 1 || got[1].Available != 0 {
		t.Fatalf("replaced hold: %+v", got)
	}
	if _, err := s.SoftReserve("cart", []Line{{"a", "w", 4}}, 0); !errors.Is(err, ErrOutOfStock) {
		t.Fatalf("hold beyond stock: %v", err)
	}
	if n, _, err := s.Sweep(now.Add(16*time.Minute), 10); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if n, _, err := s.Sweep(now.Add(time.Hour), 10); err != nil || n != 0 {
		t.Fatalf("the replaced hold's expiry was left behind: %d, %v", n, err)
	}
	h, err := s.HardReserve("cart", []Line{{"b", "w", 1}}) // checkout after expiry
	must(t, err)
	if h[0].Available != 2 || h[0].Reserved != 1 {
		t.Fatalf("checkout after expiry: %+v", h)
	}
	if _, err := s.SoftReserve("cart", []Line{{"a", "w", 1}}, 0); !errors.Is(err, ErrState) {
		t.Fatalf("soft hold over a hard one: %v", err)
	}
	all, err := s.Stocks()
	must(t, err)
	for _, c := range all {
		if c.Available+c.Reserved != 3 {
			t.Fatalf("cell %+v", c)
		}
	}
}
