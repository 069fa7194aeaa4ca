package search

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aisle/aisle/index"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// compareHits orders hits from all shards: as each shard does, then by
// product id so the order does not depend on the shard count.
func compareHits(a, b index.Hit) int {
	if a.Key != b.Key {
		return cmp.Compare(b.Key, a.Key)
	}
	if a.Score != b.Score {
		return cmp.Compare(b.Score, a.Score)
	}
	return cmp.Compare(a.Product.ID, b.Product.ID)
}

// collectSponsored keeps the shards' sponsored candidates of the run just
// made, for page.
func (st *state) collectSponsored() {
	st.spons = st.spons[:0]
	for i := range st.res {
		st.spons = append(st.spons, st.res[i].Sponsored...)
	}
}

// page merges the shards' hits and cuts the requested page. Sponsored
// products take slots inside the page, on the first page only: page_size
// is the page's size, and the organic results of later pages start where
// the first page's left off, so every organic result is on one page.
func (e *Engine) page(st *state, res *Result, page, size int) {
	st.hits = st.hits[:0]
	for i := range st.res {
		st.hits = append(st.hits, st.res[i].Hits...)
	}
	slices.SortFunc(st.hits, compareHits)
	ads := e.ads(st, size)
	from := min(max((page-1)*size-len(ads), 0), len(st.hits))
	to := min(page*size-len(ads), len(st.hits))
	if page > 1 {
		ads = nil
	}
	organic := st.hits[from:to]
	res.Hits = make([]Hit, 0, len(organic)+len(ads))
	for _, h := range organic {
		res.Hits = append(res.Hits, Hit{Product: h.Product, Offer: *h.Offer, Score: h.Score, Partial: h.Partial})
	}
	for _, ad := range ads {
		res.Hits = slices.Insert(res.Hits, ad.slot, ad.hit)
	}
}

type placedAd struct {
	slot int
	hit  Hit
}

// ads chooses the first page's sponsored products and their slots: each
// needs a share of the best organic relevance, matches every query word,
// and is not among the page's organic results. A slot past the organic
// results of a short page stays empty.
func (e *Engine) ads(st *state, size int) []placedAd {
	slots := e.opts.Rank.SponsoredSlots
	if len(st.spons) == 0 || len(st.hits) == 0 {
		return nil
	}
	slices.SortFunc(st.spons, compareHits)
	floor := st.hits[0].Score * e.opts.Rank.SponsoredMinRelevance
	firstPage := st.hits[:min(size, len(st.hits))]
	onPage := make(map[string]bool, len(firstPage))
	for _, h := range firstPage {
		onPage[h.Product.ID] = true
	}
	var out []placedAd
	for _, h := range st.spons {
		if len(out) == len(slots) {
			break
		}
		if h.Score < floor || onPage[h.Product.ID] || h.Partial {
			continue
		}
		// With n ads, the page holds min(size-n, hits) organic results;
		// slot s is on it when at most s results come before it.
		slot, n := slots[len(out)], len(out)+1
		if slot >= size || slot > min(size-n, len(st.hits))+n-1 {
			break
		}
		out = append(out, placedAd{slot, Hit{Product: h.Product, Offer: *h.Offer, Score: h.Score, Sponsored: true}})
	}
	return out
}

// facets adds up the shards' counts and names the values.
func (e *Engine) facets(st *state, f *query.Filter) *Facets {
	fc := &st.facet
	fc.Reset()
	for i := range st.res {
		fc.Add(&st.res[i].Facets)
	}
	out := &Facets{}
	for i := range st.res {
		out.Sampled = out.Sampled || st.res[i].FacetsSampled
	}
	d := e.dicts
	max := e.opts.MaxFacetValues

	// Brands: the most frequent, and every selected one.
	selected := map[uint32]bool{}
	for _, b := range f.Brands {
		if o, ok := d.LookupBrand(b); ok {
			selected[o] = true
		}
	}
	type oc struct {
		ord   uint32
		count uint32
		name  string
	}
	// Equal counts go by name: value numbers follow the order values
	// were first seen, which a restart from snapshots does not keep.
	byCount := func(a, b oc) int {
		if a.count != b.count {
			return cmp.Compare(b.count, a.count)
		}
		return cmp.Compare(a.name, b.name)
	}
	// The most frequent brands by a bounded heap, then the selected ones
	// that did not make it.
	// Brands tied at the cut go by name too, so the values shown do not
	// depend on value numbers (nor, behind a router, on the shard count):
	// the heap finds the cut's count, and every brand at or above it is
	// sorted.
	tk := rank.NewTopK(max)
	for _, o := range fc.BrandSeen {
		tk.Push(rank.Hit{Doc: o, Key: float64(fc.Brand[o])})
	}
	var top []oc
	if best := tk.Sorted(nil); len(best) > 0 {
		cut := uint32(best[len(best)-1].Key)
		for _, o := range fc.BrandSeen {
			if fc.Brand[o] >= cut {
				top = append(top, oc{o, fc.Brand[o], d.Brand(o)})
			}
		}
		slices.SortFunc(top, byCount)
		top = top[:min(len(top), max)]
		for _, t := range top {
			delete(selected, t.ord)
		}
	}
	for o := range selected {
		var c uint32
		if int(o) < len(fc.Brand) {
			c = fc.Brand[o]
		}
		top = append(top, oc{o, c, d.Brand(o)})
	}
	slices.SortFunc(top, byCount)
	for _, t := range top {
		out.Brand = append(out.Brand, FacetValue{Value: t.name, Count: int(t.count)})
	}

	// Categories: leaf counts added up the tree. With no category chosen,
	// the roots and their children; with one, its path and its children.
	parents := e.parents()
	if cap(st.sub) < len(parents) {
		st.sub = make([]uint32, len(parents))
	}
	sub := st.sub[:len(parents)]
	clear(sub)
	for _, o := range fc.LeafSeen {
		c := fc.Leaf[o]
		for n := int32(o); n >= 0; n = parents[n] {
			sub[n] += c
		}
	}
	chosen := int32(-1)
	if f.Category != "" {
		if o, ok := d.LookupCategory(strings.ToLower(strings.Trim(f.Category, "/"))); ok {
			chosen = int32(o)
		}
	}
	onPath := map[int32]bool{}
	for n := chosen; n >= 0; n = parents[n] {
		onPath[n] = true
	}
	var cats []CategoryCount
	for o, c := range sub {
		if c == 0 {
			continue
		}
		p := parents[o]
		show := false
		switch {
		case chosen < 0:
			show = p < 0 || parents[p] < 0
		default:
			show = onPath[int32(o)] || p == chosen
		}
		if show {
			n := d.Node(uint32(o))
			cats = append(cats, CategoryCount{Slug: n.Slug, Name: n.Name, Level: n.Level, Count: int(c)})
		}
	}
	slices.SortFunc(cats, func(a, b CategoryCount) int {
		if a.Level != b.Level {
			return cmp.Compare(a.Level, b.Level)
		}
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return cmp.Compare(a.Slug, b.Slug)
	})
	if len(cats) > 4*max {
		cats = cats[:4*max]
	}
	out.Category = cats

	for i, c := range fc.Price {
		if c > 0 {
			b := priceRanges[i]
			b.Count = int(c)
			out.Price = append(out.Price, b)
		}
	}
	for i, c := range fc.Rating {
		b := ratingRanges[i]
		b.Count = int(c)
		out.Rating = append(out.Rating, b)
	}

	// Attributes, in the order of Options.FacetAttributes.
	for k, name := range e.opts.FacetAttributes {
		if k >= len(fc.Attr) {
			break
		}
		var vals []oc
		an := index.AttrName(name)
		for local, c := range fc.Attr[k] {
			if c > 0 {
				vals = append(vals, oc{uint32(local), c, d.AttrLocal(an, uint32(local)).Value})
			}
		}
		if len(vals) == 0 {
			continue
		}
		slices.SortFunc(vals, byCount)
		af := AttributeFacet{Name: name}
		for i, v := range vals {
			if i >= max {
				break
			}
			af.Values = append(af.Values, FacetValue{Value: v.name, Count: int(v.count)})
		}
		out.Attributes = append(out.Attributes, af)
	}
	return out
}

// relaxFilters counts, for each filter set in f, the results the same
// query would have without it.
func (e *Engine) relaxFilters(ctx context.Context, st *state, f *query.Filter) ([]Relaxation, error) {
	type drop struct {
		param string
		value string
		fn    func(*query.Filter)
	}
	var drops []drop
	if f.Category != "" {
		drops = append(drops, drop{"category", f.Category, func(g *query.Filter) { g.Category = "" }})
	}
	if len(f.Brands) > 0 {
		drops = append(drops, drop{"brand", strings.Join(f.Brands, ","), func(g *query.Filter) { g.Brands = nil }})
	}
	if f.HasPriceMin || f.HasPriceMax {
		drops = append(drops, drop{"price", "", func(g *query.Filter) { g.HasPriceMin, g.HasPriceMax = false, false }})
	}
	if f.RatingMin > 0 {
		drops = append(drops, drop{"rating_min", fmt.Sprintf("%g", f.RatingMin), func(g *query.Filter) { g.RatingMin = 0 }})
	}
	if f.InStock {
		drops = append(drops, drop{"in_stock", "true", func(g *query.Filter) { g.InStock = false }})
	}
	names := make([]string, 0, len(f.Attrs))
	for n := range f.Attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		drops = append(drops, drop{"attr." + n, strings.Join(f.Attrs[n], ","), func(g *query.Filter) { delete(g.Attrs, n) }})
	}
	ir := &st.req
	ir.CountOnly, ir.Facets = true, false
	var out []Relaxation
	for _, d := range drops {
		g := *f
		g.Attrs = make(map[string][]string, len(f.Attrs))
		for k, v := range f.Attrs {
			g.Attrs[k] = v
		}
		d.fn(&g)
		e.resolveFilter(&g, &ir.Filter)
		st.filter = &g
		if err := e.run(ctx, st); err != nil {
			return nil, err
		}
		if n := e.total(st); n > 0 {
			out = append(out, Relaxation{Param: d.param, Value: d.value, Total: n})
		}
	}
	slices.SortStableFunc(out, func(a, b Relaxation) int { return cmp.Compare(b.Total, a.Total) })
	return out, nil
}

// parents returns the parent of every category node, cached until the
// dictionary grows.
func (e *Engine) parents() []int32 {
	_, n, _ := e.dicts.Sizes()
	if p := e.parentCache.Load(); p != nil && len(*p) == n {
		return *p
	}
	p := e.dicts.Parents(nil)
	e.parentCache.Store(&p)
	return p
}

// priceRanges and ratingRanges are the facet buckets without their counts:
// price in minor units, keyed in major ones ("25-50", "1000-").
var priceRanges, ratingRanges = func() (p, r []RangeCount) {
	lo := int64(0)
	for i := range len(index.PriceBuckets) + 1 {
		var hi int64
		key := ""
		if i < len(index.PriceBuckets) {
			hi = index.PriceBuckets[i]
			key = fmt.Sprintf("%d-%d", lo/100, hi/100)
		} else {
			key = fmt.Sprintf("%d-", lo/100)
		}
		p = append(p, RangeCount{Key: key, From: float64(lo), To: float64(hi)})
		lo = hi
	}
	for _, t := range index.RatingBuckets {
		r = append(r, RangeCount{Key: fmt.Sprintf("%g-up", t), From: float64(t)})
	}
	return p, r
}()
