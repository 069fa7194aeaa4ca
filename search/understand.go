package search

import (
	"context"
	"maps"
	"math"
	"strings"

	"github.com/aisle/aisle/query"
)

// colorWords are the colour names query understanding may read as a colour
// filter, when they are also values of the catalog's colour facet.
var colorWords = map[string]bool{
	"black": true, "white": true, "red": true, "blue": true, "green": true, "yellow": true, "orange": true,
	"purple": true, "pink": true, "brown": true, "grey": true, "gray": true, "silver": true, "gold": true,
	"beige": true, "navy": true, "violet": true, "turquoise": true, "graphite": true, "bronze": true,
}

// vocabulary is the query.Vocabulary of the catalog: brands with enough
// products, and the colour words of the colour facet.
type vocabulary struct {
	brands map[string]string   // folded words -> display name
	colors map[string]string   // folded colour word -> facet value
	sizes  map[string]string   // lower-case size value -> facet value, when "size" is a facet
	cats   map[string]string   // title phrase -> the leaf category slug most of its products are in
	paths  map[string][]string // leaf category slug -> its path
}

func (v *vocabulary) Brand(w string) (string, bool) { n, ok := v.brands[w]; return n, ok }
func (v *vocabulary) Color(w string) (string, bool) { n, ok := v.colors[w]; return n, ok }
func (v *vocabulary) Size(w string) (string, bool)  { n, ok := v.sizes[w]; return n, ok }
func (v *vocabulary) Category(w string) (string, bool) {
	c, ok := v.cats[w]
	return c, ok
}

// build keeps the brands of at least minProducts products, and the colour
// facet values that are one colour word ("Grey" yes, "Black, Silver" no),
// under the spelling most products use. "gray" and "grey" both map to the
// more common one.
func (v *vocabulary) build(brands, colors map[string]*brandCount, minProducts int) {
	v.brands = map[string]string{}
	for k, b := range brands {
		if b.n >= minProducts && len(k) >= 2 && !isStopWord(k) {
			v.brands[k] = b.name
		}
	}
	v.colors = map[string]string{}
	best := map[string]int{}
	for k, c := range colors {
		if !colorWords[k] {
			continue
		}
		if c.n > best[k] {
			v.colors[k], best[k] = c.name, c.n
		}
	}
	if g, ok := v.colors["grey"]; ok {
		if a, ok := v.colors["gray"]; !ok || best["grey"] >= best["gray"] {
			v.colors["gray"] = g
		} else {
			v.colors["grey"] = a
		}
	}
}

// noColors hides the colours and sizes of a vocabulary, for the retry of
// a query whose colour or size filter left nothing.
type noColors struct{ v *vocabulary }

func (n noColors) Brand(w string) (string, bool)    { return n.v.Brand(w) }
func (noColors) Color(string) (string, bool)        { return "", false }
func (n noColors) Category(w string) (string, bool) { return n.v.Category(w) }

// minorUnits converts an understood price in major units to the engine's
// minor units (cents).
func minorUnits(p float64) int64 { return int64(math.Round(p * 100)) }

// prepare reads q with query understanding: the keywords to match, the
// request's filter with the understood bounds added where the request set
// none, and what was understood (nil for nothing).
func (e *Engine) prepare(r *Request, q string, withColors bool) (string, query.Filter, *query.Understood) {
	f := r.Filter
	sp := e.spelling.Load()
	if r.NoUnderstand || e.opts.NoUnderstand || sp == nil {
		return q, f, nil
	}
	var voc query.Vocabulary = &sp.vocab
	if !withColors {
		voc = noColors{&sp.vocab}
	}
	u := query.Understand(q, voc)
	if u.IsZero() {
		return u.Keywords, f, nil
	}
	if u.HasPriceMin && !f.HasPriceMin {
		f.PriceMin, f.HasPriceMin = minorUnits(u.PriceMin), true
	}
	if u.HasPriceMax && !f.HasPriceMax {
		f.PriceMax, f.HasPriceMax = minorUnits(u.PriceMax), true
	}
	if u.RatingMin > f.RatingMin {
		f.RatingMin = u.RatingMin
	}
	for _, a := range [...]struct {
		name string
		vs   []string
	}{{"color", u.Colors}, {"size", u.Sizes}} {
		if len(a.vs) == 0 || len(f.Attrs[a.name]) > 0 {
			continue
		}
		attrs := maps.Clone(f.Attrs)
		if attrs == nil {
			attrs = map[string][]string{}
		}
		attrs[a.name] = a.vs
		f.Attrs = attrs
	}
	und := u.Understood
	return u.Keywords, f, &und
}

// runQuery runs the query text q of r into res: understanding, then the
// search, then, when a colour or size filter left nothing, the search
// again with those words as keywords.
func (e *Engine) runQuery(ctx context.Context, st *state, r *Request, q string, res *Result) error {
	text, f, und := e.prepare(r, q, true)
	res.Understood = und
	if err := e.execute(ctx, st, r, text, &f, und, res); err != nil {
		return err
	}
	if und == nil || len(und.Colors) == 0 && len(und.Sizes) == 0 || res.Total > 0 {
		return nil
	}
	text, f, und = e.prepare(r, q, false)
	*res = Result{Page: res.Page, PageSize: res.PageSize, Understood: und}
	return e.execute(ctx, st, r, text, &f, und, res)
}

// boostUnderstood raises, by the factor 1+BrandBoost, the score of every
// shard hit whose brand the query named, and by 1+CategoryBoost that of
// every hit in the predicted category or under it, before the hits are
// merged: a re-ranking of each shard's best K, not a filter. The index has
// no such boosts of its own, so products beyond a shard's top K are not
// reached; with K = page*size that is the page the shopper sees.
func (e *Engine) boostUnderstood(st *state, u *query.Understood) {
	if u == nil || st.req.Sort != query.SortRelevance {
		return
	}
	fb, fc := e.opts.BrandBoost, e.opts.CategoryBoost
	var path []string
	if sp := e.spelling.Load(); sp != nil && u.Category != "" {
		path = sp.vocab.paths[u.Category]
	}
	if (len(u.Brands) == 0 || fb == 0) && (path == nil || fc == 0) {
		return
	}
	for i := range st.res {
		hs := st.res[i].Hits
		for k := range hs {
			f := 0.0
			b := hs[k].Product.Brand
			for _, want := range u.Brands {
				if strings.EqualFold(b, want) {
					f = fb
					break
				}
			}
			if path != nil && hasPrefix(hs[k].Product.Category, path) {
				f = (1+f)*(1+fc) - 1
			}
			if f != 0 {
				hs[k].Key += hs[k].Score * f
				hs[k].Score *= 1 + f
			}
		}
	}
}

func hasPrefix(path, prefix []string) bool {
	if len(path) < len(prefix) {
		return false
	}
	for i := range prefix {
		if path[i] != prefix[i] {
			return false
		}
	}
	return true
}
