package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/index"
	aq "github.com/aisle/aisle/query"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bq "github.com/blevesearch/bleve/v2/search/query"
	bleveindex "github.com/blevesearch/bleve_index_api"
)

// bleveBatch is the number of products per Bleve batch. An in-memory
// scorch index has no merger, so each batch stays a segment: large batches
// keep the segment count, and so the query cost, near what a merged disk
// index would have.
const bleveBatch = 20000

// bleveFields are the text fields and their boosts, as Aisle's BM25F
// weighs them (rank.DefaultOptions).
var bleveFields = []struct {
	name  string
	boost float64
}{{"title", 3}, {"brand", 2}, {"category", 1.5}, {"attributes", 1}, {"description", 0.5}}

// bleveEngine adapts a Bleve index to Searcher.
type bleveEngine struct {
	idx bleve.Index
	an  analysis.Analyzer
}

// bleveMapping is the mapping equivalent to what Aisle indexes: English
// text fields, brand and category as keywords (category as every ancestor
// slug, so a node matches its subtree), price and rating as numbers,
// in-stock as a bool, color as a keyword for its facet, created as a number
// for the newest sort. Nothing is stored and no term vectors are kept: the
// benchmark needs ids, counts and facets only, as Aisle keeps its products
// in memory anyway. Scoring is BM25.
func bleveMapping() *mapping.IndexMappingImpl {
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = en.AnalyzerName
		f.Store, f.IncludeTermVectors, f.IncludeInAll, f.DocValues = false, false, false, false
		return f
	}
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store, f.IncludeTermVectors, f.IncludeInAll = false, false, false
		return f
	}
	num := func() *mapping.FieldMapping {
		f := bleve.NewNumericFieldMapping()
		f.Store, f.IncludeInAll = false, false
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	for _, f := range bleveFields {
		doc.AddFieldMappingsAt(f.name, text())
	}
	doc.AddFieldMappingsAt("brand_kw", kw())
	doc.AddFieldMappingsAt("category_path", kw())
	doc.AddFieldMappingsAt("color", kw())
	doc.AddFieldMappingsAt("price", num())
	doc.AddFieldMappingsAt("rating", num())
	doc.AddFieldMappingsAt("created", num())
	stock := bleve.NewBooleanFieldMapping()
	stock.Store, stock.IncludeInAll = false, false
	doc.AddFieldMappingsAt("in_stock", stock)
	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = en.AnalyzerName
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	m.ScoringModel = bleveindex.BM25Scoring
	return m
}

// bleveDoc returns the fields Bleve indexes for p.
func bleveDoc(p *catalog.Product) map[string]any {
	var attrs []string
	color := ""
	for k, v := range p.Attributes {
		attrs = append(attrs, v)
		if k == "color" {
			color = strings.ToLower(v)
		}
	}
	for i := range p.Variants {
		for k, v := range p.Variants[i].Attributes {
			attrs = append(attrs, v)
			if k == "color" && color == "" {
				color = strings.ToLower(v)
			}
		}
	}
	price, _ := p.Price()
	d := map[string]any{
		"title": p.Title, "brand": p.Brand, "category": strings.Join(p.Category, " "),
		"attributes": strings.Join(attrs, " "), "description": p.Description,
		"brand_kw": strings.ToLower(p.Brand), "category_path": ancestorSlugs(p.Category),
		"price": float64(price.Amount), "rating": p.Rating.Avg, "in_stock": p.InStock(),
		"created": float64(p.CreatedAt.Unix()),
	}
	if color != "" {
		d["color"] = color
	}
	return d
}

// ancestorSlugs returns the slug of every node on path, root first.
func ancestorSlugs(path []string) []string {
	out := make([]string, len(path))
	for i := range path {
		out[i] = catalog.CategorySlug(path[:i+1])
	}
	return out
}

func buildBleve(ctx context.Context, ps []*catalog.Product) (*engine, error) {
	m := bleveMapping()
	idx, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("bench: bleve: %w", err)
	}
	fail := func(err error) (*engine, error) {
		idx.Close()
		return nil, fmt.Errorf("bench: bleve: indexing %d products: %w", len(ps), err)
	}
	for lo := 0; lo < len(ps); lo += bleveBatch {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		b := idx.NewBatch()
		for _, p := range ps[lo:min(lo+bleveBatch, len(ps))] {
			if err := b.Index(p.ID, bleveDoc(p)); err != nil {
				return fail(err)
			}
		}
		if err := idx.Batch(b); err != nil {
			return fail(err)
		}
	}
	e := &bleveEngine{idx: idx, an: m.AnalyzerNamed(en.AnalyzerName)}
	return &engine{name: PeerBleve, s: e, close: idx.Close}, nil
}

// Notes says how the peer was set up.
func (b *bleveEngine) Notes() string {
	return "scorch in memory (no persister or merger), BM25, English analyzer; every word must match some field, else any word; facets conjunctive"
}

func (b *bleveEngine) Search(ctx context.Context, q *Query, k int, ids []string) ([]string, int, error) {
	words := b.words(q.Text)
	req := b.request(q, words, false, k)
	res, err := b.idx.SearchInContext(ctx, req)
	if err == nil && res.Total == 0 && len(words) > 1 {
		res, err = b.idx.SearchInContext(ctx, b.request(q, words, true, k))
	}
	if err != nil {
		return ids[:0], 0, fmt.Errorf("bench: bleve: query %q: %w", q.Text, err)
	}
	ids = ids[:0]
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	return ids, int(res.Total), nil
}

// words returns the words of text that the English analyzer keeps, so that
// a stop word does not make the conjunction fail.
func (b *bleveEngine) words(text string) []string {
	var out []string
	for _, w := range strings.Fields(text) {
		if len(b.an.Analyze([]byte(w))) > 0 {
			out = append(out, w)
		}
	}
	return out
}

// request builds the search: each word must match one of the text fields
// (or, relaxed, any word), and every filter must hold.
func (b *bleveEngine) request(q *Query, words []string, relaxed bool, k int) *bleve.SearchRequest {
	var text bq.Query = bleve.NewMatchAllQuery()
	if len(words) > 0 {
		per := make([]bq.Query, len(words))
		for i, w := range words {
			fs := make([]bq.Query, len(bleveFields))
			for j, f := range bleveFields {
				m := bleve.NewMatchQuery(w)
				m.SetField(f.name)
				m.SetBoost(f.boost)
				fs[j] = m
			}
			per[i] = bleve.NewDisjunctionQuery(fs...)
		}
		if relaxed {
			text = bleve.NewDisjunctionQuery(per...)
		} else {
			text = bleve.NewConjunctionQuery(per...)
		}
	}
	filters := bleveFilters(&q.Filter)
	var top bq.Query = text
	if len(filters) > 0 {
		bl := bleve.NewBooleanQuery()
		bl.AddMust(text)
		bl.AddMust(filters...)
		top = bl
	}
	req := bleve.NewSearchRequestOptions(top, k, 0, false)
	switch q.Sort {
	case aq.SortPriceAsc:
		req.SortBy([]string{"price", "-_score"})
	case aq.SortPriceDesc:
		req.SortBy([]string{"-price", "-_score"})
	case aq.SortRating:
		req.SortBy([]string{"-rating", "-_score"})
	case aq.SortNewest:
		req.SortBy([]string{"-created", "-_score"})
	}
	if q.Facets {
		req.AddFacet("brand", bleve.NewFacetRequest("brand_kw", 20))
		req.AddFacet("category", bleve.NewFacetRequest("category_path", 80))
		req.AddFacet("color", bleve.NewFacetRequest("color", 20))
		price := bleve.NewFacetRequest("price", len(index.PriceBuckets)+1)
		lo := 0.0
		for _, hi := range index.PriceBuckets {
			h := float64(hi)
			price.AddNumericRange(fmt.Sprintf("%g-%g", lo, h), &lo, &h)
			lo = h
		}
		price.AddNumericRange(fmt.Sprintf("%g-", lo), &lo, nil)
		req.AddFacet("price", price)
		rating := bleve.NewFacetRequest("rating", len(index.RatingBuckets))
		for _, t := range index.RatingBuckets {
			f := float64(t)
			rating.AddNumericRange(fmt.Sprintf("%g-up", f), &f, nil)
		}
		req.AddFacet("rating", rating)
	}
	return req
}

// bleveFilters returns one query per set field of f.
func bleveFilters(f *aq.Filter) []bq.Query {
	var out []bq.Query
	if f.Category != "" {
		t := bleve.NewTermQuery(f.Category)
		t.SetField("category_path")
		out = append(out, t)
	}
	if len(f.Brands) > 0 {
		bs := make([]bq.Query, len(f.Brands))
		for i, b := range f.Brands {
			t := bleve.NewTermQuery(strings.ToLower(b))
			t.SetField("brand_kw")
			bs[i] = t
		}
		out = append(out, bleve.NewDisjunctionQuery(bs...))
	}
	if f.HasPriceMin || f.HasPriceMax {
		var lo, hi *float64
		if f.HasPriceMin {
			v := float64(f.PriceMin)
			lo = &v
		}
		if f.HasPriceMax {
			v := float64(f.PriceMax)
			hi = &v
		}
		yes := true
		r := bleve.NewNumericRangeInclusiveQuery(lo, hi, &yes, &yes)
		r.SetField("price")
		out = append(out, r)
	}
	if f.RatingMin > 0 {
		v := f.RatingMin
		r := bleve.NewNumericRangeQuery(&v, nil)
		r.SetField("rating")
		out = append(out, r)
	}
	if f.InStock {
		s := bleve.NewBoolFieldQuery(true)
		s.SetField("in_stock")
		out = append(out, s)
	}
	for name, vals := range f.Attrs {
		vs := make([]bq.Query, len(vals))
		for i, v := range vals {
			t := bleve.NewTermQuery(strings.ToLower(v))
			t.SetField(name) // only "color" is indexed as a keyword
			vs[i] = t
		}
		out = append(out, bleve.NewDisjunctionQuery(vs...))
	}
	return out
}
