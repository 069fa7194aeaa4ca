package server

import (
	"strings"

	"github.com/valyala/fasthttp"
)

// The storefront page of issue 9, served at / with its files under /static/.

func isWebPath(path string) bool {
	return path == "/" || strings.HasPrefix(path, "/static/")
}

func (s *Server) web(ctx *fasthttp.RequestCtx, path string) {
	notBuilt(ctx, "the storefront page")
}
