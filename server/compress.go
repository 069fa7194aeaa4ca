package server

import (
	"github.com/valyala/fasthttp"
)

// Responses are compressed only when the client asks (Accept-Encoding)
// and the body is at least Options.CompressMinBytes: zstd when accepted,
// else gzip, both at their fastest level through fasthttp's pooled
// klauspost/compress writers. A storefront page behind a load balancer
// pays CPU for bytes it does not need on loopback or a fast LAN, so the
// load generator asks for neither unless told (aisle-bench http
// --accept-encoding); doc/design.md, "Where the time goes", has the cost.

// writeJSON sets body, a JSON document, as the response, compressed when
// the client accepts it and it is large enough.
func (s *Server) writeJSON(ctx *fasthttp.RequestCtx, body []byte) {
	ctx.SetContentType("application/json")
	if min := s.opts.CompressMinBytes; min < 0 || len(body) < min {
		ctx.SetBody(body)
		return
	}
	ctx.Response.Header.Set(fasthttp.HeaderVary, "Accept-Encoding")
	h := &ctx.Request.Header
	switch {
	case h.HasAcceptEncoding("zstd"):
		out := getBuf()
		*out = fasthttp.AppendZstdBytesLevel(*out, body, fasthttp.CompressZstdBestSpeed)
		ctx.Response.Header.Set(fasthttp.HeaderContentEncoding, "zstd")
		ctx.SetBody(*out)
		putBuf(out)
	case h.HasAcceptEncoding("gzip"):
		out := getBuf()
		*out = fasthttp.AppendGzipBytesLevel(*out, body, fasthttp.CompressBestSpeed)
		ctx.Response.Header.Set(fasthttp.HeaderContentEncoding, "gzip")
		ctx.SetBody(*out)
		putBuf(out)
	default:
		ctx.SetBody(body)
	}
}
