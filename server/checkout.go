package server

import "github.com/valyala/fasthttp"

// The checkout endpoints of issue 7: /api/v1/checkout[/{session_id}[/...]].

const checkoutPath = "/api/v1/checkout"

// checkoutService is what the checkout endpoints need; not built yet.
type checkoutService struct{}

func (s *Server) checkoutRoute(ctx *fasthttp.RequestCtx, path string) {
	s.RequireUser(func(ctx *fasthttp.RequestCtx, _ string) { notBuilt(ctx, "checkout") })(ctx)
}
