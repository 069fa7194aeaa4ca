package commerce

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
)

var (
	checkoutWarehouses = NewWarehouses([]catalog.Warehouse{
		{ID: "w-nyc", Name: "New York", Lat: 40.71, Lon: -74.0},
		{ID: "w-la", Name: "Los Angeles", Lat: 34.05, Lon: -118.24},
	})
	testAddress = Address{Name: "Ada", Line1: "1 Main St", City: "Boston", PostalCode: "02101", Country: "US", Lat: 42.36, Lon: -71.06}
)

func usd(n int64) catalog.Money { return catalog.Money{Amount: n, Currency: "USD"} }

type fixture struct {
	st  *Store
	co  *Checkout
	pay *Sandbox
}

func newFixture(t testing.TB, group bool) *fixture {
	st := openStore(t, "r", group)
	pay := NewSandbox()
	return &fixture{st: st, co: NewCheckout(st, checkoutWarehouses, pay, CheckoutOptions{}), pay: pay}
}

// ready makes a session of user for lines, through every step up to
// confirm, paying with card.
func (f *fixture) ready(t testing.TB, user, card string, lines ...SessionLine) *Session {
	t.Helper()
	s, err := f.co.Create(user, "", lines)
	must(t, err)
	_, err = f.co.SetAddress(user, s.ID, "", testAddress)
	must(t, err)
	_, err = f.co.SetShipping(user, s.ID, "", "standard")
	must(t, err)
	s, err = f.co.SetPayment(context.Background(), user, s.ID, "", CardDetails{card, 12, 2099 - 60, "123"})
	must(t, err)
	if s.Status != StepConfirm {
		t.Fatalf("session %s after every step", s.Status)
	}
	return s
}

// readyMany makes n sessions ready to confirm at once (with group
// commit they share fsyncs): user "u<i>" buys 1 + i%2 units of v.
func (f *fixture) readyMany(t testing.TB, n int) []*Session {
	out := make([]*Session, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i] = f.ready(t, fmt.Sprintf("u%d", i), CardApprove, line("v", 1+i%2)) })
	}
	wg.Wait()
	return out
}

func line(v string, q int) SessionLine {
	return SessionLine{VariantID: v, ProductID: "p", Title: "Thing " + v, Quantity: q, Price: usd(1250)}
}

// TestCheckoutSteps walks a session through its steps, out of order and
// with bad values, and places the order.
func TestCheckoutSteps(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	_, err := f.st.SetStock("p", "a", "w-nyc", 1)
	must(t, err)
	_, err = f.st.SetStock("p", "a", "w-la", 5)
	must(t, err)
	_, err = f.st.SetStock("p", "b", "w-la", 5)
	must(t, err)
	_, err = f.st.UpdateCart("u1", CartLimits{}, func(c *Cart) error { c.Add("a", 3); return c.Add("b", 1) })
	must(t, err)

	if _, err := f.co.Create("u1", "", nil); !errors.Is(err, ErrEmptyCart) {
		t.Fatalf("empty cart: %v", err)
	}
	s, err := f.co.Create("u1", "create-1", []SessionLine{line("a", 2), line("b", 1)})
	must(t, err)
	again, err := f.co.Create("u1", "create-1", []SessionLine{line("a", 2), line("b", 1)})
	must(t, err)
	if again.ID != s.ID || s.Status != StepAddress || s.Subtotal != usd(3750) {
		t.Fatalf("created %+v, retried %+v", s, again)
	}
	if _, err := f.co.Create("u1", "create-1", []SessionLine{line("a", 1)}); !errors.Is(err, ErrIdemReused) {
		t.Fatalf("key reused with another cart: %v", err)
	}

	type step struct {
		name  string
		do    func() (*Session, error)
		err   error  // wanted sentinel
		field string // wanted FieldError field
		after Step
	}
	bad := testAddress
	bad.Country = "usa"
	far := testAddress
	far.Lat = 91
	steps := []step{
		{"shipping before address", func() (*Session, error) { return f.co.SetShipping("u1", s.ID, "", "standard") }, ErrWrongStep, "", ""},
		{"confirm before address", func() (*Session, error) { _, err := f.co.Confirm(ctx, "u1", s.ID, "c0"); return nil, err }, ErrWrongStep, "", ""},
		{"another user's session", func() (*Session, error) { return f.co.SetAddress("u2", s.ID, "", testAddress) }, ErrNotYours, "", ""},
		{"no such session", func() (*Session, error) { return f.co.SetAddress("u1", "chk_nope", "", testAddress) }, ErrNoSession, "", ""},
		{"bad country", func() (*Session, error) { return f.co.SetAddress("u1", s.ID, "", bad) }, ErrInvalid, "country", ""},
		{"bad lat", func() (*Session, error) { return f.co.SetAddress("u1", s.ID, "", far) }, ErrInvalid, "lat", ""},
		{"address", func() (*Session, error) { return f.co.SetAddress("u1", s.ID, "addr-1", testAddress) }, nil, "", StepShipping},
		{"address retried", func() (*Session, error) { return f.co.SetAddress("u1", s.ID, "addr-1", testAddress) }, nil, "", StepShipping},
		{"payment before shipping", func() (*Session, error) {
			return f.co.SetPayment(ctx, "u1", s.ID, "", CardDetails{CardApprove, 12, 2040, "123"})
		}, ErrWrongStep, "", ""},
		{"unknown option", func() (*Session, error) { return f.co.SetShipping("u1", s.ID, "", "pigeon") }, ErrInvalid, "option", ""},
		{"shipping", func() (*Session, error) { return f.co.SetShipping("u1", s.ID, "", "express") }, nil, "", StepPayment},
		{"bad card", func() (*Session, error) {
			return f.co.SetPayment(ctx, "u1", s.ID, "", CardDetails{"4242424242424241", 12, 2040, "123"})
		}, ErrCard, "card_number", ""},
		{"confirm before payment", func() (*Session, error) { _, err := f.co.Confirm(ctx, "u1", s.ID, "c0"); return nil, err }, ErrWrongStep, "", ""},
		{"payment", func() (*Session, error) {
			return f.co.SetPayment(ctx, "u1", s.ID, "", CardDetails{CardApprove, 12, 2040, "123"})
		}, nil, "", StepConfirm},
		{"address again", func() (*Session, error) { return f.co.SetAddress("u1", s.ID, "", testAddress) }, nil, "", StepConfirm},
		{"confirm without key", func() (*Session, error) { _, err := f.co.Confirm(ctx, "u1", s.ID, ""); return nil, err }, ErrInvalid, "Idempotency-Key", ""},
	}
	for _, st := range steps {
		got, err := st.do()
		var fe *FieldError
		switch {
		case st.err == nil && err != nil:
			t.Fatalf("%s: %v", st.name, err)
		case st.err == nil && got.Status != st.after:
			t.Fatalf("%s: status %s, want %s", st.name, got.Status, st.after)
		case st.err != nil && !errors.Is(err, st.err):
			t.Fatalf("%s: error %v, want %v", st.name, err, st.err)
		case st.field != "" && (!errors.As(err, &fe) || fe.Field != st.field):
			t.Fatalf("%s: error %v does not name %s", st.name, err, st.field)
		}
	}
	cur, err := f.co.Session("u1", s.ID)
	must(t, err)
	if cur.Total() != usd(3750+ExpressPrice) || cur.Payment.Last4 != "4242" {
		t.Fatalf("session before confirm %+v", cur)
	}

	o, err := f.co.Confirm(ctx, "u1", s.ID, "confirm-1")
	must(t, err)
	o2, err := f.co.Confirm(ctx, "u1", s.ID, "confirm-1")
	must(t, err)
	if o2.ID != o.ID || f.pay.Calls() != 1 {
		t.Fatalf("retried confirm: order %q then %q, %d charges", o.ID, o2.ID, f.pay.Calls())
	}
	if _, err := f.co.Confirm(ctx, "u1", s.ID, "confirm-2"); !errors.Is(err, ErrWrongStep) {
		t.Fatalf("confirm of a placed session with a new key: %v", err)
	}
	// Boston is nearer New York, which has one a: the order splits, or
	// takes everything from Los Angeles (one shipment beats two).
	if o.Status != OrderPlaced || o.Total != usd(3750+ExpressPrice) || len(o.Routed) != 2 || o.Routed[0].WarehouseID != "w-la" {
		t.Fatalf("order %+v", o)
	}
	a, _ := f.st.Stock("a", "w-la")
	b, _ := f.st.Stock("b", "w-la")
	// 2 of a sold; the cart's a×1 left is held again.
	if a.Available != 2 || a.Reserved != 1 || b.Available != 4 || b.Reserved != 0 {
		t.Fatalf("stock after the order: a %+v, b %+v", a, b)
	}
	cart, err := f.st.Load("u1")
	must(t, err)
	if got := cart.Items(); len(got) != 1 || got[0] != (Item{"a", 1}) {
		t.Fatalf("cart after the order %v, want a×1 left", got)
	}
	list, err := f.co.Orders("u1", 0)
	must(t, err)
	if len(list) != 1 || list[0].ID != o.ID {
		t.Fatalf("orders of u1: %+v", list)
	}
	if _, err := f.co.Order("u2", o.ID); !errors.Is(err, ErrNotYours) {
		t.Fatalf("another user's order: %v", err)
	}
	recs, err := f.st.Pending(1000)
	must(t, err)
	var orders int
	for _, r := range recs {
		if r.Topic == TopicOrders {
			orders++
			e, err := catalog.DecodeOrderEvent(r.Key, r.Value)
			if err != nil || e.OrderID != o.ID || len(e.Lines) != 2 || e.UserID != "u1" {
				t.Fatalf("orders event %+v: %v", e, err)
			}
		}
	}
	if orders != 1 {
		t.Fatalf("%d orders events, want 1", orders)
	}
}

// TestConfirmDeclined: a declined card releases the reservation and sends
// the session back to payment; a retry with the key answers the decline
// without charging; another card places the order.
func TestConfirmDeclined(t *testing.T) {
	for _, group := range []bool{false, true} {
		f := newFixture(t, group)
		ctx := context.Background()
		_, err := f.st.SetStock("p", "a", "w-nyc", 2)
		must(t, err)
		s := f.ready(t, "u", CardDecline, line("a", 2))
		_, err = f.co.Confirm(ctx, "u", s.ID, "k1")
		var de *DeclineError
		if !errors.As(err, &de) || de.Code != "card_declined" {
			t.Fatalf("declined card: %v", err)
		}
		if _, err := f.co.Confirm(ctx, "u", s.ID, "k1"); !errors.As(err, &de) || f.pay.Calls() != 1 {
			t.Fatalf("retried decline: %v, %d charges", err, f.pay.Calls())
		}
		st, _ := f.st.Stock("a", "w-nyc")
		if st.Available != 2 || st.Reserved != 0 {
			t.Fatalf("stock after the decline %+v", st)
		}
		cur, err := f.co.Session("u", s.ID)
		must(t, err)
		if cur.Status != StepPayment || cur.Declined != "card_declined" {
			t.Fatalf("session after the decline: %s %q", cur.Status, cur.Declined)
		}
		if _, err := f.co.Confirm(ctx, "u", s.ID, "k2"); !errors.Is(err, ErrWrongStep) {
			t.Fatalf("confirm without a new card: %v", err)
		}
		_, err = f.co.SetPayment(ctx, "u", s.ID, "", CardDetails{CardApprove, 1, 2099 - 60, "999"})
		must(t, err)
		o, err := f.co.Confirm(ctx, "u", s.ID, "k2")
		must(t, err)
		st, _ = f.st.Stock("a", "w-nyc")
		if o.Last4 != "4242" || st.Available != 0 || st.Reserved != 0 || f.pay.Calls() != 2 {
			t.Fatalf("order %+v, stock %+v, %d charges", o, st, f.pay.Calls())
		}
	}
}

// flakyPay loses the answer of charges: the charge is made, the caller
// sees a timeout (as when the provider's answer does not arrive in time).
type flakyPay struct {
	*Sandbox
	lose atomic.Int64 // answers still to lose
}

func (p *flakyPay) Charge(ctx context.Context, key string, amount catalog.Money, card Card) (Charge, error) {
	c, err := p.Sandbox.Charge(ctx, key, amount, card)
	if p.lose.Add(-1) >= 0 {
		return Charge{}, context.DeadlineExceeded
	}
	return c, err
}

// TestConfirmRetriedAfterTimeout: the provider's answer is lost; the
// confirm answers "retry"; retried with the same key it gives one charge
// and one order, and Recover finishes a confirm nobody retried.
func TestConfirmRetriedAfterTimeout(t *testing.T) {
	st := openStore(t, "r", true)
	pay := &flakyPay{Sandbox: NewSandbox()}
	f := &fixture{st: st, pay: pay.Sandbox, co: NewCheckout(st, checkoutWarehouses, pay, CheckoutOptions{})}
	ctx := context.Background()
	_, err := st.SetStock("p", "a", "w-la", 3)
	must(t, err)
	s := f.ready(t, "u", CardApprove, line("a", 1))
	pay.lose.Store(2)
	for range 2 {
		if _, err := f.co.Confirm(ctx, "u", s.ID, "k"); !errors.Is(err, ErrPaymentRetry) {
			t.Fatalf("lost answer: %v", err)
		}
	}
	a, _ := st.Stock("a", "w-la")
	if a.Reserved != 1 {
		t.Fatalf("stock while confirming %+v", a)
	}
	o, err := f.co.Confirm(ctx, "u", s.ID, "k")
	must(t, err)
	list, err := f.co.Orders("u", 0)
	must(t, err)
	a, _ = st.Stock("a", "w-la")
	if pay.Calls() != 1 || len(list) != 1 || list[0].ID != o.ID || a.Available != 2 || a.Reserved != 0 {
		t.Fatalf("%d charges, orders %d, stock %+v", pay.Calls(), len(list), a)
	}

	// Nobody retries: Recover finishes it.
	s2 := f.ready(t, "u", CardApprove, line("a", 1))
	pay.lose.Store(1)
	if _, err := f.co.Confirm(ctx, "u", s2.ID, "k2"); !errors.Is(err, ErrPaymentRetry) {
		t.Fatalf("lost answer: %v", err)
	}
	if n, err := f.co.Recover(ctx, time.Hour); n != 0 || err != nil {
		t.Fatalf("Recover of a fresh confirm: %d, %v", n, err)
	}
	if n, err := f.co.Recover(ctx, 0); n != 1 || err != nil {
		t.Fatalf("Recover: %d, %v", n, err)
	}
	o2, err := f.co.Confirm(ctx, "u", s2.ID, "k2")
	must(t, err)
	a, _ = st.Stock("a", "w-la")
	if pay.Calls() != 2 || o2.Status != OrderPlaced || a.Available != 1 || a.Reserved != 0 {
		t.Fatalf("after Recover: %d charges, order %+v, stock %+v", pay.Calls(), o2, a)
	}
}

// TestConfirmLastUnits is the oversell test at the checkout
// level: 200 shoppers confirm the last S units (1 or 2 each, spread over
// two warehouses) while a checker reads every cell throughout.
func TestConfirmLastUnits(t *testing.T) {
	for _, S := range []int{0, 1, 7} {
		t.Run(fmt.Sprintf("S=%d", S), func(t *testing.T) {
			f := newFixture(t, true)
			_, err := f.st.SetStock("p", "v", "w-nyc", S/2)
			must(t, err)
			_, err = f.st.SetStock("p", "v", "w-la", S-S/2)
			must(t, err)
			sessions := f.readyMany(t, 200)
			stop := make(chan struct{})
			checked := make(chan error, 1)
			var reads atomic.Int64
			go func() { checked <- checkStock(f.st, S, stop, &reads) }()
			var won, lost atomic.Int64
			var wg sync.WaitGroup
			for i, s := range sessions {
				wg.Go(func() {
					o, err := f.co.Confirm(context.Background(), s.UserID, s.ID, "k")
					var se *ShortError
					switch {
					case err == nil:
						won.Add(int64(o.Lines[0].Quantity))
					case errors.As(err, &se) && se.VariantID == "v":
						lost.Add(1)
					default:
						t.Errorf("confirm %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			close(stop)
			must(t, <-checked)
			left := 0
			for _, w := range []string{"w-nyc", "w-la"} {
				st, _ := f.st.Stock("v", w)
				left += st.Available
				if st.Reserved != 0 {
					t.Fatalf("reserved left behind %+v", st)
				}
			}
			if int(won.Load()) != S-left || lost.Load() == 0 || S > 1 && left > 1 || f.pay.Calls() != 200-int(lost.Load()) {
				t.Fatalf("S=%d: %d units sold, %d left, %d refused, %d charges", S, won.Load(), left, lost.Load(), f.pay.Calls())
			}
			t.Logf("S=%d: %d units sold, %d left, %d out of stock, %d checker reads", S, won.Load(), left, lost.Load(), reads.Load())
		})
	}
}

// checkStock reads every cell from consistent snapshots until stop and
// reports a negative cell or one not conserving units: available +
// reserved + sold never exceeds S in total.
func checkStock(st *Store, S int, stop chan struct{}, reads *atomic.Int64) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		cells, err := st.Stocks()
		if err != nil {
			return err
		}
		total := 0
		for _, c := range cells {
			if c.Available < 0 || c.Reserved < 0 {
				return fmt.Errorf("negative cell %+v", c)
			}
			total += c.Available + c.Reserved
		}
		if total > S {
			return fmt.Errorf("%d units in stock, more than %d", total, S)
		}
		reads.Add(1)
	}
}

// TestConfirmRetriesUnderFaults: store errors are injected before
// commits (rolled back) and after them (the answer lost), and charges
// lose their answers; shoppers retry with the same key until answered.
// Every unit is sold once, every order is charged once, nothing stays
// reserved.
func TestConfirmRetriesUnderFaults(t *testing.T) {
	const S = 7
	st := openStore(t, "r", true)
	pay := &flakyPay{Sandbox: NewSandbox()}
	f := &fixture{st: st, pay: pay.Sandbox, co: NewCheckout(st, checkoutWarehouses, pay, CheckoutOptions{})}
	_, err := st.SetStock("p", "v", "w-nyc", 3)
	must(t, err)
	_, err = st.SetStock("p", "v", "w-la", S-3)
	must(t, err)
	sessions := f.readyMany(t, 200)
	var faults atomic.Int64
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(7, 7))
	st.fault = func(after bool) error {
		mu.Lock()
		defer mu.Unlock()
		if rng.IntN(3) == 0 {
			faults.Add(1)
			return fmt.Errorf("%w (after commit %v)", errInjected, after)
		}
		return nil
	}
	pay.lose.Store(20)
	var won, answers atomic.Int64
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Go(func() {
			for try := 0; ; try++ {
				o, err := f.co.Confirm(context.Background(), s.UserID, s.ID, "key-"+s.ID)
				switch {
				case err == nil:
					won.Add(int64(o.Lines[0].Quantity))
					answers.Add(1)
					return
				case errors.Is(err, ErrOutOfStock):
					answers.Add(1)
					return
				case (errors.Is(err, errInjected) || errors.Is(err, ErrPaymentRetry)) && try < 100:
					continue
				default:
					t.Errorf("confirm %d, try %d: %v", i, try, err)
					return
				}
			}
		})
	}
	wg.Wait()
	st.fault = nil
	left, reserved := 0, 0
	for _, w := range []string{"w-nyc", "w-la"} {
		c, _ := st.Stock("v", w)
		left += c.Available
		reserved += c.Reserved
	}
	orders := 0
	for _, s := range sessions {
		list, err := f.co.Orders(s.UserID, 0)
		must(t, err)
		orders += len(list)
	}
	if int(won.Load()) != S-left || reserved != 0 || pay.Calls() != orders || answers.Load() != 200 {
		t.Fatalf("%d units sold, %d left, %d reserved, %d orders, %d charges, %d answered", won.Load(), left, reserved, orders, pay.Calls(), answers.Load())
	}
	t.Logf("%d store faults, %d lost charge answers; %d units sold in %d orders, %d charges, %d left", faults.Load(), 20-max(pay.lose.Load(), 0), won.Load(), orders, pay.Calls(), left)
}

// TestCheckoutThroughput measures, with group commit and fsync, whole
// checkouts (create, address, shipping, payment, confirm: six
// transactions) and confirms alone per second, 512 shoppers at once.
// Not in -short.
func TestCheckoutThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement")
	}
	const n, workers = 4000, 512
	f := newFixture(t, true)
	_, err := f.st.SetStock("p", "v", "w-nyc", 1_000_000)
	must(t, err)
	run := func(name string, each func(i int) error) {
		lat := make([]time.Duration, n)
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
					t0 := time.Now()
					if err := each(i); err != nil {
						t.Error(err)
						return
					}
					lat[i] = time.Since(t0)
				}
			})
		}
		wg.Wait()
		took := time.Since(start)
		slices.Sort(lat)
		t.Logf("%s: %d in %v = %.0f/s; p50 %v, p99 %v", name, n, took.Round(time.Millisecond), n/took.Seconds(),
			lat[n/2].Round(10*time.Microsecond), lat[n*99/100].Round(10*time.Microsecond))
	}
	sessions := make([]*Session, n)
	run("whole checkouts (create, address, shipping, payment, confirm: 6 transactions)", func(i int) error {
		u := fmt.Sprintf("u%d", i)
		s, err := f.co.Create(u, "c", []SessionLine{line("v", 1)})
		if err != nil {
			return err
		}
		if _, err = f.co.SetAddress(u, s.ID, "a", testAddress); err != nil {
			return err
		}
		if _, err = f.co.SetShipping(u, s.ID, "s", "standard"); err != nil {
			return err
		}
		sessions[i], err = f.co.SetPayment(context.Background(), u, s.ID, "p", CardDetails{CardApprove, 12, 2099 - 60, "123"})
		if err != nil {
			return err
		}
		_, err = f.co.Confirm(context.Background(), u, s.ID, "k")
		return err
	})
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				sessions[i] = f.ready(t, fmt.Sprintf("x%d", i), CardApprove, line("v", 1))
			}
		})
	}
	wg.Wait()
	run("confirms", func(i int) error {
		_, err := f.co.Confirm(context.Background(), sessions[i].UserID, sessions[i].ID, "k")
		return err
	})
}
