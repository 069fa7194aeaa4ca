package index

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

var (
	mergeNow    = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	mergeWords  = []string{"kettle", "steel", "glass", "black", "electric", "cordless", "travel", "mini", "pro", "blue", "mug", "ceramic"}
	mergeBrands = []string{"", "Acme", "Zenith", "Orbit", "Nova"}
	mergeCats   = [][]string{nil, {"Home"}, {"Home", "Kitchen"}, {"Home", "Kitchen", "Kettles"}, {"Garden", "Tools"}}
	mergeColors = []string{"Red", "Black", "Steel"}
	mergeSizes  = []string{"S", "M", "L"}
)

// mergeOptions are the options of the merge tests: two facet attributes,
// and dictionaries of their own.
func mergeOptions() *Options {
	return &Options{Rank: rank.DefaultOptions(), Dicts: NewDicts(), FacetAttrs: []string{"color", "size"}}
}

// randProduct returns a product using every field an index reads: text in
// all five fields, brand, category, attributes of the product and of its
// variants, stock, price, rating, signals, a bid.
func randProduct(r *rand.Rand, id string) *catalog.Product {
	words := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(mergeWords[int(r.ExpFloat64()*3)%len(mergeWords)])
			b.WriteByte(' ')
		}
		return b.String()
	}
	p := &catalog.Product{
		ID: id, Title: words(1 + r.IntN(4)), Description: words(r.IntN(8)),
		Brand:         mergeBrands[r.IntN(len(mergeBrands))],
		Category:      mergeCats[r.IntN(len(mergeCats))],
		Rating:        catalog.Rating{Avg: float64(r.IntN(51)) / 10, Count: r.IntN(300)},
		SalesVelocity: r.ExpFloat64() * 3,
		SellerQuality: r.Float64(),
		CreatedAt:     mergeNow.Add(-time.Duration(r.IntN(2000)) * time.Hour),
	}
	if r.IntN(2) == 0 { // a rare word, as model numbers are
		p.Title += fmt.Sprintf("x%d", r.IntN(3000))
	}
	if r.IntN(5) == 0 {
		p.Sponsored = 1 + r.Int64N(50)
	}
	if r.IntN(2) == 0 {
		p.Attributes = map[string]string{"Color": mergeColors[r.IntN(len(mergeColors))]}
	}
	for v := range r.IntN(3) {
		p.Variants = append(p.Variants, catalog.Variant{
			ID:         fmt.Sprintf("%s-%d", id, v),
			Attributes: map[string]string{"Size": mergeSizes[r.IntN(len(mergeSizes))]},
			Price:      catalog.Money{Amount: 100 + r.Int64N(20000), Currency: "USD"},
			Stock:      map[string]int{"w": r.IntN(3)},
		})
	}
	return p
}

// liveOf returns the live products of segs in merge order.
func liveOf(segs []*segment, dels []*roaring.Bitmap) []*catalog.Product {
	var ps []*catalog.Product
	for i, seg := range segs {
		for d, p := range seg.docs {
			if dels[i] == nil || !dels[i].Contains(uint32(d)) {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// checkMerge merges segs at mergeNow and compares the result with build of
// their live products, field by field.
func checkMerge(t *testing.T, segs []*segment, dels []*roaring.Bitmap, opts *Options) *segment {
	t.Helper()
	got := mergeSegments(segs, dels, opts, mergeNow)
	want := build(liveOf(segs, dels), opts, mergeNow)
	sameSegment(t, got, want)
	return got
}

func sameSegment(t *testing.T, got, want *segment) {
	t.Helper()
	if !slices.Equal(got.docs, want.docs) {
		t.Fatalf("docs: %d, want %d, or in another order", len(got.docs), len(want.docs))
	}
	if !maps.Equal(got.ids, want.ids) {
		t.Fatalf("ids: %v, want %v", got.ids, want.ids)
	}
	if len(got.terms) != len(want.terms) || len(got.postings) != len(got.terms) {
		t.Fatalf("%d terms and %d postings, want %d terms", len(got.terms), len(got.postings), len(want.terms))
	}
	for term, wn := range want.terms {
		gn, ok := got.terms[term]
		if !ok {
			t.Fatalf("term %q missing", term)
		}
		g, w := &got.postings[gn], &want.postings[wn]
		if !slices.Equal(g.docs, w.docs) || !slices.Equal(g.tfs, w.tfs) {
			t.Fatalf("term %q: docs %v tfs %v, want %v %v", term, g.docs, g.tfs, w.docs, w.tfs)
		}
		if !sameBitmap(g.bitmap(), w.bitmap()) {
			t.Fatalf("term %q: bitmap %v, want %v", term, g.bitmap(), w.bitmap())
		}
	}
	col := func(name string, eq bool) {
		t.Helper()
		if !eq {
			t.Fatalf("column %s differs", name)
		}
	}
	col("lens", slices.Equal(got.lens, want.lens))
	col("offer", slices.Equal(got.offer, want.offer))
	col("price", slices.Equal(got.price, want.price))
	col("rating", slices.Equal(got.rating, want.rating))
	col("created", slices.Equal(got.created, want.created))
	col("boost", slices.Equal(got.boost, want.boost))
	col("sponsored", slices.Equal(got.sponsored, want.sponsored))
	col("brand", slices.Equal(got.brand, want.brand))
	col("leaf", slices.Equal(got.leaf, want.leaf))
	col("fattr", slices.EqualFunc(got.fattr, want.fattr, slices.Equal))
	if got.lenSum != want.lenSum {
		t.Fatalf("lenSum %v, want %v", got.lenSum, want.lenSum)
	}
	if got.maxBoost != want.maxBoost || got.hasSpons != want.hasSpons {
		t.Fatalf("maxBoost %v hasSpons %v, want %v %v", got.maxBoost, got.hasSpons, want.maxBoost, want.hasSpons)
	}
	if !got.all.Equals(want.all) || !sameBitmap(got.inStock, want.inStock) {
		t.Fatalf("all %v inStock %v, want %v %v", got.all, got.inStock, want.all, want.inStock)
	}
	sameBitmaps(t, "brands", got.brands, want.brands)
	sameBitmaps(t, "nodes", got.nodes, want.nodes)
	sameBitmaps(t, "attrs", got.attrs, want.attrs)
	if got.bytes != got.size() {
		t.Fatalf("bytes %d, size %d", got.bytes, got.size())
	}
}

func sameBitmaps(t *testing.T, name string, got, want map[uint32]*roaring.Bitmap) {
	t.Helper()
	if !maps.EqualFunc(got, want, sameBitmap) {
		t.Fatalf("%s: %v, want %v", name, got, want)
	}
}

// sameBitmap reports whether a and b hold the same documents in containers
// of the same size, so both are run-optimised alike.
func sameBitmap(a, b *roaring.Bitmap) bool {
	return a.Equals(b) && a.GetSerializedSizeInBytes() == b.GetSerializedSizeInBytes()
}

// TestMergeSegmentsEqualsBuild merges random segments with random deletes
// and re-added products, built two days before the merge, and checks the
// result against a build of the live products at the merge time.
func TestMergeSegmentsEqualsBuild(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for run := range 40 {
		opts := mergeOptions()
		var (
			segs []*segment
			dels []*roaring.Bitmap
			at   = map[string][2]int{} // live id -> segment, doc
		)
		for i := range r.IntN(8) {
			ids := r.Perm(150)[:r.IntN(60)]
			ps := make([]*catalog.Product, len(ids))
			for j, id := range ids {
				ps[j] = randProduct(r, fmt.Sprintf("p%d", id))
			}
			segs = append(segs, build(ps, opts, mergeNow.Add(-48*time.Hour)))
			dels = append(dels, nil)
			del := func(si, d int) {
				if dels[si] == nil {
					dels[si] = roaring.New()
				}
				dels[si].Add(uint32(d))
			}
			for j, p := range ps {
				if old, ok := at[p.ID]; ok { // re-added: the older copy is deleted
					del(old[0], old[1])
				}
				at[p.ID] = [2]int{i, j}
			}
			for _, id := range slices.Sorted(maps.Keys(at)) {
				if r.IntN(8) == 0 {
					del(at[id][0], at[id][1])
					delete(at, id)
				}
			}
		}
		t.Run(fmt.Sprintf("run=%d/segments=%d", run, len(segs)), func(t *testing.T) {
			m := checkMerge(t, segs, dels, opts)
			if m.len() != len(at) {
				t.Fatalf("%d documents, want %d", m.len(), len(at))
			}
		})
	}
}

// TestMergeSegmentsEdges covers deletes that empty a segment, a term or a
// facet value, empty segments, and a product re-added after its deletion.
func TestMergeSegmentsEdges(t *testing.T) {
	p := func(id, title, brand string) *catalog.Product {
		q := product(id, title)
		q.Brand = brand
		q.CreatedAt = mergeNow.Add(-time.Hour)
		return q
	}
	term := func(w string) string { return query.Words(w)[0].Terms[0] }
	readded := p("a", "blue kettle", "Acme")
	for _, c := range []struct {
		name    string
		batches [][]*catalog.Product
		del     [][]uint32 // per batch, the docs deleted
		docs    int
		check   func(t *testing.T, s *segment, o *Options)
	}{
		{name: "one segment all deleted",
			batches: [][]*catalog.Product{{p("a", "kettle", "Acme"), p("b", "mug", "Acme")}, {p("c", "kettle", "Acme"), p("d", "glass", "Acme")}, {p("e", "lid", "Acme")}},
			del:     [][]uint32{nil, {0, 1}, nil},
			docs:    3,
		},
		{name: "term only in deleted docs",
			batches: [][]*catalog.Product{{p("a", "kettle steel", "Acme")}, {p("b", "zebra kettle", "Acme"), p("c", "kettle", "Acme")}},
			del:     [][]uint32{nil, {0}},
			docs:    2,
			check: func(t *testing.T, s *segment, _ *Options) {
				if _, ok := s.terms[term("zebra")]; ok {
					t.Error("a term of deleted documents only is kept")
				}
			},
		},
		{name: "brand only in deleted docs",
			batches: [][]*catalog.Product{{p("a", "kettle", "Solo"), p("b", "kettle", "Acme")}},
			del:     [][]uint32{{0}},
			docs:    1,
			check: func(t *testing.T, s *segment, o *Options) {
				solo, _ := o.Dicts.LookupBrand("Solo")
				if _, ok := s.brands[solo]; ok {
					t.Error("a brand of deleted documents only has a bitmap")
				}
			},
		},
		{name: "empty segments around one",
			batches: [][]*catalog.Product{{}, {p("a", "kettle", "Acme")}, {}},
			del:     [][]uint32{nil, nil, nil},
			docs:    1,
		},
		{name: "only empty segments",
			batches: [][]*catalog.Product{{}, {}},
			del:     [][]uint32{nil, nil},
		},
		{name: "everything deleted",
			batches: [][]*catalog.Product{{p("a", "kettle", "Acme")}, {p("b", "mug", "Orbit")}},
			del:     [][]uint32{{0}, {0}},
			check: func(t *testing.T, s *segment, _ *Options) {
				if len(s.terms)+len(s.brands)+len(s.nodes) > 0 || !s.all.IsEmpty() {
					t.Errorf("%d terms, %d brands, %d nodes, all %v", len(s.terms), len(s.brands), len(s.nodes), s.all)
				}
			},
		},
		{name: "product re-added later",
			batches: [][]*catalog.Product{{p("a", "red kettle", "Acme"), p("b", "mug", "Acme")}, {p("c", "glass", "Acme")}, {readded}},
			del:     [][]uint32{{0}, nil, nil},
			docs:    3,
			check: func(t *testing.T, s *segment, _ *Options) {
				if d, ok := s.ids["a"]; !ok || s.docs[d] != readded || d != 2 {
					t.Errorf("ids[a] = %d, %v: not the re-added copy, last", d, ok)
				}
				if _, ok := s.terms[term("red")]; ok {
					t.Error("the deleted copy's words are kept")
				}
			},
		},
		{name: "one segment no deletes",
			batches: [][]*catalog.Product{{p("a", "kettle", "Acme"), p("b", "mug", "")}},
			del:     [][]uint32{nil},
			docs:    2,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := mergeOptions()
			segs := make([]*segment, len(c.batches))
			dels := make([]*roaring.Bitmap, len(c.batches))
			for i, ps := range c.batches {
				segs[i] = build(ps, opts, mergeNow)
				if c.del[i] != nil {
					dels[i] = roaring.BitmapOf(c.del[i]...)
				}
			}
			m := checkMerge(t, segs, dels, opts)
			if m.len() != c.docs {
				t.Fatalf("%d documents, want %d", m.len(), c.docs)
			}
			if c.check != nil {
				c.check(t, m, opts)
			}
		})
	}
}

// TestMergeKeepsSearchResults searches a shard of many segments, with
// updates and deletes, merges it down to one segment and checks that every
// search answers the same: hits, scores, sponsored hits and facets.
func TestMergeKeepsSearchResults(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	s, err := NewShard(Options{
		Rank: rank.DefaultOptions(), Dicts: NewDicts(), FacetAttrs: []string{"Color", "Size"},
		MaxSegments: 100, Now: func() time.Time { return mergeNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 12 {
		var ps []*catalog.Product
		for _, id := range r.Perm(400)[:1+r.IntN(120)] {
			ps = append(ps, randProduct(r, fmt.Sprintf("p%d", id)))
		}
		var del []string
		for range r.IntN(15) {
			del = append(del, fmt.Sprintf("p%d", r.IntN(400)))
		}
		s.Apply(ps, del)
	}
	if st := s.Stats(); st.Segments < 10 || st.Deleted == 0 {
		t.Fatalf("fixture: %+v, want many segments and some deleted", st)
	}
	reqs := randomRequests(r, s, 300)
	before := searchAll(s, reqs)
	live := s.Stats().Docs

	s.opts.MaxSegments = 1
	for range 10 {
		s.Apply(nil, nil)
	}
	if st := s.Stats(); st.Segments != 1 || st.Deleted != 0 || st.Docs != live {
		t.Fatalf("after merging: %+v, want 1 segment of %d live documents", st, live)
	}
	after := searchAll(s, reqs)
	hits := 0
	for _, b := range before {
		hits += strings.Count(b, "\nhit ")
	}
	if hits < len(reqs)*3 {
		t.Fatalf("fixture: %d hits in %d requests, too few to compare", hits, len(reqs))
	}
	for i := range reqs {
		if before[i] != after[i] {
			t.Fatalf("request %d (%+v) before merging:\n%s\nafter:\n%s", i, reqs[i], before[i], after[i])
		}
	}
}

// randomRequests returns random requests over mergeWords: words, relaxed
// matching, every filter, facets, sorts and sponsored hits, with filter
// values resolved in s's Dicts (a value s does not know matches nothing).
// The IDF is computed once, so that dropping deleted documents from the
// statistics changes nothing. The merge and snapshot tests share it.
func randomRequests(r *rand.Rand, s *Shard, n int) []*Request {
	v := s.View()
	d := s.opts.Dicts
	lookup := func(o uint32, ok bool) uint32 {
		if !ok {
			return 1 << 30 // matches nothing
		}
		return o
	}
	home := lookup(d.LookupCategory(catalog.CategorySlug([]string{"Home", "Kitchen"})))
	acme, nova := lookup(d.LookupBrand("Acme")), lookup(d.LookupBrand("Nova"))
	red, black := lookup(d.LookupAttr("Color", "Red")), lookup(d.LookupAttr("Color", "Black"))
	ro := rank.DefaultOptions()
	var reqs []*Request
	for range n {
		q := &Request{
			Filter: Filter{Category: -1}, K: 1 + r.IntN(30), Sponsored: r.IntN(4), Rank: &ro,
			Facets: r.IntN(2) == 0, Sort: query.Sort(r.IntN(5)), FacetAttrFilter: []int{-1, -1},
			Fields: rank.FieldStats{AvgLen: [rank.NumFields]float64{3, 1, 2, 2, 4}},
		}
		for range r.IntN(4) {
			w := query.Words(mergeWords[r.IntN(len(mergeWords))])[0].Terms
			q.Words = append(q.Words, w)
			q.IDF = append(q.IDF, []float64{rank.IDF(v.Docs(), v.DocFreq(w[0]))})
		}
		if len(q.Words) > 1 && r.IntN(2) == 0 {
			q.MinMatch = 1 + r.IntN(len(q.Words)-1)
		}
		f := &q.Filter
		switch r.IntN(6) {
		case 0:
			f.Category = int32(home)
		case 1:
			f.Brands = []uint32{acme, nova}
		case 2:
			f.PriceMin, f.HasPriceMin = 3000, true
			f.PriceMax, f.HasPriceMax = 15000, true
		case 3:
			f.RatingMin, f.InStock = 3, true
		case 4:
			f.Attrs, f.AttrNames = [][]uint32{{red, black}}, []string{"color"}
			q.FacetAttrFilter[0] = 0
		}
		reqs = append(reqs, q)
	}
	return reqs
}

// searchAll returns each request's result as text, without the document
// numbers, which a merge changes.
func searchAll(s *Shard, reqs []*Request) []string {
	out := make([]string, len(reqs))
	var res Result
	for i, q := range reqs {
		s.View().Search(q, &res)
		var b strings.Builder
		fmt.Fprintf(&b, "total %d\n", res.Total)
		for _, h := range res.Hits {
			fmt.Fprintf(&b, "hit %s key %v score %v partial %v offer %v\n", h.Product.ID, h.Key, h.Score, h.Partial, *h.Offer)
		}
		for _, h := range res.Sponsored {
			fmt.Fprintf(&b, "sponsored %s key %v score %v\n", h.Product.ID, h.Key, h.Score)
		}
		fc := &res.Facets
		fmt.Fprintf(&b, "brands %v leaves %v attrs %v price %v rating %v\n", fc.Brand, fc.Leaf, fc.Attr, fc.Price, fc.Rating)
		fmt.Fprintf(&b, "seen %v %v\n", sorted(fc.BrandSeen), sorted(fc.LeafSeen))
		out[i] = b.String()
	}
	return out
}

func sorted(s []uint32) []uint32 { return slices.Sorted(slices.Values(s)) }
