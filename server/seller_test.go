package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/search"
)

// writeEnv is the real write path on loopback: the embedded broker, the
// ingest consumer feeding a search engine, and the server over both.
type writeEnv struct {
	base string
	eng  *search.Engine
	c    *ingest.Consumer
	keys testKeys
}

func startWriteEnv(t testing.TB) *writeEnv {
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
	t.Cleanup(prod.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	if _, err := ingest.EnsureTopics(ctx, prod, 2); err != nil {
		t.Fatal(err)
	}
	eng, err := search.New(search.Options{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ingest.New(ingest.Options{Brokers: b.Addrs(), Dir: t.TempDir(), Partitions: 2, Sink: eng,
		FetchMaxWait: 50 * time.Millisecond, SessionTimeout: 6 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- c.Run(rctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-ran; err != nil {
			t.Error(err)
		}
		c.Close()
	})
	keys := newTestKeys(t)
	w := ingest.NewWriter(prod, c)
	svc := testSvc(eng)
	svc.Ingest = func() (Catalog, Feed) { return w, c }
	s := New(svc, Options{Logf: checkedLogf(t), Keys: keys.store})
	return &writeEnv{base: serveOver(t, s), eng: eng, c: c, keys: keys}
}

func do(t *testing.T, method, u, body string) (int, http.Header, map[string]any) {
	t.Helper()
	return doAs(t, "", method, u, body)
}

// doAs is do with "Authorization: Bearer key" unless key is empty.
func doAs(t *testing.T, key, method, u, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: %v: %s", method, u, err, raw)
		}
	}
	return resp.StatusCode, resp.Header, m
}

const kettle = `{"title":"Quillon steel kettle","description":"A kettle.","brand":"Quillon",
"category_path":["Home","Kitchen"],"attributes":{"color":"silver"},
"variants":[{"sku":"Q-1","attributes":{"size":"1l"},"price_cents":2999,"compare_price_cents":3999,
"stock":[{"warehouse_id":"wh-east","available":4}]}]}`

// searchFresh searches q with the read-your-writes token and returns the
// ids found and whether the answer was marked stale.
func searchFresh(t *testing.T, base, q, token string) ([]string, bool) {
	t.Helper()
	code, h, m := do(t, "GET", base+"/api/v1/products/search?facets=false&q="+url.QueryEscape(q)+"&min_offset="+url.QueryEscape(token), "")
	if code != 200 {
		t.Fatalf("search %q: %d %v", q, code, m)
	}
	var ids []string
	for _, r := range m["results"].([]any) {
		ids = append(ids, r.(map[string]any)["product_id"].(string))
	}
	return ids, h.Get("Aisle-Stale") == "true"
}

func TestSellerWritesReadYourWrites(t *testing.T) {
	e := startWriteEnv(t)
	code, _, m := doAs(t, e.keys.seller, "POST", e.base+"/api/v1/seller/products", kettle)
	if code != 201 {
		t.Fatalf("POST: %d %v", code, m)
	}
	id, _ := m["product_id"].(string)
	tok, _ := m["min_offset"].(string)
	if id == "" || m["version"] != 1.0 || !strings.HasPrefix(tok, "catalog.products:") {
		t.Fatalf("POST answered %v", m)
	}
	ids, stale := searchFresh(t, e.base, "quillon", tok)
	if stale || len(ids) != 1 || ids[0] != id {
		t.Fatalf("search after POST with min_offset: %v, stale %v", ids, stale)
	}
	if p, _ := e.eng.Product(id); p == nil || p.SellerID != "sel-a" {
		t.Fatalf("the product's seller is not the key's: %+v", p)
	}
	// Now indexed, the product is still not another seller's to change.
	if code, _, m := doAs(t, e.keys.other, "PUT", e.base+"/api/v1/seller/products/"+id, kettle); code != 403 {
		t.Fatalf("PUT by another seller: %d %v", code, m)
	}
	if code, _, m := doAs(t, e.keys.other, "PATCH", e.base+"/api/v1/inventory/"+id+"-1", `{"product_id":"`+id+`","warehouse_id":"wh-east","available":9}`); code != 403 {
		t.Fatalf("PATCH by another seller: %d %v", code, m)
	}

	code, _, m = doAs(t, e.keys.seller, "PUT", e.base+"/api/v1/seller/products/"+id, strings.Replace(kettle, "Quillon steel kettle", "Quillon copper teapot", 1))
	if code != 200 || m["version"] != 2.0 {
		t.Fatalf("PUT: %d %v", code, m)
	}
	ids, stale = searchFresh(t, e.base, "teapot", m["min_offset"].(string))
	if stale || len(ids) != 1 {
		t.Fatalf("search after PUT: %v, stale %v", ids, stale)
	}
	if ids, _ := searchFresh(t, e.base, "steel", m["min_offset"].(string)); len(ids) != 0 {
		t.Fatalf("the old title is still found: %v", ids)
	}
	if code, _, m := doAs(t, e.keys.seller, "PUT", e.base+"/api/v1/seller/products/nope", kettle); code != 404 {
		t.Errorf("PUT of an unknown id: %d %v", code, m)
	}

	// Inventory: the variant has 4 in wh-east from the document.
	vid := id + "-1"
	inv := func(body string) (int, map[string]any) {
		code, _, m := doAs(t, e.keys.seller, "PATCH", e.base+"/api/v1/inventory/"+vid, body)
		return code, m
	}
	code, m = inv(`{"product_id":"` + id + `","warehouse_id":"wh-east","quantity_delta":3,"operation":"RESERVE"}`)
	if code != 200 || m["available"] != 1.0 || m["version"] != 1.0 {
		t.Fatalf("RESERVE 3 of 4: %d %v", code, m)
	}
	// The second write comes before the first is applied, most likely:
	// the writer's own last version keeps it from being a duplicate.
	code, m = inv(`{"product_id":"` + id + `","warehouse_id":"wh-east","quantity_delta":2,"operation":"RESERVE"}`)
	if code != 409 || m["error"].(map[string]any)["code"] != CodeInsufficientStock {
		t.Fatalf("RESERVE 2 of 1: %d %v", code, m)
	}
	code, m = inv(`{"product_id":"` + id + `","warehouse_id":"wh-east","quantity_delta":1,"operation":"DEDUCT"}`)
	if code != 200 || m["available"] != 0.0 || m["version"] != 2.0 {
		t.Fatalf("DEDUCT 1 of 1: %d %v", code, m)
	}
	if ids, stale := searchFresh(t, e.base, "quillon", m["min_offset"].(string)); stale || len(ids) != 1 {
		t.Fatalf("search after DEDUCT: %v, stale %v", ids, stale)
	}
	if p, _ := e.eng.Product(id); p == nil || p.InStock() {
		t.Fatalf("after DEDUCT the product is %+v; want out of stock", p)
	}
	code, m = inv(`{"product_id":"` + id + `","warehouse_id":"wh-west","available":7}`)
	if code != 200 || m["available"] != 7.0 || m["version"] != 1.0 {
		t.Fatalf("set 7 in a new warehouse: %d %v", code, m)
	}
	if code, _, m := doAs(t, e.keys.seller, "PATCH", e.base+"/api/v1/inventory/nope", `{"product_id":"`+id+`","warehouse_id":"w","available":1}`); code != 404 {
		t.Errorf("unknown variant: %d %v", code, m)
	}

	// A token no write has reached yet: 503 not_caught_up after the
	// bounded wait, with Retry-After; a repeated min_offset is 400.
	code, h, m := do(t, "GET", e.base+"/api/v1/products/search?q=quillon&min_offset=catalog.products:0:1000000", "")
	if c, _ := errCode(m); code != 503 || c != CodeNotCaughtUp || h.Get("Retry-After") == "" {
		t.Errorf("an unreached offset: %d %v Retry-After %q; want 503 %s", code, m, h.Get("Retry-After"), CodeNotCaughtUp)
	}
	code, _, m = do(t, "GET", e.base+"/api/v1/products/search?q=quillon&min_offset=catalog.products:0:1&min_offset=catalog.products:0:2", "")
	if c, _ := errCode(m); code != 400 || c != CodeInvalidParameter {
		t.Errorf("a repeated min_offset: %d %v; want 400", code, m)
	}

	// Metrics carry the ingest figures.
	resp, err := http.Get(e.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`aisle_ingest_events_total{outcome="applied"} 5`, `aisle_ingest_event_to_searchable_seconds_count 5`, `aisle_ingest_lag{topic="catalog.products",partition="0"} 0`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestSellerBadRequests(t *testing.T) {
	keys := newTestKeys(t)
	l := &live{}
	s := New(l.wire(testSvc(newTestEngine(t))), Options{Logf: checkedLogf(t), Keys: keys.store})
	base := serveOver(t, s)
	if code, _, m := doAs(t, keys.seller, "POST", base+"/api/v1/seller/products", kettle); code != 503 || m["error"].(map[string]any)["code"] != CodeNoBroker {
		t.Fatalf("no broker: %d %v", code, m)
	}
	l.SetIngest(failCatalog{}, nil)
	for _, c := range []struct{ name, method, path, body, param string }{
		{"unknown field", "POST", "/api/v1/seller/products", `{"title":"x","colour":"red","variants":[{"price_cents":1}]}`, "colour"},
		{"negative price", "POST", "/api/v1/seller/products", `{"title":"x","variants":[{"price_cents":-1}]}`, "variants[0].price_cents"},
		{"missing price", "POST", "/api/v1/seller/products", `{"title":"x","variants":[{"sku":"a"}]}`, "variants[0].price_cents"},
		{"empty title", "POST", "/api/v1/seller/products", `{"title":" ","variants":[{"price_cents":1}]}`, "title"},
		{"no variants", "POST", "/api/v1/seller/products", `{"title":"x"}`, "variants"},
		{"wrong type", "POST", "/api/v1/seller/products", `{"title":5}`, "title"},
		{"negative stock", "POST", "/api/v1/seller/products", `{"title":"x","variants":[{"price_cents":1,"stock":[{"warehouse_id":"w","available":-2}]}]}`, "variants[0].stock[0].available"},
		{"long description", "POST", "/api/v1/seller/products", `{"title":"x","description":"` + strings.Repeat("y", 70<<10) + `","variants":[{"price_cents":1}]}`, "description"},
		{"long title", "PUT", "/api/v1/seller/products/no-such-product", `{"title":"` + strings.Repeat("x", 600) + `","variants":[{"price_cents":1}]}`, "title"},
		{"not JSON", "POST", "/api/v1/seller/products", `title=x`, ""},
		{"empty", "POST", "/api/v1/seller/products", ``, ""},
		{"trailing", "POST", "/api/v1/seller/products", `{"title":"x","variants":[{"price_cents":1}]} {}`, ""},
		{"no product_id", "PATCH", "/api/v1/inventory/v", `{"warehouse_id":"w","available":1}`, "product_id"},
		{"bad operation", "PATCH", "/api/v1/inventory/v", `{"product_id":"p","warehouse_id":"w","quantity_delta":1,"operation":"STEAL"}`, "operation"},
		{"zero delta", "PATCH", "/api/v1/inventory/v", `{"product_id":"p","warehouse_id":"w","quantity_delta":0,"operation":"RESERVE"}`, "quantity_delta"},
		{"both forms", "PATCH", "/api/v1/inventory/v", `{"product_id":"p","warehouse_id":"w","available":1,"quantity_delta":1,"operation":"RELEASE"}`, "available"},
	} {
		code, _, m := doAs(t, keys.seller, c.method, base+c.path, c.body)
		e, _ := m["error"].(map[string]any)
		if code != 400 || e["code"] != CodeInvalidBody || (e["param"] != nil && e["param"] != c.param) || (c.param != "" && e["param"] != c.param) {
			t.Errorf("%s: %d %v; want 400 naming %q", c.name, code, m, c.param)
		}
	}
	// Bodies past the server's limit are refused by fasthttp before the
	// handler runs, with a plain-text 400 or 413.
	huge := `{"title":"x","description":"` + strings.Repeat("y", 300<<10) + `","variants":[{"price_cents":1}]}`
	req, _ := http.NewRequest("POST", base+"/api/v1/seller/products", strings.NewReader(huge))
	req.Header.Set("Authorization", "Bearer "+keys.seller)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		if resp.StatusCode != 400 && resp.StatusCode != 413 {
			t.Errorf("huge body: %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
	for _, c := range []struct{ method, path string }{{"GET", "/api/v1/seller/products"}, {"POST", "/api/v1/seller/products/p1"}, {"PUT", "/api/v1/inventory/v"}} {
		if code, _, _ := do(t, c.method, base+c.path, "{}"); code != 405 {
			t.Errorf("%s %s: %d; want 405", c.method, c.path, code)
		}
	}
	if code, _, _ := doAs(t, keys.seller, "PUT", base+"/api/v1/seller/products/", kettle); code != 404 {
		t.Errorf("PUT without an id: %d; want 404", code)
	}
	for _, tok := range []string{"3", "catalog.products:x:1", "catalog.products:1:-1", "orders:0:1"} {
		if code, _, m := do(t, "GET", base+"/api/v1/products/search?q=sony&min_offset="+url.QueryEscape(tok), ""); code != 400 || m["error"].(map[string]any)["param"] != "min_offset" {
			t.Errorf("min_offset=%s: %d %v", tok, code, m)
		}
	}
	// Without a feed a valid token is answered at once, stale.
	if code, h, _ := do(t, "GET", base+"/api/v1/products/search?q=sony&min_offset=catalog.products:0:1", ""); code != 200 || h.Get("Aisle-Stale") != "true" {
		t.Errorf("min_offset without a feed: %d stale=%q", code, h.Get("Aisle-Stale"))
	}
}

// failCatalog refuses every publish: the 400s must come before it.
type failCatalog struct{}

func (failCatalog) PublishProduct(context.Context, *catalog.Product, bool) (ingest.Written, error) {
	return ingest.Written{}, ingest.ErrUnknownProduct
}

func (failCatalog) PublishStock(context.Context, string, string, string, func(int) (int, error)) (ingest.Written, int, error) {
	return ingest.Written{}, 0, ingest.ErrUnknownProduct
}

func (failCatalog) CreateProducts(_ context.Context, ps []*catalog.Product) ([]ingest.Written, []error) {
	errs := make([]error, len(ps))
	for i := range errs {
		errs[i] = ingest.ErrUnknownProduct
	}
	return make([]ingest.Written, len(ps)), errs
}

func (failCatalog) DeleteProduct(context.Context, string, string) (ingest.Written, error) {
	return ingest.Written{}, ingest.ErrUnknownProduct
}

// TestSellerDelete: DELETE publishes a tombstone; once applied the product
// is gone from search and its page; a second delete, an unknown id and a
// PUT after the delete are 404; another seller's product is 403.
func TestSellerDelete(t *testing.T) {
	e := startWriteEnv(t)
	code, _, m := doAs(t, e.keys.seller, "POST", e.base+"/api/v1/seller/products", kettle)
	if code != 201 {
		t.Fatalf("POST: %d %v", code, m)
	}
	id := m["product_id"].(string)
	if ids, stale := searchFresh(t, e.base, "quillon", m["min_offset"].(string)); stale || len(ids) != 1 {
		t.Fatalf("search after POST: %v, stale %v", ids, stale)
	}
	if code, _, m := doAs(t, e.keys.other, "DELETE", e.base+"/api/v1/seller/products/"+id, ""); code != 403 {
		t.Fatalf("DELETE by another seller: %d %v", code, m)
	}
	if code, _, m := doAs(t, "", "DELETE", e.base+"/api/v1/seller/products/"+id, ""); code != 401 {
		t.Fatalf("DELETE without a key: %d %v", code, m)
	}
	code, _, m = doAs(t, e.keys.seller, "DELETE", e.base+"/api/v1/seller/products/"+id, "")
	if code != 200 || m["deleted"] != true || m["version"] != 2.0 {
		t.Fatalf("DELETE: %d %v", code, m)
	}
	if ids, stale := searchFresh(t, e.base, "quillon", m["min_offset"].(string)); stale || len(ids) != 0 {
		t.Fatalf("search after DELETE: %v, stale %v", ids, stale)
	}
	if code, _, _ := do(t, "GET", e.base+"/api/v1/products/"+id, ""); code != 404 {
		t.Errorf("product page after DELETE: %d", code)
	}
	if _, deletedV, exists := e.c.ContentVersion(id); exists || deletedV != 2 {
		t.Errorf("ingest state after DELETE: exists %v, tombstone version %d", exists, deletedV)
	}
	for _, tc := range []struct{ method, id string }{{"DELETE", id}, {"PUT", id}, {"DELETE", "nope"}} {
		body := ""
		if tc.method == "PUT" {
			body = kettle
		}
		if code, _, m := doAs(t, e.keys.seller, tc.method, e.base+"/api/v1/seller/products/"+tc.id, body); code != 404 {
			t.Errorf("%s %s after the delete: %d %v", tc.method, tc.id, code, m)
		}
	}
	if code, _, m := doAs(t, e.keys.seller, "DELETE", e.base+"/api/v1/seller/products", ""); code != 405 {
		t.Errorf("DELETE of the collection: %d %v", code, m)
	}
}

// FuzzDecodeProduct: the body decoder never panics, and what it accepts
// is a valid product with the given id.
func FuzzDecodeProduct(f *testing.F) {
	f.Add([]byte(kettle))
	f.Add([]byte(`{"title":"x","variants":[{"price_cents":1}]}`))
	f.Add([]byte(`{"title":"x","variants":[{"price_cents":-1,"stock":[{"warehouse_id":"","available":1}]}]}`))
	f.Add([]byte(`{"title":"\xff","category_path":[""],"variants":[]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeProduct(body, "s-1", "USD")
		if err != nil {
			if p != nil {
				t.Fatal("a product with an error")
			}
			return
		}
		if p.ID != "s-1" || p.Validate() != nil {
			t.Fatalf("accepted an invalid product: %+v", p)
		}
	})
}
