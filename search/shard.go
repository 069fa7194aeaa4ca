package search

import (
	"context"
	"fmt"
	"slices"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/index"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// The shard-search contract: what a router over remote shards asks of the
// engines that hold them, as plain data that travels as JSON. A router
// first sums TermStats over every shard (BM25F's document frequencies and
// field lengths are global, so a product scores as it would on one
// engine), then sends one ShardRequest per node, naming the node's shards;
// a node answers with one ShardResult for all of them. Values travel by
// name, never by dictionary ord: each engine numbers its own.

// TermStats are the BM25F statistics of some shards: summed over all of a
// cluster's shards, they are the statistics one engine holding every
// product would use.
type TermStats struct {
	Docs   int                    `json:"docs"`
	LenSum [rank.NumFields]uint64 `json:"len_sum"`
	// DF maps each asked term to the documents holding it.
	DF map[string]int `json:"df"`
}

// Add adds o to s.
func (s *TermStats) Add(o *TermStats) {
	s.Docs += o.Docs
	for f := range s.LenSum {
		s.LenSum[f] += o.LenSum[f]
	}
	if s.DF == nil {
		s.DF = make(map[string]int, len(o.DF))
	}
	for t, n := range o.DF {
		s.DF[t] += n
	}
}

// ShardRequest is one evaluation over some of an engine's shards, with the
// words already analyzed and weighted by the global statistics.
type ShardRequest struct {
	Shards    []int                   `json:"shards"`
	Words     [][]string              `json:"words,omitempty"`
	IDF       [][]float64             `json:"idf,omitempty"`
	AvgLen    [rank.NumFields]float64 `json:"avg_len"`
	Filter    query.Filter            `json:"filter"`
	Sort      query.Sort              `json:"sort,omitempty"`
	K         int                     `json:"k,omitempty"`
	Sponsored int                     `json:"sponsored,omitempty"`
	MinMatch  int                     `json:"min_match,omitempty"`
	Facets    bool                    `json:"facets,omitempty"`
	CountOnly bool                    `json:"count_only,omitempty"`
	Plain     bool                    `json:"plain,omitempty"`
	NoPrune   bool                    `json:"no_prune,omitempty"`
	// Understood, when set, boosts the hits of the brands, colours, sizes
	// and category (CategoryPath, names root first) it names, as
	// boostUnderstood does on one engine.
	Understood   *query.Understood `json:"understood,omitempty"`
	CategoryPath []string          `json:"category_path,omitempty"`
}

// ShardHit is a hit without its product: the router fetches the products
// of the page it keeps.
type ShardHit struct {
	ID      string        `json:"id"`
	Key     float64       `json:"key"`
	Score   float64       `json:"score"`
	Partial bool          `json:"partial,omitempty"`
	Offer   catalog.Offer `json:"offer"`
}

// ShardResult is an engine's answer for the shards of a ShardRequest: the
// best K hits of all of them, every sponsored candidate, the total and the
// facet counts summed.
type ShardResult struct {
	Hits      []ShardHit   `json:"hits,omitempty"`
	Sponsored []ShardHit   `json:"sponsored,omitempty"`
	Total     int          `json:"total"`
	Facets    *ShardFacets `json:"facets,omitempty"`
}

// ShardFacets are facet counts by value name.
type ShardFacets struct {
	Brands []NameCount `json:"brands,omitempty"`
	// Leaves counts products by leaf category, named by its path.
	Leaves []PathCount `json:"leaves,omitempty"`
	// Attrs holds, per facet attribute of the engine's options, in order,
	// the counts of its values.
	Attrs  [][]NameCount                       `json:"attrs,omitempty"`
	Price  [len(index.PriceBuckets) + 1]uint32 `json:"price"`
	Rating [len(index.RatingBuckets)]uint32    `json:"rating"`
	// Sampled is set when a count was estimated from a sample
	// (Options.FacetSampleAbove).
	Sampled bool `json:"sampled,omitempty"`
}

// NameCount is a facet value's count.
type NameCount struct {
	Name  string `json:"n"`
	Count uint32 `json:"c"`
}

// PathCount is a category's count.
type PathCount struct {
	Path  []string `json:"p"`
	Count uint32   `json:"c"`
}

// checkShards reports a shard number out of range.
func (e *Engine) checkShards(shards []int) error {
	for _, s := range shards {
		if s < 0 || s >= len(e.shards) {
			return fmt.Errorf("%w: shard %d of %d", ErrInvalidRequest, s, len(e.shards))
		}
	}
	return nil
}

// ShardTermStats returns the statistics of terms over the given shards.
func (e *Engine) ShardTermStats(shards []int, terms []string) (*TermStats, error) {
	if err := e.checkShards(shards); err != nil {
		return nil, err
	}
	st := &TermStats{DF: make(map[string]int, len(terms))}
	counted := make(map[string]struct{}, len(terms)) // a term asked twice counts once
	for _, i := range shards {
		v := e.shards[i].View()
		st.Docs += v.Docs()
		ls := v.LenSum()
		for f := range st.LenSum {
			st.LenSum[f] += ls[f]
		}
		for _, t := range terms {
			if _, ok := counted[t]; !ok {
				st.DF[t] += v.DocFreq(t)
				counted[t] = struct{}{}
			}
		}
		clear(counted)
	}
	return st, nil
}

// SearchShards evaluates r on its shards of e.
func (e *Engine) SearchShards(ctx context.Context, r *ShardRequest) (*ShardResult, error) {
	if err := e.checkShards(r.Shards); err != nil {
		return nil, err
	}
	if len(r.IDF) != len(r.Words) {
		return nil, fmt.Errorf("%w: %d words and %d idf lists", ErrInvalidRequest, len(r.Words), len(r.IDF))
	}
	for i := range r.Words {
		if len(r.IDF[i]) != len(r.Words[i]) {
			return nil, fmt.Errorf("%w: word %d has %d terms and %d idfs", ErrInvalidRequest, i, len(r.Words[i]), len(r.IDF[i]))
		}
	}
	if r.K < 0 || r.K > MaxResultDepth || r.Sponsored < 0 || r.Sponsored > MaxResultDepth {
		return nil, fmt.Errorf("%w: k %d, sponsored %d", ErrInvalidRequest, r.K, r.Sponsored)
	}
	ir := &index.Request{
		Words: r.Words, IDF: r.IDF, MinMatch: r.MinMatch, Fields: rank.FieldStats{AvgLen: r.AvgLen},
		Sort: r.Sort, K: r.K, Sponsored: r.Sponsored, Facets: r.Facets, CountOnly: r.CountOnly,
		Plain: r.Plain, NoPrune: r.NoPrune, Rank: &e.opts.Rank,
	}
	if r.Plain {
		ir.Rank = &e.plain
	}
	e.resolveFilter(&r.Filter, &ir.Filter)
	if r.Facets {
		e.facetAttrs(ir)
		ir.FacetSampleAbove = max(e.opts.FacetSampleAbove, 0)
	}
	views := make([]index.View, len(r.Shards))
	res := make([]index.Result, len(r.Shards))
	for k, i := range r.Shards {
		views[k] = e.shards[i].View()
	}
	if err := e.fanOut(ctx, views, ir, res); err != nil {
		return nil, err
	}
	if u := r.Understood; u != nil && r.Sort == query.SortRelevance {
		e.boostHits(res, u, r.CategoryPath)
	}
	out := &ShardResult{}
	var hits []index.Hit
	var fc index.FacetCounts
	sampled := false
	for i := range res {
		out.Total += res[i].Total
		hits = append(hits, res[i].Hits...)
		for _, h := range res[i].Sponsored {
			out.Sponsored = append(out.Sponsored, shardHit(h))
		}
		if r.Facets {
			fc.Add(&res[i].Facets)
			sampled = sampled || res[i].FacetsSampled
		}
	}
	// The best K of these shards hold the best K of the router's merge.
	slices.SortFunc(hits, compareHits)
	for _, h := range hits[:min(len(hits), r.K)] {
		out.Hits = append(out.Hits, shardHit(h))
	}
	if r.Facets {
		out.Facets = e.nameFacets(&fc)
		out.Facets.Sampled = sampled
	}
	return out, nil
}

func shardHit(h index.Hit) ShardHit {
	return ShardHit{ID: h.Product.ID, Key: h.Key, Score: h.Score, Partial: h.Partial, Offer: *h.Offer}
}

// nameFacets turns counts by this engine's ords into counts by name.
func (e *Engine) nameFacets(fc *index.FacetCounts) *ShardFacets {
	d := e.dicts
	out := &ShardFacets{Price: fc.Price, Rating: fc.Rating}
	for _, o := range fc.BrandSeen {
		out.Brands = append(out.Brands, NameCount{d.Brand(o), fc.Brand[o]})
	}
	for _, o := range fc.LeafSeen {
		out.Leaves = append(out.Leaves, PathCount{d.Path(o), fc.Leaf[o]})
	}
	for k, name := range e.opts.FacetAttributes {
		var vals []NameCount
		if k < len(fc.Attr) {
			an := index.AttrName(name)
			for local, c := range fc.Attr[k] {
				if c > 0 {
					vals = append(vals, NameCount{d.AttrLocal(an, uint32(local)).Value, c})
				}
			}
		}
		out.Attrs = append(out.Attrs, vals)
	}
	return out
}

// ShardProducts returns the live products with ids, in order, skipping
// those e does not hold; with listing set, only the fields a result page
// shows (Listing).
func (e *Engine) ShardProducts(ids []string, listing bool) []*catalog.Product {
	out := make([]*catalog.Product, 0, len(ids))
	for _, id := range ids {
		if p, ok := e.Product(id); ok {
			if listing {
				p = Listing(p)
			}
			out = append(out, p)
		}
	}
	return out
}

// Listing returns a copy of p with only what a result page shows of a
// hit: id, title, brand, category, rating, thumbnail and badges (the
// price and stock travel in the hit's Offer). A router fetches these for
// its pages: a whole product, with its description and variants, costs
// several times more to encode and decode.
func Listing(p *catalog.Product) *catalog.Product {
	return &catalog.Product{ID: p.ID, Title: p.Title, Brand: p.Brand, Category: p.Category, Rating: p.Rating,
		Thumbnail: p.Thumbnail, Badges: p.Badges, Version: p.Version}
}
