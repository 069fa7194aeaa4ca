package server

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aisle/aisle/search"

	"github.com/valyala/fasthttp"
)

func BenchmarkAppendSearchResult(b *testing.B) {
	res := testResult()
	buf := appendSearchResult(nil, res, 2, nil)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendSearchResult(buf[:0], res, 2, nil)
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

// fullFacetResult is a first page of 10 hits with facet lists as long as
// the engine makes them as shipped: 20 brands, 80 categories, 20 colours.
func fullFacetResult() *search.Result {
	res := testResult()
	res.Hits = res.Hits[:10]
	f := &search.Facets{Price: res.Facets.Price, Rating: res.Facets.Rating}
	for i := range 20 {
		f.Brand = append(f.Brand, search.FacetValue{Value: "Brand number " + strconv.Itoa(i), Count: 500 - i})
	}
	for i := range 80 {
		f.Category = append(f.Category, search.CategoryCount{Slug: "electronics/computers/laptops-" + strconv.Itoa(i),
			Name: "Laptops " + strconv.Itoa(i), Level: min(i/10, 2), Count: 300 - i})
	}
	color := search.AttributeFacet{Name: "color"}
	for i := range 20 {
		color.Values = append(color.Values, search.FacetValue{Value: "colour " + strconv.Itoa(i), Count: 90 - i})
	}
	f.Attributes = []search.AttributeFacet{color}
	res.Facets = f
	return res
}

// BenchmarkSearchJSON writes a 10-hit page with the facet lists whole
// (facets=brand:20,category:80,color:20) and trimmed to the page's
// defaults (facets=true): CPU per response and bytes.
func BenchmarkSearchJSON(b *testing.B) {
	res := fullFacetResult()
	for _, bc := range []struct{ name, query string }{
		{"facets=whole", "facets=brand:20,category:80,color:20"},
		{"facets=trimmed", "facets=true"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var args fasthttp.Args
			args.Parse(bc.query)
			var a searchArgs
			if err := a.parse(&args, 2); err != nil {
				b.Fatal(err)
			}
			buf := appendSearchResult(nil, res, 2, &a)
			b.ReportAllocs()
			for b.Loop() {
				buf = appendSearchResult(buf[:0], res, 2, &a)
			}
			b.ReportMetric(float64(len(buf)), "bytes/response")
		})
	}
}

// BenchmarkCompress is what compressing a search response costs, at each
// encoding's fastest level, on the whole-facets page of
// BenchmarkSearchJSON.
func BenchmarkCompress(b *testing.B) {
	body := appendSearchResult(nil, fullFacetResult(), 2, nil)
	for _, bc := range []struct {
		name string
		f    func(dst, src []byte) []byte
	}{
		{"none", func(dst, src []byte) []byte { return append(dst, src...) }},
		{"gzip", func(dst, src []byte) []byte {
			return fasthttp.AppendGzipBytesLevel(dst, src, fasthttp.CompressBestSpeed)
		}},
		{"zstd", func(dst, src []byte) []byte {
			return fasthttp.AppendZstdBytesLevel(dst, src, fasthttp.CompressZstdBestSpeed)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			out := bc.f(nil, body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				out = bc.f(out[:0], body)
			}
			b.ReportMetric(float64(len(out)), "bytes/response")
		})
	}
}
