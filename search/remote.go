package search

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/index"
	"github.com/aisle/aisle/rank"
)

// Remote is the shards of a router, held by other engines (index nodes).
// Each call asks every shard once, of one replica, and names the shards no
// replica answered; the router's answer is then partial, not an error.
type Remote interface {
	// TermStats sums the statistics of terms over the shards.
	TermStats(ctx context.Context, terms []string) (st *TermStats, missing []int, err error)
	// Search sends r to the nodes holding the shards, each with its
	// Shards set to those it is asked for, and returns their answers.
	Search(ctx context.Context, r ShardRequest) (res []*ShardResult, missing []int, err error)
	// Products returns the live products with ids, unknown ones left
	// out: their Listing, which is all a result page shows.
	Products(ctx context.Context, ids []string) ([]*catalog.Product, error)
}

// NewRouter returns an engine that holds no products and answers every
// search by scatter-gather over remote: the same analysis, global BM25F
// statistics, relaxation, sponsored slots, facet merge and pagination as
// one engine holding every shard, so the answer is the same. Spelling
// correction and query understanding need the catalog's dictionary, which
// a router does not build: they are off (see doc/cluster.md). Hits hold
// their product's Listing, not the whole product. The response
// cache is off, since the router does not see catalog changes.
func NewRouter(opts Options, remote Remote) (*Engine, error) {
	if remote == nil {
		return nil, errors.New("search: NewRouter with no Remote")
	}
	opts.ResponseCacheBytes = -1
	opts.FilterCacheBytes = -1
	opts.Shards = max(opts.Shards, 1)
	e, err := New(opts)
	if err != nil {
		return nil, err
	}
	e.remote = remote
	return e, nil
}

// remoteStats fills docs, field length sums and document frequencies of
// terms from the remote shards.
func (e *Engine) remoteStats(ctx context.Context, st *state, terms []string) (*TermStats, error) {
	ts, missing, err := e.remote.TermStats(ctx, terms)
	if err != nil {
		return nil, fmt.Errorf("search: term statistics: %w", err)
	}
	st.addMissing(missing)
	return ts, nil
}

// runRemote is run over the remote shards: st.res holds one result per
// node that answered.
func (e *Engine) runRemote(ctx context.Context, st *state) error {
	ir := &st.req
	r := ShardRequest{
		Words: ir.Words, IDF: ir.IDF, AvgLen: ir.Fields.AvgLen, Sort: ir.Sort, K: ir.K,
		Sponsored: ir.Sponsored, MinMatch: ir.MinMatch, Facets: ir.Facets, CountOnly: ir.CountOnly,
		Plain: ir.Plain, NoPrune: ir.NoPrune, Understood: st.und, CategoryPath: st.undPath,
	}
	if st.filter != nil {
		r.Filter = *st.filter
	}
	out, missing, err := e.remote.Search(ctx, r)
	if err != nil {
		return fmt.Errorf("search: remote shards: %w", err)
	}
	st.addMissing(missing)
	if len(out) > len(st.res) {
		return fmt.Errorf("search: %d remote answers for %d shards", len(out), len(st.res))
	}
	for i := range st.res {
		st.res[i].Reset()
	}
	for i, sr := range out {
		res := &st.res[i]
		res.Total = sr.Total
		res.Hits = stubHits(res.Hits, sr.Hits)
		res.Sponsored = stubHits(res.Sponsored, sr.Sponsored)
		if sr.Facets != nil {
			e.internFacets(&res.Facets, sr.Facets)
			res.FacetsSampled = sr.Facets.Sampled
		}
	}
	return nil
}

// stubHits appends hits whose products hold only their id; the router
// fetches the products of the page it keeps (fetchProducts).
func stubHits(dst []index.Hit, hs []ShardHit) []index.Hit {
	for _, h := range hs {
		o := h.Offer
		dst = append(dst, index.Hit{Hit: rankHit(h), Product: &catalog.Product{ID: h.ID}, Offer: &o, Partial: h.Partial})
	}
	return dst
}

func rankHit(h ShardHit) rank.Hit { return rank.Hit{Key: h.Key, Score: h.Score} }

// internFacets adds the named counts of f to fc, by the router's ords.
func (e *Engine) internFacets(fc *index.FacetCounts, f *ShardFacets) {
	d := e.dicts
	for _, b := range f.Brands {
		o, ok := d.InternBrand(b.Name)
		if !ok || b.Count == 0 {
			continue
		}
		fc.Brand = growCounts(fc.Brand, int(o)+1)
		if fc.Brand[o] == 0 {
			fc.BrandSeen = append(fc.BrandSeen, o)
		}
		fc.Brand[o] += b.Count
	}
	for _, l := range f.Leaves {
		o, ok := d.InternCategory(l.Path)
		if !ok || l.Count == 0 {
			continue
		}
		fc.Leaf = growCounts(fc.Leaf, int(o)+1)
		if fc.Leaf[o] == 0 {
			fc.LeafSeen = append(fc.LeafSeen, o)
		}
		fc.Leaf[o] += l.Count
	}
	for len(fc.Attr) < len(e.opts.FacetAttributes) {
		fc.Attr = append(fc.Attr, nil)
	}
	for k, vals := range f.Attrs {
		if k >= len(e.opts.FacetAttributes) {
			break
		}
		name := e.opts.FacetAttributes[k]
		for _, v := range vals {
			o, ok := d.InternAttr(name, v.Name)
			if !ok {
				continue
			}
			local := d.Attr(o).Local
			fc.Attr[k] = growCounts(fc.Attr[k], int(local)+1)
			fc.Attr[k][local] += v.Count
		}
	}
	for i := range fc.Price {
		fc.Price[i] += f.Price[i]
	}
	for i := range fc.Rating {
		fc.Rating[i] += f.Rating[i]
	}
}

func growCounts(c []uint32, n int) []uint32 {
	if len(c) >= n {
		return c
	}
	return append(c, make([]uint32, n-len(c))...)
}

// addMissing records shards that no replica answered.
func (st *state) addMissing(shards []int) {
	for _, s := range shards {
		if !slices.Contains(st.missing, s) {
			st.missing = append(st.missing, s)
		}
	}
}

// fetchProducts replaces the stub products of res's hits by the products,
// dropping a hit whose product was deleted since it was found.
func (e *Engine) fetchProducts(ctx context.Context, res *Result) error {
	if len(res.Hits) == 0 {
		return nil
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.Product.ID
	}
	ps, err := e.remote.Products(ctx, ids)
	if err != nil {
		return fmt.Errorf("search: products of %d hits: %w", len(ids), err)
	}
	by := make(map[string]*catalog.Product, len(ps))
	for _, p := range ps {
		by[p.ID] = p
	}
	hits := res.Hits[:0]
	for _, h := range res.Hits {
		if p := by[h.Product.ID]; p != nil {
			h.Product = p
			hits = append(hits, h)
		}
	}
	res.Hits = hits
	return nil
}
