package search

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/maypok86/otter/v2"
	"github.com/maypok86/otter/v2/stats"
)

// responseCache holds whole first-page results keyed by the normalized
// request and the engine's generation, which every change to what a search
// can answer (products, synonyms, spelling data) advances, so an entry of
// an older generation is never read again and ages out. Its size is bounded
// in bytes by an estimate of each result's memory.
type responseCache struct {
	c     *otter.Cache[string, *Result]
	stats *stats.Counter
}

func newResponseCache(bytes int64) *responseCache {
	st := stats.NewCounter()
	c := otter.Must(&otter.Options[string, *Result]{
		MaximumWeight: uint64(bytes),
		Weigher:       func(k string, r *Result) uint32 { return uint32(min(len(k)+resultBytes(r), 1<<31)) },
		StatsRecorder: st,
	})
	return &responseCache{c: c, stats: st}
}

// CacheStats are a cache's counters since the engine started.
type CacheStats struct {
	Hits, Misses, Evictions uint64
	// Bytes is the estimated memory the entries hold now; Capacity the
	// most they may hold.
	Bytes, Capacity uint64
}

// ResponseCacheStats returns the response cache's counters; zero when it
// is off.
func (e *Engine) ResponseCacheStats() CacheStats {
	rc := e.responses
	if rc == nil {
		return CacheStats{}
	}
	s := rc.stats.Snapshot()
	return CacheStats{Hits: s.Hits, Misses: s.Misses, Evictions: s.Evictions,
		Bytes: rc.c.WeightedSize(), Capacity: rc.c.GetMaximum()}
}

// FilterCacheStats returns the counters of the shards' filter bitmap
// cache; zero when it is off.
func (e *Engine) FilterCacheStats() CacheStats {
	if e.filters == nil {
		return CacheStats{}
	}
	s := e.filters.Stats()
	return CacheStats{Hits: s.Hits, Misses: s.Misses, Evictions: s.Evictions, Bytes: s.Bytes, Capacity: s.Capacity}
}

// cacheable reports whether r's answer may come from, and go to, the
// response cache: a first page, asked without NoCache.
func (e *Engine) cacheable(r *Request) bool {
	return e.responses != nil && !r.NoCache && r.Page <= 1
}

// cacheKey returns the key of r at the engine's current generation: every
// field that changes the answer, the query with its spaces collapsed, the
// attribute filters in name order.
func (e *Engine) cacheKey(r *Request) string {
	b := make([]byte, 0, 128)
	b = strconv.AppendUint(b, e.gen.Load(), 36)
	b = append(b, 0)
	for i, w := range strings.Fields(r.Query) {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	b = append(b, 0)
	f := &r.Filter
	b = append(b, f.Category...)
	for _, br := range f.Brands {
		b = append(b, 0, 'b')
		b = append(b, br...)
	}
	b = append(b, 0)
	if f.HasPriceMin {
		b = strconv.AppendInt(b, f.PriceMin, 10)
	}
	b = append(b, '-')
	if f.HasPriceMax {
		b = strconv.AppendInt(b, f.PriceMax, 10)
	}
	b = append(b, 0)
	b = strconv.AppendFloat(b, f.RatingMin, 'g', -1, 64)
	names := make([]string, 0, len(f.Attrs))
	for n := range f.Attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		b = append(b, 0, 'a')
		b = append(b, n...)
		for _, v := range f.Attrs[n] {
			b = append(b, 0, 'v')
			b = append(b, v...)
		}
	}
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(r.Sort), 10)
	b = strconv.AppendInt(b, int64(r.PageSize), 10)
	for _, on := range [...]bool{f.InStock, r.Facets, r.NoRelax, r.Plain, r.NoSpell, r.NoUnderstand, r.NoPrune} {
		c := byte('0')
		if on {
			c = '1'
		}
		b = append(b, c)
	}
	return string(b)
}

// cached returns the cached answer to r under key, as a copy the caller
// may change (its hits and facets are shared and read-only).
func (e *Engine) cached(r *Request, key string, start time.Time) (*Result, bool) {
	res, ok := e.responses.c.GetIfPresent(key)
	if !ok {
		return nil, false
	}
	out := *res
	if out.CorrectedFrom != "" {
		out.CorrectedFrom = r.Query
	}
	out.Took = time.Since(start)
	return &out, true
}

// resultBytes estimates the memory a cached result holds beyond the
// products its hits point at, which the index holds anyway.
func resultBytes(r *Result) int {
	n := int(unsafe.Sizeof(*r)) + len(r.Hits)*int(unsafe.Sizeof(Hit{})) + len(r.DidYouMean) + len(r.CorrectedFrom)
	n += len(r.FilterRelaxations) * int(unsafe.Sizeof(Relaxation{}))
	if f := r.Facets; f != nil {
		n += int(unsafe.Sizeof(*f))
		for _, v := range f.Brand {
			n += int(unsafe.Sizeof(v)) + len(v.Value)
		}
		for _, c := range f.Category {
			n += int(unsafe.Sizeof(c)) + len(c.Slug) + len(c.Name)
		}
		n += (len(f.Price) + len(f.Rating)) * int(unsafe.Sizeof(RangeCount{}))
		for _, a := range f.Attributes {
			n += int(unsafe.Sizeof(a)) + len(a.Name)
			for _, v := range a.Values {
				n += int(unsafe.Sizeof(v)) + len(v.Value)
			}
		}
	}
	if r.Understood != nil {
		n += 256
	}
	return n
}
