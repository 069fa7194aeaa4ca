package search

import (
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
)

// Limits on a request. The server answers 400 past them.
const (
	MaxPageSize    = 100
	MaxResultDepth = 10000 // page*page_size may not reach past this many results
	MaxQueryBytes  = 512
)

// Request is one storefront search.
type Request struct {
	Query  string
	Filter query.Filter
	Sort   query.Sort
	// Page is 1-based; PageSize defaults to 20.
	Page, PageSize int
	// Facets asks for facet counts on the filtered result set.
	Facets bool
	// NoRelax turns off the relaxation of AND to partial matches.
	NoRelax bool
	// Plain scores by BM25F alone, with no business signals; used to
	// measure what the signals add.
	Plain bool
	// NoSpell turns off spelling correction for this request.
	NoSpell bool
	// NoUnderstand turns off query understanding: the query is keywords
	// only.
	NoUnderstand bool
	// NoPrune turns dynamic pruning off: every match is scored. The
	// results are the same; it exists to measure and check pruning.
	NoPrune bool
	// NoCache answers from the index even when the response cache holds
	// the answer, and leaves the cache as it is.
	NoCache bool
}

// Result is the answer to a Request.
type Result struct {
	Hits []Hit
	// Total is the products matching, before pagination: those matching
	// every word (Exact), and, when Relaxed, the partial matches after
	// them.
	Total int
	// Exact is the products matching every word of the query.
	Exact    int
	Page     int
	PageSize int
	Facets   *Facets
	// Relaxed is set when fewer products matched every word than the
	// pages up to this one hold, and the best partial matches follow them:
	// hits with Partial set, after every full match. The first Exact
	// results of the whole list are full matches.
	Relaxed bool
	// FilterRelaxations is set when the filters left nothing: for each
	// filter the shopper could drop, how many results would remain.
	FilterRelaxations []Relaxation
	// DidYouMean is the whole query with its misspellings corrected, set
	// when the correction finds more products than the query as typed.
	DidYouMean string
	// CorrectedFrom is the query as typed when the results are those of
	// DidYouMean instead ("showing results for DidYouMean; search instead
	// for CorrectedFrom").
	CorrectedFrom string
	// Understood is what query understanding extracted from the query
	// (price bounds, a minimum rating, brands, colours) and applied; nil
	// when nothing was.
	Understood *query.Understood
	// Partial is set by a router when some shards had no live replica:
	// the answer is that of the others, and MissingShards names the
	// missing ones.
	Partial       bool
	MissingShards []int
	Took          time.Duration
}

// Hit is one product on a result page.
type Hit struct {
	Product *catalog.Product
	// Offer is the product's price and stock as indexed: the same as
	// Product.Offer(), without walking the variants again.
	Offer     catalog.Offer
	Score     float64
	Sponsored bool
	// Partial is set for a product that misses a query word, on a
	// Relaxed page.
	Partial bool
}

// Relaxation is what dropping one filter would give.
type Relaxation struct {
	Param string // the request parameter to drop: "brand", "price", ...
	Value string // the value dropped, for a multi-valued filter
	Total int
}

// Facets are counts over the filtered result set. Multi-select facets
// (brand, attributes) are disjunctive: their counts ignore their own filter.
type Facets struct {
	Brand      []FacetValue
	Category   []CategoryCount
	Price      []RangeCount
	Rating     []RangeCount
	Attributes []AttributeFacet
	// Sampled is set when some counts are estimates: a shard's match set
	// was larger than Options.FacetSampleAbove, so its counts came from
	// a 1-in-8 sample, scaled up (relative standard error about √(7/c)
	// for a count c).
	Sampled bool
}

// FacetValue is one value of a facet with its count.
type FacetValue struct {
	Value string
	Count int
}

// CategoryCount is one node of the category tree with the matching products
// in its subtree.
type CategoryCount struct {
	Slug  string // "electronics/audio"
	Name  string // "Audio"
	Level int    // 0 for a root
	Count int
}

// RangeCount is a bucket of a numeric facet, [From, To) in the field's unit
// (minor currency units for price; stars for rating). To is zero for an
// open-ended bucket.
type RangeCount struct {
	Key      string
	From, To float64
	Count    int
}

// AttributeFacet is the counts of one attribute's values.
type AttributeFacet struct {
	Name   string
	Values []FacetValue
}

// Stats describes the engine's index for metrics.
type Stats struct {
	Shards []ShardStats
}

// ShardStats describes one shard.
type ShardStats struct {
	Docs    int   // live documents
	Deleted int   // documents marked deleted and not yet merged away
	Bytes   int64 // approximate heap bytes of the shard's index structures
	Terms   int   // distinct terms
}
