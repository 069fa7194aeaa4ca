package search

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aisle/aisle/index"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// state is the reusable memory of one search.
type state struct {
	views []index.View
	res   []index.Result
	req   index.Request
	hits  []index.Hit
	spons []index.Hit
	facet index.FacetCounts
	sub   []uint32 // category counts of subtrees, by node ord

	// For a router (Engine.remote): the filter of the current run by
	// name, what was understood and the predicted category's path, and
	// the shards no replica answered during this search.
	filter  *query.Filter
	und     *query.Understood
	undPath []string
	missing []int
}

func (e *Engine) getState() *state {
	if s, ok := e.states.Get().(*state); ok {
		return s
	}
	n := max(len(e.shards), e.opts.Shards)
	return &state{views: make([]index.View, n), res: make([]index.Result, n)}
}

// Validate checks r against the engine's limits.
func (r *Request) Validate() error {
	bad := func(param, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidRequest, param, fmt.Sprintf(format, args...))
	}
	switch {
	case len(r.Query) > MaxQueryBytes:
		return bad("q", "%d bytes, more than %d", len(r.Query), MaxQueryBytes)
	case !utf8.ValidString(r.Query):
		return bad("q", "not valid UTF-8")
	case r.PageSize < 0 || r.PageSize > MaxPageSize:
		return bad("page_size", "%d, want 1 to %d", r.PageSize, MaxPageSize)
	case r.Page < 0:
		return bad("page", "%d, want at least 1", r.Page)
	case r.Filter.HasPriceMin && r.Filter.HasPriceMax && r.Filter.PriceMin > r.Filter.PriceMax:
		return bad("price_min", "%d is above price_max %d", r.Filter.PriceMin, r.Filter.PriceMax)
	case math.IsNaN(r.Filter.RatingMin) || r.Filter.RatingMin < 0 || r.Filter.RatingMin > 5:
		return bad("rating_min", "%g, want 0 to 5", r.Filter.RatingMin)
	case r.Sort > query.SortNewest:
		return bad("sort", "unknown sort %d", r.Sort)
	}
	page, size := max(r.Page, 1), r.PageSize
	if size == 0 {
		size = 20
	}
	if page*size > MaxResultDepth {
		return bad("page", "page %d of %d reaches past result %d", page, size, MaxResultDepth)
	}
	return nil
}

// Search runs r. Its hits point at products the engine holds; treat them as
// read-only.
func (e *Engine) Search(ctx context.Context, r *Request) (*Result, error) {
	start := time.Now()
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var key string
	if e.cacheable(r) {
		key = e.cacheKey(r)
		if res, ok := e.cached(r, key, start); ok {
			return res, nil
		}
	}
	if e.remote == nil { // a router mostly waits on its nodes: admit.go
		if err := e.admit(ctx); err != nil {
			return nil, err
		}
		defer e.release()
	}
	page, size := max(r.Page, 1), r.PageSize
	if size == 0 {
		size = 20
	}
	st := e.getState()
	defer e.states.Put(st)
	for i, s := range e.shards {
		st.views[i] = s.View()
	}
	st.missing = st.missing[:0]
	res := &Result{Page: page, PageSize: size}
	if err := e.runQuery(ctx, st, r, r.Query, res); err != nil {
		return nil, err
	}
	res, err := e.spellFallback(ctx, st, r, res)
	if err != nil {
		return nil, err
	}
	if e.remote != nil {
		if err := e.fetchProducts(ctx, res); err != nil {
			return nil, err
		}
		if len(st.missing) > 0 {
			res.Partial = true
			res.MissingShards = slices.Sorted(slices.Values(st.missing))
		}
	}
	res.Took = time.Since(start)
	if key != "" {
		c := *res
		e.responses.c.Set(key, &c)
	}
	return res, nil
}

// execute runs the keywords text with filter f into res, whose Page and
// PageSize are set; brands, when the query named some, are boosted.
func (e *Engine) execute(ctx context.Context, st *state, r *Request, text string, f *query.Filter, und *query.Understood, res *Result) error {
	page, size := res.Page, res.PageSize
	ir := &st.req
	*ir = index.Request{
		Words:     ir.Words[:0],
		IDF:       ir.IDF[:0],
		Sort:      r.Sort,
		K:         page * size,
		Facets:    r.Facets,
		Plain:     r.Plain,
		NoPrune:   r.NoPrune,
		Rank:      &e.opts.Rank,
		Sponsored: 0,
	}
	if r.Plain {
		ir.Rank = &e.plain
	}
	if err := e.words(ctx, st, text); err != nil {
		return err
	}
	if r.Sort == query.SortRelevance && !r.Plain {
		ir.Sponsored = len(e.opts.Rank.SponsoredSlots) + size
	}
	e.resolveFilter(f, &ir.Filter)
	st.filter, st.und, st.undPath = f, und, nil
	if und != nil && und.Category != "" {
		if sp := e.spelling.Load(); sp != nil {
			st.undPath = sp.vocab.paths[und.Category]
		}
	}
	if r.Facets {
		e.facetAttrs(ir)
		ir.FacetSampleAbove = max(e.opts.FacetSampleAbove, 0)
	}
	if err := e.run(ctx, st); err != nil {
		return err
	}
	res.Exact = e.total(st)
	res.Total = res.Exact
	st.collectSponsored()
	// Full pages: when fewer products match every word than the pages up
	// to this one hold, the best partial matches fill them, below every
	// full match (Lucene's minimum_should_match, Vespa's weakAnd).
	if res.Exact < ir.K && len(ir.Words) > 1 && !r.NoRelax && r.Sort == query.SortRelevance {
		if r.Facets && res.Exact > 0 {
			res.Facets = e.facets(st, f)
		}
		// Sponsored products must match every word: they were taken
		// from the full run. Facets are counted over the partial matches
		// only when nothing matched every word. Without either, the
		// shards may prune.
		ir.Sponsored = 0
		ir.Facets = r.Facets && res.Exact == 0
		ir.MinMatch = 1
		if err := e.run(ctx, st); err != nil {
			return err
		}
		res.Total = e.total(st)
		res.Relaxed = res.Total > res.Exact
	}
	if e.remote == nil { // a router's shards boost their own hits
		e.boostUnderstood(st, und)
	}
	e.page(st, res, page, size)
	if r.Facets && res.Facets == nil {
		res.Facets = e.facets(st, f)
	}
	if res.Total == 0 && !f.IsZero() {
		rel, err := e.relaxFilters(ctx, st, f)
		if err != nil {
			return err
		}
		res.FilterRelaxations = rel
	}
	return nil
}

func (e *Engine) run(ctx context.Context, st *state) error {
	if e.remote != nil {
		return e.runRemote(ctx, st)
	}
	return e.fanOut(ctx, st.views, &st.req, st.res)
}

func (e *Engine) total(st *state) int {
	n := 0
	for i := range st.res {
		n += st.res[i].Total
	}
	return n
}

// words analyzes the query into the request's words, measures as one word, drops stop words when
// anything else is left, and weighs every term by its IDF over all shards.
func (e *Engine) words(ctx context.Context, st *state, q string) error {
	ir := &st.req
	// A measure is matched by its one term ("55 inch" -> "55in"), which
	// the index holds for every spelling of it (`55"`, "55-inch").
	ws := e.synonyms.Load().Expand(query.Words(query.Measures(q)))
	content := 0
	for _, w := range ws {
		if !w.Stop && len(w.Terms) > 0 {
			content++
		}
	}
	docs := 0
	var lenSum [rank.NumFields]uint64
	var remote *TermStats
	if e.remote != nil {
		var terms []string
		for _, w := range ws {
			terms = append(terms, w.Terms...)
		}
		var err error
		if remote, err = e.remoteStats(ctx, st, terms); err != nil {
			return err
		}
		docs, lenSum = remote.Docs, remote.LenSum
	} else {
		for _, v := range st.views {
			docs += v.Docs()
			ls := v.LenSum()
			for f := range lenSum {
				lenSum[f] += ls[f]
			}
		}
	}
	for f := range lenSum {
		ir.Fields.AvgLen[f] = 0
		if docs > 0 {
			ir.Fields.AvgLen[f] = float64(lenSum[f]) / float64(docs)
		}
	}
	for _, w := range ws {
		if len(w.Terms) == 0 || (w.Stop && content > 0) {
			continue
		}
		if len(ir.Words) >= e.opts.MaxWords {
			break
		}
		idf := make([]float64, len(w.Terms))
		for i, t := range w.Terms {
			df := 0
			if remote != nil {
				df = remote.DF[t]
			} else {
				for _, v := range st.views {
					df += v.DocFreq(t)
				}
			}
			idf[i] = rank.IDF(docs, df)
		}
		ir.Words = append(ir.Words, w.Terms)
		ir.IDF = append(ir.IDF, idf)
	}
	return nil
}

// resolveFilter turns filter values into dictionary ords. A value no
// product has makes its filter match nothing.
func (e *Engine) resolveFilter(f *query.Filter, out *index.Filter) {
	d := e.dicts
	*out = index.Filter{
		Category:    -1,
		PriceMin:    f.PriceMin,
		PriceMax:    f.PriceMax,
		HasPriceMin: f.HasPriceMin,
		HasPriceMax: f.HasPriceMax,
		RatingMin:   float32(f.RatingMin),
		InStock:     f.InStock,
	}
	if f.Category != "" {
		o, ok := d.LookupCategory(strings.ToLower(strings.Trim(f.Category, "/")))
		if !ok {
			out.None = true
		}
		out.Category = int32(o)
	}
	if len(f.Brands) > 0 {
		for _, b := range f.Brands {
			if o, ok := d.LookupBrand(b); ok {
				out.Brands = append(out.Brands, o)
			}
		}
		if len(out.Brands) == 0 {
			out.None = true
		}
	}
	names := make([]string, 0, len(f.Attrs))
	for n := range f.Attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		var ords []uint32
		for _, v := range f.Attrs[n] {
			if o, ok := d.LookupAttr(n, v); ok {
				ords = append(ords, o)
			}
		}
		if len(ords) == 0 {
			out.None = true
		}
		out.Attrs = append(out.Attrs, ords)
		out.AttrNames = append(out.AttrNames, index.AttrName(n))
	}
}

// facetAttrs tells the shards, for each facet attribute, which filter is on
// the same attribute, so its counts can leave that filter out.
func (e *Engine) facetAttrs(ir *index.Request) {
	ir.FacetAttrFilter = ir.FacetAttrFilter[:0]
	for _, name := range e.opts.FacetAttributes {
		ir.FacetAttrFilter = append(ir.FacetAttrFilter, slices.Index(ir.Filter.AttrNames, index.AttrName(name)))
	}
}
