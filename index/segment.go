package index

import (
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/rank"
)

// segment is an immutable part of a shard: the products it holds are
// numbered 0..n-1 in the order they were added.
type segment struct {
	docs []*catalog.Product
	ids  map[string]uint32

	terms    map[string]uint32 // term -> posting number
	postings []posting
	lens     []rank.DocLens
	lenSum   [rank.NumFields]uint64

	// Columns, indexed by doc.
	offer     []catalog.Offer
	price     []int64   // lowest price in minor units
	rating    []float32 // average rating
	created   []int64   // unix seconds
	boost     []float32 // business-signal factor under the shard's rank options
	sponsored []int64   // bid; 0 when not sponsored
	brand     []int32   // brand ord, -1 when none
	leaf      []int32   // leaf category node ord, -1 when none
	fattr     [][]int32 // per Options.FacetAttrs: the value's local number, -1 when none

	all      *roaring.Bitmap
	inStock  *roaring.Bitmap
	brands   map[uint32]*roaring.Bitmap // brand ord -> docs
	nodes    map[uint32]*roaring.Bitmap // category node ord -> docs of its subtree
	attrs    map[uint32]*roaring.Bitmap // attribute value ord -> docs
	hasSpons bool
	maxBoost float32                        // the largest of boost, an upper bound for pruning
	spons    atomic.Pointer[roaring.Bitmap] // see sponsoredDocs
	bcols    bucketColsPtr                  // see buckets
	sample   atomic.Pointer[roaring.Bitmap] // see sampleDocs
	branges  atomic.Pointer[[]float32]      // see boostRanges
	cacheID  atomic.Uint64                  // the segment's number in the filter cache; 0 before its first use

	bytes int64
}

// posting is the documents of one term, ascending, with the term's
// frequency in each field of each document.
type posting struct {
	docs []uint32
	tfs  []rank.TermFreqs
	bm   atomic.Pointer[roaring.Bitmap] // see bitmap
	bmax atomic.Pointer[blockMax]       // see blockMax
	// wants counts the pruned searches that found bmax unbuilt; see
	// blockMaxTerms.
	wants atomic.Int32
}

// bitmap returns the posting's documents as a bitmap for set algebra,
// built from docs the first time a search needs it and shared after: most
// terms are never searched, and building every posting's bitmap was a
// tenth of a segment build and of a snapshot load.
func (p *posting) bitmap() *roaring.Bitmap {
	if bm := p.bm.Load(); bm != nil {
		return bm
	}
	bm := roaring.New()
	bm.AddMany(p.docs)
	bm.RunOptimize()
	if p.bm.CompareAndSwap(nil, bm) {
		return bm
	}
	return p.bm.Load()
}

func (s *segment) len() int { return len(s.docs) }

// newSegment returns a segment of n documents, docs or (when docs is nil)
// a new slice of n, with every column allocated and empty bitmaps, for
// build, mergeSegments and the snapshot loader to fill.
func newSegment(docs []*catalog.Product, n, facetAttrs int) *segment {
	if docs == nil {
		docs = make([]*catalog.Product, n)
	}
	s := &segment{
		docs:      docs,
		ids:       make(map[string]uint32, n),
		lens:      make([]rank.DocLens, n),
		offer:     make([]catalog.Offer, n),
		price:     make([]int64, n),
		rating:    make([]float32, n),
		created:   make([]int64, n),
		boost:     make([]float32, n),
		sponsored: make([]int64, n),
		brand:     make([]int32, n),
		leaf:      make([]int32, n),
		fattr:     make([][]int32, facetAttrs),
		all:       roaring.New(),
		inStock:   roaring.New(),
		brands:    map[uint32]*roaring.Bitmap{},
		nodes:     map[uint32]*roaring.Bitmap{},
		attrs:     map[uint32]*roaring.Bitmap{},
	}
	for k := range s.fattr {
		s.fattr[k] = make([]int32, n)
	}
	return s
}

// build makes a segment of ps with the shard's options; the business boost
// of each product is computed at time now.
func build(ps []*catalog.Product, opts *Options, now time.Time) *segment {
	dicts, ro := opts.Dicts, &opts.Rank
	n := len(ps)
	s := newSegment(ps, n, len(opts.FacetAttrs))
	for k := range s.fattr {
		for d := range s.fattr[k] {
			s.fattr[k][d] = -1
		}
	}
	pb := &postingsBuilder{terms: newTermTable(n * 4), short: map[string][]uint32{}}
	fb := newFacetBuilder(dicts, opts.FacetAttrs, n)
	for d, p := range ps {
		d32 := int32(d)
		s.ids[p.ID] = uint32(d)
		lens := &s.lens[d]
		pb.add(lens, rank.Title, p.Title, d32)
		pb.addShort(lens, rank.Brand, p.Brand, d32)
		for _, c := range p.Category {
			pb.addShort(lens, rank.Category, c, d32)
		}
		// Facet values are read in the same loops as the text, in the
		// same order as before: the product's attributes, then each
		// variant's.
		for name, v := range p.Attributes {
			pb.addShort(lens, rank.Attributes, v, d32)
			fb.attr(name, v, d32, s.fattr)
		}
		for i := range p.Variants {
			for name, v := range p.Variants[i].Attributes {
				pb.addShort(lens, rank.Attributes, v, d32)
				fb.attr(name, v, d32, s.fattr)
			}
		}
		pb.add(lens, rank.Description, p.Description, d32)
		for f := range s.lenSum {
			s.lenSum[f] += uint64(lens[f])
		}

		s.offer[d] = p.Offer()
		s.price[d] = s.offer[d].Price.Amount
		s.rating[d] = float32(p.Rating.Avg)
		s.created[d] = p.CreatedAt.Unix()
		in := s.offer[d].InStock
		if in {
			s.inStock.Add(uint32(d))
		}
		s.boost[d] = boostAt(ro, p, in, now)
		s.maxBoost = max(s.maxBoost, s.boost[d])
		s.sponsored[d] = p.Sponsored
		if p.Sponsored > 0 {
			s.hasSpons = true
		}
		s.brand[d] = fb.brand(p.Brand, d32)
		s.leaf[d] = fb.category(p.Category, d32)
	}
	s.all.AddRange(0, uint64(n))
	s.terms = make(map[string]uint32, len(pb.terms.terms))
	s.postings = pb.postings(s.terms)
	fb.bitmaps(s)
	s.inStock.RunOptimize()
	s.bytes = s.size()
	return s
}

// size estimates the heap bytes of s's index structures (not the products).
func (s *segment) size() int64 {
	var b int64
	for t := range s.terms {
		b += int64(len(t)) + 24
	}
	for i := range s.postings {
		p := &s.postings[i]
		b += int64(cap(p.docs))*4 + int64(cap(p.tfs))*int64(rank.NumFields) + 64
	}
	n := int64(len(s.docs))
	b += n * (8 + 2*int64(rank.NumFields) + 8 + 4 + 8 + 4 + 8 + 4 + 4 + 40)
	for _, m := range []map[uint32]*roaring.Bitmap{s.brands, s.nodes, s.attrs} {
		for _, bm := range m {
			b += int64(bm.GetSizeInBytes()) + 48
		}
	}
	return b
}
