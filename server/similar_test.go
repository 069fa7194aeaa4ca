package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aisle/aisle/recs"
)

// testSimilar embeds the orders of testRecs.
func testSimilar(t testing.TB) *recs.Embeddings {
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
	add(10, 2, 4)
	e, _, err := recs.Embed(context.Background(), o, recs.EmbedOptions{Dim: 4, MinOrders: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSimilarEndpoint(t *testing.T) {
	s, base := startServer(t)
	s.SetRecs(testRecs(t))
	for _, path := range []string{"/api/v1/products/p1/similar", "/api/v1/recs/similar/p1"} {
		code, _, body := get(t, "GET", base+path)
		if code != 503 || !strings.Contains(string(body), CodeNotReady) {
			t.Errorf("%s before SetSimilar: %d %s, want 503 not_ready", path, code, body)
		}
	}
	s.SetSimilar(testSimilar(t))
	// SetRecs again keeps the similar items, and the other way round.
	s.SetRecs(testRecs(t))
	for _, path := range []string{"/api/v1/products/p1/similar", "/api/v1/recs/similar/p1?limit=50"} {
		code, _, body := get(t, "GET", base+path)
		var r recsResponse
		if err := json.Unmarshal(body, &r); err != nil || code != 200 || r.ProductID != "p1" {
			t.Fatalf("%s: %d %s (%v)", path, code, body, err)
		}
		if len(r.Items) == 0 {
			t.Fatalf("%s: no items: %s", path, body)
		}
		for _, it := range r.Items {
			if it.ProductID == "p1" || it.ProductID == "p3" || it.ProductID == "gone" {
				t.Errorf("%s lists %s (itself, out of stock or not in the engine)", path, it.ProductID)
			}
			if it.Title == "" || it.Price.Currency != "USD" || !strings.Contains(it.Reason, "Sony WH-1000XM5") {
				t.Errorf("%s: item %+v", path, it)
			}
		}
	}
	code, _, body := get(t, "GET", base+"/api/v1/products/p1/also-bought")
	if code != 200 {
		t.Errorf("also-bought after SetSimilar: %d %s", code, body)
	}
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/api/v1/products/p1/similar?limit=51", 400, CodeInvalidParameter},
		{"/api/v1/products/p1/similar?k=1", 400, CodeUnknownParameter},
		{"/api/v1/products/nope/similar", 404, CodeNotFound},
		{"/api/v1/recs/similar/nope", 404, CodeNotFound},
		{"/api/v1/products/p1/similar?limit=1", 200, `"items":[{`},
	} {
		code, _, body := get(t, "GET", base+c.path)
		if code != c.code || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want %d with %s", c.path, code, body, c.code, c.want)
		}
	}
}
