package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/search"
)

// ScalePoint is one engine at one catalog size.
type ScalePoint struct {
	Engine   string `json:"engine"`
	Products int    `json:"products"`
	Build    Build  `json:"build"`
	// Load is the mixed log at GOMAXPROCS clients; Facets is the log's
	// queries with filters, each asking for all facets, at one client.
	Load   Load `json:"load"`
	Facets Load `json:"filters_facets"`
	// Text is the log's text queries without filters or facets, ranked
	// by relevance, top 10, at one client.
	Text Load `json:"text"`
	// Cache is Aisle's response cache over one pass of the mixed log at
	// one client; nil for the peers.
	Cache *CachePass `json:"cache,omitempty"`
}

// CachePass is one pass of the mixed log in order at one client, first
// with the response cache bypassed (after a warm-up pass), then through it
// from empty: the hits
// are the log's own repeats (its Zipf-popular queries), as a storefront's
// traffic repeats.
type CachePass struct {
	Queries int     `json:"queries"`
	HitRate float64 `json:"hit_rate"`
	// QPSOff and QPSOn are the pass's queries per second without and with
	// the cache.
	QPSOff float64 `json:"qps_off"`
	QPSOn  float64 `json:"qps_on"`
}

// cachePassQueries bounds the cache pass, which runs at one client: a
// pass of a 10,000-query log at millions of products would take minutes.
const cachePassQueries = 3000

// cachePass measures the response cache of e on one pass of log's first
// cachePassQueries queries.
func cachePass(ctx context.Context, e *search.Engine, log []Query) (*CachePass, error) {
	log = log[:min(len(log), cachePassQueries)]
	ids := make([]string, 0, 16)
	pass := func(a aisle) (float64, error) {
		start := time.Now()
		for i := range log {
			var err error
			if ids, _, err = a.Search(ctx, &log[i], 10, ids); err != nil {
				return 0, err
			}
		}
		return float64(len(log)) / time.Since(start).Seconds(), nil
	}
	cp := &CachePass{Queries: len(log)}
	// A first pass bypassing the cache warms what searches build on first
	// use (posting bitmaps, block-max metadata), so that the two measured
	// passes differ by the cache alone.
	if _, err := pass(aisle{e: e}); err != nil {
		return nil, err
	}
	var err error
	if cp.QPSOff, err = pass(aisle{e: e}); err != nil {
		return nil, err
	}
	before := e.ResponseCacheStats()
	if cp.QPSOn, err = pass(aisle{e: e, cached: true}); err != nil {
		return nil, err
	}
	after := e.ResponseCacheStats()
	if n := after.Hits + after.Misses - before.Hits - before.Misses; n > 0 {
		cp.HitRate = float64(after.Hits-before.Hits) / float64(n)
	}
	return cp, nil
}

// Grow returns the real catalog ps followed by generated products up to n
// in all, with seed. A generated product copies a real one drawn at random
// (so brands, categories, prices and attributes keep their real
// distributions) under a new id, with a title recombined from its own
// title and that of another real product of the same top category: the
// first half of one, the second half of the other. Descriptions,
// attributes and variants are shared with the source, read-only.
func Grow(ps []*catalog.Product, n int, seed uint64) []*catalog.Product {
	if n <= len(ps) {
		return ps[:n]
	}
	r := rand.New(rand.NewPCG(seed, seed^0x51ed270b27b5b5b5))
	byTop := map[string][]int32{}
	for i, p := range ps {
		top := ""
		if len(p.Category) > 0 {
			top = p.Category[0]
		}
		byTop[top] = append(byTop[top], int32(i))
	}
	out := make([]*catalog.Product, n)
	copy(out, ps)
	gen := make([]catalog.Product, n-len(ps))
	for i := range gen {
		src := ps[r.IntN(len(ps))]
		top := ""
		if len(src.Category) > 0 {
			top = src.Category[0]
		}
		peers := byTop[top]
		donor := ps[peers[r.IntN(len(peers))]]
		g := &gen[i]
		*g = *src
		g.ID = fmt.Sprintf("gen-%d", len(ps)+i)
		g.Title = recombine(src.Title, donor.Title)
		// Its own variant ids: a variant id names one product's variant
		// (carts find the product by it; aisle import refuses a shared
		// one).
		g.Variants = slices.Clone(src.Variants)
		for j := range g.Variants {
			g.Variants[j].ID = g.ID + "-" + strconv.Itoa(j+1)
		}
		out[len(ps)+i] = g
	}
	return out
}

// recombine returns the first half of a's words and the second half of b's.
func recombine(a, b string) string {
	aw, bw := strings.Fields(a), strings.Fields(b)
	t := strings.Join(append(aw[:(len(aw)+1)/2:(len(aw)+1)/2], bw[len(bw)/2:]...), " ")
	if t == "" {
		return a
	}
	return t
}

// textLog returns the queries of log with text and nothing else: no
// filter, no facets, relevance order.
func textLog(log []Query) []Query {
	var out []Query
	for _, q := range log {
		if q.Text != "" && q.Filter.IsZero() && q.Sort == 0 {
			q.Facets = false
			out = append(out, q)
		}
	}
	return out
}

// facetLog returns the queries of log with filters, each asking for
// facets.
func facetLog(log []Query) []Query {
	var out []Query
	for _, q := range log {
		if !q.Filter.IsZero() {
			q.Facets = true
			out = append(out, q)
		}
	}
	return out
}

// scale grows the catalog to each size of c.Scale and measures Aisle (and
// the peers up to c.ScalePeerMax products): build, the mixed log at
// GOMAXPROCS clients, and the filtered queries with all facets at one
// client. The log is regenerated from each grown catalog.
func (c *Config) scale(ctx context.Context, _ []Query) ([]ScalePoint, error) {
	var pts []ScalePoint
	judged := JudgedQueries(c.Judgments)
	for _, n := range c.Scale {
		ps := Grow(c.Products, n, c.Seed)
		log := QueryLog(ps, judged, c.LogSize, c.Seed)
		flog, tlog := facetLog(log), textLog(log)
		for _, p := range c.peers() {
			if p.skip != "" || (p.name != "aisle" && n > c.ScalePeerMax) {
				continue
			}
			pt, err := c.scalePoint(ctx, p, ps, log, flog, tlog)
			if err != nil {
				return pts, err
			}
			pts = append(pts, pt)
		}
		runtime.GC()
	}
	return pts, nil
}

func (c *Config) scalePoint(ctx context.Context, p peer, ps []*catalog.Product, log, flog, tlog []Query) (pt ScalePoint, err error) {
	phase := fmt.Sprintf("%s %d", p.name, len(ps))
	c.Progress(phase+" build", 0)
	e, st, err := measureBuild(ctx, p.build, ps)
	if err != nil {
		return pt, fmt.Errorf("bench: scale: building %s over %d products: %w", p.name, len(ps), err)
	}
	defer func() {
		if e.close != nil {
			err = errors.Join(err, e.close())
		}
	}()
	c.Progress(phase+" build", 1)
	pt = ScalePoint{Engine: p.name, Products: len(ps), Build: st}
	if pt.Load, err = runLoad(ctx, e.s, log, runtime.GOMAXPROCS(0), c.ScaleDuration, func(f float64) { c.Progress(phase+" log", f) }); err != nil {
		return pt, fmt.Errorf("bench: scale: %w", err)
	}
	if len(flog) > 0 {
		if pt.Facets, err = runLoad(ctx, e.s, flog, 1, c.ScaleDuration, func(f float64) { c.Progress(phase+" facets", f) }); err != nil {
			return pt, fmt.Errorf("bench: scale: %w", err)
		}
	}
	if len(tlog) > 0 {
		if pt.Text, err = runLoad(ctx, e.s, tlog, 1, c.ScaleDuration, func(f float64) { c.Progress(phase+" text", f) }); err != nil {
			return pt, fmt.Errorf("bench: scale: %w", err)
		}
	}
	if a, ok := e.s.(aisle); ok {
		c.Progress(phase+" cache", 0)
		if pt.Cache, err = cachePass(ctx, a.e, log); err != nil {
			return pt, fmt.Errorf("bench: scale: %w", err)
		}
		c.Logf("scale %s %d: response cache over one pass of %d queries: hit rate %.1f%%, %.0f q/s off, %.0f q/s on",
			p.name, len(ps), pt.Cache.Queries, pt.Cache.HitRate*100, pt.Cache.QPSOff, pt.Cache.QPSOn)
	}
	c.Logf("scale %s %d: build %.1fs (%.0f docs/s), peak heap %d MiB, %.0f bytes/product; log %.0f q/s p99 %.0fµs cpu/1000q %.3fs; filters+facets p50 %.0fµs p99 %.0fµs; text p50 %.0fµs p99 %.0fµs",
		p.name, len(ps), st.Seconds, st.DocsPerSec, st.PeakHeap>>20, st.BytesPerProduct, pt.Load.QPS, pt.Load.P99, pt.Load.CPUPer1000,
		pt.Facets.P50, pt.Facets.P99, pt.Text.P50, pt.Text.P99)
	return pt, nil
}
