package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/ingest"
)

// bulkBody returns a bulk import of n products whose titles carry word.
func bulkBody(n int, word string) string {
	var b strings.Builder
	b.WriteString(`{"products":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"title":"%s bulk item %d","description":"%s","variants":[{"price_cents":%d,"stock":[{"warehouse_id":"w","available":3}]}]}`,
			word, i, strings.Repeat("lorem ipsum ", 20), 100+i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// waitBulk polls a job's status URL until it is done.
func waitBulk(t *testing.T, base, key, url string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, _, m := doAs(t, key, "GET", base+url, "")
		if code != 200 {
			t.Fatalf("GET %s: %d %v", url, code, m)
		}
		if m["state"] == "done" {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("bulk job not done within 60 s: %v", m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBulkImport: 10,000 products in one request (a body far past the
// single-write cap), published in the background, owned by the key's
// seller; the status URL is the seller's alone.
func TestBulkImport(t *testing.T) {
	k := newTestKeys(t)
	cat := &countCatalog{}
	s := New(withIngest(testSvc(newTestEngine(t)), cat), Options{Keys: k.store})
	base := serveOver(t, s)
	body := bulkBody(10_000, "zephyr")
	if len(body) < 2<<20 {
		t.Fatalf("the body is only %d bytes", len(body))
	}
	code, h, m := doAs(t, k.seller, "POST", base+bulkPath, body)
	if code != 202 || h.Get("Location") == "" || m["total"] != 10000.0 {
		t.Fatalf("POST bulk: %d %v", code, m)
	}
	url := m["status_url"].(string)
	if code, _, _ := doAs(t, k.other, "GET", base+url, ""); code != 404 {
		t.Errorf("another seller's job: %d; want 404", code)
	}
	if code, _, _ := doAs(t, "", "GET", base+url, ""); code != 401 {
		t.Errorf("a job without a key: %d; want 401", code)
	}
	m = waitBulk(t, base, k.seller, url)
	if m["published"] != 10000.0 || m["failed"] != 0.0 || cat.n.Load() != 10000 || cat.badSeller.Load() != 0 {
		t.Fatalf("job: published %v failed %v; catalog saw %d, %d without the seller", m["published"], m["failed"], cat.n.Load(), cat.badSeller.Load())
	}
	ids := m["product_ids"].([]any)
	if owner, _ := s.ownerOf(ids[0].(string)); owner != "sel-a" {
		t.Errorf("a bulk product's owner is %q", owner)
	}
	// The large body is for a seller's key only: without one the
	// single-write cap applies before the handler.
	req, _ := http.NewRequest("POST", base+bulkPath, strings.NewReader(body))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		if resp.StatusCode != 400 && resp.StatusCode != 413 {
			t.Errorf("a large bulk body without a key: %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
}

func TestBulkBadRequests(t *testing.T) {
	k := newTestKeys(t)
	cat := &countCatalog{block: make(chan struct{})}
	s := New(withIngest(testSvc(newTestEngine(t)), cat), Options{Keys: k.store, MaxBulkProducts: 5})
	base := serveOver(t, s)
	for _, c := range []struct{ name, body, param string }{
		{"second invalid", `{"products":[{"title":"a","variants":[{"price_cents":1}]},{"title":" ","variants":[{"price_cents":1}]}]}`, "products[1].title"},
		{"other seller", `{"products":[{"title":"a","seller_id":"sel-b","variants":[{"price_cents":1}]}]}`, "products[0].seller_id"},
		{"too many", bulkBody(6, "x"), "products"},
		{"empty", `{"products":[]}`, "products"},
		{"unknown field", `{"items":[]}`, "items"},
	} {
		code, _, m := doAs(t, k.seller, "POST", base+bulkPath, c.body)
		e, _ := m["error"].(map[string]any)
		if code != 400 || e["param"] != c.param {
			t.Errorf("%s: %d %v; want 400 naming %s", c.name, code, m, c.param)
		}
	}
	if cat.n.Load() != 0 {
		t.Fatalf("refused bulk bodies published %d products", cat.n.Load())
	}
	// One job at a time per seller.
	code, _, m := doAs(t, k.seller, "POST", base+bulkPath, bulkBody(2, "y"))
	if code != 202 {
		t.Fatalf("first job: %d %v", code, m)
	}
	if code, h, _ := doAs(t, k.seller, "POST", base+bulkPath, bulkBody(2, "y")); code != 429 || h.Get("Retry-After") == "" {
		t.Errorf("a second job while one runs: %d", code)
	}
	if code, _, _ := doAs(t, k.other, "POST", base+bulkPath, bulkBody(2, "y")); code != 202 {
		t.Errorf("another seller's job: %d", code)
	}
	close(cat.block)
	waitBulk(t, base, k.seller, m["status_url"].(string))
	for _, c := range []struct{ method, path string }{{"GET", bulkPath}, {"POST", bulkPath + "/job-x"}} {
		if code, _, _ := doAs(t, k.seller, c.method, base+c.path, "{}"); code != 405 {
			t.Errorf("%s %s: %d; want 405", c.method, c.path, code)
		}
	}
	if code, _, _ := doAs(t, k.seller, "GET", base+bulkPath+"/job-nope", ""); code != 404 {
		t.Errorf("unknown job: %d", code)
	}
}

// countCatalog counts publishes; with block set, each waits for it to
// close.
type countCatalog struct {
	n, badSeller atomic.Int64
	block        chan struct{}
}

func (c *countCatalog) PublishProduct(ctx context.Context, p *catalog.Product, _ bool) (ingest.Written, error) {
	if c.block != nil {
		<-c.block
	}
	c.n.Add(1)
	if p.SellerID == "" {
		c.badSeller.Add(1)
	}
	return ingest.Written{Topic: "catalog.products", Offset: c.n.Load(), Version: 1}, nil
}

func (c *countCatalog) CreateProducts(ctx context.Context, ps []*catalog.Product) ([]ingest.Written, []error) {
	ws, errs := make([]ingest.Written, len(ps)), make([]error, len(ps))
	for i, p := range ps {
		ws[i], errs[i] = c.PublishProduct(ctx, p, true)
	}
	return ws, errs
}

func (c *countCatalog) DeleteProduct(context.Context, string, string) (ingest.Written, error) {
	return ingest.Written{}, ingest.ErrUnknownProduct
}

func (c *countCatalog) PublishStock(context.Context, string, string, string, func(int) (int, error)) (ingest.Written, int, error) {
	return ingest.Written{}, 0, ingest.ErrUnknownProduct
}

// TestBulkImportKafka: a bulk job over the real write path becomes
// searchable.
func TestBulkImportKafka(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded broker")
	}
	e := startWriteEnv(t)
	code, _, m := doAs(t, e.keys.seller, "POST", e.base+bulkPath, bulkBody(300, "xylograph"))
	if code != 202 {
		t.Fatalf("POST bulk: %d %v", code, m)
	}
	m = waitBulk(t, e.base, e.keys.seller, m["status_url"].(string))
	if m["published"] != 300.0 {
		t.Fatalf("job: %v", m)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, _, r := do(t, "GET", e.base+"/api/v1/products/search?facets=false&q=xylograph", "")
		if r["total"] == 300.0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the job the search finds %v of 300", r["total"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FuzzBulkBody: a bulk body through the handler never panics; it answers
// 202 or a 400 with a JSON error, and a 400 publishes nothing.
func FuzzBulkBody(f *testing.F) {
	f.Add([]byte(bulkBody(2, "a")))
	f.Add([]byte(`{"products":[{"title":" ","variants":[{"price_cents":1}]}]}`))
	f.Add([]byte(`{"products":[[[[[[]]]]]]}`))
	f.Add([]byte(`{"products":null}`))
	k := newTestKeys(f)
	cat := &countCatalog{}
	s := New(withIngest(testSvc(newTestEngine(f)), cat), Options{Keys: k.store, SellerWritesPerMinute: -1, MaxBulkProducts: 50})
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI(bulkPath)
		ctx.Request.Header.Set("Authorization", "Bearer "+k.seller)
		ctx.Request.SetBody(body)
		before := cat.n.Load()
		h(&ctx)
		switch code := ctx.Response.StatusCode(); code {
		case 202:
			for s.bulkRunning("sel-a") { // each input on its own
				time.Sleep(time.Millisecond)
			}
		case 400:
			if !bytes.HasPrefix(ctx.Response.Body(), []byte(`{"error":`)) {
				t.Fatalf("400 without a JSON error: %s", ctx.Response.Body())
			}
			if cat.n.Load() != before {
				t.Fatal("a refused body published")
			}
		default:
			t.Fatalf("status %d: %s", code, ctx.Response.Body())
		}
	})
}

// FuzzInventoryBody: the inventory decoder never panics and refuses with
// a bodyError.
func FuzzInventoryBody(f *testing.F) {
	f.Add([]byte(`{"product_id":"p","warehouse_id":"w","quantity_delta":1,"operation":"RESERVE"}`))
	f.Add([]byte(`{"product_id":"p","warehouse_id":"w","available":3}`))
	f.Add([]byte(`{"available":-1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if err := checkJSONShape(body, 16, 1000); err != nil {
			return
		}
		var b inventoryBody
		if err := decodeStrict(body, &b); err != nil {
			if _, ok := err.(*bodyError); !ok {
				t.Fatalf("not a bodyError: %T %v", err, err)
			}
			return
		}
		change, err := b.stockChange()
		if err != nil {
			if _, ok := err.(*bodyError); !ok {
				t.Fatalf("not a bodyError: %T %v", err, err)
			}
			return
		}
		if n, err := change(5); err == nil && n < 0 {
			t.Fatalf("stock %d from 5", n)
		}
	})
}
