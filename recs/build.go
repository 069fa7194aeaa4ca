package recs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Scorer names how also-bought neighbours are scored.
type Scorer uint8

// The scorers.
const (
	// Cosine is N_xy / sqrt(N_x * N_y): the cosine between the binary item
	// vectors whose dimensions are orders (Linden, Smith and York 2003).
	Cosine Scorer = 1
	// SmithLinden is (N_xy - E_xy) / sqrt(E_xy), where E_xy, the number of
	// orders of X expected to hold Y if the two were unrelated, sums
	// 1 - (1 - P_y)^|c| over the orders c of X, P_y is Y's share of all
	// purchases and |c| counts the other items of c (Smith and Linden 2017).
	SmithLinden Scorer = 2
	// EASEScorer marks lists whose most ordered items' neighbours are
	// EASE's (ease.go); Build does not make them, EASE does.
	EASEScorer Scorer = 3
)

func (s Scorer) String() string {
	switch s {
	case Cosine:
		return "cosine"
	case SmithLinden:
		return "smith-linden"
	case EASEScorer:
		return "ease"
	}
	return fmt.Sprintf("Scorer(%d)", uint8(s))
}

// ParseScorer reads the String form of a Scorer.
func ParseScorer(s string) (Scorer, error) {
	switch s {
	case "cosine":
		return Cosine, nil
	case "smith-linden":
		return SmithLinden, nil
	}
	return 0, fmt.Errorf("recs: unknown scorer %q (want cosine or smith-linden)", s)
}

// Orders are the input of Build: baskets of items, each basket one customer
// (the Instacart orders have no user ids, so each order stands for its own
// customer).
type Orders struct {
	// Items names the items; baskets hold indexes into it.
	Items []string
	// Baskets are the orders. An item repeated within a basket counts once.
	Baskets [][]int32
}

// Options configure Build. The zero value of a field means its default.
type Options struct {
	// Scorer scores also-bought neighbours; default Cosine, which wins the
	// basket-completion evaluation on the Instacart orders (doc/recs.md).
	Scorer Scorer
	// TopN bounds the also-bought neighbours kept per item; default 50.
	TopN int
	// MaxBasket caps a basket: a larger one keeps its first MaxBasket
	// distinct items, so one huge basket cannot add a quadratic number of
	// weak pairs. Default 50.
	MaxBasket int
	// MinCoCount is the fewest orders two items must share to be
	// neighbours; default 2.
	MinCoCount int
	// Alpha makes Cosine asymmetric (Aiolli 2013): N_xy / (N_x^α N_y^(1-α))
	// for the neighbour y of x; default 0.5, the cosine.
	Alpha float64
	// Shrink multiplies a Cosine score by N_xy / (N_xy + Shrink), so
	// neighbours seen in few orders weigh less; default 0, none.
	Shrink float64
	// BundleMinSupport is the smallest share of all orders that must hold
	// a bundle; default 0.0002 (21 of the 105k Instacart orders).
	BundleMinSupport float64
	// BundleMinConfidence is the smallest share of the anchor's orders that
	// must hold the rest of the bundle; default 0.02.
	BundleMinConfidence float64
	// BundleMinLift is the smallest lift of a bundle: its support over the
	// product of its items' supports; default 1.5.
	BundleMinLift float64
	// BundlePairs bounds the bundles of two kept per anchor item, and the
	// partners tried for bundles of three; default 5.
	BundlePairs int
	// BundleTriples bounds the bundles of three kept per anchor; default 3,
	// negative for none.
	BundleTriples int
	// Workers bounds the goroutines counting; default GOMAXPROCS.
	Workers int
	// Progress, when set, is called from one goroutine at a time with the
	// items done and the total, every few hundred items and at the end.
	Progress func(done, total int)
}

// EnsureDefaults returns o with every zero field set to its default.
func (o Options) EnsureDefaults() Options {
	if o.Scorer == 0 {
		o.Scorer = Cosine
	}
	setInt := func(n *int, def int) {
		if *n == 0 {
			*n = def
		}
	}
	setInt(&o.TopN, 50)
	setInt(&o.MaxBasket, 50)
	setInt(&o.MinCoCount, 2)
	setInt(&o.BundlePairs, 5)
	setInt(&o.BundleTriples, 3)
	setInt(&o.Workers, runtime.GOMAXPROCS(0))
	if o.BundleMinSupport == 0 {
		o.BundleMinSupport = 0.0002
	}
	if o.BundleMinConfidence == 0 {
		o.BundleMinConfidence = 0.02
	}
	if o.BundleMinLift == 0 {
		o.BundleMinLift = 1.5
	}
	if o.Alpha == 0 {
		o.Alpha = 0.5
	}
	return o
}

// Validate lists every problem with o, or returns nil.
func (o Options) Validate() error {
	var errs []error
	if o.Scorer != 0 && o.Scorer != Cosine && o.Scorer != SmithLinden {
		errs = append(errs, fmt.Errorf("recs: Options.Scorer %d is not a scorer", o.Scorer))
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"TopN", o.TopN}, {"MaxBasket", o.MaxBasket}, {"MinCoCount", o.MinCoCount}, {"BundlePairs", o.BundlePairs}, {"Workers", o.Workers}} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("recs: Options.%s is negative (%d)", n.name, n.v))
		}
	}
	if o.Alpha < 0 || o.Alpha > 1 || math.IsNaN(o.Alpha) {
		errs = append(errs, fmt.Errorf("recs: Options.Alpha is %v; want 0 to 1 (0: the default, 0.5)", o.Alpha))
	}
	if o.Shrink < 0 || math.IsNaN(o.Shrink) || math.IsInf(o.Shrink, 0) {
		errs = append(errs, fmt.Errorf("recs: Options.Shrink is %v; want a finite number, not negative", o.Shrink))
	}
	if o.MaxBasket == 1 {
		errs = append(errs, errors.New("recs: Options.MaxBasket is 1; a basket of one item has no pairs"))
	}
	if o.BundlePairs > maxPartners {
		errs = append(errs, fmt.Errorf("recs: Options.BundlePairs is %d, more than %d", o.BundlePairs, maxPartners))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"BundleMinSupport", o.BundleMinSupport}, {"BundleMinConfidence", o.BundleMinConfidence}, {"BundleMinLift", o.BundleMinLift}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			errs = append(errs, fmt.Errorf("recs: Options.%s is %v; it must be finite and not negative", f.name, f.v))
		}
	}
	return errors.Join(errs...)
}

// maxPartners bounds BundlePairs: the partners of one anchor are bits of a
// 16-bit mask when bundles of three are counted.
const maxPartners = 16

// Build counts the co-purchases of o and returns the lists. It checks ctx
// every few hundred items.
func Build(ctx context.Context, o Orders, opts Options) (*Lists, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.EnsureDefaults()
	n := len(o.Items)
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("recs: %d items, more than %d", n, math.MaxInt32)
	}
	b, err := newBaskets(o, opts.MaxBasket)
	if err != nil {
		return nil, err
	}
	l := &Lists{
		scorer:   opts.Scorer,
		orders:   int64(b.count()),
		items:    slices.Clone(o.Items),
		count:    make([]int32, n),
		alsoOff:  make([]uint32, n+1),
		bundleOf: make([]uint32, n+1),
	}
	for x := range n {
		l.count[x] = b.itemOff[x+1] - b.itemOff[x]
	}
	l.index()
	var total int64
	for x := range n {
		total += int64(l.count[x])
	}
	pShare := make([]float64, n) // log1p(-P_y)
	for y := range n {
		pShare[y] = math.Log1p(-float64(l.count[y]) / float64(max(total, 1)))
	}

	rows := make([]row, n)
	var (
		next    atomic.Int64
		done    atomic.Int64
		progMu  sync.Mutex
		wg      sync.WaitGroup
		stopped atomic.Bool
	)
	const chunk = 64
	for range opts.Workers {
		wg.Go(func() {
			w := newWorker(n, b, l, pShare, &opts)
			for !stopped.Load() {
				start := int(next.Add(chunk)) - chunk
				if start >= n {
					return
				}
				if ctx.Err() != nil {
					stopped.Store(true)
					return
				}
				for x := start; x < min(start+chunk, n); x++ {
					rows[x] = w.item(int32(x))
				}
				d := int(done.Add(int64(min(start+chunk, n) - start)))
				if opts.Progress != nil && progMu.TryLock() {
					opts.Progress(d, n)
					progMu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("recs: build stopped after %d of %d items: %w", done.Load(), n, err)
	}
	if opts.Progress != nil {
		opts.Progress(n, n)
	}
	l.flatten(rows)
	return l, nil
}

// baskets is Orders after deduplication and capping, as two CSR tables:
// the items of each basket and the baskets of each item.
type baskets struct {
	off, items         []int32 // basket b holds items[off[b]:off[b+1]]
	itemOff, itemBasks []int32 // item x is in baskets itemBasks[itemOff[x]:itemOff[x+1]]
}

func (b *baskets) count() int { return len(b.off) - 1 }

func newBaskets(o Orders, maxBasket int) (*baskets, error) {
	n := len(o.Items)
	b := &baskets{off: make([]int32, 1, len(o.Baskets)+1)}
	stamp := make([]int32, n) // basket index + 1 that last held the item
	for bi, bk := range o.Baskets {
		start := len(b.items)
		for _, x := range bk {
			if x < 0 || int(x) >= n {
				return nil, fmt.Errorf("recs: basket %d holds item %d, outside the %d items", bi, x, n)
			}
			if stamp[x] == int32(bi+1) {
				continue
			}
			stamp[x] = int32(bi + 1)
			b.items = append(b.items, x)
			if len(b.items)-start == maxBasket {
				break
			}
		}
		if len(b.items)-start < 2 { // no pairs: drop
			b.items = b.items[:start]
			continue
		}
		if len(b.items) > math.MaxInt32 {
			return nil, fmt.Errorf("recs: more than %d purchases", math.MaxInt32)
		}
		b.off = append(b.off, int32(len(b.items)))
	}
	b.itemOff = make([]int32, n+1)
	for _, x := range b.items {
		b.itemOff[x+1]++
	}
	for x := range n {
		b.itemOff[x+1] += b.itemOff[x]
	}
	b.itemBasks = make([]int32, len(b.items))
	fill := slices.Clone(b.itemOff[:n])
	for bi := range b.count() {
		for _, x := range b.items[b.off[bi]:b.off[bi+1]] {
			b.itemBasks[fill[x]] = int32(bi)
			fill[x]++
		}
	}
	return b, nil
}

// row is one item's lists before flattening.
type row struct {
	also    []Neighbor
	bundles []bundle
}

// worker counts one item at a time with dense, reused buffers.
type worker struct {
	b      *baskets
	l      *Lists
	opts   *Options
	logQ   []float64 // log1p(-P_y)
	cnt    []int32
	mark   []int8 // partner index + 1 of an item, while counting triples
	touch  []int32
	sizes  []int32 // orders of X by the number of their other items
	cand   []Neighbor
	pairs  []bundle
	tricnt [maxPartners * maxPartners]int32
}

func newWorker(n int, b *baskets, l *Lists, logQ []float64, opts *Options) *worker {
	return &worker{
		b: b, l: l, opts: opts, logQ: logQ,
		cnt:   make([]int32, n),
		mark:  make([]int8, n),
		sizes: make([]int32, opts.MaxBasket),
	}
}

func (w *worker) item(x int32) row {
	b := w.b
	bs := b.itemBasks[b.itemOff[x]:b.itemOff[x+1]]
	if len(bs) == 0 {
		return row{}
	}
	w.touch = w.touch[:0]
	clear(w.sizes)
	for _, bi := range bs {
		its := b.items[b.off[bi]:b.off[bi+1]]
		w.sizes[len(its)-1]++
		for _, y := range its {
			if w.cnt[y] == 0 {
				w.touch = append(w.touch, y)
			}
			w.cnt[y]++
		}
	}
	nx := float64(len(bs))
	orders := float64(w.l.orders)
	minSup := w.opts.BundleMinSupport * orders
	w.cand = w.cand[:0]
	w.pairs = w.pairs[:0]
	for _, y := range w.touch {
		c := w.cnt[y]
		w.cnt[y] = 0
		if y == x || int(c) < w.opts.MinCoCount {
			continue
		}
		nxy, ny := float64(c), float64(w.l.count[y])
		var s float64
		switch w.opts.Scorer {
		case Cosine:
			if w.opts.Alpha == 0.5 {
				s = nxy / math.Sqrt(nx*ny)
			} else {
				s = nxy / (math.Pow(nx, w.opts.Alpha) * math.Pow(ny, 1-w.opts.Alpha))
			}
			if w.opts.Shrink > 0 {
				s *= nxy / (nxy + w.opts.Shrink)
			}
		case SmithLinden:
			var e float64
			for k, h := range w.sizes {
				if h != 0 {
					e += float64(h) * -math.Expm1(float64(k)*w.logQ[y])
				}
			}
			if e <= 0 {
				continue
			}
			s = (nxy - e) / math.Sqrt(e)
		}
		if s > 0 {
			w.cand = append(w.cand, Neighbor{Item: y, Score: float32(s), Count: c})
		}
		if nxy >= minSup {
			conf := nxy / nx
			lift := nxy * orders / (nx * ny)
			if conf >= w.opts.BundleMinConfidence && lift >= w.opts.BundleMinLift {
				w.pairs = append(w.pairs, bundle{items: [2]int32{y, -1}, count: c, lift: float32(lift)})
			}
		}
	}
	r := row{also: topNeighbors(w.cand, w.opts.TopN)}
	if len(w.pairs) > 0 {
		r.bundles = w.bundles(x, bs)
	}
	return r
}

// topNeighbors returns the n best of c, by score then item, in a new slice.
func topNeighbors(c []Neighbor, n int) []Neighbor {
	slices.SortFunc(c, func(a, b Neighbor) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return int(a.Item - b.Item)
	})
	if len(c) > n {
		c = c[:n]
	}
	return slices.Clone(c)
}

// bundles ranks the pairs of x by co-count (so by confidence) and adds the
// bundles of three among the best partners.
func (w *worker) bundles(x int32, bs []int32) []bundle {
	byCount := func(a, b bundle) int {
		if a.count != b.count {
			return int(b.count - a.count)
		}
		if a.lift != b.lift {
			if a.lift > b.lift {
				return -1
			}
			return 1
		}
		return int(a.items[0]-b.items[0])*4 + int(a.items[1]-b.items[1])
	}
	slices.SortFunc(w.pairs, byCount)
	pairs := w.pairs[:min(len(w.pairs), w.opts.BundlePairs)]
	out := slices.Clone(pairs)
	if w.opts.BundleTriples <= 0 || len(pairs) < 2 {
		return out
	}
	p := len(pairs)
	for i, pr := range pairs {
		w.mark[pr.items[0]] = int8(i + 1)
	}
	clear(w.tricnt[:])
	var in [maxPartners]int
	for _, bi := range bs {
		k := 0
		for _, y := range w.b.items[w.b.off[bi]:w.b.off[bi+1]] {
			if m := w.mark[y]; m != 0 {
				in[k] = int(m - 1)
				k++
			}
		}
		for i := 0; i < k; i++ {
			for j := i + 1; j < k; j++ {
				a, c := min(in[i], in[j]), max(in[i], in[j])
				w.tricnt[a*maxPartners+c]++
			}
		}
	}
	for _, pr := range pairs {
		w.mark[pr.items[0]] = 0
	}
	orders := float64(w.l.orders)
	nx := float64(w.l.count[x])
	start := len(out)
	for i := 0; i < p; i++ {
		for j := i + 1; j < p; j++ {
			c := w.tricnt[i*maxPartners+j]
			y, z := pairs[i].items[0], pairs[j].items[0]
			nxyz := float64(c)
			if nxyz < w.opts.BundleMinSupport*orders || nxyz < float64(w.opts.MinCoCount) || nxyz/nx < w.opts.BundleMinConfidence {
				continue
			}
			ny, nz := float64(w.l.count[y]), float64(w.l.count[z])
			lift := nxyz * orders * orders / (nx * ny * nz)
			if lift < w.opts.BundleMinLift {
				continue
			}
			out = append(out, bundle{items: [2]int32{y, z}, count: c, lift: float32(lift)})
		}
	}
	slices.SortFunc(out[start:], byCount)
	if len(out)-start > w.opts.BundleTriples {
		out = out[:start+w.opts.BundleTriples]
	}
	return out
}
