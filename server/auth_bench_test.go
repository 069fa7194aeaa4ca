package server

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkAuthWrite: one authenticated seller POST through the handler,
// publishing to a catalog that accepts at once, so what is measured is
// the server's side: auth, limit, shape check, decode, validation.
func BenchmarkAuthWrite(b *testing.B) {
	k := newTestKeys(b)
	s := New(withIngest(testSvc(newTestEngine(b)), okCatalog{}), Options{Keys: k.store, SellerWritesPerMinute: -1})
	h := s.Handler()
	body := []byte(kettle)
	var ctx fasthttp.RequestCtx
	run := func(b *testing.B, key string) {
		b.ReportAllocs()
		for b.Loop() {
			ctx.Request.Reset()
			ctx.Response.Reset()
			ctx.Request.Header.SetMethod("POST")
			ctx.Request.SetRequestURI(sellerProductsPath)
			if key != "" {
				ctx.Request.Header.Set("Authorization", "Bearer "+key)
			}
			ctx.Request.SetBody(body)
			h(&ctx)
			if key != "" && ctx.Response.StatusCode() != 201 || key == "" && ctx.Response.StatusCode() != 401 {
				b.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
			}
		}
	}
	b.Run("cached-key", func(b *testing.B) { run(b, k.seller) })
	b.Run("no-key-401", func(b *testing.B) { run(b, "") })
}
