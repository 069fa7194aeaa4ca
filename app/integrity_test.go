package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/ingest"
)

// The adversarial cases of issue 14 against a whole App over HTTP on
// loopback: a small catalog on an external embedded broker (so the App
// does not bootstrap the shipped store), the demo seller, guests and the
// demo user, each subtest a case that failed before its fix.
//
//	go test -count=1 -run TestIntegrity -v ./app

// integrityEnv is the App and the credentials the subtests share.
type integrityEnv struct {
	a  *aisle
	dc DevCredentials
	// brokers are the external broker's, for a restart.
	brokers []string
	// order is an order placed by a guest (CartsCannotHoard), for the
	// other users' checks.
	order string
}

func newIntegrityEnv(t *testing.T) *integrityEnv {
	t.Helper()
	b, err := ingest.StartBroker(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	prod, err := ingest.NewProducer(b.Addrs())
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := ingest.EnsureTopics(ctx, prod, 4); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	filler := &catalog.Product{ID: "filler", Title: "Filler kettle", Version: 1, CreatedAt: now, UpdatedAt: now,
		Variants: []catalog.Variant{{ID: "filler-v1", Price: catalog.Money{Amount: 999, Currency: "USD"}, Stock: map[string]int{"wh-001": 5}}}}
	if _, err := ingest.PublishProducts(ctx, prod, []*catalog.Product{filler}); err != nil {
		t.Fatal(err)
	}
	a := startAisle(t, t.TempDir(), func(o *Options) { o.NoRecs, o.Brokers = true, b.Addrs() })
	t.Cleanup(func() { a.stop(t) })
	return &integrityEnv{a: a, dc: readDevCredentials(t, a), brokers: b.Addrs()}
}

// do sends one request and returns the status and decoded JSON body; it
// never calls t.Fatal, so goroutines may use it.
func (e *integrityEnv) do(token, method, path, body string, hdr ...string) (int, map[string]any, error) {
	return e.doFrom(nil, token, method, path, body, hdr...)
}

// fromAddr returns an HTTP client whose connections come from the
// loopback address src (127.0.0.2, ...), another client to the server's
// per-client limits.
func fromAddr(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16}}
}

// doFrom is do through client c (nil: a default one).
func (e *integrityEnv) doFrom(c *http.Client, token, method, path, body string, hdr ...string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, e.a.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1] // net/http sends req.Host, not the header
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if c == nil {
		c = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var m map[string]any
	if len(raw) > 0 && json.Unmarshal(raw, &m) != nil {
		m = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, m, nil
}

// must is do for the test goroutine: a transport error or another status
// than want fails the test.
func (e *integrityEnv) must(t *testing.T, want int, token, method, path, body string, hdr ...string) map[string]any {
	t.Helper()
	code, m, err := e.do(token, method, path, body, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		t.Fatalf("%s %s: %d %v; want %d", method, path, code, m, want)
	}
	return m
}

// createProduct creates a product of the demo seller with one variant
// holding units in wh-001 and waits until it is searchable.
func (e *integrityEnv) createProduct(t *testing.T, title, variant string, units int) string {
	t.Helper()
	body := fmt.Sprintf(`{"title":%q,"variants":[{"variant_id":%q,"price_cents":500,"stock":[{"warehouse_id":"wh-001","available":%d}]}]}`, title, variant, units)
	m := e.must(t, 201, e.dc.SellerAPIKey, "POST", "/api/v1/seller/products", body)
	id, _ := m["product_id"].(string)
	e.waitProduct(t, id, func(p map[string]any) bool { return true })
	return id
}

// waitProduct polls the product page, bounded, until ok holds for it.
func (e *integrityEnv) waitProduct(t *testing.T, id string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, m, err := e.do("", "GET", "/api/v1/products/"+url.PathEscape(id), "")
		if err == nil && code == 200 && ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("product %s: %d %v %v after 30 s", id, code, m, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// guest returns a new guest's id and token.
func (e *integrityEnv) guest(t *testing.T) (id, token string) {
	t.Helper()
	m := e.must(t, 201, "", "POST", "/api/v1/guest", "")
	return m["user_id"].(string), m["user_token"].(string)
}

// checkout buys the demo user's cart and returns the confirm's status and
// body.
func (e *integrityEnv) checkout(t *testing.T, tok, key string) (int, map[string]any) {
	t.Helper()
	m := e.must(t, 201, tok, "POST", "/api/v1/checkout", "{}", "Idempotency-Key", key+"-c")
	p := "/api/v1/checkout/" + m["checkout_id"].(string)
	e.must(t, 200, tok, "PUT", p+"/address", `{"name":"Ada Lovelace","line1":"1 Main St","city":"Boston","postal_code":"02101","country":"US","lat":42.36,"lon":-71.06}`, "Idempotency-Key", key+"-a")
	e.must(t, 200, tok, "PUT", p+"/shipping", `{"option":"standard"}`, "Idempotency-Key", key+"-s")
	e.must(t, 200, tok, "PUT", p+"/payment", `{"card_number":"4242 4242 4242 4242","exp_month":12,"exp_year":2035,"cvc":"123"}`, "Idempotency-Key", key+"-p")
	code, out, err := e.do(tok, "POST", p+"/confirm", "", "Idempotency-Key", key+"-k")
	if err != nil {
		t.Fatal(err)
	}
	return code, out
}

func TestIntegrity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an App")
	}
	e := newIntegrityEnv(t)
	t.Run("StockPatchDuringCartChurn", e.stockPatchDuringCartChurn)
	t.Run("VariantIDsOwned", e.variantIDsOwned)
	t.Run("SellerIDsValidated", e.sellerIDsValidated)
	t.Run("GuestsCannotReviewOrVote", e.guestsCannotReviewOrVote)
	t.Run("BoundedArithmetic", e.boundedArithmetic)
	t.Run("KeyChecksLimitedBeforeArgon2", e.keyChecksLimitedBeforeArgon2)
	t.Run("BulkKeyChecksLimitedBeforeArgon2", e.bulkKeyChecksLimitedBeforeArgon2)
	t.Run("FreshWaitsHoldNoSlots", e.freshWaitsHoldNoSlots)
	t.Run("CartsCannotHoard", e.cartsCannotHoard)
	t.Run("ManyGuestsCannotHoard", e.manyGuestsCannotHoard)
	t.Run("DocumentedBehaviour", e.documentedBehaviour)
	t.Run("DeletedVariantIDsStayOwned", e.deletedVariantIDsStayOwned) // restarts the App: last
}

// documentedBehaviour is item 9: the demo sign-in checks the Host header
// (DNS rebinding), another user's order is 404, /api/v1/orders refuses
// unknown parameters, an address in country XX is 400, and the data
// directory is 0700 with no file readable by others.
func (e *integrityEnv) documentedBehaviour(t *testing.T) {
	code, m, err := e.do("", "POST", "/api/v1/session/demo", "", "Host", "rebound.example:8080")
	if err != nil || code != 404 {
		t.Errorf("demo sign-in with a foreign Host: %d %v %v; want 404", code, m, err)
	}
	if code, m, err := e.do("", "POST", "/api/v1/session/demo", ""); err != nil || code != 200 {
		t.Errorf("demo sign-in from loopback: %d %v %v; want 200", code, m, err)
	}
	if e.order == "" {
		t.Fatal("no order from CartsCannotHoard")
	}
	if code, m, err := e.do(e.dc.UserToken, "GET", "/api/v1/orders/"+e.order, ""); err != nil || code != 404 {
		t.Errorf("another user's order: %d %v %v; want 404", code, m, err)
	}
	if code, m, err := e.do(e.dc.UserToken, "GET", "/api/v1/orders?limt=5", ""); err != nil || code != 400 || !strings.Contains(fmt.Sprint(m), "limt") {
		t.Errorf("/api/v1/orders?limt=5: %d %v %v; want 400 naming limt", code, m, err)
	}
	gid, tok := e.guest(t)
	e.must(t, 201, tok, "POST", "/api/v1/cart/"+gid+"/items", `{"variant_id":"filler-v1","quantity":1}`)
	m = e.must(t, 201, tok, "POST", "/api/v1/checkout", "{}", "Idempotency-Key", "xx-c")
	p := "/api/v1/checkout/" + m["checkout_id"].(string) + "/address"
	if code, m, err := e.do(tok, "PUT", p, `{"name":"A","line1":"1 Main St","city":"Boston","postal_code":"02101","country":"XX","lat":42.36,"lon":-71.06}`, "Idempotency-Key", "xx-a"); err != nil || code != 400 || !strings.Contains(fmt.Sprint(m), "country") {
		t.Errorf("country XX: %d %v %v; want 400 naming country", code, m, err)
	}
	fi, err := os.Stat(e.a.data)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory %s: %v %v; want 0700", e.a.data, fi.Mode().Perm(), err)
	}
	filepath.WalkDir(e.a.data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v; want no access for others", path, fi.Mode().Perm())
		}
		return nil
	})
}

// cartsCannotHoard is item 4: two guest carts of 99 units each of a
// 150-unit product hold 10 units a line, not 150: the product stays in
// stock and a shopper's checkout of 99 units succeeds (before, the
// guests' holds left 51 free and the checkout got 409 for 15 minutes).
func (e *integrityEnv) cartsCannotHoard(t *testing.T) {
	id := e.createProduct(t, "Hoarded kettle", "hoard-v1", 150)
	for range 2 {
		gid, tok := e.guest(t)
		e.must(t, 201, tok, "POST", "/api/v1/cart/"+gid+"/items", `{"variant_id":"hoard-v1","quantity":99}`)
	}
	e.waitProduct(t, id, func(p map[string]any) bool { return p["stock_status"] == "IN_STOCK" })
	bid, btok := e.guest(t)
	e.must(t, 201, btok, "POST", "/api/v1/cart/"+bid+"/items", `{"variant_id":"hoard-v1","quantity":99}`)
	code, m := e.checkout(t, btok, "hoard")
	if code != 201 {
		t.Fatalf("a shopper's checkout of 99 of 150 units while two carts hold 99 each: %d %v", code, m)
	}
	e.order, _ = m["order_id"].(string)
}

// manyGuestsCannotHoard is item 4 with more carts than the per-line bound
// covers: 15 guests (free to mint) add 10 units each of a 150-unit
// product. Soft holds leave half of a cell available, so a shopper's
// checkout of 75 units succeeds (before, the 15 lines of 10 held all 150
// units and the checkout got 409 for 15 minutes).
func (e *integrityEnv) manyGuestsCannotHoard(t *testing.T) {
	e.createProduct(t, "Crowded kettle", "crowd-v1", 150)
	guests := fromAddr("127.0.0.5")
	for i := range 15 {
		_, m, err := e.doFrom(guests, "", "POST", "/api/v1/guest", "")
		if err != nil || m["user_id"] == nil {
			t.Fatalf("guest %d: %v %v", i, m, err)
		}
		gid, tok := m["user_id"].(string), m["user_token"].(string)
		if code, m, err := e.doFrom(guests, tok, "POST", "/api/v1/cart/"+gid+"/items", `{"variant_id":"crowd-v1","quantity":10}`); err != nil || code != 201 {
			t.Fatalf("guest %d adds 10: %d %v %v", i, code, m, err)
		}
	}
	bid, btok := e.guest(t)
	e.must(t, 201, btok, "POST", "/api/v1/cart/"+bid+"/items", `{"variant_id":"crowd-v1","quantity":75}`)
	if code, m := e.checkout(t, btok, "crowd"); code != 201 {
		t.Fatalf("a shopper's checkout of 75 of 150 units while 15 carts hold 10 each: %d %v", code, m)
	}
}

// freshWaitsHoldNoSlots is item 7: 6 clients, each within its search
// burst, send 95 searches at once with a min_offset far ahead of the
// topic. Every one answers 503 not_caught_up (at once past the per-client
// cap of waits, else after the bounded wait), and a shopper searching
// meanwhile is never refused for want of an in-flight slot (before, the
// waits held all 512 slots for 2 s and the shopper got 503 overloaded).
func (e *integrityEnv) freshWaitsHoldNoSlots(t *testing.T) {
	const clients, each = 6, 95
	far := "/api/v1/products/search?q=kettle&min_offset=catalog.products:0:999999999"
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[string]int{}
	for c := range clients {
		cl := fromAddr(fmt.Sprintf("127.0.0.%d", 10+c))
		for range each {
			wg.Go(func() {
				code, m, err := e.doFrom(cl, "", "GET", far, "")
				key := fmt.Sprint(code)
				if err != nil {
					key = "error"
				} else if em, ok := m["error"].(map[string]any); ok {
					key += " " + fmt.Sprint(em["code"])
				}
				mu.Lock()
				answers[key]++
				mu.Unlock()
			})
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	shopper := map[string]int{}
	for stop := false; !stop; {
		select {
		case <-done:
			stop = true
		default:
		}
		code, m, err := e.do("", "GET", "/api/v1/products/search?q=kettle", "")
		key := fmt.Sprint(code)
		if err != nil {
			key = "error"
		} else if code != 200 {
			key += fmt.Sprint(" ", m)
		}
		shopper[key]++
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("far-ahead waits answered %v; the shopper's searches %v", answers, shopper)
	if answers["503 not_caught_up"] != clients*each {
		t.Errorf("far-ahead min_offset searches answered %v; want all %d 503 not_caught_up", answers, clients*each)
	}
	for k, n := range shopper {
		if k != "200" {
			t.Errorf("the shopper's searches during the waits: %d answered %s", n, k)
		}
	}
}

// keyChecksLimitedBeforeArgon2 is item 6: a client sending 200 wrong
// secrets under a real seller's key id gets 429 once its allowance of
// argon2id checks is spent, and the seller's valid write from another
// client goes through; the same wrong key again costs no allowance (the
// failure cache).
func (e *integrityEnv) keyChecksLimitedBeforeArgon2(t *testing.T) {
	keyID := e.dc.SellerAPIKey[:len("ak_")+16]
	wrong := func(i int) string { return fmt.Sprintf("%s_%043d", keyID, i) }
	attacker := fromAddr("127.0.0.2")
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				code, _, err := e.doFrom(attacker, wrong(i), "POST", "/api/v1/seller/products", `{}`)
				if err != nil {
					code = -1
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		})
	}
	for i := range 200 {
		next <- i
		if i == 100 {
			// Mid-attack, the seller writes from its own address.
			code, m, err := e.do(e.dc.SellerAPIKey, "POST", "/api/v1/seller/products",
				`{"title":"Written under attack","variants":[{"variant_id":"attack-v1","price_cents":100}]}`)
			if err != nil || code != 201 {
				t.Errorf("the seller's write during the attack: %d %v %v", code, m, err)
			}
		}
	}
	close(next)
	wg.Wait()
	t.Logf("attacker's answers: %v", codes)
	if codes[429] == 0 || codes[401]+codes[429] != 200 {
		t.Errorf("200 wrong secrets from one client answered %v; want 401 then 429 once its key checks are spent", codes)
	}
	// One wrong key repeated: a cached failure, never a 429.
	again := fromAddr("127.0.0.3")
	for range 30 {
		if code, m, err := e.doFrom(again, wrong(7), "POST", "/api/v1/seller/products", `{}`); err != nil || code != 401 {
			t.Fatalf("a repeated wrong key: %d %v %v; want 401 (failure cache)", code, m, err)
		}
	}
}

// bulkKeyChecksLimitedBeforeArgon2 is item 6 on the bulk endpoint, whose
// body-size hook sees the header before the handler: 100 wrong secrets
// under the seller's key id, sent at once from one client, get 429 past
// that client's allowance of argon2id checks (taken when a request
// arrives, before its hash, so however slow the hashes are, at most the
// burst and what refills while the 100 arrive are 401); before, the hook
// hashed every one without a limit and cached the failure, so the handler
// answered 401 to all 100. The seller's own bulk job from another client
// is accepted.
func (e *integrityEnv) bulkKeyChecksLimitedBeforeArgon2(t *testing.T) {
	const path = "/api/v1/seller/products/bulk"
	keyID := e.dc.SellerAPIKey[:len("ak_")+16]
	attacker := fromAddr("127.0.0.4")
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			code, m, err := e.doFrom(attacker, fmt.Sprintf("%s_%043d", keyID, 1000+i), "POST", path, `{"products":[]}`)
			if err != nil || code != 401 && code != 429 {
				t.Errorf("wrong secret %d: %d %v %v; want 401 or 429", i, code, m, err)
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("attacker's answers: %v", codes)
	if codes[429] == 0 {
		t.Errorf("100 wrong secrets on the bulk endpoint from one client answered %v; want 429 once its key checks are spent", codes)
	}
	m := e.must(t, 202, e.dc.SellerAPIKey, "POST", path,
		`{"products":[{"title":"Bulk under attack","variants":[{"variant_id":"bulk-attack-v1","price_cents":100}]}]}`)
	if m["status_url"] == nil {
		t.Errorf("the seller's bulk job: %v", m)
	}
}

// boundedArithmetic is item 5: quantities and prices that would overflow
// a sum (a RELEASE of 2^63-1, two warehouses of 2^63-1 units, a price
// whose cart subtotal wraps) are 400 naming the field, and nothing
// changes.
func (e *integrityEnv) boundedArithmetic(t *testing.T) {
	const huge = "9223372036854775807"
	id := e.createProduct(t, "Bounded kettle", "bounded-v1", 3)
	patch := func(body string) (int, map[string]any) {
		code, m, err := e.do(e.dc.SellerAPIKey, "PATCH", "/api/v1/inventory/bounded-v1", fmt.Sprintf(body, id))
		if err != nil {
			t.Fatal(err)
		}
		return code, m
	}
	for _, c := range []struct{ body, field string }{
		{`{"product_id":%q,"warehouse_id":"wh-001","quantity_delta":` + huge + `,"operation":"RELEASE"}`, "quantity_delta"},
		{`{"product_id":%q,"warehouse_id":"wh-001","available":` + huge + `}`, "available"},
	} {
		if code, m := patch(c.body); code != 400 || !strings.Contains(fmt.Sprint(m), c.field) {
			t.Errorf("PATCH %s: %d %v; want 400 naming %s", c.body, code, m, c.field)
		}
	}
	// Up to the limit, then one unit past it.
	if code, m := patch(`{"product_id":%q,"warehouse_id":"wh-001","available":1000000000}`); code != 200 {
		t.Fatalf("PATCH to the limit: %d %v", code, m)
	}
	if code, m := patch(`{"product_id":%q,"warehouse_id":"wh-001","quantity_delta":1,"operation":"RELEASE"}`); code != 400 || !strings.Contains(fmt.Sprint(m), "quantity_delta") {
		t.Errorf("RELEASE past the limit: %d %v; want 400 naming quantity_delta", code, m)
	}
	for _, c := range []struct{ body, field string }{
		{`{"title":"Two huge","variants":[{"variant_id":"huge-v1","price_cents":100,"stock":[{"warehouse_id":"wh-001","available":` + huge + `},{"warehouse_id":"wh-002","available":` + huge + `}]}]}`, "variants[0].stock"},
		{`{"title":"Dear","variants":[{"variant_id":"dear-v1","price_cents":4611686018427387904}]}`, "variants[0].price_cents"},
	} {
		code, m, err := e.do(e.dc.SellerAPIKey, "POST", "/api/v1/seller/products", c.body)
		if err != nil || code != 400 || !strings.Contains(fmt.Sprint(m), c.field) {
			t.Errorf("POST %s: %d %v %v; want 400 naming %s", c.body, code, m, err, c.field)
		}
	}
}

// guestsCannotReviewOrVote is item 3: a guest token (free to mint) gets
// 403 with a clear message on posting a review and on a helpful vote; the
// signed-in user's review and vote work.
func (e *integrityEnv) guestsCannotReviewOrVote(t *testing.T) {
	path := "/api/v1/products/filler/reviews"
	m := e.must(t, 201, e.dc.UserToken, "POST", path, `{"rating":5,"body":"Boils water well."}`)
	rid, _ := m["review_id"].(string)
	_, guest := e.guest(t)
	for _, c := range []struct{ path, body string }{
		{path, `{"rating":2,"body":"Bad."}`},
		{path + "/" + rid + "/helpful", ``},
	} {
		code, m, err := e.do(guest, "POST", c.path, c.body)
		if err != nil || code != 403 || !strings.Contains(fmt.Sprint(m), "guest cannot") {
			t.Errorf("guest POST %s: %d %v %v; want 403 saying a guest cannot", c.path, code, m, err)
		}
	}
	// Invalid UTF-8 in a body is refused, not turned into U+FFFD (item 9).
	code, m, err := e.do(e.dc.UserToken, "POST", "/api/v1/products/filler/reviews", "{\"rating\":4,\"body\":\"caf\xe9\"}")
	if err != nil || code != 400 || !strings.Contains(fmt.Sprint(m), "UTF-8") {
		t.Errorf("a review with invalid UTF-8: %d %v %v; want 400", code, m, err)
	}
}

// variantIDsOwned is item 2: a variant id another product uses (one of the
// catalog's, or a seller's) is refused with 409 id_taken, also when two
// creates race for a new id, and a PATCH cannot reach another product's
// cell.
func (e *integrityEnv) variantIDsOwned(t *testing.T) {
	victim := e.createProduct(t, "Victim kettle", "victim-v1", 7)
	for _, vid := range []string{"victim-v1", "filler-v1"} {
		body := fmt.Sprintf(`{"title":"Thief kettle","variants":[{"variant_id":%q,"price_cents":1,"stock":[{"warehouse_id":"wh-001","available":1}]}]}`, vid)
		m := e.must(t, 409, e.dc.SellerAPIKey, "POST", "/api/v1/seller/products", body)
		if m["error"] == nil || !strings.Contains(fmt.Sprint(m), "id_taken") {
			t.Errorf("taking %s: %v; want code id_taken", vid, m)
		}
	}
	// Two creates race for one new id: one wins.
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			codes[i], _, _ = e.do(e.dc.SellerAPIKey, "POST", "/api/v1/seller/products",
				`{"title":"Racer","variants":[{"variant_id":"race-v1","price_cents":1}]}`)
		})
	}
	wg.Wait()
	if !(codes[0] == 201 && codes[1] == 409 || codes[0] == 409 && codes[1] == 201) {
		t.Errorf("two creates of variant race-v1 answered %v; want one 201 and one 409", codes)
	}
	// The thief's own product cannot PATCH the victim's cell.
	thief := e.createProduct(t, "Thief kettle", "thief-v1", 1)
	code, m, err := e.do(e.dc.SellerAPIKey, "PATCH", "/api/v1/inventory/victim-v1",
		fmt.Sprintf(`{"product_id":%q,"warehouse_id":"wh-001","available":0}`, thief))
	if err != nil || code != 404 {
		t.Errorf("PATCH of the victim's variant under the thief's product: %d %v %v; want 404", code, m, err)
	}
	e.waitProduct(t, victim, func(p map[string]any) bool { return p["stock_status"] == "IN_STOCK" })
}

// deletedVariantIDsStayOwned is item 2 across a delete and a restart: a
// deleted product's variant ids stay its own, because its stock cells stay
// in the commerce store, the durable record of who holds an id. Another
// product taking one gets 409 id_taken, before and after a restart (before
// the fix, the restarted server rebuilt its map from the index alone,
// where the deleted product is gone, and answered 201: the new product got
// the old one's cells, which its PATCHes could not reach).
func (e *integrityEnv) deletedVariantIDsStayOwned(t *testing.T) {
	id := e.createProduct(t, "Deleted kettle", "gone-v1", 4)
	e.must(t, 200, e.dc.SellerAPIKey, "DELETE", "/api/v1/seller/products/"+url.PathEscape(id), "")
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, err := e.do("", "GET", "/api/v1/products/"+url.PathEscape(id), "")
		if err == nil && code == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deleted product still answers %d %v after 30 s", code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	reuse := `{"title":"Reuser kettle","variants":[{"variant_id":"gone-v1","price_cents":1,"stock":[{"warehouse_id":"wh-001","available":1}]}]}`
	e.must(t, 409, e.dc.SellerAPIKey, "POST", "/api/v1/seller/products", reuse)
	e.a.stop(t)
	e.a = startAisle(t, e.a.data, func(o *Options) { o.NoRecs, o.Brokers = true, e.brokers })
	t.Cleanup(func() { e.a.stop(t) })
	e.waitProduct(t, "filler", func(map[string]any) bool { return true })
	m := e.must(t, 409, e.dc.SellerAPIKey, "POST", "/api/v1/seller/products", reuse)
	if !strings.Contains(fmt.Sprint(m), "id_taken") {
		t.Errorf("reusing a deleted product's variant id after a restart: %v; want code id_taken", m)
	}
	// A new id is still free.
	e.must(t, 201, e.dc.SellerAPIKey, "POST", "/api/v1/seller/products",
		`{"title":"Fresh kettle","variants":[{"variant_id":"fresh-v1","price_cents":1}]}`)
}

// sellerIDsValidated is item 8: ids that no other endpoint could take are
// refused at creation with 400 naming the field, and stock in a warehouse
// that does not exist is refused.
func (e *integrityEnv) sellerIDsValidated(t *testing.T) {
	for _, c := range []struct{ variant, warehouse, field string }{
		{"has/slash", "wh-001", "variants[0].variant_id"},
		{strings.Repeat("x", 300), "wh-001", "variants[0].variant_id"},
		{`nul\u0000byte`, "wh-001", "variants[0].variant_id"},
		{"ok-v1", "wh-nowhere", "warehouse_id"},
		{"ok-v2", "", "variants[0].stock[0].warehouse_id"},
	} {
		body := fmt.Sprintf(`{"title":"Odd ids","variants":[{"variant_id":"%s","price_cents":1,"stock":[{"warehouse_id":%q,"available":1}]}]}`, c.variant, c.warehouse)
		code, m, err := e.do(e.dc.SellerAPIKey, "POST", "/api/v1/seller/products", body)
		if err != nil || code != 400 || !strings.Contains(fmt.Sprint(m), c.field) {
			t.Errorf("variant %.20q in %q: %d %v %v; want 400 naming %s", c.variant, c.warehouse, code, m, err, c.field)
		}
	}
	id := e.createProduct(t, "Plain ids", "plain-v1", 1)
	code, m, err := e.do(e.dc.SellerAPIKey, "PATCH", "/api/v1/inventory/plain-v1",
		fmt.Sprintf(`{"product_id":%q,"warehouse_id":"wh-nowhere","available":5}`, id))
	if err != nil || code != 400 || !strings.Contains(fmt.Sprint(m), "warehouse_id") {
		t.Errorf("PATCH in an unknown warehouse: %d %v %v; want 400 naming warehouse_id", code, m, err)
	}
}

// stockPatchDuringCartChurn is item 1: 12 guests add and remove a variant
// while its seller adds units to it by PATCH every 50 ms. Every PATCH
// answered 200 must take effect: once the carts are empty, search and
// checkout see the listed units plus every acknowledged delta (before the
// fix, the holds' versions ran ahead of the catalog writer's and the
// index and the store dropped the seller's events after the 200).
func (e *integrityEnv) stockPatchDuringCartChurn(t *testing.T) {
	const listed, patches = 2, 40
	id := e.createProduct(t, "Churn kettle", "churn-v1", listed)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var churnErrs []string
	for range 12 {
		gid, tok := e.guest(t)
		wg.Go(func() {
			cart := "/api/v1/cart/" + gid + "/items"
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, m, err := e.do(tok, "POST", cart, `{"variant_id":"churn-v1","quantity":1}`)
				if err == nil && code != 201 && code != 409 {
					err = fmt.Errorf("add: %d %v", code, m)
				}
				if err == nil {
					code, m, err = e.do(tok, "DELETE", cart+"/churn-v1", "")
					if err == nil && code != 200 {
						err = fmt.Errorf("remove: %d %v", code, m)
					}
				}
				if err != nil {
					mu.Lock()
					churnErrs = append(churnErrs, err.Error())
					mu.Unlock()
					return
				}
			}
		})
	}
	acked := 0
	for range patches {
		code, m, err := e.do(e.dc.SellerAPIKey, "PATCH", "/api/v1/inventory/churn-v1",
			fmt.Sprintf(`{"product_id":%q,"warehouse_id":"wh-001","quantity_delta":1,"operation":"RELEASE"}`, id))
		if err != nil || code != 200 {
			t.Errorf("PATCH: %d %v %v", code, m, err)
		} else {
			acked++
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if len(churnErrs) > 0 {
		t.Fatalf("cart churn failed: %v", churnErrs)
	}
	want := listed + acked
	t.Logf("%d of %d PATCHes acknowledged; %d units expected", acked, patches, want)
	// Search: every acknowledged unit is there (LOW_STOCK "only 2 left"
	// when the PATCHes were dropped).
	e.waitProduct(t, id, func(p map[string]any) bool { return p["stock_status"] == "IN_STOCK" })
	// Checkout: the demo user buys every unit; one more is refused.
	user := "/api/v1/cart/" + e.dc.UserID + "/items"
	e.must(t, 201, e.dc.UserToken, "POST", user, fmt.Sprintf(`{"variant_id":"churn-v1","quantity":%d}`, want))
	if code, m := e.checkout(t, e.dc.UserToken, "churn"); code != 201 {
		t.Fatalf("buying the %d units the acknowledged PATCHes made: %d %v", want, code, m)
	}
	e.waitProduct(t, id, func(p map[string]any) bool { return p["stock_status"] == "OUT_OF_STOCK" })
}
