package server

import "github.com/valyala/fasthttp"

// The cart endpoints of issue 7: /api/v1/cart/{user_id}[/items[/{variant_id}]].

const cartPrefix = "/api/v1/cart/"

// cartService is what the cart endpoints need; not built yet.
type cartService struct{}

func (s *Server) cartRoute(ctx *fasthttp.RequestCtx, path string) {
	s.RequireUser(func(ctx *fasthttp.RequestCtx, _ string) { notBuilt(ctx, "the cart") })(ctx)
}
