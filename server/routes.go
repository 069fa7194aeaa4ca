package server

import (
	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

// routes is the API's routing table: each path pattern, the endpoint its
// requests count under in the metrics, and whether it answers GET and HEAD
// only. Routing is github.com/fasthttp/router's radix tree; every route is
// registered for every method, so that the endpoints keep answering 405
// themselves with their Allow header and JSON error. A handler parses what
// it needs of the path beyond the route (the cart, checkout, orders,
// seller and review endpoints route their own sub-paths).
//
// BenchmarkRouter: finding the search route takes 50-118 ns and no
// allocation, 0.1-0.3% of BenchmarkHandler/search (40-64 us) in the same
// run; a review route, with a parameter and a catch-all, 1.2-3.1 us and 6
// small allocations (go test ./server -run '^$' -bench 'Router|Handler$'
// -benchtime 20000x -count 3; 2 shared cores, load average 25-31 from
// about 6 agents).
func (s *Server) routes() *router.Router {
	r := router.New()
	r.RedirectTrailingSlash, r.RedirectFixedPath = false, false
	r.HandleMethodNotAllowed, r.HandleOPTIONS = false, false
	route := func(ep int, getOnly bool, h func(*fasthttp.RequestCtx, string), paths ...string) {
		handler := func(ctx *fasthttp.RequestCtx) { s.serve(ctx, ep, getOnly, h) }
		for _, p := range paths {
			r.ANY(p, handler)
		}
	}
	r.NotFound = func(ctx *fasthttp.RequestCtx) {
		s.serve(ctx, epOther, false, func(ctx *fasthttp.RequestCtx, path string) {
			writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+path, "")
		})
	}
	route(epSearch, true, func(ctx *fasthttp.RequestCtx, _ string) {
		if s.awaitFresh(ctx) {
			s.search(ctx)
		}
	}, searchPath)
	route(epSuggest, true, func(ctx *fasthttp.RequestCtx, _ string) { s.suggest(ctx) }, suggestPath)
	route(epHealthz, true, func(ctx *fasthttp.RequestCtx, _ string) { s.healthz(ctx) }, "/healthz")
	route(epMetrics, true, func(ctx *fasthttp.RequestCtx, _ string) { s.writeMetrics(ctx) }, "/metrics")
	product := func(ctx *fasthttp.RequestCtx, path string) { s.product(ctx, path[len(productsPrefix):]) }
	route(epProduct, true, product, productsPrefix+"{id}", productsPrefix+"{id}/{rest:*}")
	route(epReviews, false, s.reviewsRoute, productsPrefix+"{id}/reviews", productsPrefix+"{id}/reviews/{rest:*}")
	recs := func(ctx *fasthttp.RequestCtx, path string) { s.recsRoute(ctx, path) }
	route(epRecs, true, recs, productsPrefix+"{id}/"+alsoBoughtName, productsPrefix+"{id}/"+boughtTogetherName,
		productsPrefix+"{id}/"+similarName, recsPrefix+"{rest:*}")
	route(epSeller, false, func(ctx *fasthttp.RequestCtx, path string) { s.write(ctx, epSeller, path) },
		sellerProductsPath, sellerProductsPath+"/{rest:*}")
	route(epInventory, false, func(ctx *fasthttp.RequestCtx, path string) { s.write(ctx, epInventory, path) },
		inventoryPrefix+"{rest:*}")
	route(epCart, false, s.cartRoute, cartPrefix+"{rest:*}", guestPath)
	route(epCheckout, false, s.checkoutRoute, checkoutPath, checkoutPath+"/{rest:*}")
	route(epOrders, false, s.ordersRoute, ordersPath, ordersPath+"/{rest:*}")
	route(epModeration, false, func(ctx *fasthttp.RequestCtx, _ string) { // the admin key only (review_admin.go)
		if m := s.svc.Moderator; m != nil {
			s.ReviewModeration(m, "")(ctx)
		} else {
			notBuilt(ctx, "review moderation")
		}
	}, ReviewModerationPrefix+"/{rest:*}")
	// The page's files are GET/HEAD, its demo session POST: web checks.
	route(epWeb, false, s.web, "/", staticPrefix+"{rest:*}", demoSessionPath)
	return r
}
