package index

import (
	"math"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// buildReference is build as it was before it was optimised, kept to check
// that build's output did not change.
func buildReference(ps []*catalog.Product, opts *Options, now time.Time) *segment {
	dicts, ro := opts.Dicts, &opts.Rank
	n := len(ps)
	s := &segment{
		docs:      ps,
		ids:       make(map[string]uint32, n),
		terms:     make(map[string]uint32, n*4),
		lens:      make([]rank.DocLens, n),
		offer:     make([]catalog.Offer, n),
		price:     make([]int64, n),
		rating:    make([]float32, n),
		created:   make([]int64, n),
		boost:     make([]float32, n),
		sponsored: make([]int64, n),
		brand:     make([]int32, n),
		leaf:      make([]int32, n),
		all:       roaring.New(),
		inStock:   roaring.New(),
		brands:    map[uint32]*roaring.Bitmap{},
		nodes:     map[uint32]*roaring.Bitmap{},
		attrs:     map[uint32]*roaring.Bitmap{},
		fattr:     make([][]int32, len(opts.FacetAttrs)),
	}
	for k := range s.fattr {
		s.fattr[k] = make([]int32, n)
		for d := range s.fattr[k] {
			s.fattr[k][d] = -1
		}
	}
	var (
		buf   []string
		tfDoc = map[string]*rank.TermFreqs{}
		order []string
		pb    []refPostingBuilder
	)
	addField := func(f rank.Field, text string, d int) {
		before := len(buf)
		buf = query.AppendTerms(buf, text)
		l := int(s.lens[d][f]) + len(buf) - before
		s.lens[d][f] = uint16(min(l, math.MaxUint16))
		for _, t := range buf[before:] {
			tf, ok := tfDoc[t]
			if !ok {
				tf = new(rank.TermFreqs)
				tfDoc[t] = tf
				order = append(order, t)
			}
			if tf[f] < math.MaxUint8 {
				tf[f]++
			}
		}
		buf = buf[:before]
	}
	addBitmap := func(m map[uint32]*roaring.Bitmap, ord uint32, d int) {
		bm := m[ord]
		if bm == nil {
			bm = roaring.New()
			m[ord] = bm
		}
		bm.Add(uint32(d))
	}
	for d, p := range ps {
		s.ids[p.ID] = uint32(d)
		clear(tfDoc)
		order = order[:0]
		addField(rank.Title, p.Title, d)
		addField(rank.Brand, p.Brand, d)
		for _, c := range p.Category {
			addField(rank.Category, c, d)
		}
		for _, v := range p.Attributes {
			addField(rank.Attributes, v, d)
		}
		for i := range p.Variants {
			for _, v := range p.Variants[i].Attributes {
				addField(rank.Attributes, v, d)
			}
		}
		addField(rank.Description, p.Description, d)
		for f := range s.lenSum {
			s.lenSum[f] += uint64(s.lens[d][f])
		}
		for _, t := range order {
			pn, ok := s.terms[t]
			if !ok {
				pn = uint32(len(pb))
				s.terms[strings.Clone(t)] = pn
				pb = append(pb, refPostingBuilder{})
			}
			pb[pn].docs = append(pb[pn].docs, uint32(d))
			pb[pn].tfs = append(pb[pn].tfs, *tfDoc[t])
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
		s.brand[d] = -1
		if o, ok := dicts.brand(p.Brand); ok {
			s.brand[d] = int32(o)
			addBitmap(s.brands, o, d)
		}
		s.leaf[d] = -1
		if o, ok := dicts.category(p.Category); ok {
			s.leaf[d] = int32(o)
			for i := range p.Category {
				no, _ := dicts.LookupCategory(catalog.CategorySlug(p.Category[:i+1]))
				addBitmap(s.nodes, no, d)
			}
		}
		addAttr := func(name, v string) {
			o, ok := dicts.attr(name, v)
			if !ok {
				return
			}
			addBitmap(s.attrs, o, d)
			for k, fa := range opts.FacetAttrs {
				if s.fattr[k][d] < 0 && AttrName(name) == fa {
					s.fattr[k][d] = int32(dicts.Attr(o).Local)
				}
			}
		}
		for name, v := range p.Attributes {
			addAttr(name, v)
		}
		for i := range p.Variants {
			for name, v := range p.Variants[i].Attributes {
				addAttr(name, v)
			}
		}
	}
	s.all.AddRange(0, uint64(n))
	s.postings = make([]posting, len(pb))
	for i := range pb {
		bm := roaring.New()
		bm.AddMany(pb[i].docs)
		bm.RunOptimize()
		s.postings[i].docs, s.postings[i].tfs = pb[i].docs, pb[i].tfs
		s.postings[i].bm.Store(bm)
	}
	for _, m := range []map[uint32]*roaring.Bitmap{s.brands, s.nodes, s.attrs} {
		for _, bm := range m {
			bm.RunOptimize()
		}
	}
	s.inStock.RunOptimize()
	s.bytes = s.size()
	return s
}

type refPostingBuilder struct {
	docs []uint32
	tfs  []rank.TermFreqs
}
