package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/internal/atomicfile"
	"github.com/aisle/aisle/recs"
	"github.com/aisle/aisle/server"
)

// RecsFile is the recommendations snapshot in the data directory.
const RecsFile = "recs.snap"

// buildRecs builds the lists from every shipped Instacart order and logs
// their figures.
func buildRecs(ctx context.Context, opts recs.Options, stderr io.Writer) (*recs.Lists, error) {
	start := time.Now()
	o, err := instacartOrders(nil)
	if err != nil {
		return nil, err
	}
	read := time.Since(start)
	l, err := recs.Build(ctx, o, opts)
	if err != nil {
		return nil, err
	}
	st := l.Stats()
	fmt.Fprintf(stderr, "aisle: recs (%s) from %d orders (of two items or more) over %d items in %.1f s (read %.1f s): %d items with %d also-bought, %d items with %d pairs and %d triples\n",
		st.Scorer, st.Orders, st.Items, time.Since(start).Seconds(), read.Seconds(), st.WithAlso, st.Neighbors, st.WithBundle, st.Pairs, st.Triples)
	return l, nil
}

// instacartOrders returns the shipped Instacart orders as recs.Orders with
// store product ids ("instacart-<product_id>"). With keep set, only the
// orders it accepts (by order id) are in Baskets; the items are the same.
func instacartOrders(keep func(orderID int32) bool) (recs.Orders, error) {
	orders, err := corpora.InstacartOrders()
	if err != nil {
		return recs.Orders{}, fmt.Errorf("recs: reading the orders: %w", err)
	}
	var o recs.Orders
	dense := map[int32]int32{}
	for i := range orders {
		ps := orders[i].Products
		for j, p := range ps {
			x, ok := dense[p]
			if !ok {
				x = int32(len(o.Items))
				dense[p] = x
				o.Items = append(o.Items, "instacart-"+strconv.Itoa(int(p)))
			}
			ps[j] = x // the orders are ours: rewrite in place
		}
		if keep == nil || keep(orders[i].ID) {
			o.Baskets = append(o.Baskets, ps)
		}
	}
	return o, nil
}

// writeRecs writes l and e (nil for none) to path through a temporary file
// and a rename, so a reader never sees half a snapshot, and returns its
// size.
func writeRecs(path string, l *recs.Lists, e *recs.Embeddings) (int64, error) {
	n, err := atomicfile.WriteFunc(path, func(w io.Writer) (int64, error) { return recs.WriteSnapshot(w, l, e) })
	if err != nil {
		return 0, fmt.Errorf("recs: writing %s: %w", path, err)
	}
	return n, nil
}

// ReadRecsSnapshot reads the lists and the embeddings (nil when the snapshot
// has none) of the snapshot at path.
func ReadRecsSnapshot(path string) (*recs.Lists, *recs.Embeddings, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	l, e, err := recs.ReadSnapshot(f)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return l, e, nil
}

// startRecs gives the server its recommendations: the lists from the
// snapshot in the data directory when there is one, else built from the
// shipped orders in the background (cosine, then EASE over the most ordered
// items: the served lists, doc/recs.md) and written there for the next
// start; the co-purchase embeddings likewise. Then, in the background, the
// content vectors of every product of the store and the hybrid
// similar-items graph (recs.BuildSimilar), and the fallbacks that give
// every product also-bought and bought-together (recs.NewRecs). Until the
// lists are ready the recommendation endpoints answer 503; until the graph
// is, similar items are the behaviour vectors' and also-bought the
// products' own lists. The home page's live orders come from the ingest
// consumers (a.orderHook); products applied by them get their content
// vector at once (a.products). The builds run in a's group and stop at
// Close. It returns the home page rows; the lists and similar items reach
// the server through a.recs and a.similar.
func (a *App) startRecs() *recs.Home {
	ctx, stderr := a.ctx, a.log
	home, err := recs.NewHome(recs.HomeOptions{})
	if err != nil {
		panic(err) // the default options are valid
	}
	live := recs.NewLive(recs.LiveOptions{})
	a.orders = &orderSinks{home: home, live: live, set: func(r server.Recommender) { a.recs.set(r) }}
	// A stop writes the similar items again when products were added
	// since they were written, so a restart finds them.
	a.closers = append(a.closers, func() {
		if err := a.products.save(); err != nil {
			fmt.Fprintf(stderr, "aisle: %v\n", err)
		}
	})
	if a.opts.Store == StoreNone {
		// A store's own catalog: the shipped orders are of other
		// products. The lists start empty and the live orders fill
		// the home page and the also-bought lists; similar items follow
		// the catalog (followSimilar).
		l, err := recs.Build(ctx, recs.Orders{}, recs.Options{Workers: 1})
		if err != nil {
			fmt.Fprintf(stderr, "aisle: recs: %v\n", err)
		} else {
			a.orders.setLists(l)
		}
		a.group.Go(func() { a.followSimilar(ctx, l, 2*time.Second) })
		return home
	}
	if err := seedDemoHistory(home); err != nil {
		fmt.Fprintf(stderr, "aisle: recs: the demo user's history: %v\n", err)
	}
	path := filepath.Join(a.opts.Data, RecsFile)
	start := time.Now()
	l, e, err := ReadRecsSnapshot(path)
	switch {
	case err == nil:
		a.orders.setLists(l)
		if e != nil && e.Options() == ServedSimilar() {
			a.similar.set(e) // the behaviour vectors until the hybrid graph is built
		}
		fmt.Fprintf(stderr, "aisle: recs (%v) loaded from %s in %.2f s\n", l.Stats().Scorer, path, time.Since(start).Seconds())
	case !errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(stderr, "aisle: recs: %v; building afresh\n", err)
	}
	a.orders.building = true // until buildServedRecs returns
	a.group.Go(func() {
		// The builds check ctx only between their stages (EASE's inverse,
		// the embeddings, the graph take tens of seconds on two loaded
		// cores) and a shutdown must not wait for them: they run on their
		// own goroutine, outside the App's group, and serve or write
		// nothing once ctx ends.
		done := make(chan error, 1)
		go func() { done <- a.buildServedRecs(ctx, l, e, path) }()
		select {
		case err := <-done:
			if err != nil && ctx.Err() == nil {
				fmt.Fprintf(stderr, "aisle: recs: %v\n", err)
			}
		case <-ctx.Done():
		}
	})
	return home
}

// followSimilar builds the similar items of a store's own catalog (--store
// none; issue 17): from the products' content alone, there being no
// orders of them, once the index holds products and again each time it
// has doubled since the last build (so the words' weights follow the
// catalog, and all builds together cost at most twice the last one),
// checking every period. In between, products the index applies get their
// vector at once through the product hook. Until the first build the
// similar-items endpoint answers 503.
func (a *App) followSimilar(ctx context.Context, l *recs.Lists, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	built := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		eng := a.live.get()
		if eng == nil {
			continue
		}
		if n := eng.Len(); n == 0 || built > 0 && n < 2*built {
			continue
		}
		start := time.Now()
		var ps []*catalog.Product
		eng.Each(func(p *catalog.Product) bool { ps = append(ps, p); return true })
		content, err := recs.NewContent(ps, recs.ContentOptions{})
		var sim *recs.SimilarIndex
		if err == nil {
			opts := ServedSimilarIndex
			opts.Workers = 1 // the index is serving beside it
			sim, err = recs.BuildSimilar(ctx, ps, content, nil, listCounts(l), opts)
		}
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(a.log, "aisle: similar items: %v\n", err)
			}
			continue
		}
		a.similar.set(sim)
		a.products.attach(sim, filepath.Join(a.opts.Data, SimilarFile), false)
		built = len(ps)
		fmt.Fprintf(a.log, "aisle: similar items: content vectors of %d products and their graph built in %.1f s\n", built, time.Since(start).Seconds())
	}
}

// buildServedRecs completes what the snapshot lacks (l and e may be nil):
// the served lists (EASE), the embeddings, then the similar-items graph
// and the fallbacks, setting each for the server as soon as it is ready.
func (a *App) buildServedRecs(ctx context.Context, l *recs.Lists, e *recs.Embeddings, path string) error {
	defer a.orders.built()
	stderr := a.log
	write := func(l *recs.Lists, e *recs.Embeddings) error {
		if err := ctx.Err(); err != nil {
			return err // nothing written after Close
		}
		n, err := writeRecs(path, l, e)
		if err != nil {
			return err
		}
		with := ""
		if e != nil {
			with = " with the similar items"
		}
		fmt.Fprintf(stderr, "aisle: recs: wrote %s (%d KiB, %v lists)%s\n", path, n>>10, l.Stats().Scorer, with)
		return nil
	}
	if l == nil {
		// Cosine first, served and written at once; EASE over it next.
		var err error
		if l, err = buildRecs(ctx, recs.Options{Workers: 1}, stderr); err != nil {
			return err
		}
		a.orders.setLists(l)
		if err := write(l, nil); err != nil {
			return err
		}
	}
	if l.Stats().Scorer != recs.EASEScorer {
		// Lists of other orders than the shipped ones (a resampled build)
		// keep their scorer.
		if el, err := easeLists(ctx, l, stderr); err != nil {
			if ctx.Err() != nil {
				return err
			}
			fmt.Fprintf(stderr, "aisle: recs: serving the %v lists: %v\n", l.Stats().Scorer, err)
		} else {
			l = el
			a.orders.setLists(l)
			keep := e
			if keep != nil && keep.Options() != ServedSimilar() {
				keep = nil
			}
			if err := write(l, keep); err != nil {
				return err
			}
		}
	}
	if e == nil || e.Options() != ServedSimilar() {
		var err error
		if e, err = buildSimilar(ctx, 0, stderr); err != nil {
			return err
		}
		a.similar.set(e) // the behaviour vectors until the hybrid graph is built
		if err := write(l, e); err != nil {
			return err
		}
	}
	start := time.Now()
	ps, err := corpora.DefaultStore()
	if err != nil {
		return err
	}
	simPath := filepath.Join(a.opts.Data, SimilarFile)
	sim, loaded, err := loadServedRecs(ctx, simPath, ps, l, e, 1, stderr) // one worker: the index is loading beside it
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err // nothing served after Close
	}
	how := "built"
	if loaded {
		how = "read from " + simPath
	}
	a.orders.setSimilar(sim, ps)
	a.similar.set(sim)
	added := a.products.attach(sim, simPath, loaded)
	fmt.Fprintf(stderr, "aisle: similar items: content and hybrid vectors of %d products and their graph %s in %.1f s; %d products indexed since added\n",
		len(ps), how, time.Since(start).Seconds(), added)
	return a.products.save() // when built, or products were added
}

// SimilarFile holds the similar-items index (content and hybrid vectors,
// their graph, the products added since) in the data directory, so a
// restart reads it instead of building the graph again.
const SimilarFile = "similar.snap"

// loadServedRecs is servedRecs reading the similar-items index from path
// when it was written for the same inputs (loaded true), building it when
// there is none, or it is stale or corrupt (then it says so on stderr and
// the caller writes it again).
func loadServedRecs(ctx context.Context, path string, ps []*catalog.Product, l *recs.Lists, e *recs.Embeddings, workers int, stderr io.Writer) (*recs.SimilarIndex, bool, error) {
	content, err := recs.NewContent(ps, recs.ContentOptions{})
	if err != nil {
		return nil, false, err
	}
	opts := ServedSimilarIndex
	opts.Workers = workers
	if f, err := os.Open(path); err == nil {
		sim, err := recs.ReadSimilar(bufio.NewReaderSize(f, 1<<20), ps, content, e, listCounts(l), opts)
		f.Close()
		if err == nil {
			return sim, true, nil
		}
		if !errors.Is(err, recs.ErrStale) && !errors.Is(err, recs.ErrCorrupt) {
			return nil, false, fmt.Errorf("reading %s: %w", path, err)
		}
		fmt.Fprintf(stderr, "aisle: similar items: %s: %v; building afresh\n", path, err)
	}
	sim, err := recs.BuildSimilar(ctx, ps, content, e, listCounts(l), opts)
	if err != nil {
		return nil, false, err
	}
	return sim, false, nil
}

// servedRecs builds what serving answers from lists l, embeddings e (nil:
// content vectors alone) and the products ps: the similar-items index of
// content and hybrid vectors, and the recommender with its fallbacks.
func servedRecs(ctx context.Context, ps []*catalog.Product, l *recs.Lists, e *recs.Embeddings, live *recs.Live, workers int) (*recs.Recs, *recs.SimilarIndex, error) {
	content, err := recs.NewContent(ps, recs.ContentOptions{})
	if err != nil {
		return nil, nil, err
	}
	opts := ServedSimilarIndex
	opts.Workers = workers
	sim, err := recs.BuildSimilar(ctx, ps, content, e, listCounts(l), opts)
	if err != nil {
		return nil, nil, err
	}
	return recs.NewRecs(recs.Fresh{Lists: l, Live: live}, sim, ps, recs.CategoryOptions{}), sim, nil
}

// ServedEASE configures the served lists' EASE (doc/recs.md has the
// measurements).
var ServedEASE = recs.EASEOptions{}

// ServedSimilarIndex configures the served similar-items graph.
var ServedSimilarIndex = recs.SimilarOptions{}

// easeLists returns l with EASE over the most ordered shipped items: the
// served lists. l must be built from the shipped orders.
func easeLists(ctx context.Context, l *recs.Lists, stderr io.Writer) (*recs.Lists, error) {
	start := time.Now()
	o, err := instacartOrders(nil)
	if err != nil {
		return nil, err
	}
	l, err = recs.EASE(ctx, o, l, ServedEASE)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "aisle: recs: EASE over the %d most ordered items in %.1f s\n", ServedEASE.EnsureDefaults().Items, time.Since(start).Seconds())
	return l, nil
}

// orderHook returns the ingest OnOrder of the recommendations, or nil when
// they are off (NoRecs).
func (a *App) orderHook() func(catalog.OrderEvent) {
	if a.orders == nil {
		return nil
	}
	return a.orders.observe
}

// DemoUser is the user of the demo token (credentials.go).
const DemoUser = "u-demo"

// demoStaple is the Instacart product the demo user's orders share: Banana,
// the most ordered product of the shipped orders.
const demoStaple = 24852

// seedDemoHistory gives the demo user a history, since the shipped orders
// have no user ids: the first three shipped orders (in file order) that
// hold a Banana, as if the demo user had placed them a week apart. So the
// demo's personalized row shows also-bought items of real baskets and one
// staple bought again (Banana).
func seedDemoHistory(h *recs.Home) error {
	orders, err := corpora.InstacartOrders()
	if err != nil {
		return err
	}
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	n := 0
	for _, o := range orders {
		if n == 3 {
			break
		}
		if !slices.Contains(o.Products, demoStaple) {
			continue
		}
		e := catalog.OrderEvent{Schema: catalog.SchemaVersion, OrderID: "demo-instacart-" + strconv.Itoa(int(o.ID)),
			UserID: DemoUser, PlacedAt: t0.Add(time.Duration(n) * 7 * 24 * time.Hour)}
		for _, p := range o.Products {
			id := "instacart-" + strconv.Itoa(int(p))
			e.Lines = append(e.Lines, catalog.OrderLine{ProductID: id, VariantID: id + "-v1", Quantity: 1})
		}
		h.Observe(e)
		n++
	}
	if n == 0 {
		return fmt.Errorf("no shipped order holds instacart-%d", demoStaple)
	}
	return nil
}

// similarOptions are the embeddings served: the co-purchase cosine matrix
// at 128 dimensions, the best of the evaluated settings that builds in
// seconds (doc/recs.md).
var similarOptions = recs.EmbedOptions{Seed: 1, Matrix: recs.CoCosine, Dim: 128, Workers: 1}

// ServedSimilar is similarOptions as recs.Embeddings.Options reports them:
// defaults filled in, Workers zero.
func ServedSimilar() recs.EmbedOptions {
	o := similarOptions.EnsureDefaults()
	o.Workers = 0
	return o
}

// buildSimilar learns the served item embeddings from the shipped orders,
// on workers goroutines (0: similarOptions' one), and logs their figures.
func buildSimilar(ctx context.Context, workers int, stderr io.Writer) (*recs.Embeddings, error) {
	start := time.Now()
	o, err := instacartOrders(nil)
	if err != nil {
		return nil, err
	}
	opts := similarOptions
	if workers != 0 {
		opts.Workers = workers
	}
	e, st, err := recs.Embed(ctx, o, opts)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "aisle: similar items: %d of %d items embedded (dim %d) in %.1f s\n",
		st.WithVector, st.Items, st.Dim, time.Since(start).Seconds())
	return e, nil
}
