package server

import (
	"context"
	"testing"
	"time"

	"github.com/aisle/aisle/search"

	"github.com/valyala/fasthttp"
)

func BenchmarkAppendSearchResult(b *testing.B) {
	res := testResult()
	buf := appendSearchResult(nil, res, 2)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendSearchResult(buf[:0], res, 2)
	}
}

func BenchmarkParseSearchArgs(b *testing.B) {
	var args fasthttp.Args
	args.Parse("q=wireless+headphones&brand=sony,bose&price_min=20&price_max=400&sort=price_asc&page=2&page_size=24&attr.color=black")
	var a searchArgs
	b.ReportAllocs()
	for b.Loop() {
		if err := a.parse(&args, 2); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandler runs the whole search handler, parsing to JSON, over the
// placeholder engine with five products.
func BenchmarkHandler(b *testing.B) {
	for _, bc := range []struct{ name, uri string }{
		{"search", "/api/v1/products/search?q=headphones&brand=sony,bose&sort=price_asc&page_size=24"},
		{"product", "/api/v1/products/p1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := New(testSvc(newTestEngine(b)), Options{SearchRate: -1}) // no rate limit: one client asks all
			h := s.Handler()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := newCtx(bc.uri)
				for pb.Next() {
					ctx.Response.Reset()
					h(ctx)
					if ctx.Response.StatusCode() != 200 {
						b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
					}
				}
			})
		})
	}
}

// staticEngine answers every search with one prepared result, so the
// handler benchmark measures the server alone.
type staticEngine struct {
	Engine
	res *search.Result
}

func (e staticEngine) Search(context.Context, *search.Request) (*search.Result, error) {
	return e.res, nil
}

// BenchmarkServerOverhead is the search handler minus the engine: parsing,
// the search deadline, the JSON of a 20-hit page with facets, metrics.
func BenchmarkServerOverhead(b *testing.B) {
	s := New(testSvc(staticEngine{res: testResult()}), Options{})
	h := s.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := newCtx("/api/v1/products/search?q=headphones&brand=sony,bose&sort=price_asc&page_size=20")
		for pb.Next() {
			ctx.Response.Reset()
			h(ctx)
		}
	})
}

// BenchmarkMetricsObserve is what every request pays for its metrics: one
// counter and one histogram update (the library's, VictoriaMetrics/metrics).
func BenchmarkMetricsObserve(b *testing.B) {
	m := newMetrics()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.observe(epSearch, 200, 3*time.Millisecond)
		}
	})
}

// BenchmarkRouter is what routing costs a request: finding the search
// route, and a product's review route (a parameter and a catch-all), in
// the API's table (github.com/fasthttp/router). Compare with
// BenchmarkHandler/search, the whole request, in the same run.
func BenchmarkRouter(b *testing.B) {
	s := New(testSvc(newTestEngine(b)), Options{})
	for _, path := range []string{searchPath, productsPrefix + "p1/reviews/r1/helpful"} {
		b.Run(path, func(b *testing.B) {
			ctx := newCtx(path)
			b.ReportAllocs()
			for b.Loop() {
				if h, _ := s.router.Lookup("GET", path, ctx); h == nil {
					b.Fatal("no route")
				}
			}
		})
	}
}
