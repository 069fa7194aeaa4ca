package recs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/aisle/aisle/catalog"
)

// Similar items for every product (issue 18, point 2): one HNSW over a
// hybrid vector per product, the content vector (Content) joined with the
// co-purchase embedding (Embeddings) where the product has one:
//
//	v = [ sqrt(1 - b) · content , sqrt(b) · behaviour ],  b = n / (n + Blend)
//
// with n the product's orders. Both halves are unit vectors, so the inner
// product of two products with behaviour vectors is a mix of their content
// cosine and their co-purchase cosine, weighted towards behaviour as the
// orders grow; a product without orders is placed by its content alone,
// among all the others. Serving keeps the neighbours in the anchor's
// top-level category, in stock and not deleted.
//
// Products indexed after the build (Add, at index time) are held in a
// small list searched exhaustively beside the graph until the next build.

// SimilarOptions configure BuildSimilar. The zero value of a field means
// its default.
type SimilarOptions struct {
	// Blend is the orders at which behaviour and content weigh the same;
	// default 20 (doc/recs.md has the measurement). Negative: content only.
	Blend float64
	// ContentOnly leaves the behaviour half out even when Embeddings are
	// given (the evaluation's "content" vectors).
	ContentOnly bool
	// BehaviourOnly indexes only the products with a behaviour vector, with
	// that vector alone (the evaluation's "behaviour" vectors).
	BehaviourOnly bool
	// HNSW configures the graph; default M 16, EfConstruction 100, EfSearch 64.
	HNSW HNSWOptions
	// Workers bounds the goroutines computing vectors, and inserting into
	// the graph unless HNSW.Workers says otherwise; default GOMAXPROCS.
	Workers int
	// Exhaustive is the size of a top-level category up to which its
	// products are scanned one by one rather than found in the graph (a
	// graph search keeping only a small category's products walks most of
	// the graph); default 4,096, about 0.1 ms of inner products at 256
	// floats. Negative: always the graph.
	Exhaustive int
	// MaxAdded bounds the products added after the build; default 200,000.
	// Past it Add refuses until the next build.
	MaxAdded int
}

// EnsureDefaults returns o with every zero field set to its default.
func (o SimilarOptions) EnsureDefaults() SimilarOptions {
	if o.Blend == 0 {
		o.Blend = 20
	}
	if o.HNSW.EfConstruction == 0 {
		o.HNSW.EfConstruction = 100
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.HNSW.Workers == 0 {
		o.HNSW.Workers = o.Workers
	}
	o.HNSW = o.HNSW.EnsureDefaults()
	if o.MaxAdded <= 0 {
		o.MaxAdded = 200_000
	}
	if o.Exhaustive == 0 {
		o.Exhaustive = 4096
	}
	return o
}

// ErrTooManyAdded is returned by SimilarIndex.Add past MaxAdded products.
var ErrTooManyAdded = errors.New("recs: too many products added since the similar-items build")

// SimilarIndex answers similar items for every product. Safe for concurrent
// use; Add may run beside the reads.
type SimilarIndex struct {
	opts    SimilarOptions
	content *Content
	behav   *Embeddings
	counts  func(id string) int
	dimC    int
	dimB    int
	dim     int
	ids     []string
	tops    []string           // top-level category of each row, lower-cased
	members map[string][]int32 // rows of each top-level category
	byID    map[string]int32
	graph   *HNSW
	print   uint64 // fingerprint of the inputs (similar_file.go)

	mu    sync.RWMutex
	added addedSet
}

// addedSet holds the products indexed after the build.
type addedSet struct {
	ids  []string
	tops []string
	vecs []float32
	byID map[string]int32
}

// newSimilar checks the inputs of BuildSimilar and ReadSimilar and returns
// an empty index for them, with the products it keeps, in order.
func newSimilar(ps []*catalog.Product, content *Content, behav *Embeddings, counts func(string) int, opts SimilarOptions) (*SimilarIndex, []*catalog.Product, error) {
	if content == nil {
		return nil, nil, errors.New("recs: similar items need a Content")
	}
	if err := opts.HNSW.Validate(); err != nil {
		return nil, nil, err
	}
	opts = opts.EnsureDefaults()
	s := &SimilarIndex{opts: opts, content: content, counts: counts, dimC: content.Dim()}
	if behav != nil && !opts.ContentOnly && opts.Blend > 0 {
		s.behav = behav
		s.dimB = behav.Stats().Dim
	}
	switch {
	case opts.BehaviourOnly && s.behav == nil:
		return nil, nil, errors.New("recs: BehaviourOnly needs Embeddings")
	case opts.BehaviourOnly:
		s.dim = s.dimB
	default:
		s.dim = s.dimC + s.dimB
	}
	s.added.byID = map[string]int32{}
	last := make(map[string]int, len(ps))
	for i, p := range ps {
		if p != nil && p.ID != "" {
			last[p.ID] = i
		}
	}
	rows := make([]*catalog.Product, 0, len(last))
	for i, p := range ps {
		if p != nil && p.ID != "" && last[p.ID] == i {
			if opts.BehaviourOnly {
				if _, ok := s.behav.Vector(p.ID); !ok {
					continue
				}
			}
			rows = append(rows, p)
		}
	}
	return s, rows, nil
}

// BuildSimilar computes the vector of every product of ps (nil entries
// skipped, a repeated id keeps its last version) and builds their graph.
// behav may be nil (content only); counts gives a product's orders (nil: no
// orders anywhere). It checks ctx between stages.
func BuildSimilar(ctx context.Context, ps []*catalog.Product, content *Content, behav *Embeddings, counts func(string) int, opts SimilarOptions) (*SimilarIndex, error) {
	s, rows, err := newSimilar(ps, content, behav, counts, opts)
	if err != nil {
		return nil, err
	}
	opts = s.opts
	s.print = s.fingerprint(rows)
	n := len(rows)
	s.ids = make([]string, n)
	s.tops = make([]string, n)
	s.byID = make(map[string]int32, n)
	vecs := make([]float32, n*s.dim)
	var wg sync.WaitGroup
	chunk := (n + opts.Workers - 1) / max(opts.Workers, 1)
	for w := range opts.Workers {
		lo, hi := w*chunk, min(n, (w+1)*chunk)
		if lo >= hi {
			break
		}
		wg.Go(func() {
			var sc contentScratch
			for i := lo; i < hi; i++ {
				s.vector(vecs[i*s.dim:i*s.dim:(i+1)*s.dim], rows[i], &sc)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("recs: similar items stopped after the vectors: %w", err)
	}
	s.members = map[string][]int32{}
	for i, p := range rows {
		s.ids[i] = p.ID
		s.tops[i] = topCategory(p)
		s.members[s.tops[i]] = append(s.members[s.tops[i]], int32(i))
		s.byID[p.ID] = int32(i)
		if isZero(vecs[i*s.dim : (i+1)*s.dim]) {
			// A product with no text at all: a fixed direction keeps the
			// graph's vectors unit; it is nobody's near neighbour.
			vecs[i*s.dim] = 1
		}
	}
	g, err := BuildHNSW(vecs, s.dim, opts.HNSW)
	if err != nil {
		return nil, fmt.Errorf("recs: similar items graph: %w", err)
	}
	s.graph = g
	return s, nil
}

func isZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// vector appends p's hybrid vector to dst.
func (s *SimilarIndex) vector(dst []float32, p *catalog.Product, sc *contentScratch) []float32 {
	var bv []float32
	if s.behav != nil {
		bv, _ = s.behav.Vector(p.ID)
	}
	if s.opts.BehaviourOnly {
		return append(dst, bv...)
	}
	start := len(dst)
	dst = s.content.vector(dst, p, sc)
	if s.dimB == 0 {
		return dst
	}
	if bv == nil {
		return append(dst, make([]float32, s.dimB)...)
	}
	n := 0.0
	if s.counts != nil {
		n = float64(s.counts(p.ID))
	}
	b := n / (n + s.opts.Blend)
	wc, wb := float32(math.Sqrt(1-b)), float32(math.Sqrt(b))
	for i := start; i < len(dst); i++ {
		dst[i] *= wc
	}
	for _, x := range bv {
		dst = append(dst, wb*x)
	}
	normalize(dst[start:])
	return dst
}

// normalize scales v to unit length in place and returns it.
func normalize(v []float32) []float32 {
	var sq float64
	for _, x := range v {
		sq += float64(x) * float64(x)
	}
	if sq == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(sq))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// Len returns the products in the graph and the products added after it.
func (s *SimilarIndex) Len() (built, added int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.ids), len(s.added.ids)
}

// Add gives p a vector now (at index time), so it is similar-searchable at
// once and appears among others' similar items, until the next build puts
// it in the graph. A product already built keeps its built vector unless
// its text changed, in which case the new one is added beside it and wins.
// Add refuses (ErrTooManyAdded) past MaxAdded products.
func (s *SimilarIndex) Add(p *catalog.Product) error {
	if p == nil || p.ID == "" {
		return errors.New("recs: Add needs a product with an id")
	}
	if s.opts.BehaviourOnly {
		return nil
	}
	var sc contentScratch
	v := s.vector(make([]float32, 0, s.dim), p, &sc)
	if isZero(v) {
		v[0] = 1
	}
	top := topCategory(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.added.byID[p.ID]; ok {
		copy(s.added.vecs[int(i)*s.dim:], v)
		s.added.tops[i] = top
		return nil
	}
	if i, ok := s.byID[p.ID]; ok && slices.Equal(v, s.graph.Vector(uint32(i))) && s.tops[i] == top {
		return nil
	}
	if len(s.added.ids) >= s.opts.MaxAdded {
		return fmt.Errorf("%w (%d)", ErrTooManyAdded, s.opts.MaxAdded)
	}
	s.added.byID[p.ID] = int32(len(s.added.ids))
	s.added.ids = append(s.added.ids, p.ID)
	s.added.tops = append(s.added.tops, top)
	s.added.vecs = append(s.added.vecs, v...)
	return nil
}

// query returns id's vector (its added one first) and whether it has one.
// Called with s.mu held for reading.
func (s *SimilarIndex) query(id string) ([]float32, bool) {
	if i, ok := s.added.byID[id]; ok {
		return s.added.vecs[int(i)*s.dim : (int(i)+1)*s.dim], true
	}
	if i, ok := s.byID[id]; ok {
		return s.graph.Vector(uint32(i)), true
	}
	return nil, false
}

// Similar appends to dst up to limit products nearest id, best first,
// in id's top-level category, in stock and known to ps now. Score is the
// cosine of the two vectors. It returns dst unchanged for a product with
// no vector (ps does not know it, or it was never built nor added).
func (s *SimilarIndex) Similar(dst []Item, id string, limit int, ps Products) []Item {
	anchor, ok := ps.Product(id)
	if !ok || anchor == nil || limit <= 0 {
		return dst
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	q, ok := s.query(id)
	if !ok {
		return dst
	}
	return s.similar(dst, q, id, topCategory(anchor), limit, ps)
}

// similar is Similar from a query vector; skip is left out. Called with
// s.mu held for reading.
func (s *SimilarIndex) similar(dst []Item, q []float32, skip, top string, limit int, ps Products) []Item {
	start := len(dst)
	if m := s.members[top]; len(m) <= s.opts.Exhaustive {
		dst = s.exhaustive(dst, q, m, skip, limit, ps)
	} else {
		dst = s.searchGraph(dst, q, skip, top, limit, ps)
	}
	return s.similarAdded(dst, start, q, skip, top, limit, ps)
}

// exhaustive appends the limit products of rows nearest q that serving
// keeps, best first.
func (s *SimilarIndex) exhaustive(dst []Item, q []float32, rows []int32, skip string, limit int, ps Products) []Item {
	type scored struct {
		row int32
		sim float32
	}
	best := make([]scored, 0, len(rows))
	for _, r := range rows {
		best = append(best, scored{r, dot(q, s.graph.Vector(uint32(r)))})
	}
	slices.SortFunc(best, func(a, b scored) int {
		switch {
		case a.sim > b.sim:
			return -1
		case a.sim < b.sim:
			return 1
		}
		return int(a.row - b.row)
	})
	start := len(dst)
	for _, b := range best {
		if len(dst)-start >= limit {
			break
		}
		id := s.ids[b.row]
		if id == skip {
			continue
		}
		if _, newer := s.added.byID[id]; newer {
			continue
		}
		dst = s.appendIfServed(dst, id, float64(b.sim), ps)
	}
	return dst
}

// searchGraph appends the limit products nearest q in the graph that are
// in category top and that serving keeps, best first.
func (s *SimilarIndex) searchGraph(dst []Item, q []float32, skip, top string, limit int, ps Products) []Item {
	start := len(dst)
	var hits []Hit
	k := 4*limit + 16
	for {
		hits = s.graph.Search(hits[:0], q, k, max(k, s.graph.efSearch))
		dst = dst[:start]
		for _, h := range hits {
			if len(dst)-start >= limit {
				break
			}
			id := s.ids[h.ID]
			if id == skip || s.tops[h.ID] != top {
				continue
			}
			if _, newer := s.added.byID[id]; newer {
				continue // its added vector stands for it
			}
			dst = s.appendIfServed(dst, id, float64(1-h.Dist), ps)
		}
		// Fewer than limit kept and more in the graph: look further.
		if len(dst)-start >= limit || len(hits) < k || k >= 4096 {
			break
		}
		k *= 4
	}
	return dst
}

// similarAdded merges into dst[start:] the added products nearer q than
// its last, keeping limit.
func (s *SimilarIndex) similarAdded(dst []Item, start int, q []float32, skip, top string, limit int, ps Products) []Item {
	if len(s.added.ids) == 0 {
		return dst
	}
	for i, id := range s.added.ids {
		if id == skip || s.added.tops[i] != top {
			continue
		}
		sim := float64(dot(q, s.added.vecs[i*s.dim:(i+1)*s.dim]))
		if len(dst)-start >= limit && sim <= dst[len(dst)-1].Score {
			continue
		}
		if slices.ContainsFunc(dst[start:], func(it Item) bool { return it.Product.ID == id }) {
			continue
		}
		n := len(dst)
		dst = s.appendIfServed(dst, id, sim, ps)
		if len(dst) == n {
			continue
		}
		slices.SortStableFunc(dst[start:], func(a, b Item) int {
			switch {
			case a.Score > b.Score:
				return -1
			case a.Score < b.Score:
				return 1
			}
			return 0
		})
		if len(dst)-start > limit {
			dst = dst[:start+limit]
		}
	}
	return dst
}

func (s *SimilarIndex) appendIfServed(dst []Item, id string, score float64, ps Products) []Item {
	p, ok := ps.Product(id)
	if !ok || p == nil || !p.InStock() {
		return dst
	}
	return append(dst, Item{Product: p, Score: score, Reason: ReasonSimilar})
}

// Neighbors appends to dst up to k products nearest id in the graph, with
// their distance, whatever their category or stock: what the fallbacks of
// also-bought borrow from. ids and tops name each graph node and its
// top-level category; they belong to s.
func (s *SimilarIndex) Neighbors(dst []Hit, id string, k int) (hits []Hit, ids, tops []string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	q, ok := s.query(id)
	if !ok {
		return dst, s.ids, s.tops
	}
	return s.graph.Search(dst, q, k, 0), s.ids, s.tops
}
