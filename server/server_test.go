package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/search"
)

// testProducts is a small store: a few headphones and speakers.
func testProducts() []*catalog.Product {
	usd := func(n int64) catalog.Money { return catalog.Money{Amount: n, Currency: "USD"} }
	mk := func(id, title, brand string, price, was int64, stock int, rating float64) *catalog.Product {
		return &catalog.Product{
			ID: id, Title: title, Brand: brand,
			Category:   []string{"Electronics", "Audio & Video", "Headphones"},
			Attributes: map[string]string{"color": "black"},
			Variants: []catalog.Variant{{
				ID: id + "-v1", SKU: "SKU-" + id, Price: usd(price), CompareAt: usd(was),
				Attributes: map[string]string{"color": "black"},
				Stock:      map[string]int{"w1": stock},
			}},
			SellerID: "seller-1", SellerQuality: 0.9,
			Thumbnail: "https://img.example/" + id + ".jpg",
			Rating:    catalog.Rating{Avg: rating, Count: 12},
			Badges:    []string{"bestseller"},
			CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		}
	}
	return []*catalog.Product{
		mk("p1", "Sony WH-1000XM5 Wireless Headphones", "Sony", 34999, 39999, 20, 4.7),
		mk("p2", "Bose QuietComfort Headphones", "Bose", 29900, 0, 3, 4.5),
		mk("p3", "Sony SRS-XB13 Speaker \"mini\"", "Sony", 4999, 0, 0, 4.1),
		mk("p4", "JBL Tune 510BT Headphones", "JBL", 3995, 4995, 100, 4.3),
		mk("p5", "Anker Soundcore Speaker", "Anker", 2599, 0, 7, 4.4),
	}
}

func newTestEngine(t testing.TB) *search.Engine {
	t.Helper()
	eng, err := search.New(search.Options{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Upsert(testProducts()...); err != nil {
		t.Fatal(err)
	}
	return eng
}

// startServer serves over a real engine on a loopback port and returns
// the switches of its services that come and go, and the base URL. It is
// not ready until the test says so.
func startServer(t *testing.T) (*live, string) {
	t.Helper()
	l := &live{}
	s := New(l.wire(testSvc(newTestEngine(t))), Options{Logf: checkedLogf(t)})
	return l, serveOver(t, s)
}

// live is a test's switchboard of the services that come and go while a
// server serves, as package app keeps them: what the funcs of Services
// return. Its setters stand in for the app swapping a generation or
// finishing a recommendations build.
type live struct {
	ready atomic.Bool
	mu    sync.Mutex
	recs  Recommender
	sim   SimilarItems
	cat   Catalog
	feed  Feed
}

// wire returns svc answering from l.
func (l *live) wire(svc Services) Services {
	svc.Ready = l.ready.Load
	svc.Recs = func() Recommender { l.mu.Lock(); defer l.mu.Unlock(); return l.recs }
	svc.Similar = func() SimilarItems { l.mu.Lock(); defer l.mu.Unlock(); return l.sim }
	svc.Ingest = func() (Catalog, Feed) { l.mu.Lock(); defer l.mu.Unlock(); return l.cat, l.feed }
	return svc
}

func (l *live) SetReady(r bool)             { l.ready.Store(r) }
func (l *live) SetRecs(r Recommender)       { l.mu.Lock(); l.recs = r; l.mu.Unlock() }
func (l *live) SetSimilar(s SimilarItems)   { l.mu.Lock(); l.sim = s; l.mu.Unlock() }
func (l *live) SetIngest(c Catalog, f Feed) { l.mu.Lock(); l.cat, l.feed = c, f; l.mu.Unlock() }

// serveOver serves s on a loopback port until the test ends and returns
// the base URL.
func serveOver(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		// Longer than the server's ReadTimeout (10 s): a client's
		// connection dialled but never used (net/http's transport
		// dials ahead under load) is not idle to fasthttp, so Shutdown
		// waits until that timeout closes it.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, method, u string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

type searchResponse struct {
	Results []struct {
		ProductID string `json:"product_id"`
		Title     string `json:"title"`
		Brand     string `json:"brand"`
		Price     struct {
			Amount   float64  `json:"amount"`
			Currency string   `json:"currency"`
			Was      *float64 `json:"was"`
		} `json:"price"`
		Rating struct {
			Avg   float64 `json:"avg"`
			Count int     `json:"count"`
		} `json:"rating"`
		ThumbnailURL string   `json:"thumbnail_url"`
		Badges       []string `json:"badges"`
		InStock      bool     `json:"in_stock"`
		Sponsored    bool     `json:"sponsored"`
		Partial      bool     `json:"partial"`
		Category     string   `json:"category"`
	} `json:"results"`
	Facets            *json.RawMessage  `json:"facets"`
	FacetsExact       *bool             `json:"facets_exact"`
	Total             *int              `json:"total"`
	Page              int               `json:"page"`
	PageSize          int               `json:"page_size"`
	TookMs            *float64          `json:"took_ms"`
	Relaxed           *bool             `json:"relaxed"`
	ExactTotal        *int              `json:"exact_total"`
	FilterRelaxations []json.RawMessage `json:"filter_relaxations"`
}

func TestSearch(t *testing.T) {
	_, base := startServer(t)
	code, hdr, body := get(t, "GET", base+"/api/v1/products/search?q=Headphones&page_size=10")
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var r searchResponse
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	if r.Total == nil || r.TookMs == nil || r.Relaxed == nil || r.FilterRelaxations == nil || r.FacetsExact == nil || !*r.FacetsExact {
		t.Errorf("missing total, took_ms, relaxed or filter_relaxations: %s", body)
	}
	if r.Page != 1 || r.PageSize != 10 {
		t.Errorf("page %d page_size %d, want 1 and 10", r.Page, r.PageSize)
	}
	if r.Facets == nil {
		t.Errorf("facets missing though they are on by default: %s", body)
	}
	found := false
	for _, h := range r.Results {
		if h.ProductID == "p1" {
			found = true
			if h.Price.Amount != 349.99 || h.Price.Currency != "USD" || h.Price.Was == nil || *h.Price.Was != 399.99 {
				t.Errorf("p1 price %+v, want 349.99 USD was 399.99", h.Price)
			}
			if h.Category != "electronics/audio-video/headphones" {
				t.Errorf("p1 category %q", h.Category)
			}
			if !h.InStock || h.Brand != "Sony" || h.Rating.Avg != 4.7 || len(h.Badges) != 1 {
				t.Errorf("p1 hit %+v", h)
			}
		}
		if h.ProductID == "p2" && h.Price.Was != nil {
			t.Errorf("p2 has was %v though it has no compare-at price", *h.Price.Was)
		}
	}
	if !found {
		t.Errorf("p1 (title contains the query) not in results: %s", body)
	}

	code, _, body = get(t, "GET", base+"/api/v1/products/search?q=speaker&facets=false&page=1&page_size=1")
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	r = searchResponse{}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if r.Facets != nil {
		t.Errorf("facets=false gave facets %s", *r.Facets)
	}
	if len(r.Results) > 1 || r.PageSize != 1 {
		t.Errorf("page_size=1 gave %d results, page_size %d", len(r.Results), r.PageSize)
	}
}

func TestProductPage(t *testing.T) {
	_, base := startServer(t)
	code, _, body := get(t, "GET", base+"/api/v1/products/p2")
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var p struct {
		ProductID    string   `json:"product_id"`
		CategoryPath []string `json:"category_path"`
		CategorySlug string   `json:"category_slug"`
		StockStatus  string   `json:"stock_status"`
		Variants     []struct {
			VariantID    string         `json:"variant_id"`
			SKU          string         `json:"sku"`
			Price        map[string]any `json:"price"`
			StockStatus  string         `json:"stock_status"`
			QuantityHint string         `json:"quantity_hint"`
		} `json:"variants"`
		Seller struct {
			ID      string  `json:"id"`
			Quality float64 `json:"quality"`
		} `json:"seller"`
		ReviewsSummary struct {
			Avg   float64 `json:"avg"`
			Count int     `json:"count"`
		} `json:"reviews_summary"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	if p.ProductID != "p2" || strings.Join(p.CategoryPath, ">") != "Electronics>Audio & Video>Headphones" ||
		p.CategorySlug != "electronics/audio-video/headphones" || p.Seller.ID != "seller-1" ||
		p.ReviewsSummary.Count != 12 || p.StockStatus != StatusLowStock {
		t.Errorf("product page %s", body)
	}
	if len(p.Variants) != 1 || p.Variants[0].VariantID != "p2-v1" || p.Variants[0].StockStatus != StatusLowStock ||
		p.Variants[0].QuantityHint != "only 3 left" || p.Variants[0].Price["amount"] != 299.0 {
		t.Errorf("variants %+v", p.Variants)
	}
	if _, ok := p.Variants[0].Price["was"]; ok {
		t.Errorf("variant without compare-at price has was: %v", p.Variants[0].Price)
	}

	code, _, body = get(t, "GET", base+"/api/v1/products/p3")
	if code != 200 || !strings.Contains(string(body), `"stock_status":"OUT_OF_STOCK"`) {
		t.Errorf("p3: %d %s", code, body)
	}
	code, _, body = get(t, "GET", base+"/api/v1/products/nope")
	if code != 404 || !strings.Contains(string(body), `"code":"not_found"`) {
		t.Errorf("unknown product: %d %s", code, body)
	}
}

func TestRoutingAndHealth(t *testing.T) {
	s, base := startServer(t)
	for _, c := range []struct {
		method, path string
		code         int
		errCode      string
	}{
		{"GET", "/healthz", 503, CodeNotReady},
		{"GET", "/nope", 404, CodeNotFound},
		{"GET", "/api/v1/products/", 404, CodeNotFound},
		{"POST", "/api/v1/products/search?q=x", 405, CodeMethodNotAllowed},
		{"DELETE", "/api/v1/products/p1", 405, CodeMethodNotAllowed},
		{"GET", "/api/v1/products/search?q=x&qq=1", 400, CodeUnknownParameter},
	} {
		code, hdr, body := get(t, c.method, base+c.path)
		var e errorBody
		if err := json.Unmarshal(body, &e); err != nil || code != c.code || e.Error.Code != c.errCode {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, code, body, c.code, c.errCode)
		}
		if code == 405 && hdr.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", c.method, c.path)
		}
	}
	s.SetReady(true)
	if code, _, body := get(t, "GET", base+"/healthz"); code != 200 {
		t.Errorf("healthz after SetReady: %d %s", code, body)
	}
	code, hdr, body := get(t, "GET", base+"/metrics")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %s", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{
		`aisle_http_requests_total{endpoint="search",code="4xx"} 2`,
		`aisle_http_requests_total{endpoint="healthz",code="5xx"} 1`,
		`aisle_http_request_duration_seconds_bucket{endpoint="other",le="+Inf"} 2`,
		`aisle_http_request_duration_seconds_bucket{endpoint="search",le="0.0001"}`,
		`aisle_index_docs{shard="0"} 5`,
		`aisle_index_terms{shard="0"} `,
		"aisle_ready 1",
		`aisle_cache_lookups_total{cache="response",result="miss"}`,
		`aisle_cache_capacity_bytes{cache="response"} 33554432`,
		`aisle_cache_bytes{cache="filter"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

type panicEngine struct{ Engine }

func (panicEngine) Search(context.Context, *search.Request) (*search.Result, error) {
	panic("boom")
}

func TestPanicIs500(t *testing.T) {
	s := New(testSvc(panicEngine{newTestEngine(t)}), Options{})
	ctx := newCtx("/api/v1/products/search?q=x")
	s.Handler()(ctx)
	if ctx.Response.StatusCode() != 500 || !strings.Contains(string(ctx.Response.Body()), `"code":"internal"`) {
		t.Errorf("panic gave %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if s.metrics.panics.Get() != 1 {
		t.Errorf("panics counter %d, want 1", s.metrics.panics.Get())
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("zero Options: %v", err)
	}
	err := Options{ReadTimeout: -1, Concurrency: -2, Currency: "XXX"}.Validate()
	if err == nil {
		t.Fatal("bad Options validated")
	}
	for _, want := range []string{"ReadTimeout", "Concurrency", "XXX"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	s := New(testSvc(newTestEngine(t)), Options{Currency: "XXX"})
	if err := s.Serve(nil); err == nil {
		t.Error("Serve with invalid options returned nil")
	}
}

func TestQueryEscaping(t *testing.T) {
	_, base := startServer(t)
	code, _, body := get(t, "GET", base+"/api/v1/products/search?q="+url.QueryEscape(`"mini"`))
	if code != 200 || !json.Valid(body) || !strings.Contains(string(body), `Speaker \"mini\"`) {
		t.Errorf("%d %s", code, body)
	}
}

// testSvc returns the Services of a test over eng: the engine is also the
// Suggester, the VariantFinder and the CacheReporter when it is a
// *search.Engine; always
// ready, no other service.
func testSvc(eng Engine) Services {
	svc := Services{Engine: eng}
	if e, ok := eng.(*search.Engine); ok {
		svc.Suggester, svc.Variants, svc.Caches = e, e, e
	}
	return svc
}

// withIngest returns svc writing to cat, with no consumer.
func withIngest(svc Services, cat Catalog) Services {
	svc.Ingest = func() (Catalog, Feed) { return cat, nil }
	return svc
}
