package app

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/internal/atomicfile"
	"github.com/aisle/aisle/recs"
)

// RecsBuild configures BuildRecs (`aisle recs build`).
type RecsBuild struct {
	// Data is the data directory; the snapshot is written to RecsFile in
	// it.
	Data string
	// Options are the also-bought options (scorer, neighbours, basket
	// size, progress).
	Options recs.Options
	// Similar also learns the similar-items embeddings and their HNSW
	// graph into the snapshot.
	Similar bool
	// NoEASE writes the Options' scorer's lists as they are, without
	// EASE over the most ordered items (serve then adds it at start).
	NoEASE bool
	// Resample, above zero, builds from this many orders drawn with
	// replacement from the shipped ones, over copies of the items making
	// 50,000 (a scale test).
	Resample int
	// Log receives the figures.
	Log io.Writer
}

// BuildRecs builds the recommendations from the shipped orders and writes
// their snapshot into the data directory, for serve to load.
func BuildRecs(ctx context.Context, b RecsBuild) error {
	stderr := b.Log
	if err := atomicfile.MkdirAll(b.Data); err != nil {
		return fmt.Errorf("recs build: cannot create data directory: %w", err)
	}
	start := time.Now()
	var (
		l   *recs.Lists
		err error
	)
	var o recs.Orders
	if b.Resample > 0 {
		l, o, err = buildResampled(ctx, b.Options, b.Resample, stderr)
	} else {
		l, err = buildRecs(ctx, b.Options, stderr)
		if err == nil {
			o, err = instacartOrders(nil)
		}
	}
	if err != nil {
		return err
	}
	if !b.NoEASE {
		t := time.Now()
		if l, err = recs.EASE(ctx, o, l, ServedEASE); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "aisle: recs: EASE over the %d most ordered items in %.1f s (the served lists)\n",
			ServedEASE.EnsureDefaults().Items, time.Since(t).Seconds())
	}
	var e *recs.Embeddings
	if b.Similar {
		if e, err = buildSimilar(ctx, runtime.GOMAXPROCS(0), stderr); err != nil {
			return err
		}
	}
	path := filepath.Join(b.Data, RecsFile)
	size, err := writeRecs(path, l, e)
	if err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(stderr, "aisle: wrote %s (%d KiB) in %.1f s; heap in use %d MiB, peak from the OS %d MiB\n",
		path, size>>10, time.Since(start).Seconds(), ms.HeapInuse>>20, ms.Sys>>20)
	return nil
}

// buildResampled builds the lists from n orders drawn with replacement,
// with a fixed seed, from the shipped ones, each over one of as many
// copies of the item set as make 50,000 items (item x of copy c is
// "x~c"): the scale test of 3M orders over 50k items, from the
// 97k shipped orders over 37k items.
func buildResampled(ctx context.Context, opts recs.Options, n int, stderr io.Writer) (*recs.Lists, recs.Orders, error) {
	start := time.Now()
	o, err := instacartOrders(nil)
	if err != nil {
		return nil, recs.Orders{}, err
	}
	items := len(o.Items)
	copies := (50_000 + items - 1) / items
	big := recs.Orders{Items: make([]string, 0, copies*items), Baskets: make([][]int32, n)}
	for c := range copies {
		for _, it := range o.Items {
			big.Items = append(big.Items, it+"~"+strconv.Itoa(c))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big.Baskets {
		src := o.Baskets[r.IntN(len(o.Baskets))]
		off := int32(r.IntN(copies) * items)
		b := make([]int32, len(src))
		for j, x := range src {
			b[j] = x + off
		}
		big.Baskets[i] = b
	}
	read := time.Since(start)
	l, err := recs.Build(ctx, big, opts)
	if err != nil {
		return nil, recs.Orders{}, err
	}
	st := l.Stats()
	fmt.Fprintf(stderr, "aisle: recs (%s) from %d resampled orders over %d items in %.1f s (resampling %.1f s): %d items with %d also-bought\n",
		st.Scorer, n, len(big.Items), time.Since(start).Seconds(), read.Seconds(), st.WithAlso, st.Neighbors)
	return l, big, nil
}

// testOrder is the fixed split of the evaluation: an order whose id is a
// multiple of 11 is held out (9% of the orders). Not 10: the shipped
// orders have no id ending in 0 or 5.
func testOrder(id int32) bool { return id%11 == 0 }

// splitOrders returns the train and test baskets of the shipped orders,
// sharing one item list.
func splitOrders() (train recs.Orders, test [][]int32, err error) {
	all, err := instacartOrders(nil)
	if err != nil {
		return recs.Orders{}, nil, err
	}
	orders, err := corpora.InstacartOrders()
	if err != nil {
		return recs.Orders{}, nil, err
	}
	train.Items = all.Items
	for i, b := range all.Baskets {
		if testOrder(orders[i].ID) {
			test = append(test, b)
		} else {
			train.Baskets = append(train.Baskets, b)
		}
	}
	return train, test, nil
}

// RecsEval configures EvalRecs (`aisle recs eval`).
type RecsEval struct {
	// Sample scores only the first Sample test orders (0: all).
	Sample int
	// Half hides half of each basket instead of one item.
	Half bool
	// Dims are the dimensions of the embeddings evaluated (none: skip
	// them).
	Dims []int
	// Orders names the orders evaluated: "instacart" (the default, the
	// shipped store's) or "retail" (the FIMI retail baskets, another
	// domain with no products behind them: the lists only).
	Orders string
	// Log receives the figures.
	Log io.Writer
}

// EvalRecs scores the recommendations on the held-out shipped orders
// (order_id % 11 == 0): basket completion (HR@10 with its 95% confidence
// interval, and the paired difference with plain cosine) for popularity,
// cosine, tuned cosine, Smith-Linden and EASE (the served lists), the
// home page; then similar items by content, behaviour and hybrid vectors,
// as substitutes (precision@10 on the Icecat judgements) and as
// complements (HR@10 on the same baskets); with Dims, the embeddings of
// each dimension as before.
func EvalRecs(ctx context.Context, o RecsEval) error {
	sample, half, dims, stderr := o.Sample, o.Half, o.Dims, o.Log
	var (
		train recs.Orders
		test  [][]int32
		err   error
	)
	switch o.Orders {
	case "", "instacart":
		train, test, err = splitOrders()
	case "retail":
		train, test, err = splitRetail()
	default:
		err = fmt.Errorf("recs eval: no orders named %q (instacart, retail)", o.Orders)
	}
	if err != nil {
		return err
	}
	if o.Orders == "retail" {
		if sample > 0 && sample < len(test) {
			test = test[:sample]
		}
		return evalLists(ctx, train, test, recs.EvalOptions{HideHalf: half, Seed: 1}, stderr)
	}
	if sample > 0 && sample < len(test) {
		test = test[:sample]
	}
	cats, err := instacartAisles(train.Items)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "aisle: %d train orders, %d test orders (order_id %% 11 == 0), hiding %s\n",
		len(train.Baskets), len(test), map[bool]string{false: "one item", true: "half the items"}[half])
	eo := recs.EvalOptions{HideHalf: half, Seed: 1}
	start := time.Now()
	cos, err := recs.Build(ctx, train, recs.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "aisle: cosine built in %.1f s\n", time.Since(start).Seconds())
	cosR, pop := recs.Evaluate(cos, test, eo)
	report := func(r recs.EvalResult, note string) {
		d, ci, err := recs.PairedDiff(r, cosR)
		if err != nil {
			fmt.Fprintf(stderr, "aisle: eval %v  %s\n", r, note)
			return
		}
		fmt.Fprintf(stderr, "aisle: eval %v  vs cosine %+.4f ± %.4f (%+.1f%%)  %s\n", r, d, ci, 100*d/cosR.HitRate, note)
	}
	report(pop, "")
	report(cosR, "")
	for _, m := range []struct {
		name string
		opts recs.Options
	}{
		{"cosine-a0.7", recs.Options{Alpha: 0.7}},
		{"cosine-shrink5", recs.Options{Shrink: 5}},
		{"cosine-min3", recs.Options{MinCoCount: 3}},
		{"smith-linden", recs.Options{Scorer: recs.SmithLinden}},
	} {
		start := time.Now()
		l, err := recs.Build(ctx, train, m.opts)
		if err != nil {
			return err
		}
		r, _ := recs.Evaluate(l, test, eo)
		r.Method = m.name
		report(r, fmt.Sprintf("(build %.1f s)", time.Since(start).Seconds()))
	}
	start = time.Now()
	served, err := recs.EASE(ctx, train, cos, ServedEASE)
	if err != nil {
		return err
	}
	easeR, _ := recs.Evaluate(served, test, eo)
	easeR.Method = "ease (served)"
	report(easeR, fmt.Sprintf("(%d items, λ %g; %.1f s)", ServedEASE.EnsureDefaults().Items, ServedEASE.EnsureDefaults().Lambda, time.Since(start).Seconds()))
	if err := evalTunedEASE(ctx, train, cos, test, eo, report, stderr); err != nil {
		return err
	}
	home, _ := recs.EvaluateHome(served, test, cats, recs.HomeOptions{}, eo)
	report(home, fmt.Sprintf("(home row over the served lists, %d items per aisle at most)", recs.HomeOptions{}.EnsureDefaults().PerCategory))
	if err := evalVectors(ctx, served, train, test, eo, report, stderr); err != nil {
		return err
	}
	if len(dims) > 0 {
		return evalSimilar(ctx, cos, train, test, half, dims, stderr)
	}
	return nil
}

// easeGrid are the EASE options TuneEASE chooses from: λ, the
// dropout-shaped ridge of Steck 2020, and the blend with the cosine lists.
func easeGrid() []recs.EASEOptions {
	var g []recs.EASEOptions
	for _, p := range [][3]float64{{20, 0, 0}, {50, 0, 0}, {200, 0, 0}, {50, 0.1, 0}, {50, 0, 0.25}, {50, 0, 0.5}, {50, 0, 1}} {
		o := ServedEASE
		o.Lambda, o.Dropout, o.Cosine = p[0], p[1], p[2]
		g = append(g, o)
	}
	return g
}

// evalTunedEASE reports EASE with λ and dropout chosen by validation on
// the training orders (recs.TuneEASE), fitted on all of them.
func evalTunedEASE(ctx context.Context, train recs.Orders, cos *recs.Lists, test [][]int32, eo recs.EvalOptions, report func(recs.EvalResult, string), stderr io.Writer) error {
	start := time.Now()
	grid := easeGrid()
	best, hits, err := recs.TuneEASE(ctx, train, grid, eo)
	if err != nil {
		return err
	}
	for i, g := range grid {
		fmt.Fprintf(stderr, "aisle: EASE validation (every tenth training basket held out) λ %g dropout %g cosine %g: HR@10 %.4f\n", g.Lambda, g.Dropout, g.Cosine, hits[i])
	}
	fmt.Fprintf(stderr, "aisle: EASE by validation chose λ %g dropout %g cosine %g in %.1f s\n", best.Lambda, best.Dropout, best.Cosine, time.Since(start).Seconds())
	l, err := recs.EASE(ctx, train, cos, best)
	if err != nil {
		return err
	}
	r, _ := recs.Evaluate(l, test, eo)
	r.Method = "ease, by validation"
	report(r, fmt.Sprintf("(λ %g, dropout %g, cosine %g)", best.Lambda, best.Dropout, best.Cosine))
	return nil
}

// splitRetail returns the FIMI retail baskets split as the shipped orders
// are: every eleventh basket (index % 11 == 0) held out.
func splitRetail() (train recs.Orders, test [][]int32, err error) {
	raw, err := corpora.RetailBaskets()
	if err != nil {
		return recs.Orders{}, nil, err
	}
	dense := map[int32]int32{}
	for i, b := range raw {
		bk := make([]int32, 0, len(b))
		for _, x := range b {
			d, ok := dense[x]
			if !ok {
				d = int32(len(train.Items))
				dense[x] = d
				train.Items = append(train.Items, "retail-"+strconv.Itoa(int(x)))
			}
			bk = append(bk, d)
		}
		if i%11 == 0 {
			test = append(test, bk)
		} else {
			train.Baskets = append(train.Baskets, bk)
		}
	}
	return train, test, nil
}

// evalLists scores the lists alone (orders with no products behind them):
// popularity, cosine, EASE at the served λ and at λ by validation, each
// against cosine with paired intervals.
func evalLists(ctx context.Context, train recs.Orders, test [][]int32, eo recs.EvalOptions, stderr io.Writer) error {
	fmt.Fprintf(stderr, "aisle: %d train baskets, %d test baskets over %d items\n", len(train.Baskets), len(test), len(train.Items))
	cos, err := recs.Build(ctx, train, recs.Options{})
	if err != nil {
		return err
	}
	cosR, pop := recs.Evaluate(cos, test, eo)
	report := func(r recs.EvalResult, note string) {
		d, ci, err := recs.PairedDiff(r, cosR)
		if err != nil {
			fmt.Fprintf(stderr, "aisle: eval %v  %s\n", r, note)
			return
		}
		fmt.Fprintf(stderr, "aisle: eval %v  vs cosine %+.4f ± %.4f (%+.1f%%)  %s\n", r, d, ci, 100*d/cosR.HitRate, note)
	}
	report(pop, "")
	report(cosR, "")
	start := time.Now()
	served, err := recs.EASE(ctx, train, cos, ServedEASE)
	if err != nil {
		return err
	}
	r, _ := recs.Evaluate(served, test, eo)
	r.Method = "ease (served λ)"
	report(r, fmt.Sprintf("(λ %g; %.1f s)", ServedEASE.EnsureDefaults().Lambda, time.Since(start).Seconds()))
	return evalTunedEASE(ctx, train, cos, test, eo, report, stderr)
}

// evalVectors builds the similar-items index from content, behaviour and
// both over the whole store, and scores each as substitutes (precision@10
// of the Icecat judgements) and as complements (basket completion).
func evalVectors(ctx context.Context, l *recs.Lists, train recs.Orders, test [][]int32, eo recs.EvalOptions, report func(recs.EvalResult, string), stderr io.Writer) error {
	ps, err := corpora.DefaultStore()
	if err != nil {
		return err
	}
	js, err := corpora.IcecatJudgments()
	if err != nil {
		return err
	}
	judged := make([]recs.Judged, len(js))
	for i, j := range js {
		judged[i] = recs.Judged{Query: j.Query, ProductID: j.ProductID, Rating: j.Rating}
	}
	// Every product in stock: stock is generated in the shipped store, and
	// no evaluation may use a generated field.
	cat := newEvalCatalog(ps)
	start := time.Now()
	content, err := recs.NewContent(ps, recs.ContentOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "aisle: content document frequencies of %d products in %.1f s\n", len(ps), time.Since(start).Seconds())
	start = time.Now()
	behav, st, err := recs.Embed(ctx, train, similarOptions)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "aisle: behaviour vectors of %d items (train orders) in %.1f s\n", st.WithVector, time.Since(start).Seconds())
	counts := listCounts(l)
	for _, v := range []struct {
		name string
		opts recs.SimilarOptions
	}{
		{"content", recs.SimilarOptions{ContentOnly: true}},
		{"behaviour", recs.SimilarOptions{BehaviourOnly: true}},
		{"hybrid (served)", ServedSimilarIndex},
	} {
		start := time.Now()
		s, err := recs.BuildSimilar(ctx, ps, content, behav, counts, v.opts)
		if err != nil {
			return err
		}
		built, _ := s.Len()
		fmt.Fprintf(stderr, "aisle: %s vectors of %d products and their graph in %.1f s\n", v.name, built, time.Since(start).Seconds())
		fmt.Fprintf(stderr, "aisle: eval %v\n", recs.EvaluateSubstitutes(judged, s, cat, 10, "substitutes "+v.name))
		r := recs.EvaluateSimilarIndex(l, s, test, eo)
		r.Method = "similar " + v.name
		report(r, "(basket completion)")
	}
	return nil
}

// evalCatalog is ps with every product in stock, as recs.Products.
type evalCatalog map[string]*catalog.Product

func newEvalCatalog(ps []*catalog.Product) evalCatalog {
	c := make(evalCatalog, len(ps))
	for _, p := range ps {
		q := *p
		q.Variants = []catalog.Variant{{ID: p.ID + "-eval", Stock: map[string]int{"eval": 1}}}
		c[p.ID] = &q
	}
	return c
}

func (c evalCatalog) Product(id string) (*catalog.Product, bool) {
	p, ok := c[id]
	return p, ok
}

// listCounts returns the orders of each item of l, by id.
func listCounts(l *recs.Lists) func(string) int {
	return func(id string) int { return l.Orders(id) }
}

// evalSimilar scores "similar items" on the same held-out baskets: the
// normalised sum of the visible items' vectors queries the HNSW graph
// (recs.EvaluateSimilar), for each matrix and dimension; and the graph's
// recall@10 against brute force on the learned vectors.
func evalSimilar(ctx context.Context, l *recs.Lists, train recs.Orders, test [][]int32, half bool, dims []int, stderr io.Writer) error {
	for _, m := range []recs.EmbedMatrix{recs.PPMI, recs.CoCosine} {
		for _, d := range dims {
			start := time.Now()
			e, st, err := recs.Embed(ctx, train, recs.EmbedOptions{Seed: 1, Matrix: m, Dim: d})
			if err != nil {
				return err
			}
			built := time.Since(start)
			r := recs.EvaluateSimilar(l, e, test, 0, recs.EvalOptions{HideHalf: half, Seed: 1})
			r.Method = fmt.Sprintf("emb-%v-%d", m, d)
			fmt.Fprintf(stderr, "aisle: eval %v  (embed %d of %d items, %d nonzeros, %.1f s)\n",
				r, st.WithVector, st.Items, st.NonZeros, built.Seconds())
			for _, g := range e.GraphRecall(10, 1000, []int{10, 16, 32, 64, 128}) {
				fmt.Fprintf(stderr, "aisle:   hnsw ef %3d: recall@10 %.4f, %.0f queries/s on one goroutine\n", g.Ef, g.Recall, g.QueriesPerSec)
			}
		}
	}
	return nil
}

// instacartAisles returns the aisle (the last category) of each item,
// "" for an item the shipped products do not name.
func instacartAisles(items []string) ([]string, error) {
	ps, err := corpora.Instacart()
	if err != nil {
		return nil, fmt.Errorf("recs: reading the products: %w", err)
	}
	aisle := make(map[string]string, len(ps))
	for _, p := range ps {
		if len(p.Category) > 0 {
			aisle[p.ID] = p.Category[len(p.Category)-1]
		}
	}
	cats := make([]string, len(items))
	for i, id := range items {
		cats[i] = aisle[id]
	}
	return cats, nil
}
