package recs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// EmbedMatrix names the item-item matrix Embed factorises.
type EmbedMatrix uint8

// The matrices.
const (
	// PPMI is the positive pointwise mutual information of two items,
	// max(0, log(N_xy N / (N_x N_y)) - Shift).
	PPMI EmbedMatrix = 1
	// CoCosine is the cosine of the also-bought lists, N_xy / sqrt(N_x N_y).
	CoCosine EmbedMatrix = 2
)

func (m EmbedMatrix) String() string {
	switch m {
	case PPMI:
		return "ppmi"
	case CoCosine:
		return "cosine"
	}
	return fmt.Sprintf("EmbedMatrix(%d)", uint8(m))
}

// EmbedOptions configure Embed. The zero value of a field means its
// default.
type EmbedOptions struct {
	// Dim is the dimension of the item vectors; default 64.
	Dim int
	// Matrix is the matrix factorised; default PPMI.
	Matrix EmbedMatrix
	// MinOrders is the fewest orders an item must be in to get a vector;
	// default 10. Items in fewer orders have none, and no similar items.
	MinOrders int
	// MinCoCount is the fewest orders two items must share for their PMI
	// to count; default 1 (every pair), negative for 1.
	MinCoCount int
	// Shift is subtracted from every PMI before the negatives are dropped
	// (shifted PPMI, Levy and Goldberg 2014); default 0.
	Shift float64
	// MaxBasket caps a basket as Options.MaxBasket does; default 50.
	MaxBasket int
	// Oversample is the extra columns of the randomized SVD; default 16.
	Oversample int
	// PowerIters is the power iterations of the randomized SVD; default 3.
	PowerIters int
	// Seed draws the random test matrix of the SVD and the HNSW levels.
	Seed uint64
	// HNSW configures the graph over the vectors (its Seed is Seed).
	HNSW HNSWOptions
	// Workers bounds the goroutines multiplying; default GOMAXPROCS.
	Workers int
}

// EnsureDefaults returns o with every zero field set to its default.
func (o EmbedOptions) EnsureDefaults() EmbedOptions {
	setInt := func(n *int, def int) {
		if *n == 0 {
			*n = def
		}
	}
	setInt(&o.Dim, 64)
	if o.Matrix == 0 {
		o.Matrix = PPMI
	}
	setInt(&o.MinOrders, 10)
	setInt(&o.MaxBasket, 50)
	setInt(&o.Oversample, 16)
	setInt(&o.PowerIters, 3)
	setInt(&o.Workers, runtime.GOMAXPROCS(0))
	o.HNSW.Seed = o.Seed
	o.HNSW = o.HNSW.EnsureDefaults()
	return o
}

// Validate lists every problem with o, or returns nil.
func (o EmbedOptions) Validate() error {
	var errs []error
	for _, n := range []struct {
		name string
		v    int
	}{{"Dim", o.Dim}, {"MinOrders", o.MinOrders}, {"MaxBasket", o.MaxBasket}, {"Oversample", o.Oversample}, {"PowerIters", o.PowerIters}, {"Workers", o.Workers}} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("recs: EmbedOptions.%s is negative (%d)", n.name, n.v))
		}
	}
	if o.Matrix > CoCosine {
		errs = append(errs, fmt.Errorf("recs: EmbedOptions.Matrix %d is not a matrix", o.Matrix))
	}
	if o.Dim > 1024 {
		errs = append(errs, fmt.Errorf("recs: EmbedOptions.Dim is %d, more than 1024", o.Dim))
	}
	if o.MaxBasket == 1 {
		errs = append(errs, errors.New("recs: EmbedOptions.MaxBasket is 1; a basket of one item has no pairs"))
	}
	if err := o.HNSW.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Embeddings are item vectors learned from co-purchase and the HNSW graph
// over them. Immutable once built: Similar and Neighbors may run
// concurrently.
type Embeddings struct {
	opts  EmbedOptions // with defaults, Workers zero
	dim   int
	items []string // every item of the Orders
	row   []int32  // item index -> row, -1 for none
	item  []int32  // row -> item index
	vecs  []float32
	graph *HNSW
	byID  map[string]int32
}

// EmbedStats describe embeddings.
type EmbedStats struct {
	Items, WithVector, Dim int
	// NonZeros counts the positive PMI entries factorised.
	NonZeros int
}

// Embed learns item vectors from the co-purchases of o: the positive
// pointwise mutual information of every pair of items with at least
// MinOrders orders, PPMI(x,y) = max(0, log(N_xy N / (N_x N_y))) (or their
// cosine, per Matrix), is factorised by a randomized truncated SVD (Halko, Martinsson and Tropp
// 2011: a seeded Gaussian test matrix, PowerIters power iterations,
// Rayleigh-Ritz on the symmetric matrix), an item's vector being its row
// of U·|Σ|^½, normalised. The vectors are then indexed in an HNSW graph.
// It checks ctx between passes.
func Embed(ctx context.Context, o Orders, opts EmbedOptions) (*Embeddings, EmbedStats, error) {
	if err := opts.Validate(); err != nil {
		return nil, EmbedStats{}, err
	}
	opts = opts.EnsureDefaults()
	n := len(o.Items)
	if n > math.MaxInt32 {
		return nil, EmbedStats{}, fmt.Errorf("recs: %d items, more than %d", n, math.MaxInt32)
	}
	b, err := newBaskets(o, opts.MaxBasket)
	if err != nil {
		return nil, EmbedStats{}, err
	}
	e := &Embeddings{opts: opts, dim: opts.Dim, items: slices.Clone(o.Items), row: make([]int32, n)}
	e.opts.Workers = 0
	for x := range n {
		e.row[x] = -1
		if int(b.itemOff[x+1]-b.itemOff[x]) >= opts.MinOrders {
			e.row[x] = int32(len(e.item))
			e.item = append(e.item, int32(x))
		}
	}
	e.byID = make(map[string]int32, n)
	for i, id := range e.items {
		e.byID[id] = int32(i)
	}
	st := EmbedStats{Items: n, Dim: opts.Dim}
	m := len(e.item)
	if m == 0 {
		e.graph, err = BuildHNSW(nil, opts.Dim, opts.HNSW)
		return e, st, err
	}
	s := ppmi(b, e, opts.Matrix, opts.MinCoCount, opts.Shift, opts.Workers)
	st.NonZeros = len(s.val)
	if err := ctx.Err(); err != nil {
		return nil, st, fmt.Errorf("recs: embedding stopped after counting: %w", err)
	}
	p := min(opts.Dim+opts.Oversample, m)
	rng := rand.New(rand.NewPCG(opts.Seed, 0xe3bed))
	q := make([]float64, m*p)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	y := make([]float64, m*p)
	s.mul(y, q, p, opts.Workers)
	for range opts.PowerIters {
		orthonormalize(y, m, p)
		q, y = y, q
		s.mul(y, q, p, opts.Workers)
		if err := ctx.Err(); err != nil {
			return nil, st, fmt.Errorf("recs: embedding stopped in the power iterations: %w", err)
		}
	}
	orthonormalize(y, m, p)
	q, y = y, q
	s.mul(y, q, p, opts.Workers) // y = S Q
	t := make([]float64, p*p)    // T = Qᵀ S Q
	for i := range m {
		qi, yi := q[i*p:(i+1)*p], y[i*p:(i+1)*p]
		for a := range p {
			if qa := qi[a]; qa != 0 {
				ta := t[a*p : (a+1)*p]
				for c, v := range yi {
					ta[c] += qa * v
				}
			}
		}
	}
	for a := range p { // symmetrise rounding
		for c := a + 1; c < p; c++ {
			v := (t[a*p+c] + t[c*p+a]) / 2
			t[a*p+c], t[c*p+a] = v, v
		}
	}
	lambda, v := jacobiEigen(t, p)
	order := make([]int, p)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, c int) int {
		la, lc := math.Abs(lambda[a]), math.Abs(lambda[c])
		switch {
		case la > lc:
			return -1
		case la < lc:
			return 1
		}
		return 0
	})
	d := opts.Dim
	vecs := make([]float32, 0, m*d)
	kept := e.item[:0:0]
	row := make([]float64, d)
	for i := range m {
		qi := q[i*p : (i+1)*p]
		var norm float64
		for c := range d {
			k := 0
			if c < p {
				k = order[c]
			}
			var sum float64
			if c < p {
				for a, qa := range qi {
					sum += qa * v[a*p+k]
				}
				sum *= math.Sqrt(math.Abs(lambda[k]))
			}
			row[c] = sum
			norm += sum * sum
		}
		x := e.item[i]
		if norm == 0 || math.IsNaN(norm) {
			e.row[x] = -1
			continue
		}
		norm = math.Sqrt(norm)
		e.row[x] = int32(len(kept))
		kept = append(kept, x)
		for _, c := range row {
			vecs = append(vecs, float32(c/norm))
		}
	}
	e.item, e.vecs = kept, vecs
	st.WithVector = len(kept)
	if err := ctx.Err(); err != nil {
		return nil, st, fmt.Errorf("recs: embedding stopped before the graph: %w", err)
	}
	e.graph, err = BuildHNSW(e.vecs, d, opts.HNSW)
	if err != nil {
		return nil, st, err
	}
	return e, st, nil
}

// sparse is a symmetric m×m matrix in CSR form.
type sparse struct {
	off []int64
	col []int32
	val []float64
}

// ppmi counts the co-purchases of the items with rows and returns their
// positive PMI matrix, or their co-purchase cosines.
func ppmi(b *baskets, e *Embeddings, matrix EmbedMatrix, minCo int, shift float64, workers int) *sparse {
	m := len(e.item)
	total := float64(b.count())
	nx := func(x int32) float64 { return float64(b.itemOff[x+1] - b.itemOff[x]) }
	type rowOut struct {
		col []int32
		val []float64
	}
	rows := make([]rowOut, m)
	var wg sync.WaitGroup
	var next sync.Mutex
	cursor := 0
	for range workers {
		wg.Go(func() {
			cnt := make([]int32, m)
			var touch []int32
			for {
				next.Lock()
				start := cursor
				cursor += 64
				next.Unlock()
				if start >= m {
					return
				}
				for r := start; r < min(start+64, m); r++ {
					x := e.item[r]
					touch = touch[:0]
					for _, bi := range b.itemBasks[b.itemOff[x]:b.itemOff[x+1]] {
						for _, y := range b.items[b.off[bi]:b.off[bi+1]] {
							c := e.row[y]
							if c < 0 || y == x {
								continue
							}
							if cnt[c] == 0 {
								touch = append(touch, c)
							}
							cnt[c]++
						}
					}
					slices.Sort(touch)
					var ro rowOut
					for _, c := range touch {
						pmi := math.Log(float64(cnt[c])*total/(nx(x)*nx(e.item[c]))) - shift
						if matrix == CoCosine {
							pmi = float64(cnt[c]) / math.Sqrt(nx(x)*nx(e.item[c]))
						}
						if int(cnt[c]) < minCo {
							pmi = 0
						}
						cnt[c] = 0
						if pmi > 0 {
							ro.col = append(ro.col, c)
							ro.val = append(ro.val, pmi)
						}
					}
					rows[r] = ro
				}
			}
		})
	}
	wg.Wait()
	s := &sparse{off: make([]int64, m+1)}
	for r, ro := range rows {
		s.col = append(s.col, ro.col...)
		s.val = append(s.val, ro.val...)
		s.off[r+1] = int64(len(s.col))
	}
	return s
}

// mul sets y = S x, x and y m×p row-major.
func (s *sparse) mul(y, x []float64, p, workers int) {
	m := len(s.off) - 1
	var wg sync.WaitGroup
	chunk := (m + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, m)
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				yi := y[i*p : (i+1)*p]
				clear(yi)
				for k := s.off[i]; k < s.off[i+1]; k++ {
					v := s.val[k]
					xj := x[int(s.col[k])*p : int(s.col[k]+1)*p]
					for c := range yi {
						yi[c] += v * xj[c]
					}
				}
			}
		})
	}
	wg.Wait()
}

// orthonormalize makes the p columns of the m×p row-major a orthonormal:
// Cholesky QR twice (CholQR2: G = AᵀA = RᵀR, A <- A R⁻¹), which walks a by
// rows, or modified Gram-Schmidt when G is not positive definite.
func orthonormalize(a []float64, m, p int) {
	g := make([]float64, p*p)
	for range 2 {
		clear(g)
		for i := range m {
			ai := a[i*p : (i+1)*p]
			for r, x := range ai {
				if x == 0 {
					continue
				}
				gr := g[r*p : (r+1)*p]
				for c := r; c < p; c++ {
					gr[c] += x * ai[c]
				}
			}
		}
		// Cholesky: g's upper triangle becomes R with G = RᵀR.
		for j := range p {
			d := g[j*p+j]
			for k := range j {
				d -= g[k*p+j] * g[k*p+j]
			}
			if d <= 1e-10*max(g[j*p+j], 1e-300) || math.IsNaN(d) {
				gramSchmidt(a, m, p)
				return
			}
			d = math.Sqrt(d)
			g[j*p+j] = d
			for c := j + 1; c < p; c++ {
				v := g[j*p+c]
				for k := range j {
					v -= g[k*p+j] * g[k*p+c]
				}
				g[j*p+c] = v / d
			}
		}
		// a_i <- a_i R⁻¹: solve x R = a_i by forward substitution.
		for i := range m {
			ai := a[i*p : (i+1)*p]
			for c := range p {
				v := ai[c]
				for k := range c {
					v -= ai[k] * g[k*p+c]
				}
				ai[c] = v / g[c*p+c]
			}
		}
	}
}

// gramSchmidt makes the p columns of the m×p row-major a orthonormal
// (modified Gram-Schmidt, twice for stability). A column that vanishes is
// left zero.
func gramSchmidt(a []float64, m, p int) {
	for range 2 {
		for c := range p {
			for prev := range c {
				var d float64
				for i := range m {
					d += a[i*p+c] * a[i*p+prev]
				}
				for i := range m {
					a[i*p+c] -= d * a[i*p+prev]
				}
			}
			var norm float64
			for i := range m {
				norm += a[i*p+c] * a[i*p+c]
			}
			norm = math.Sqrt(norm)
			if norm < 1e-12 {
				for i := range m {
					a[i*p+c] = 0
				}
				continue
			}
			for i := range m {
				a[i*p+c] /= norm
			}
		}
	}
}

// jacobiEigen returns the eigenvalues of the symmetric p×p a (destroyed)
// and its eigenvectors as the columns of v, by cyclic Jacobi rotations.
func jacobiEigen(a []float64, p int) ([]float64, []float64) {
	v := make([]float64, p*p)
	for i := range p {
		v[i*p+i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		var off float64
		for i := range p {
			for j := i + 1; j < p; j++ {
				off += a[i*p+j] * a[i*p+j]
			}
		}
		if off < 1e-22 {
			break
		}
		for i := range p {
			for j := i + 1; j < p; j++ {
				aij := a[i*p+j]
				if math.Abs(aij) < 1e-300 {
					continue
				}
				theta := (a[j*p+j] - a[i*p+i]) / (2 * aij)
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range p { // columns i, j of a
					aki, akj := a[k*p+i], a[k*p+j]
					a[k*p+i], a[k*p+j] = c*aki-s*akj, s*aki+c*akj
				}
				for k := range p { // rows i, j
					aik, ajk := a[i*p+k], a[j*p+k]
					a[i*p+k], a[j*p+k] = c*aik-s*ajk, s*aik+c*ajk
				}
				for k := range p {
					vki, vkj := v[k*p+i], v[k*p+j]
					v[k*p+i], v[k*p+j] = c*vki-s*vkj, s*vki+c*vkj
				}
			}
		}
	}
	lambda := make([]float64, p)
	for i := range p {
		lambda[i] = a[i*p+i]
	}
	return lambda, v
}

// Options returns the options e was built with, defaults filled in and
// Workers zero (it does not change the result): a caller compares them with
// the options it wants, EnsureDefaults and Workers zero too, to know
// whether embeddings read from a snapshot will do.
func (e *Embeddings) Options() EmbedOptions { return e.opts }

// Stats returns counts of e.
func (e *Embeddings) Stats() EmbedStats {
	return EmbedStats{Items: len(e.items), WithVector: len(e.item), Dim: e.dim}
}

// Vector returns the vector of the item named id, which belongs to e, or
// false when it has none.
func (e *Embeddings) Vector(id string) ([]float32, bool) {
	x, ok := e.byID[id]
	if !ok || e.row[x] < 0 {
		return nil, false
	}
	r := int(e.row[x])
	return e.vecs[r*e.dim : (r+1)*e.dim], true
}

// Neighbors appends to dst the k items nearest item x in the graph (x
// itself left out), nearest first, scored by cosine similarity; ef is the
// search's candidate list (0: the default). It returns dst unchanged for
// an item with no vector.
func (e *Embeddings) Neighbors(dst []Neighbor, x int32, k, ef int) []Neighbor {
	if x < 0 || int(x) >= len(e.row) || e.row[x] < 0 {
		return dst
	}
	r := uint32(e.row[x])
	var buf [64]Hit
	hits := e.graph.Search(buf[:0], e.graph.Vector(r), k+1, max(ef, k+1))
	n := 0
	for _, h := range hits {
		if h.ID == r || n == k {
			continue
		}
		dst = append(dst, Neighbor{Item: e.item[h.ID], Score: 1 - h.Dist})
		n++
	}
	return dst
}

// Similar appends to dst up to limit products nearest id in the
// embedding, best first, skipping those ps does not know or that are out
// of stock now. Score is the cosine similarity; Count is zero. It returns
// dst unchanged for an item with no vector.
func (e *Embeddings) Similar(dst []Item, id string, limit int, ps Products) []Item {
	x, ok := e.byID[id]
	if !ok || e.row[x] < 0 || limit <= 0 {
		return dst
	}
	r := uint32(e.row[x])
	want := min(2*limit+8, e.graph.Len())
	hits := e.graph.Search(make([]Hit, 0, want), e.graph.Vector(r), want, 0)
	n := 0
	for _, h := range hits {
		if n >= limit {
			break
		}
		if h.ID == r {
			continue
		}
		p, ok := ps.Product(e.items[e.item[h.ID]])
		if !ok || p == nil || !p.InStock() {
			continue
		}
		dst = append(dst, Item{Product: p, Score: float64(1 - h.Dist)})
		n++
	}
	return dst
}

// SimilarLists returns lists with l's items and order counts whose
// also-bought neighbours are the k nearest items of e, so that Evaluate
// scores "similar items" on the same footing as the also-bought lists. e
// must have been built on l's items.
func SimilarLists(l *Lists, e *Embeddings, k, ef int) (*Lists, error) {
	if !slices.Equal(l.items, e.items) {
		return nil, errors.New("recs: the embeddings and the lists name different items")
	}
	n := len(l.items)
	s := &Lists{
		scorer: l.scorer, orders: l.orders, items: l.items, count: l.count,
		alsoOff: make([]uint32, n+1), bundleOf: make([]uint32, n+1), byID: l.byID,
	}
	for x := range n {
		start := len(s.also)
		s.also = e.Neighbors(s.also, int32(x), k, ef)
		// Evaluate sums the scores: keep only positive similarities.
		tail := slices.DeleteFunc(s.also[start:], func(nb Neighbor) bool { return nb.Score <= 0 })
		s.also = s.also[:start+len(tail)]
		s.alsoOff[x+1] = uint32(len(s.also))
	}
	return s, nil
}
