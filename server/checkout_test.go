package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/commerce"
)

type checkoutEnv struct {
	base   string
	tokens *auth.Tokens
	store  *commerce.Store
	co     *commerce.Checkout
	pay    *commerce.Sandbox
	ws     *commerce.Warehouses
}

// newCheckoutEnv serves the cart, checkout and order endpoints over the
// test products, their stock seeded into a store with group commit, in
// one warehouse "w1" in Chicago.
func newCheckoutEnv(t *testing.T) *checkoutEnv {
	return newCheckoutEnvWith(t, nil, CheckoutOptions{})
}

// newCheckoutEnvWith charges through pay (the sandbox when nil) and
// serves with opts (Carts and Shipments set to the store).
func newCheckoutEnvWith(t *testing.T, pay commerce.Payments, opts CheckoutOptions) *checkoutEnv {
	t.Helper()
	tokens, err := auth.NewTokens(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := commerce.Open(commerce.Options{Path: filepath.Join(t.TempDir(), "commerce.db"), Replica: "r1", GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.SeedStock(testProducts()); err != nil {
		t.Fatal(err)
	}
	ws := commerce.NewWarehouses([]catalog.Warehouse{{ID: "w1", Name: "Chicago", Lat: 41.88, Lon: -87.63}})
	sb := commerce.NewSandbox()
	if pay == nil {
		pay = sb
	}
	co := commerce.NewCheckout(st, ws, pay, commerce.CheckoutOptions{})
	opts.Carts, opts.Shipments = st, st
	svc := testSvc(newTestEngine(t))
	svc.Cart, svc.Guests, svc.Checkout, svc.CheckoutOptions = st, tokens, co, opts
	s := New(svc, Options{Logf: checkedLogf(t), Tokens: tokens})
	return &checkoutEnv{base: serveOver(t, s), tokens: tokens, store: st, co: co, pay: sb, ws: ws}
}

func (e *checkoutEnv) token(t testing.TB, user string) string {
	t.Helper()
	tok, err := e.tokens.Sign(user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var checkoutClient = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

// call sends a request with a user token and an idempotency key (none
// for "") and returns the status and decoded JSON.
func (e *checkoutEnv) call(t testing.TB, tok, method, path, key, body string) (int, map[string]any) {
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if key != "" {
		req.Header.Set(IdempotencyHeader, key)
	}
	resp, err := checkoutClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Errorf("%s %s: %v: %q", method, path, err, raw)
	}
	return resp.StatusCode, m
}

func checkoutCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

const (
	goodAddress = `{"name":"Ada Lovelace","line1":"1 Main St","city":"Boston","postal_code":"02101","country":"US","lat":42.36,"lon":-71.06}`
	approveCard = `{"card_number":"4242 4242 4242 4242","exp_month":12,"exp_year":2035,"cvc":"123"}`
	declineCard = `{"card_number":"4000000000000002","exp_month":12,"exp_year":2035,"cvc":"123"}`
)

// TestCheckoutEndpoints walks every step over loopback, out of order
// and with bad bodies, declines a card, places the order, and reads it.
func TestCheckoutEndpoints(t *testing.T) {
	e := newCheckoutEnv(t)
	ada, bob := e.token(t, "ada"), e.token(t, "bob")
	var id, orderID string
	sid := func() string { return "/api/v1/checkout/" + id }
	type row struct {
		name              string
		tok, method, path func() string
		key, body         string
		status            int
		code, param       string
		check             func(m map[string]any) error
	}
	str := func(s string) func() string { return func() string { return s } }
	as := func(tok string) func() string { return str(tok) }
	status := func(want string) func(map[string]any) error {
		return func(m map[string]any) error {
			if m["status"] != want {
				return fmt.Errorf("status %v, want %s", m["status"], want)
			}
			return nil
		}
	}
	rows := []row{
		{name: "no token", tok: as(""), method: str("POST"), path: str("/api/v1/checkout"), body: "{}", status: 401, code: CodeUnauthorized},
		{name: "empty cart", tok: as(ada), method: str("POST"), path: str("/api/v1/checkout"), body: "{}", status: 400, code: CodeEmptyCart},
		{name: "fill cart", tok: as(ada), method: str("POST"), path: str("/api/v1/cart/ada/items"), body: `{"variant_id":"p5-v1","quantity":2}`, status: 201},
		{name: "fill cart 2", tok: as(ada), method: str("POST"), path: str("/api/v1/cart/ada/items"), body: `{"variant_id":"p4-v1","quantity":1}`, status: 201},
		{name: "create: unknown field", tok: as(ada), method: str("POST"), path: str("/api/v1/checkout"), body: `{"x":1}`, status: 400, code: CodeInvalidBody, param: "x"},
		{name: "create", tok: as(ada), method: str("POST"), path: str("/api/v1/checkout"), key: "create-1", body: "{}", status: 201, check: func(m map[string]any) error {
			id, _ = m["checkout_id"].(string)
			sub, _ := m["subtotal"].(map[string]any)
			opts, _ := m["shipping_options"].([]any)
			if m["status"] != "address" || sub["amount"] != 91.93 || len(opts) != 2 || len(m["lines"].([]any)) != 2 {
				return fmt.Errorf("session %v", m)
			}
			return nil
		}},
		{name: "create retried", tok: as(ada), method: str("POST"), path: str("/api/v1/checkout"), key: "create-1", body: "{}", status: 201, check: func(m map[string]any) error {
			if m["checkout_id"] != id {
				return fmt.Errorf("retry made session %v, first %s", m["checkout_id"], id)
			}
			return nil
		}},
		{name: "get", tok: as(ada), method: str("GET"), path: sid, status: 200, check: status("address")},
		{name: "get: another user's", tok: as(bob), method: str("GET"), path: sid, status: 403, code: CodeForbidden},
		{name: "get: unknown", tok: as(ada), method: str("GET"), path: str("/api/v1/checkout/chk_nope"), status: 404, code: CodeNotFound},
		{name: "wrong method", tok: as(ada), method: str("POST"), path: func() string { return sid() + "/address" }, status: 405, code: CodeMethodNotAllowed},
		{name: "unknown step", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/gift" }, status: 404, code: CodeNotFound},
		{name: "shipping first", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/shipping" }, body: `{"option":"standard"}`, status: 409, code: CodeWrongStep},
		{name: "confirm first", tok: as(ada), method: str("POST"), path: func() string { return sid() + "/confirm" }, key: "c0", status: 409, code: CodeWrongStep},
		{name: "address: no lat", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/address" }, body: strings.Replace(goodAddress, `"lat":42.36,`, "", 1), status: 400, code: CodeInvalidBody, param: "lat"},
		{name: "address: bad country", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/address" }, body: strings.Replace(goodAddress, `"US"`, `"USA"`, 1), status: 400, code: CodeInvalidBody, param: "country"},
		{name: "address: lat a string", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/address" }, body: strings.Replace(goodAddress, `42.36`, `"42"`, 1), status: 400, code: CodeInvalidBody, param: "lat"},
		{name: "address", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/address" }, key: "a1", body: goodAddress, status: 200, check: status("shipping")},
		{name: "address: key reused", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/address" }, key: "a1", body: strings.Replace(goodAddress, "Ada", "Bob", 1), status: 422, code: CodeIdempotency, param: IdempotencyHeader},
		{name: "shipping: pigeon", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/shipping" }, body: `{"option":"pigeon"}`, status: 400, code: CodeInvalidBody, param: "option"},
		{name: "shipping", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/shipping" }, body: `{"option":"standard"}`, status: 200, check: func(m map[string]any) error {
			tot, _ := m["total"].(map[string]any)
			if m["status"] != "payment" || tot["amount"] != 91.93 { // free over $50
				return fmt.Errorf("session %v", m)
			}
			return nil
		}},
		{name: "payment: bad number", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/payment" }, body: strings.Replace(approveCard, "4242 4242 4242 4242", "4242424242424241", 1), status: 400, code: CodeInvalidBody, param: "card_number"},
		{name: "payment: no cvc", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/payment" }, body: `{"card_number":"4242424242424242","exp_month":12,"exp_year":2035}`, status: 400, code: CodeInvalidBody, param: "cvc"},
		{name: "payment: declining card", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/payment" }, body: declineCard, status: 200, check: func(m map[string]any) error {
			p, _ := m["payment"].(map[string]any)
			raw, _ := json.Marshal(m)
			if m["status"] != "confirm" || p["last4"] != "0002" || strings.Contains(string(raw), "4000000000000002") {
				return fmt.Errorf("session %s", raw)
			}
			return nil
		}},
		{name: "confirm: no key", tok: as(ada), method: str("POST"), path: func() string { return sid() + "/confirm" }, status: 400, code: CodeInvalidParameter, param: IdempotencyHeader},
		{name: "confirm: declined", tok: as(ada), method: str("POST"), path: func() string { return sid() + "/confirm" }, key: "k1", status: 402, code: CodePaymentDeclined},
		{name: "confirm: declined again", tok: as(ada), method: str("POST"), path: func() string { return sid() + "/confirm" }, key: "k1", status: 402, code: CodePaymentDeclined},
		{name: "after decline", tok: as(ada), method: str("GET"), path: sid, status: 200, check: status("payment")},
		{name: "payment", tok: as(ada), method: str("PUT"), path: func() string { return sid() + "/payment" }, key: "p2", body: approveCard, status: 200, check: status("confirm")},
		{name: "confirm", tok: as(ada), method: str("POST"), path: func() string { return sid() + "/confirm" }, key: "k2", body: "{}", status: 201, check: func(m map[string]any) error {
			orderID, _ = m["order_id"].(string)
			if m["status"] != "placed" || m["user_id"] != "ada" || len(m["lines"].([]any)) != 2 || m["shipments"] == nil {
				return fmt.Errorf("order %v", m)
			}
			return nil
		}},
		{name: "confirm retried", tok: as(ada), method: str("POST"), path: func() string { return sid() + "/confirm" }, key: "k2", body: "{}", status: 201, check: func(m map[string]any) error {
			if m["order_id"] != orderID {
				return fmt.Errorf("retry answered order %v, first %s", m["order_id"], orderID)
			}
			return nil
		}},
		{name: "confirm: new key", tok: as(ada), method: str("POST"), path: func() string { return sid() + "/confirm" }, key: "k3", status: 409, code: CodeWrongStep},
		{name: "placed", tok: as(ada), method: str("GET"), path: sid, status: 200, check: func(m map[string]any) error {
			if m["status"] != "placed" || m["order_id"] != orderID {
				return fmt.Errorf("session %v", m)
			}
			return nil
		}},
		{name: "cart emptied", tok: as(ada), method: str("GET"), path: str("/api/v1/cart/ada"), status: 200, check: func(m map[string]any) error {
			if items, _ := m["items"].([]any); len(items) != 0 {
				return fmt.Errorf("cart after the order %v", m)
			}
			return nil
		}},
		{name: "orders", tok: as(ada), method: str("GET"), path: str("/api/v1/orders"), status: 200, check: func(m map[string]any) error {
			if l, _ := m["orders"].([]any); len(l) != 1 || l[0].(map[string]any)["order_id"] != orderID {
				return fmt.Errorf("orders %v", m)
			}
			return nil
		}},
		{name: "orders: bob has none", tok: as(bob), method: str("GET"), path: str("/api/v1/orders"), status: 200, check: func(m map[string]any) error {
			if l, ok := m["orders"].([]any); !ok || len(l) != 0 {
				return fmt.Errorf("orders %v", m)
			}
			return nil
		}},
		{name: "orders: bad limit", tok: as(ada), method: str("GET"), path: str("/api/v1/orders?limit=0"), status: 400, code: CodeInvalidParameter, param: "limit"},
		{name: "order: bob", tok: as(bob), method: str("GET"), path: func() string { return "/api/v1/orders/" + orderID }, status: 404, code: CodeNotFound},
		{name: "order: unknown", tok: as(ada), method: str("GET"), path: str("/api/v1/orders/ord_nope"), status: 404, code: CodeNotFound},
	}
	for _, r := range rows {
		code, m := e.call(t, r.tok(), r.method(), r.path(), r.key, r.body)
		if code != r.status || (r.code != "" && checkoutCode(m) != r.code) || (r.param != "" && errParam(m) != r.param) {
			t.Fatalf("%s: %s %s answered %d %v; want %d %s param %q", r.name, r.method(), r.path(), code, m, r.status, r.code, r.param)
		}
		if r.check != nil {
			if err := r.check(m); err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
		}
	}
	if e.pay.Calls() != 2 {
		t.Fatalf("%d charges, want 2 (one declined, one approved)", e.pay.Calls())
	}
	p5, _ := e.store.Stock("p5-v1", "w1")
	if p5.Available != 5 || p5.Reserved != 0 {
		t.Fatalf("stock of p5-v1 after the order %+v, want 5 of 7 left", p5)
	}
	// Fulfillment routes the order: its shipment shows.
	if _, err := e.store.Fulfill(e.ws, orderID); err != nil {
		t.Fatal(err)
	}
	code, m := e.call(t, ada, "GET", "/api/v1/orders/"+orderID, "", "")
	ships, _ := m["shipments"].([]any)
	if code != 200 || m["status"] != "routed" || len(ships) != 1 || ships[0].(map[string]any)["warehouse_id"] != "w1" {
		t.Fatalf("order after fulfillment: %d %v", code, m)
	}
}

// shopper runs one checkout over HTTP from an existing cart and returns
// the confirm's status and body; lat records each request's latency by
// endpoint.
func (e *checkoutEnv) shopper(t testing.TB, user string, lat *latencies) (int, map[string]any) {
	tok := e.token(t, user)
	timed := func(name, method, path, key, body string, want int) (int, map[string]any) {
		start := time.Now()
		code, m := e.call(t, tok, method, path, key, body)
		lat.add(name, time.Since(start))
		if want != 0 && code != want {
			t.Errorf("%s %s: %d %v", method, path, code, m)
		}
		return code, m
	}
	_, m := timed("create", "POST", "/api/v1/checkout", user+"-c", "{}", 201)
	id, _ := m["checkout_id"].(string)
	p := "/api/v1/checkout/" + id
	timed("address", "PUT", p+"/address", user+"-a", goodAddress, 200)
	timed("shipping", "PUT", p+"/shipping", user+"-s", `{"option":"express"}`, 200)
	timed("payment", "PUT", p+"/payment", user+"-p", approveCard, 200)
	timed("get", "GET", p, "", "", 200)
	code, m := timed("confirm", "POST", p+"/confirm", user+"-k", "", 0)
	if code == 201 {
		oid, _ := m["order_id"].(string)
		timed("order", "GET", "/api/v1/orders/"+oid, "", "", 200)
	}
	return code, m
}

type latencies struct {
	mu sync.Mutex
	by map[string][]time.Duration
}

func (l *latencies) add(name string, d time.Duration) {
	l.mu.Lock()
	if l.by == nil {
		l.by = map[string][]time.Duration{}
	}
	l.by[name] = append(l.by[name], d)
	l.mu.Unlock()
}

func (l *latencies) report(t testing.TB) {
	for _, name := range []string{"create", "address", "shipping", "payment", "get", "confirm", "order"} {
		ds := l.by[name]
		if len(ds) == 0 {
			continue
		}
		slices.Sort(ds)
		t.Logf("%-8s n=%d p50=%v p99=%v max=%v", name, len(ds), ds[len(ds)/2].Round(10*time.Microsecond),
			ds[len(ds)*99/100].Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond))
	}
}

// TestCheckoutLastUnitsHTTP: 200 shoppers with 1 or 2 units of p2 in
// their carts (3 in stock) check out at once over loopback, every step
// with its idempotency key, while a checker reads the stock: exactly the
// stock is sold, never negative, and every loser gets 409
// insufficient_stock naming the variant.
func TestCheckoutLastUnitsHTTP(t *testing.T) {
	e := newCheckoutEnv(t)
	const S = 3 // p2's seeded stock
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			u := fmt.Sprintf("u%03d", i)
			if _, err := e.store.UpdateCart(u, commerce.CartLimits{}, func(c *commerce.Cart) error { return c.Add("p2-v1", 1+i%2) }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	stop := make(chan struct{})
	bad := make(chan string, 1)
	var reads atomic.Int64
	go func() {
		defer close(bad)
		for {
			select {
			case <-stop:
				return
			default:
			}
			st, err := e.store.Stock("p2-v1", "w1")
			if err != nil || st.Available < 0 || st.Reserved < 0 || st.Available+st.Reserved > S {
				bad <- fmt.Sprintf("%+v %v", st, err)
				return
			}
			reads.Add(1)
			time.Sleep(100 * time.Microsecond)
		}
	}()
	var lat latencies
	var sold, refused atomic.Int64
	start := time.Now()
	for i := range 200 {
		wg.Go(func() {
			code, m := e.shopper(t, fmt.Sprintf("u%03d", i), &lat)
			switch {
			case code == 201:
				sold.Add(int64(1 + i%2))
			case code == 409 && checkoutCode(m) == CodeInsufficientStock && errParam(m) == "p2-v1":
				refused.Add(1)
			default:
				t.Errorf("shopper %d: %d %v", i, code, m)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(stop)
	if b := <-bad; b != "" {
		t.Fatalf("checker saw %s", b)
	}
	st, _ := e.store.Stock("p2-v1", "w1")
	if int(sold.Load()) != S-st.Available || st.Reserved != 0 || refused.Load() == 0 || sold.Load() == 0 {
		t.Fatalf("%d units sold, %d refused, stock %+v", sold.Load(), refused.Load(), st)
	}
	t.Logf("200 shoppers (6 or 7 requests each) in %v: %d units sold, %d refused, %d checker reads", took.Round(time.Millisecond), sold.Load(), refused.Load(), reads.Load())
	lat.report(t)
}

// TestCheckoutThroughputHTTP measures whole checkouts per second over
// loopback, 256 clients at once, and the p99 of each endpoint: create,
// address, shipping, payment, a read of the session, confirm and a read
// of the order (seven requests, six fsynced transactions with group
// commit). Not in -short.
func TestCheckoutThroughputHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement")
	}
	e := newCheckoutEnv(t)
	const shoppers, workers = 2000, 256
	// p4 has 100 units: raise them so that every checkout succeeds.
	if _, err := e.store.SetStock("p4", "p4-v1", "w1", 1_000_000); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range workers {
		wg.Go(func() {
			for i := next.Add(1); i <= shoppers; i = next.Add(1) {
				if _, err := e.store.UpdateCart(fmt.Sprintf("t%d", i), commerce.CartLimits{}, func(c *commerce.Cart) error { return c.Add("p4-v1", 1) }); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var lat latencies
	next.Store(0)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := next.Add(1); i <= shoppers; i = next.Add(1) {
				if code, m := e.shopper(t, fmt.Sprintf("t%d", i), &lat); code != 201 {
					t.Errorf("checkout %d: %d %v", i, code, m)
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	t.Logf("%d checkouts (7 requests each) by %d clients in %v: %.0f checkouts/s, %.0f requests/s", shoppers, workers,
		took.Round(time.Millisecond), float64(shoppers)/took.Seconds(), 7*float64(shoppers)/took.Seconds())
	lat.report(t)
}

// slowPay makes its charges but answers them late, past the server's
// confirm timeout, while slow is set.
type slowPay struct {
	*commerce.Sandbox
	slow atomic.Bool
}

func (p *slowPay) Charge(ctx context.Context, key string, amount catalog.Money, card commerce.Card) (commerce.Charge, error) {
	c, err := p.Sandbox.Charge(context.Background(), key, amount, card)
	if p.slow.Load() {
		<-ctx.Done()
		return commerce.Charge{}, ctx.Err()
	}
	return c, err
}

// TestConfirmTimeoutRetryHTTP: the provider answers after the confirm
// timeout (the charge was made); the client gets 503 and retries with
// the same key: one charge, one order, the stock sold once.
func TestConfirmTimeoutRetryHTTP(t *testing.T) {
	pay := &slowPay{Sandbox: commerce.NewSandbox()}
	e := newCheckoutEnvWith(t, pay, CheckoutOptions{ConfirmTimeout: 50 * time.Millisecond})
	if _, err := e.store.UpdateCart("ada", commerce.CartLimits{}, func(c *commerce.Cart) error { return c.Add("p2-v1", 1) }); err != nil {
		t.Fatal(err)
	}
	tok := e.token(t, "ada")
	_, m := e.call(t, tok, "POST", "/api/v1/checkout", "", "")
	p := "/api/v1/checkout/" + m["checkout_id"].(string)
	for _, step := range [][2]string{{"address", goodAddress}, {"shipping", `{"option":"standard"}`}, {"payment", approveCard}} {
		if code, m := e.call(t, tok, "PUT", p+"/"+step[0], "", step[1]); code != 200 {
			t.Fatalf("%s: %d %v", step[0], code, m)
		}
	}
	pay.slow.Store(true)
	if code, m := e.call(t, tok, "POST", p+"/confirm", "k", ""); code != 503 || checkoutCode(m) != CodePaymentRetry {
		t.Fatalf("slow provider: %d %v", code, m)
	}
	if _, m := e.call(t, tok, "GET", p, "", ""); m["status"] != "confirming" {
		t.Fatalf("session after the timeout: %v", m)
	}
	pay.slow.Store(false)
	var first string
	for range 2 {
		code, m := e.call(t, tok, "POST", p+"/confirm", "k", "")
		if code != 201 || (first != "" && m["order_id"] != first) {
			t.Fatalf("retried confirm: %d %v (first order %q)", code, m, first)
		}
		first, _ = m["order_id"].(string)
	}
	orders, err := e.co.Orders("ada", 0)
	st, _ := e.store.Stock("p2-v1", "w1")
	if err != nil || len(orders) != 1 || pay.Calls() != 1 || st.Available != 2 || st.Reserved != 0 {
		t.Fatalf("%d orders (%v), %d charges, stock %+v", len(orders), err, pay.Calls(), st)
	}
}

// FuzzCheckoutBody: the step decoders never panic, and what they accept
// is a valid step.
func FuzzCheckoutBody(f *testing.F) {
	for _, s := range []struct{ step, body string }{
		{"address", goodAddress}, {"address", `{"name":"a"}`}, {"address", `{"lat":1e400}`}, {"address", `[]`},
		{"shipping", `{"option":"express"}`}, {"shipping", `{"option":null}`}, {"shipping", `{"option":"standard","x":1}`},
		{"payment", approveCard}, {"payment", `{"card_number":4242}`}, {"payment", `{"exp_month":"12"}`},
		{"create", ``}, {"create", `{}`}, {"confirm", `{"a":1}`}, {"confirm", `{} {}`}, {"address", "\x00"},
	} {
		f.Add(s.step, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, step string, body []byte) {
		v, err := decodeCheckoutBody(step, body)
		if err != nil {
			if _, ok := err.(*bodyError); !ok {
				if _, ok := err.(*commerce.FieldError); !ok {
					t.Fatalf("%s %q: error %T %v names no field", step, body, err, err)
				}
			}
			return
		}
		switch x := v.(type) {
		case commerce.Address:
			if err := commerce.ValidateAddress(x); err != nil {
				t.Fatalf("accepted an invalid address %+v: %v", x, err)
			}
		case string:
			if step != "shipping" {
				t.Fatalf("%s decoded to a string", step)
			}
		}
	})
}
