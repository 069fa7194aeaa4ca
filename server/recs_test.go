package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/recs"
)

// testRecs builds lists over the test products: p1 sells with p4 (often),
// p3 (out of stock) and p2; p2 with p5.
func testRecs(t testing.TB) *recs.Lists {
	t.Helper()
	o := recs.Orders{Items: []string{"p1", "p2", "p3", "p4", "p5", "gone"}}
	add := func(n int, b ...int32) {
		for range n {
			o.Baskets = append(o.Baskets, b)
		}
	}
	add(30, 0, 3)
	add(20, 0, 2)
	add(10, 0, 1)
	add(10, 0, 3, 5)
	add(30, 1, 4)
	add(15, 0, 3, 4)
	l, err := recs.Build(context.Background(), o, recs.Options{BundleMinLift: 1.01})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type recsResponse struct {
	ProductID string `json:"product_id"`
	Items     []struct {
		ProductID   string  `json:"product_id"`
		Title       string  `json:"title"`
		Score       float64 `json:"score"`
		CoPurchases int     `json:"co_purchases"`
		Reason      string  `json:"reason"`
		Price       struct {
			Amount   float64 `json:"amount"`
			Currency string  `json:"currency"`
		} `json:"price"`
	} `json:"items"`
	Bundles []struct {
		ProductIDs []string `json:"product_ids"`
		Price      struct {
			Amount float64 `json:"amount"`
		} `json:"price"`
		Orders     int     `json:"orders"`
		Confidence float64 `json:"confidence"`
		Lift       float64 `json:"lift"`
	} `json:"bundles"`
}

func TestRecsEndpoints(t *testing.T) {
	s, base := startServer(t)
	code, _, body := get(t, "GET", base+"/api/v1/products/p1/also-bought")
	if code != 503 || !strings.Contains(string(body), CodeNotReady) {
		t.Errorf("before SetRecs: %d %s, want 503 not_ready", code, body)
	}
	s.SetRecs(testRecs(t))

	for _, path := range []string{"/api/v1/products/p1/also-bought", "/api/v1/recs/also-bought/p1"} {
		code, _, body = get(t, "GET", base+path)
		var r recsResponse
		if err := json.Unmarshal(body, &r); err != nil || code != 200 {
			t.Fatalf("%s: %d %s (%v)", path, code, body, err)
		}
		var ids []string
		for _, it := range r.Items {
			ids = append(ids, it.ProductID)
			if it.Title == "" || it.CoPurchases < 2 || it.Price.Currency != "USD" || !strings.Contains(it.Reason, "Sony WH-1000XM5") {
				t.Errorf("%s: item %+v", path, it)
			}
		}
		// p3 is out of stock and "gone" is not in the engine.
		if strings.Join(ids, ",") != "p4,p2,p5" && strings.Join(ids, ",") != "p4,p5,p2" {
			t.Errorf("%s: items %v, want p4 first then p2 and p5, no p3 or gone", path, ids)
		}
	}
	code, _, body = get(t, "GET", base+"/api/v1/products/p1/also-bought?limit=1")
	var r recsResponse
	if json.Unmarshal(body, &r); code != 200 || len(r.Items) != 1 {
		t.Errorf("limit=1: %d %s", code, body)
	}

	code, _, body = get(t, "GET", base+"/api/v1/products/p1/bought-together")
	r = recsResponse{}
	if err := json.Unmarshal(body, &r); err != nil || code != 200 || len(r.Bundles) == 0 {
		t.Fatalf("bought-together: %d %s (%v)", code, body, err)
	}
	if len(r.Items) < 2 || r.Items[0].ProductID != "p1" {
		t.Errorf("bought-together items %+v: want the first bundle, p1 first", r.Items)
	}
	for _, b := range r.Bundles {
		if b.ProductIDs[0] != "p1" || b.Price.Amount <= 0 || b.Orders < 2 || b.Lift < 1.01 {
			t.Errorf("bundle %+v", b)
		}
		for _, id := range b.ProductIDs {
			if id == "p3" {
				t.Errorf("bundle %v holds p3, out of stock", b.ProductIDs)
			}
		}
	}

	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/api/v1/products/p1/also-bought?limit=0", 400, CodeInvalidParameter},
		{"/api/v1/products/p1/also-bought?limit=x", 400, CodeInvalidParameter},
		{"/api/v1/products/p1/also-bought?limit=51", 400, CodeInvalidParameter},
		{"/api/v1/products/p1/also-bought?limit=2&limit=3", 400, CodeInvalidParameter},
		{"/api/v1/products/p1/bought-together?limit=11", 400, CodeInvalidParameter},
		{"/api/v1/products/p1/also-bought?q=1", 400, CodeUnknownParameter},
		{"/api/v1/products/nope/also-bought", 404, CodeNotFound},
		{"/api/v1/recs/bought-together/nope", 404, CodeNotFound},
		{"/api/v1/recs/frobnicate/p1", 404, CodeNotFound},
		{"/api/v1/products/p3/also-bought", 200, `"items":[`},
		{"/api/v1/products/p1", 200, `"product_id":"p1"`},
	} {
		code, _, body := get(t, "GET", base+c.path)
		if code != c.code || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want %d with %s", c.path, code, body, c.code, c.want)
		}
	}
}

// BenchmarkRecsHandler runs the recommendation handlers end to end (route,
// parse, lookups through the engine, JSON) over the test store.
func BenchmarkRecsHandler(b *testing.B) {
	l := testRecs(b)
	for _, bc := range []struct{ name, uri string }{
		{"also-bought", "/api/v1/products/p1/also-bought?limit=10"},
		{"bought-together", "/api/v1/products/p1/bought-together"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			svc := testSvc(newTestEngine(b))
			svc.Recs = func() Recommender { return l }
			s := New(svc, Options{})
			h := s.Handler()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := newCtx(bc.uri)
				for pb.Next() {
					ctx.Response.Reset()
					h(ctx)
					if ctx.Response.StatusCode() != 200 {
						b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
					}
				}
			})
		})
	}
}

// TestProductRelated: the product page lists the in-stock products bought
// with it once the recommendations are loaded, and none before.
func TestProductRelated(t *testing.T) {
	s, base := startServer(t)
	related := func() []string {
		t.Helper()
		code, _, body := get(t, "GET", base+"/api/v1/products/p1")
		var pg struct {
			Related []struct {
				ProductID string `json:"product_id"`
				Title     string `json:"title"`
				Reason    string `json:"reason"`
			} `json:"related_products"`
		}
		if err := json.Unmarshal(body, &pg); err != nil || code != 200 || pg.Related == nil {
			t.Fatalf("product page: %d %s (%v)", code, body, err)
		}
		var ids []string
		for _, r := range pg.Related {
			if r.Title == "" || r.Reason == "" {
				t.Errorf("related item %+v lacks a title or reason", r)
			}
			ids = append(ids, r.ProductID)
		}
		return ids
	}
	if ids := related(); len(ids) != 0 {
		t.Errorf("related before SetRecs: %v", ids)
	}
	s.SetRecs(testRecs(t))
	if ids := related(); len(ids) == 0 || ids[0] != "p4" || strings.Contains(strings.Join(ids, ","), "p3") {
		t.Errorf("related = %v, want p4 first and no out-of-stock p3", ids)
	}
}

// reasonRecs answers every product with p2 as a fallback item and bundle,
// as recs.Recs does for a product without orders.
type reasonRecs struct{}

func (reasonRecs) AlsoBought(dst []recs.Item, id string, limit int, ps recs.Products) []recs.Item {
	p, _ := ps.Product("p2")
	return append(dst, recs.Item{Product: p, Score: 0.5, Reason: "best seller in Headphones"})
}

func (reasonRecs) BoughtTogether(dst []recs.Bundle, id string, limit int, ps recs.Products) []recs.Bundle {
	a, _ := ps.Product(id)
	p, _ := ps.Product("p2")
	return append(dst, recs.Bundle{Products: []*catalog.Product{a, p}, Reason: recs.ReasonSimilarBought})
}

// TestRecsFallbackReasons: a fallback's reason reaches the JSON in place
// of "bought with X in N orders" and "often bought together".
func TestRecsFallbackReasons(t *testing.T) {
	s, base := startServer(t)
	s.SetRecs(reasonRecs{})
	_, _, body := get(t, "GET", base+"/api/v1/products/p1/also-bought")
	var r recsResponse
	if err := json.Unmarshal(body, &r); err != nil || len(r.Items) != 1 || r.Items[0].Reason != "best seller in Headphones" {
		t.Errorf("also-bought: %s (%v)", body, err)
	}
	_, _, body = get(t, "GET", base+"/api/v1/products/p1/bought-together")
	if !strings.Contains(string(body), `"reason":"`+recs.ReasonSimilarBought+`"`) {
		t.Errorf("bought-together: %s", body)
	}
}
