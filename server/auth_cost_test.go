package server

import (
	"flag"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/commerce"
)

var authCost = flag.Bool("authcost", false, "measure the p50/p99 of search and cart requests with and without authentication (in process)")

// TestAuthCost measures what authentication adds to a request, in process
// (no network, so the figures are the server's own): search without and
// with a user token in the header (search is public and reads none), the
// cart read through RequireUser, and RequireUser around a handler that
// does nothing against that handler alone. Run with -authcost; it asserts
// nothing about time.
func TestAuthCost(t *testing.T) {
	if !*authCost {
		t.Skip("run with -authcost")
	}
	tokens, err := auth.NewTokens(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := commerce.Open(commerce.Options{Path: filepath.Join(t.TempDir(), "commerce.db"), Replica: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := testSvc(newTestEngine(t))
	svc.Cart = st
	s := New(svc, Options{Tokens: tokens, SearchRate: -1})
	tok, _ := tokens.Sign("u1", time.Hour)
	vid := testProducts()[0].Variants[0].ID
	if _, err := st.UpdateCart("u1", commerce.CartLimits{}, func(c *commerce.Cart) error { return c.Add(vid, 1) }); err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	noop := func(ctx *fasthttp.RequestCtx, _ string) { ctx.SetStatusCode(200) }
	wrapped := s.RequireUser(noop)
	run := func(name, method, uri, auth string, handle fasthttp.RequestHandler) {
		const n = 20_000
		lat := make([]time.Duration, 0, n)
		var ctx fasthttp.RequestCtx
		for i := range n + 1000 {
			ctx.Request.Reset()
			ctx.Response.Reset()
			ctx.Request.Header.SetMethod(method)
			ctx.Request.SetRequestURI(uri)
			if auth != "" {
				ctx.Request.Header.Set("Authorization", "Bearer "+auth)
			}
			start := time.Now()
			handle(&ctx)
			d := time.Since(start)
			if c := ctx.Response.StatusCode(); c != 200 {
				t.Fatalf("%s: %d %s", name, c, ctx.Response.Body())
			}
			if i >= 1000 { // warm up first
				lat = append(lat, d)
			}
		}
		slices.Sort(lat)
		t.Logf("%-40s p50 %8v  p99 %8v", name, lat[n/2], lat[n*99/100])
	}
	run("search, no token", "GET", "/api/v1/products/search?q=sony", "", h)
	run("search, with a user token", "GET", "/api/v1/products/search?q=sony", tok, h)
	run("cart read, token verified", "GET", "/api/v1/cart/u1", tok, h)
	run("no-op handler alone", "GET", "/x", "", func(ctx *fasthttp.RequestCtx) { noop(ctx, "") })
	run("no-op handler behind RequireUser", "GET", "/x", tok, wrapped)
}
