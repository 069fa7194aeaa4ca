package server

import (
	"strings"

	"github.com/valyala/fasthttp"
)

// The review endpoints of issue 7: /api/v1/products/{id}/reviews[/...].

// reviewService is what the review endpoints need; not built yet.
type reviewService struct{}

// isReviewsPath reports whether path, under productsPrefix, is a review
// endpoint.
func isReviewsPath(path string) bool {
	rest := path[len(productsPrefix):]
	return strings.HasSuffix(rest, "/reviews") || strings.Contains(rest, "/reviews/")
}

func (s *Server) reviewsRoute(ctx *fasthttp.RequestCtx, path string) {
	if ctx.IsGet() {
		notBuilt(ctx, "reviews")
		return
	}
	s.RequireUser(func(ctx *fasthttp.RequestCtx, _ string) { notBuilt(ctx, "reviews") })(ctx)
}
