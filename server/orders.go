package server

import "github.com/valyala/fasthttp"

// The order endpoints of issue 7: /api/v1/orders[/{order_id}].

const ordersPath = "/api/v1/orders"

func (s *Server) ordersRoute(ctx *fasthttp.RequestCtx, path string) {
	s.RequireUser(func(ctx *fasthttp.RequestCtx, _ string) { notBuilt(ctx, "orders") })(ctx)
}
