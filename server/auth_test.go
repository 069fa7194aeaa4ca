package server

import (
	"context"
	"errors"

	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/commerce"
	"github.com/aisle/aisle/ingest"
)

// testKeys is a key store in a temporary directory with two sellers and
// an admin.
type testKeys struct {
	dir                  string
	store                *auth.KeyStore
	seller, other, admin string
}

func newTestKeys(t testing.TB) testKeys {
	t.Helper()
	dir := t.TempDir()
	ks, err := auth.OpenKeyStore(dir, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	k := testKeys{dir: dir, store: ks}
	for _, c := range []struct {
		dst          *string
		role, seller string
	}{{&k.seller, auth.RoleSeller, "sel-a"}, {&k.other, auth.RoleSeller, "sel-b"}, {&k.admin, auth.RoleAdmin, ""}} {
		if *c.dst, _, err = ks.Create(c.role, c.seller, c.seller); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

// TestRequireUser runs the user middleware over a small test route.
func TestRequireUser(t *testing.T) {
	tk, _ := auth.NewTokens([]byte(strings.Repeat("k", 32)))
	s := New(testSvc(newTestEngine(t)), Options{Tokens: tk})
	h := s.RequireUser(func(ctx *fasthttp.RequestCtx, user string) {
		if string(ctx.UserValue("owner").(string)) != user {
			writeError(ctx, fasthttp.StatusForbidden, CodeForbidden, "not yours", "")
			return
		}
		ctx.SetBodyString("ok " + user)
	})
	good, _ := tk.Sign("u-1", time.Hour)
	other, _ := tk.Sign("u-2", time.Hour)
	for _, c := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer nope", 401}, {"Basic " + good, 401}, {"Bearer " + other, 403}, {"Bearer " + good, 200}, {"bearer " + good, 200}} {
		var ctx fasthttp.RequestCtx
		ctx.SetUserValue("owner", "u-1")
		if c.auth != "" {
			ctx.Request.Header.Set("Authorization", c.auth)
		}
		h(&ctx)
		if got := ctx.Response.StatusCode(); got != c.want {
			t.Errorf("%.12q: %d; want %d", c.auth, got, c.want)
		}
		if c.want == 401 && !strings.HasPrefix(string(ctx.Response.Header.Peek("WWW-Authenticate")), "Bearer") {
			t.Errorf("%.12q: 401 without a Bearer challenge", c.auth)
		}
	}
}

// TestSellerAuth: every write endpoint × {no key, a bad key, the admin's
// key, another seller's key, the own key}.
func TestSellerAuth(t *testing.T) {
	k := newTestKeys(t)
	s := New(withIngest(testSvc(newTestEngine(t)), okCatalog{}), Options{Logf: checkedLogf(t), Keys: k.store})
	s.owners.store("p-a", "sel-a")
	base := serveOver(t, s)
	const body = `{"title":"x","variants":[{"price_cents":1}]}`
	inv := `{"product_id":"p-a","warehouse_id":"w","available":1}`
	for _, c := range []struct {
		method, path, body string
		want               [5]int // none, bad, admin, other, own
	}{
		{"POST", "/api/v1/seller/products", body, [5]int{401, 401, 403, 201, 201}},
		{"PUT", "/api/v1/seller/products/p-a", body, [5]int{401, 401, 403, 403, 200}},
		{"PATCH", "/api/v1/inventory/p-a-1", inv, [5]int{401, 401, 403, 403, 200}},
	} {
		for i, key := range []string{"", "ak_0000000000000000_" + strings.Repeat("A", 43), k.admin, k.other, k.seller} {
			code, h, m := doAs(t, key, c.method, base+c.path, c.body)
			if code != c.want[i] {
				t.Errorf("%s %s with credential %d: %d %v; want %d", c.method, c.path, i, code, m, c.want[i])
			}
			if code == 401 && h.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", c.method, c.path)
			}
		}
	}
	// The seller comes from the key: a body naming another is refused.
	code, _, m := doAs(t, k.seller, "POST", base+"/api/v1/seller/products", `{"title":"x","seller_id":"sel-b","variants":[{"price_cents":1}]}`)
	if code != 403 {
		t.Errorf("body seller_id of another seller: %d %v", code, m)
	}
	// A key never shows in a URL or an answer: a Bearer in the query string
	// is not read.
	req, _ := http.NewRequest("POST", base+"/api/v1/seller/products?access_token="+k.seller, strings.NewReader(body))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("a key in the URL: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// okCatalog accepts every publish.
type okCatalog struct{}

func (okCatalog) PublishProduct(_ context.Context, p *catalog.Product, _ bool) (ingest.Written, error) {
	if p.SellerID == "" {
		return ingest.Written{}, errors.New("a product without a seller")
	}
	return ingest.Written{Topic: "catalog.products", Version: 1}, nil
}

func (c okCatalog) CreateProducts(ctx context.Context, ps []*catalog.Product) ([]ingest.Written, []error) {
	ws, errs := make([]ingest.Written, len(ps)), make([]error, len(ps))
	for i, p := range ps {
		ws[i], errs[i] = c.PublishProduct(ctx, p, true)
	}
	return ws, errs
}

func (okCatalog) DeleteProduct(context.Context, string, string) (ingest.Written, error) {
	return ingest.Written{Topic: "catalog.products", Version: 2}, nil
}

func (okCatalog) PublishStock(_ context.Context, _, _, _ string, change func(int) (int, error)) (ingest.Written, int, error) {
	n, err := change(5)
	return ingest.Written{Topic: "catalog.inventory", Version: 1}, n, err
}

// TestEndpointCredentials is the endpoint × credential table of
// doc/security.md. Every endpoint the router names (endpointNames, which
// a new endpoint must join for its metrics) needs rows here: the test
// fails for one without. The columns are no credentials, a forged key, the
// admin key, another seller's key, the seller's own key, another user's
// token and the user's own token (user u1, seller sel-a). A public row
// (all zero) must answer alike for every credential and never 401 or 403.
func TestEndpointCredentials(t *testing.T) {
	k := newTestKeys(t)
	tokens, err := auth.NewTokens(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := commerce.Open(commerce.Options{Path: filepath.Join(t.TempDir(), "commerce.db"), Replica: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.SeedStock(testProducts()); err != nil {
		t.Fatal(err)
	}
	co := commerce.NewCheckout(st, commerce.NewWarehouses([]catalog.Warehouse{{ID: "wh-1", Lat: 41.9, Lon: -87.6}}), commerce.NewSandbox(), commerce.CheckoutOptions{})
	rv, err := commerce.NewReviews(st, commerce.ReviewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc := withIngest(testSvc(newTestEngine(t)), okCatalog{})
	svc.Cart, svc.Guests = st, tokens
	svc.Checkout, svc.CheckoutOptions = co, CheckoutOptions{Carts: st, Shipments: st}
	svc.Reviews, svc.Moderator = rv, rv
	s := New(svc, Options{Logf: checkedLogf(t), Keys: k.store, Tokens: tokens})
	s.owners.store("p-a", "sel-a")
	base := serveOver(t, s)
	pid := testProducts()[0].ID
	vid := testProducts()[0].Variants[0].ID
	// u1 has a checkout session; its id is in the table.
	sess, err := co.Create("u1", "key-1", []commerce.SessionLine{{VariantID: vid, ProductID: pid, Title: "x", Quantity: 1,
		Price: testProducts()[0].Variants[0].Price}})
	if err != nil {
		t.Fatal(err)
	}
	const body = `{"title":"x","variants":[{"price_cents":1}]}`
	type row struct {
		method, path, body string
		want               [7]int
	}
	user := func(own int) [7]int { return [7]int{401, 401, 401, 401, 401, 403, own} }
	mine := func(own int) [7]int { return [7]int{401, 401, 401, 401, 401, own, own} } // each user's own
	table := map[string][]row{
		"search":  {{"GET", "/api/v1/products/search?q=sony&facets=false", "", [7]int{}}},
		"product": {{"GET", "/api/v1/products/" + pid, "", [7]int{}}},
		"suggest": {{"GET", "/api/v1/suggest?q=so", "", [7]int{}}},
		"healthz": {{"GET", "/healthz", "", [7]int{}}},
		"metrics": {{"GET", "/metrics", "", [7]int{}}},
		"recs": {{"GET", "/api/v1/products/" + pid + "/also-bought", "", [7]int{}},
			{"GET", "/api/v1/recs/similar/" + pid, "", [7]int{}},
			// public without a header (503: no home rows set); a key is not a user token
			{"GET", "/api/v1/recs/home", "", [7]int{503, 401, 401, 401, 401, 503, 503}},
			{"GET", "/api/v1/recs/home/u1", "", user(503)}},
		"seller": {
			{"POST", "/api/v1/seller/products", body, [7]int{401, 401, 403, 201, 201, 401, 401}},
			{"PUT", "/api/v1/seller/products/p-a", body, [7]int{401, 401, 403, 403, 200, 401, 401}},
			{"POST", "/api/v1/seller/products/bulk", `{"products":[` + body + `]}`, [7]int{401, 401, 403, 202, 202, 401, 401}},
		},
		"inventory": {{"PATCH", "/api/v1/inventory/p-a-1", `{"product_id":"p-a","warehouse_id":"w","available":1}`, [7]int{401, 401, 403, 403, 200, 401, 401}}},
		"cart": {{"GET", "/api/v1/cart/u1", "", user(200)},
			{"POST", "/api/v1/cart/u1/items", `{"variant_id":"` + vid + `","quantity":1}`, user(201)},
			{"PUT", "/api/v1/cart/u1/items/" + vid, `{"quantity":2}`, user(200)},
			{"POST", "/api/v1/guest", "", [7]int{}}},
		"checkout": {{"GET", "/api/v1/checkout/" + sess.ID, "", user(200)}},
		"orders":   {{"GET", "/api/v1/orders", "", mine(200)}, {"GET", "/api/v1/orders/ord-none", "", mine(404)}},
		"reviews": {{"GET", "/api/v1/products/" + pid + "/reviews", "", [7]int{}},
			{"POST", "/api/v1/products/" + pid + "/reviews", `{"rating":5,"title":"ok","body":"Works as described."}`, mine(201)},
			{"POST", "/api/v1/products/" + pid + "/reviews/rv-none/helpful", "", mine(404)}},
		"moderation": {{"GET", "/admin/reviews/held", "", [7]int{401, 401, 200, 403, 403, 401, 401}},
			{"POST", "/admin/reviews/rv-none/approve", "", [7]int{401, 401, 404, 403, 403, 401, 401}}},
		"web":   {{"GET", "/", "", [7]int{}}, {"GET", "/static/app.js", "", [7]int{}}, {"POST", "/api/v1/session/demo", "", [7]int{}}},
		"other": {{"GET", "/nope", "", [7]int{}}},
	}
	for _, name := range endpointNames {
		if len(table[name]) == 0 {
			t.Errorf("endpoint %q has no row in the credential table", name)
		}
	}
	tok := func(u string) string {
		tk, err := tokens.Sign(u, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	creds := []string{"", "ak_0000000000000000_" + strings.Repeat("A", 43), k.admin, k.other, k.seller, tok("u2"), tok("u1")}
	for _, name := range slices.Sorted(maps.Keys(table)) {
		for _, r := range table[name] {
			var got [7]int
			for i, key := range creds {
				got[i], _, _ = doAs(t, key, r.method, base+r.path, r.body)
			}
			if r.want == ([7]int{}) {
				if got != [7]int{got[0], got[0], got[0], got[0], got[0], got[0], got[0]} || got[0] == 401 || got[0] == 403 {
					t.Errorf("%s: public %s %s answers %v across credentials", name, r.method, r.path, got)
				}
				continue
			}
			if got != r.want {
				t.Errorf("%s: %s %s answers %v; want %v", name, r.method, r.path, got, r.want)
			}
		}
	}
}
