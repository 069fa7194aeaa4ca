package index

import (
	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// Request is what the engine asks of every shard. The engine resolves
// words, term weights and facet-value ords once, so shards do no string
// work beyond looking terms up in their dictionaries.
type Request struct {
	// Words are ANDed (or, with MinMatch, counted); each word matches if
	// any of its alternative terms does. No words matches every product.
	Words [][]string
	// IDF holds the weight of each term of Words, computed by the engine
	// from all shards' document frequencies.
	IDF [][]float64
	// MinMatch, when above 0 and below len(Words), keeps products that
	// match at least that many words: those matching every word first,
	// then the partial matches by IDF-weighted coverage, then score.
	MinMatch int
	// Fields are the collection's average field lengths.
	Fields rank.FieldStats

	Filter Filter
	Sort   query.Sort
	// K is how many hits to return, best first.
	K int
	// Sponsored is how many sponsored candidates to return beside the
	// hits, best bid times relevance first.
	Sponsored int
	// Facets asks for facet counts, of the shard's FacetAttrs among
	// others.
	Facets bool
	// FacetAttrFilter holds, for each of the shard's FacetAttrs, the
	// index in Filter.Attrs of the filter on the same attribute, or -1.
	FacetAttrFilter []int
	// FacetSampleAbove, when above 0, is the most documents of a segment
	// a facet pass counts one by one: a larger set is counted over its
	// documents in the segment's fixed 1-in-FacetSampleRate sample
	// (sampleDocs), each counted FacetSampleRate times, and
	// Result.FacetsSampled is set.
	FacetSampleAbove int
	// CountOnly skips scoring: only Total is filled in.
	CountOnly bool
	// Plain scores by BM25F alone.
	Plain bool
	// NoPrune turns MaxScore pruning off, to measure or check it.
	NoPrune bool
	// Rank are the BM25F parameters; required unless CountOnly.
	Rank *rank.Options
}

// Filter is a query.Filter with its values resolved to dictionary ords.
type Filter struct {
	// None is set when a filter names a value no product has, so nothing
	// can match.
	None bool

	Category    int32 // node ord; -1 for none
	Brands      []uint32
	PriceMin    int64
	PriceMax    int64
	HasPriceMin bool
	HasPriceMax bool
	RatingMin   float32
	InStock     bool
	// Attrs holds, per filtered attribute name, the value ords to accept.
	Attrs [][]uint32
	// AttrNames are the folded names of Attrs, aligned with it.
	AttrNames []string
}

// Result is one shard's answer.
type Result struct {
	Hits      []Hit
	Sponsored []Hit
	Total     int
	Facets    FacetCounts
	// FacetsSampled is set when a facet count was estimated from a
	// sample (Request.FacetSampleAbove), not counted exactly.
	FacetsSampled bool
	// scored counts the documents whose text was scored, for tests of
	// pruning.
	scored int
	// skipped counts the steps of a pruned walk that scored nothing (a
	// document passed or a jump past blocks), for tests of deadlines.
	skipped int
}

// Reset empties r, keeping its memory.
func (r *Result) Reset() {
	r.Hits = r.Hits[:0]
	r.Sponsored = r.Sponsored[:0]
	r.Total = 0
	r.FacetsSampled = false
	r.scored = 0
	r.skipped = 0
	r.Facets.reset()
}

// Hit is a scored product.
type Hit struct {
	rank.Hit
	Product *catalog.Product
	// Offer is the product's price and stock, computed when it was indexed.
	Offer *catalog.Offer
	// Partial is set, in a relaxed request, for a product that misses
	// one of the words.
	Partial bool
}

// PriceBuckets are the upper bounds, in minor units, of the price facet's
// buckets; the last bucket is open-ended.
var PriceBuckets = [...]int64{1000, 2500, 5000, 10000, 20000, 50000, 100000}

// RatingBuckets are the "N stars and up" thresholds of the rating facet.
var RatingBuckets = [...]float32{4, 3, 2, 1}

// FacetCounts are counts indexed by dictionary ord, or by bucket.
type FacetCounts struct {
	Brand []uint32 // by brand ord
	// BrandSeen lists the brand ords with a count, so that adding and
	// clearing touch only those.
	BrandSeen []uint32
	Leaf      []uint32   // by category node ord: products whose leaf is the node
	LeafSeen  []uint32   // the node ords with a Leaf count
	Attr      [][]uint32 // per facet attribute, by the value's local number
	Price     [len(PriceBuckets) + 1]uint32
	Rating    [len(RatingBuckets)]uint32
}

func (f *FacetCounts) reset() {
	for _, b := range f.BrandSeen {
		f.Brand[b] = 0
	}
	f.BrandSeen = f.BrandSeen[:0]
	for _, l := range f.LeafSeen {
		f.Leaf[l] = 0
	}
	f.LeafSeen = f.LeafSeen[:0]
	for _, a := range f.Attr {
		clear(a)
	}
	f.Price = [len(PriceBuckets) + 1]uint32{}
	f.Rating = [len(RatingBuckets)]uint32{}
}

// Reset zeroes f, keeping its memory.
func (f *FacetCounts) Reset() { f.reset() }

// countBrand counts w documents of brand b.
func (f *FacetCounts) countBrand(b int32, w uint32) {
	if f.Brand[b] == 0 {
		f.BrandSeen = append(f.BrandSeen, uint32(b))
	}
	f.Brand[b] += w
}

// Add adds o's counts to f.
func (f *FacetCounts) Add(o *FacetCounts) {
	f.Brand = grow(f.Brand, len(o.Brand))
	for _, b := range o.BrandSeen {
		if f.Brand[b] == 0 {
			f.BrandSeen = append(f.BrandSeen, b)
		}
		f.Brand[b] += o.Brand[b]
	}
	f.Leaf = grow(f.Leaf, len(o.Leaf))
	for _, l := range o.LeafSeen {
		if f.Leaf[l] == 0 {
			f.LeafSeen = append(f.LeafSeen, l)
		}
		f.Leaf[l] += o.Leaf[l]
	}
	for len(f.Attr) < len(o.Attr) {
		f.Attr = append(f.Attr, nil)
	}
	for k := range o.Attr {
		f.Attr[k] = addCounts(f.Attr[k], o.Attr[k])
	}
	for i := range f.Price {
		f.Price[i] += o.Price[i]
	}
	for i := range f.Rating {
		f.Rating[i] += o.Rating[i]
	}
}

func addCounts(dst, src []uint32) []uint32 {
	if len(dst) < len(src) {
		dst = append(dst, make([]uint32, len(src)-len(dst))...)
	}
	for i, c := range src {
		dst[i] += c
	}
	return dst
}

func grow(c []uint32, n int) []uint32 {
	if len(c) >= n {
		return c
	}
	return append(c, make([]uint32, n-len(c))...)
}

func priceBucket(p int64) int {
	for i, b := range PriceBuckets {
		if p < b {
			return i
		}
	}
	return len(PriceBuckets)
}
