package recs

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/viterin/vek/vek32"
)

// HNSWOptions configure BuildHNSW. The zero value of a field means its
// default.
type HNSWOptions struct {
	// M is the number of links a node keeps on the layers above 0; layer 0
	// keeps 2M. Default 16.
	M int
	// EfConstruction is the candidate list kept while inserting; default
	// 200.
	EfConstruction int
	// EfSearch is the candidate list of a search when the caller passes no
	// ef; default 64.
	EfSearch int
	// Seed draws the node levels: the same vectors, options and seed build
	// the same graph (with one worker).
	Seed uint64
	// Workers inserting at once; default (0) 1, which builds the same graph
	// every time. More insert in parallel under per-node locks (as
	// hnswlib does): about Workers times faster, the graph then depends on
	// the scheduling, its recall does not (TestHNSWParallelRecall).
	Workers int
}

// EnsureDefaults returns o with every zero field set to its default.
func (o HNSWOptions) EnsureDefaults() HNSWOptions {
	if o.M == 0 {
		o.M = 16
	}
	if o.EfConstruction == 0 {
		o.EfConstruction = 200
	}
	if o.EfSearch == 0 {
		o.EfSearch = 64
	}
	return o
}

// Validate lists every problem with o, or returns nil.
func (o HNSWOptions) Validate() error {
	var errs []error
	if o.M < 0 || o.M == 1 || o.M > 256 {
		errs = append(errs, fmt.Errorf("recs: HNSWOptions.M is %d; want 2 to 256 (0: the default)", o.M))
	}
	if o.EfConstruction < 0 {
		errs = append(errs, fmt.Errorf("recs: HNSWOptions.EfConstruction is negative (%d)", o.EfConstruction))
	}
	if o.EfSearch < 0 {
		errs = append(errs, fmt.Errorf("recs: HNSWOptions.EfSearch is negative (%d)", o.EfSearch))
	}
	return errors.Join(errs...)
}

// HNSW is a hierarchical navigable small world graph over unit vectors
// (Malkov and Yashunin 2016): the distance is 1 - the inner product, the
// cosine distance of normalised vectors. It is built once by BuildHNSW and
// read-only after, so Search may run from any number of goroutines.
//
// The layout is flat: the vectors are one []float32 (node i at
// vecs[i*dim:]), and the links one []uint32 where node i's block starts at
// off[i] and holds, for layer 0 then each layer up to level[i], a count
// followed by room for 2M (layer 0) or M (above) neighbour ids.
type HNSW struct {
	dim      int
	m, m0    int
	efSearch int
	vecs     []float32
	level    []uint8
	off      []uint32
	links    []uint32
	entry    uint32
	top      int // level of entry
	pool     sync.Pool
	locks    *buildLocks // during a parallel build only
}

// Hit is one search result: a node and its distance to the query.
type Hit struct {
	ID   uint32
	Dist float32
}

// ErrNotUnit is returned, wrapped, by BuildHNSW for a vector whose norm is
// not 1.
var ErrNotUnit = errors.New("recs: vector not normalised")

// BuildHNSW builds the graph over vecs, n = len(vecs)/dim unit vectors, in
// order of id. It keeps vecs (the caller must not modify it).
func BuildHNSW(vecs []float32, dim int, opts HNSWOptions) (*HNSW, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.EnsureDefaults()
	if dim <= 0 || len(vecs)%dim != 0 {
		return nil, fmt.Errorf("recs: %d floats are not vectors of %d dimensions", len(vecs), dim)
	}
	n := len(vecs) / dim
	for i := range n {
		var s float32
		for _, x := range vecs[i*dim : (i+1)*dim] {
			s += x * x
		}
		if math.Abs(float64(s)-1) > 1e-3 {
			return nil, fmt.Errorf("%w: vector %d has squared norm %v", ErrNotUnit, i, s)
		}
	}
	h := &HNSW{dim: dim, m: opts.M, m0: 2 * opts.M, efSearch: opts.EfSearch, vecs: vecs}
	h.level = make([]uint8, n)
	h.off = make([]uint32, n+1)
	rng := rand.New(rand.NewPCG(opts.Seed, 0x4e5357))
	mL := 1 / math.Log(float64(opts.M))
	var total uint64
	for i := range n {
		l := int(-math.Log(1-rng.Float64()) * mL)
		h.level[i] = uint8(min(l, 32))
		total += uint64(1 + h.m0 + int(h.level[i])*(1+h.m))
		if total > math.MaxUint32 {
			return nil, fmt.Errorf("recs: %d vectors need more than %d links", n, uint64(math.MaxUint32))
		}
		h.off[i+1] = uint32(total)
	}
	h.links = make([]uint32, h.off[n])
	h.pool.New = func() any { return newSearcher(n) }
	if opts.Workers <= 1 || n < 1000 {
		b := &builder{h: h, s: newSearcher(n), ef: max(opts.EfConstruction, opts.M)}
		for i := range n {
			b.insert(uint32(i))
		}
		return h, nil
	}
	locks := new(buildLocks)
	h.locks = locks
	first := &builder{h: h, s: newSearcher(n), ef: max(opts.EfConstruction, opts.M)}
	first.insert(0)
	var next atomic.Int64
	next.Store(1)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Go(func() {
			b := &builder{h: h, s: newSearcher(n), ef: first.ef}
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				b.insert(uint32(i))
			}
		})
	}
	wg.Wait()
	h.locks = nil
	return h, nil
}

// buildLocks guard the links of a graph while several workers insert:
// node i's links under node[i % len], the entry point under entry.
type buildLocks struct {
	entry sync.RWMutex
	node  [4096]sync.Mutex
}

func (l *buildLocks) of(id uint32) *sync.Mutex { return &l.node[id%uint32(len(l.node))] }

// Len returns the number of nodes.
func (h *HNSW) Len() int { return len(h.level) }

// Dim returns the dimension of the vectors.
func (h *HNSW) Dim() int { return h.dim }

// Vector returns node id's vector; it belongs to h.
func (h *HNSW) Vector(id uint32) []float32 {
	return h.vecs[int(id)*h.dim : (int(id)+1)*h.dim]
}

// neighbors returns node id's links on layer l, and the slot holding their
// count.
func (h *HNSW) neighbors(id uint32, l int) (slot int, nb []uint32) {
	slot = int(h.off[id])
	if l > 0 {
		slot += 1 + h.m0 + (l-1)*(1+h.m)
	}
	return slot, h.links[slot+1 : slot+1+int(h.links[slot])]
}

// links2 appends node id's links on layer l to dst: a copy taken under the
// node's lock during a parallel build, the graph's own slice after.
func (h *HNSW) links2(dst []uint32, id uint32, l int) []uint32 {
	if h.locks == nil {
		_, nb := h.neighbors(id, l)
		return nb
	}
	mu := h.locks.of(id)
	mu.Lock()
	_, nb := h.neighbors(id, l)
	dst = append(dst, nb...)
	mu.Unlock()
	return dst
}

func (h *HNSW) dist(q []float32, id uint32) float32 {
	return 1 - dot(q, h.vecs[int(id)*h.dim:(int(id)+1)*h.dim])
}

// dot is the inner product of a and b, of equal length: vek's AVX2 kernel
// where the CPU has it (3-6 times the plain loop at 64-256 floats, measured
// in BenchmarkDot), else plain Go.
func dot(a, b []float32) float32 {
	if len(a) >= 16 {
		return vek32.Dot(a, b[:len(a)])
	}
	return dotGo(a, b)
}

// dotGo is dot in plain Go, four sums at a time.
func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// Search appends to dst the k nodes nearest q, nearest first, exploring ef
// candidates on layer 0 (ef < k means max(k, the default EfSearch)). q
// must have Dim dimensions and, for distances to mean cosine, unit norm.
// Search is safe for concurrent use.
func (h *HNSW) Search(dst []Hit, q []float32, k, ef int) []Hit {
	if len(h.level) == 0 || k <= 0 {
		return dst
	}
	if len(q) != h.dim {
		panic(fmt.Sprintf("recs: query of %d dimensions, graph of %d", len(q), h.dim))
	}
	if ef < k {
		ef = max(k, h.efSearch)
	}
	s := h.pool.Get().(*searcher)
	ep := h.greedy(q, h.entry, h.top, 1)
	res := h.searchLayer(s, q, ep, ef, 0)
	for _, c := range res[:min(k, len(res))] {
		dst = append(dst, Hit{ID: c.id, Dist: c.d})
	}
	h.pool.Put(s)
	return dst
}

// greedy descends from ep on layer top to the nearest node on layer down.
func (h *HNSW) greedy(q []float32, ep uint32, top, down int) uint32 {
	d := h.dist(q, ep)
	var buf [256]uint32
	for l := top; l >= down; l-- {
		for changed := true; changed; {
			changed = false
			nb := h.links2(buf[:0], ep, l)
			for _, c := range nb {
				if dc := h.dist(q, c); dc < d {
					d, ep, changed = dc, c, true
				}
			}
		}
	}
	return ep
}

// cand is a node and its distance to the query.
type cand struct {
	id uint32
	d  float32
}

// searcher is the scratch of one search: a visited bit per node, two
// heaps and the batch of neighbours being scored, reused through
// HNSW.pool. The visited set is a bitset (12 KiB per 100,000 nodes, so it
// stays in the core's cache, where a stamp per node took 400 KiB) cleared
// word by word after each search.
type searcher struct {
	seen  []uint64
	dirty []uint32 // words of seen set by this search
	near  []cand   // min-heap on d: candidates to expand
	far   []cand   // max-heap on d: the ef best so far
	nbuf  []uint32
	batch []uint32 // unvisited neighbours of the node expanded
	sink  float32  // the touched floats' sum, kept so the loads stay
}

func newSearcher(n int) *searcher { return &searcher{seen: make([]uint64, (n+63)/64)} }

// next readies s for a search.
func (s *searcher) next() {
	if len(s.dirty) > len(s.seen)/8 {
		clear(s.seen)
	} else {
		for _, w := range s.dirty {
			s.seen[w] = 0
		}
	}
	s.dirty = s.dirty[:0]
	s.near, s.far = s.near[:0], s.far[:0]
}

// visit marks id visited and reports whether it was not before.
func (s *searcher) visit(id uint32) bool {
	w, bit := id>>6, uint64(1)<<(id&63)
	old := s.seen[w]
	if old&bit != 0 {
		return false
	}
	if old == 0 {
		s.dirty = append(s.dirty, w)
	}
	s.seen[w] = old | bit
	return true
}

// searchLayer is Algorithm 2: the ef nodes nearest q on layer l reachable
// from ep. It returns them sorted nearest first, in s's scratch (valid
// until s is used again).
//
// The neighbours of an expanded node are first filtered by the visited
// set, then their vectors touched (one load per cache line, independent
// of each other, so the memory system fetches them in parallel rather
// than one miss per inner product), then scored: the search is bound by
// memory, not by the inner products.
func (h *HNSW) searchLayer(s *searcher, q []float32, ep uint32, ef, l int) []cand {
	s.next()
	s.visit(ep)
	c0 := cand{ep, h.dist(q, ep)}
	s.near = pushMin(s.near, c0)
	s.far = pushMax(s.far, c0)
	dim := h.dim
	for len(s.near) > 0 {
		c := s.near[0]
		if c.d > s.far[0].d && len(s.far) >= ef {
			break
		}
		s.near = popMin(s.near)
		nb := h.links2(s.nbuf[:0], c.id, l)
		if h.locks != nil {
			s.nbuf = nb // a copy into the searcher's buffer
		}
		s.batch = s.batch[:0]
		for _, e := range nb {
			if s.visit(e) {
				s.batch = append(s.batch, e)
			}
		}
		var touch float32
		for _, e := range s.batch {
			v := h.vecs[int(e)*dim : int(e+1)*dim]
			for j := 0; j < len(v); j += 16 {
				touch += v[j]
			}
		}
		if len(s.near) > 0 && h.locks == nil {
			// The links of the likely next node to expand, while the
			// inner products below run.
			touch += float32(h.links[h.off[s.near[0].id]])
		}
		s.sink += touch
		for _, e := range s.batch {
			de := h.dist(q, e)
			if len(s.far) < ef || de < s.far[0].d {
				s.near = pushMin(s.near, cand{e, de})
				s.far = pushMax(s.far, cand{e, de})
				if len(s.far) > ef {
					s.far = popMax(s.far)
				}
			}
		}
	}
	slices.SortFunc(s.far, func(a, b cand) int {
		if a.d != b.d {
			if a.d < b.d {
				return -1
			}
			return 1
		}
		return int(a.id) - int(b.id)
	})
	return s.far
}

func pushMin(h []cand, c cand) []cand {
	h = append(h, c)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].d <= h[i].d {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	return h
}

func popMin(h []cand) []cand {
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < n && h[l].d < h[small].d {
			small = l
		}
		if l+1 < n && h[l+1].d < h[small].d {
			small = l + 1
		}
		if small == i {
			return h
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}

func pushMax(h []cand, c cand) []cand {
	h = append(h, c)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].d >= h[i].d {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	return h
}

func popMax(h []cand) []cand {
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, big := 2*i+1, i
		if l < n && h[l].d > h[big].d {
			big = l
		}
		if l+1 < n && h[l+1].d > h[big].d {
			big = l + 1
		}
		if big == i {
			return h
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}

// builder inserts nodes one at a time (Algorithm 1).
type builder struct {
	h       *HNSW
	s       *searcher
	ef      int
	found   []cand
	sel     []cand
	pruneIn []cand
	kept    []cand
}

func (b *builder) insert(id uint32) {
	h := b.h
	lvl := int(h.level[id])
	if id == 0 {
		h.entry, h.top = 0, lvl
		return
	}
	q := h.Vector(id)
	if h.locks != nil {
		// A node above the top holds the entry lock for its whole
		// insertion (hnswlib's rule), so the graph never has an entry
		// whose upper layers are not linked yet.
		h.locks.entry.RLock()
		if lvl > h.top {
			h.locks.entry.RUnlock()
			h.locks.entry.Lock()
			defer h.locks.entry.Unlock()
		} else {
			defer h.locks.entry.RUnlock()
		}
	}
	ep, top := h.entry, h.top
	if top > lvl {
		ep = h.greedy(q, ep, top, lvl+1)
	}
	for l := min(lvl, top); l >= 0; l-- {
		w := h.searchLayer(b.s, q, ep, b.ef, l)
		b.found = append(b.found[:0], w...)
		ep = b.found[0].id
		b.sel = b.selectNeighbors(b.sel[:0], b.found, h.m)
		var mu *sync.Mutex
		if h.locks != nil {
			mu = h.locks.of(id)
			mu.Lock()
		}
		slot, _ := h.neighbors(id, l)
		h.links[slot] = uint32(len(b.sel))
		for i, c := range b.sel {
			h.links[slot+1+i] = c.id
		}
		if mu != nil {
			mu.Unlock()
		}
		for _, c := range b.sel {
			b.link(c.id, id, c.d, l)
		}
	}
	if lvl > top {
		h.entry, h.top = id, lvl
	}
}

// link adds to from's links on layer l the node to at distance d, shrinking
// them by the heuristic when they overflow.
func (b *builder) link(from, to uint32, d float32, l int) {
	h := b.h
	limit := h.m
	if l == 0 {
		limit = h.m0
	}
	if h.locks != nil {
		mu := h.locks.of(from)
		mu.Lock()
		defer mu.Unlock()
	}
	slot, nb := h.neighbors(from, l)
	if len(nb) < limit {
		h.links[slot+1+len(nb)] = to
		h.links[slot]++
		return
	}
	fv := h.Vector(from)
	b.pruneIn = append(b.pruneIn[:0], cand{to, d})
	for _, e := range nb {
		b.pruneIn = append(b.pruneIn, cand{e, h.dist(fv, e)})
	}
	slices.SortFunc(b.pruneIn, func(a, c cand) int {
		if a.d != c.d {
			if a.d < c.d {
				return -1
			}
			return 1
		}
		return int(a.id) - int(c.id)
	})
	b.kept = b.selectNeighbors(b.kept[:0], b.pruneIn, limit)
	h.links[slot] = uint32(len(b.kept))
	for i, c := range b.kept {
		h.links[slot+1+i] = c.id
	}
}

// selectNeighbors is the heuristic of Algorithm 4 without extending the
// candidates: from c, sorted nearest the base first, it keeps a candidate
// only when it is nearer the base than every one kept so far, at most m.
// The result is appended to dst (which must not alias c).
func (b *builder) selectNeighbors(dst, c []cand, m int) []cand {
	h := b.h
	for _, e := range c {
		if len(dst) >= m {
			break
		}
		ev := h.Vector(e.id)
		good := true
		for _, r := range dst {
			if h.dist(ev, r.id) < e.d {
				good = false
				break
			}
		}
		if good {
			dst = append(dst, e)
		}
	}
	return dst
}
