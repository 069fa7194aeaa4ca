package app

import (
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

// startRecs gives the server its recommendations: from the snapshot in
// the data directory when there is one, else built from the shipped orders
// in the background (a few seconds on two cores for the lists, then about
// 30 s for the similar-items embeddings) and written there for the next
// start. A snapshot without embeddings, or with embeddings of other options
// than similarOptions, has them built and the snapshot rewritten. Until
// then the recommendation endpoints answer 503. The home page's live
// orders come from the ingest consumers (a.orderHook). The builds run in
// a's group and stop at Close. It returns the home page rows; the lists
// and similar items reach the server through a.recs and a.similar.
func (a *App) startRecs() *recs.Home {
	ctx, stderr := a.ctx, a.log
	setRecs := func(r server.Recommender) { a.recs.set(r) }
	home, err := recs.NewHome(recs.HomeOptions{})
	if err != nil {
		panic(err) // the default options are valid
	}
	live := recs.NewLive(recs.LiveOptions{})
	a.orders = &orderSinks{home, live}
	if a.opts.Store == StoreNone {
		// A store's own catalog: the shipped orders are of other
		// products. The lists start empty and the live orders fill
		// the home page and the also-bought lists; similar items are
		// not built (their endpoint answers 503).
		l, err := recs.Build(ctx, recs.Orders{}, recs.Options{Workers: 1})
		if err != nil {
			fmt.Fprintf(stderr, "aisle: recs: %v\n", err)
		} else {
			setRecs(recs.Fresh{Lists: l, Live: live})
			home.SetLists(l)
		}
		return home
	}
	if err := seedDemoHistory(home); err != nil {
		fmt.Fprintf(stderr, "aisle: recs: the demo user's history: %v\n", err)
	}
	path := filepath.Join(a.opts.Data, RecsFile)
	start := time.Now()
	l, e, err := ReadRecsSnapshot(path)
	if err == nil {
		setRecs(recs.Fresh{Lists: l, Live: live})
		home.SetLists(l)
		if e != nil && e.Options() == ServedSimilar() {
			a.similar.set(e)
			st := e.Stats()
			fmt.Fprintf(stderr, "aisle: recs and similar items (%d vectors, dim %d) loaded from %s in %.2f s\n",
				st.WithVector, st.Dim, path, time.Since(start).Seconds())
			return home
		}
		fmt.Fprintf(stderr, "aisle: recs loaded from %s in %.2f s; similar items to build\n", path, time.Since(start).Seconds())
		a.group.Go(func() { startSimilar(ctx, a.similar.set, l, path, stderr) })
		return home
	}
	if !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "aisle: recs: %v; building afresh\n", err)
	}
	a.group.Go(func() {
		l, err := buildRecs(ctx, recs.Options{Workers: 1}, stderr)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(stderr, "aisle: recs: %v\n", err)
			}
			return
		}
		setRecs(recs.Fresh{Lists: l, Live: live})
		home.SetLists(l)
		if _, err := writeRecs(path, l, nil); err != nil {
			fmt.Fprintf(stderr, "aisle: recs: %v\n", err)
		}
		startSimilar(ctx, a.similar.set, l, path, stderr)
	})
	return home
}

// orderSinks are what live orders update: the users' histories of the
// home page, and the co-purchases layered on the lists (recs.Fresh).
type orderSinks struct {
	home *recs.Home
	live *recs.Live
}

// observe hands e to both sinks.
func (s *orderSinks) observe(e catalog.OrderEvent) {
	s.home.Observe(e)
	s.live.Observe(e)
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

// buildSimilarUntil is buildSimilar on one worker, returning at once when
// ctx ends: recs.Embed checks ctx only between its stages (the matrix
// products and the HNSW graph take tens of seconds on two loaded cores),
// and a shutdown must not wait for them. The build then finishes on its
// own goroutine, outside the App's group, and its result is dropped:
// nothing is served or written after Close.
func buildSimilarUntil(ctx context.Context, stderr io.Writer) (*recs.Embeddings, error) {
	type built struct {
		e   *recs.Embeddings
		err error
	}
	done := make(chan built, 1)
	go func() {
		e, err := buildSimilar(ctx, 0, stderr)
		done <- built{e, err}
	}()
	select {
	case b := <-done:
		return b.e, b.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startSimilar learns the item embeddings, on one worker, hands them to
// serve (until then /similar answers 503) and rewrites the snapshot at
// path with l and them, so the next start loads them.
func startSimilar(ctx context.Context, serve func(server.SimilarItems), l *recs.Lists, path string, stderr io.Writer) {
	e, err := buildSimilarUntil(ctx, stderr)
	if err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(stderr, "aisle: similar items: %v\n", err)
		}
		return
	}
	serve(e)
	n, err := writeRecs(path, l, e)
	if err != nil {
		fmt.Fprintf(stderr, "aisle: recs: %v\n", err)
		return
	}
	fmt.Fprintf(stderr, "aisle: recs: wrote %s (%d KiB) with the similar items\n", path, n>>10)
}
