package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/recs"
)

type homeResponse struct {
	UserID *string `json:"user_id"`
	Rows   []struct {
		Kind  string `json:"kind"`
		Title string `json:"title"`
		Items []struct {
			ProductID string `json:"product_id"`
			Title     string `json:"title"`
			Image     string `json:"image"`
			Price     struct {
				Amount   float64 `json:"amount"`
				Currency string  `json:"currency"`
			} `json:"price"`
			Rating struct {
				Avg   float64 `json:"avg"`
				Count int     `json:"count"`
			} `json:"rating"`
			InStock bool   `json:"in_stock"`
			Reason  string `json:"reason"`
		} `json:"items"`
	} `json:"rows"`
}

func getWithToken(t *testing.T, u, auth string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
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
	return resp.StatusCode, body
}

func TestHomeEndpoint(t *testing.T) {
	tk, err := auth.NewTokens([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	bare := serveOver(t, New(testSvc(newTestEngine(t)), Options{Tokens: tk, Logf: checkedLogf(t)}))
	if code, body := getWithToken(t, bare+"/api/v1/recs/home", ""); code != 503 {
		t.Errorf("without a home: %d %s, want 503", code, body)
	}
	h, err := recs.NewHome(recs.HomeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.SetLists(testRecs(t))
	svc := testSvc(newTestEngine(t))
	svc.Home = h
	base := serveOver(t, New(svc, Options{Tokens: tk, Logf: checkedLogf(t)}))
	u := base + "/api/v1/recs/home"
	// u1 bought p1 and the staple p5 twice; u2 has no orders.
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, ps := range [][]string{{"p1", "p5"}, {"p5"}} {
		e := catalog.OrderEvent{Schema: catalog.SchemaVersion, OrderID: "o" + string(rune('0'+i)), UserID: "u1", PlacedAt: t0.Add(time.Duration(i) * time.Hour)}
		for _, p := range ps {
			e.Lines = append(e.Lines, catalog.OrderLine{ProductID: p, Quantity: 1})
		}
		h.Observe(e)
	}
	tok1, _ := tk.Sign("u1", time.Hour)
	tok2, _ := tk.Sign("u2", time.Hour)

	decode := func(who string, code int, body []byte) homeResponse {
		t.Helper()
		var r homeResponse
		if err := json.Unmarshal(body, &r); err != nil || code != 200 {
			t.Fatalf("%s: %d %s (%v)", who, code, body, err)
		}
		return r
	}
	kinds := func(r homeResponse) string {
		var k []string
		for _, row := range r.Rows {
			k = append(k, row.Kind)
			for _, it := range row.Items {
				if it.ProductID == "p3" || it.ProductID == "gone" || !it.InStock || it.Title == "" || it.Price.Currency != "USD" || it.Reason == "" {
					t.Errorf("row %s: item %+v (p3 is out of stock, gone deleted)", row.Kind, it)
				}
			}
		}
		return strings.Join(k, ",")
	}

	code, body := getWithToken(t, u, "")
	guest := decode("guest", code, body)
	if guest.UserID != nil || kinds(guest) != "popular" || len(guest.Rows[0].Items) == 0 {
		t.Errorf("guest: %s, want user_id null and the popular row only", body)
	}
	if guest.Rows[0].Items[0].ProductID != "p1" { // in the most orders
		t.Errorf("guest: popular row starts with %s, want p1", guest.Rows[0].Items[0].ProductID)
	}

	code, body = getWithToken(t, u, "Bearer "+tok1)
	r := decode("u1", code, body)
	if r.UserID == nil || *r.UserID != "u1" || kinds(r) != "personalized,popular" {
		t.Fatalf("u1: %s, want personalized then popular", body)
	}
	var got []string
	for _, it := range r.Rows[0].Items {
		got = append(got, it.ProductID+":"+it.Reason)
	}
	all := strings.Join(got, ",")
	if !strings.Contains(all, "p4:because you bought Sony") || !strings.Contains(all, "p2:because you bought") {
		t.Errorf("u1 personalized %v: want p4 (bought with p1) and p2 (with p5), with their reasons", got)
	}
	if !strings.Contains(strings.Join(got, ","), "p5:you buy it often") || strings.Contains(strings.Join(got, ","), "p1:") {
		t.Errorf("u1 personalized %v: want the staple p5 and not p1, bought once", got)
	}

	code, body = getWithToken(t, u+"?limit=1", "Bearer "+tok2)
	r = decode("u2", code, body)
	if kinds(r) != "popular" || len(r.Rows[0].Items) != 1 {
		t.Errorf("u2 (no orders), limit 1: %s, want one popular item", body)
	}

	for _, c := range []struct {
		auth, query string
		code        int
		want        string
	}{
		{"Bearer nope", "", 401, CodeUnauthorized},
		{"Basic dTpw", "", 401, CodeUnauthorized},
		{"Bearer " + tok1 + "x", "", 401, CodeUnauthorized},
		{"", "?limit=0", 400, CodeInvalidParameter},
		{"", "?limit=51", 400, CodeInvalidParameter},
		{"", "?user=u1", 400, CodeUnknownParameter},
		{"", "/u1", 401, CodeUnauthorized},            // the named form needs a token
		{"Bearer " + tok2, "/u1", 403, CodeForbidden}, // and the named user's
		{"Bearer " + tok1, "/u1", 200, `"personalized"`},
	} {
		code, body := getWithToken(t, u+c.query, c.auth)
		if code != c.code || !strings.Contains(string(body), c.want) {
			t.Errorf("auth %q query %q: %d %s, want %d %s", c.auth, c.query, code, body, c.code, c.want)
		}
	}
}

// BenchmarkHomeHandler runs the home endpoint end to end (route, token,
// rows through the engine, JSON) for a guest and for a user with orders.
func BenchmarkHomeHandler(b *testing.B) {
	tk, err := auth.NewTokens([]byte(strings.Repeat("k", 32)))
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := tk.Sign("u1", time.Hour)
	h, err := recs.NewHome(recs.HomeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	h.SetLists(testRecs(b))
	t0 := time.Now()
	for i, ps := range [][]string{{"p1", "p5"}, {"p5", "p2"}} {
		e := catalog.OrderEvent{OrderID: "o" + string(rune('0'+i)), UserID: "u1", PlacedAt: t0.Add(time.Duration(i) * time.Hour)}
		for _, p := range ps {
			e.Lines = append(e.Lines, catalog.OrderLine{ProductID: p, Quantity: 1})
		}
		h.Observe(e)
	}
	for _, bc := range []struct{ name, auth string }{{"guest", ""}, {"user", "Bearer " + tok}} {
		b.Run(bc.name, func(b *testing.B) {
			svc := testSvc(newTestEngine(b))
			svc.Home = h
			s := New(svc, Options{Tokens: tk})
			handler := s.Handler()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := newCtx("/api/v1/recs/home")
				if bc.auth != "" {
					ctx.Request.Header.Set("Authorization", bc.auth)
				}
				for pb.Next() {
					ctx.Response.Reset()
					handler(ctx)
					if ctx.Response.StatusCode() != 200 {
						b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
					}
				}
			})
		})
	}
}
