package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/recs"
	"github.com/aisle/aisle/server"
)

// recsFile is the recommendations snapshot in the data directory.
const recsFile = "recs.snap"

const recsUsage = `usage: aisle recs build [--data DIR] [--scorer cosine|smith-linden] [--top N] [--max-basket N]
       aisle recs eval [--sample N] [--half] [--dims 64,128]`

// recsCommand runs `aisle recs build` and `aisle recs eval`.
func recsCommand(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, recsUsage)
		return errors.New("recs: no subcommand given")
	}
	switch args[0] {
	case "build":
		return recsBuild(ctx, args[1:], stderr)
	case "eval":
		return recsEval(ctx, args[1:], stderr)
	}
	fmt.Fprintln(stderr, recsUsage)
	return fmt.Errorf("recs: unknown subcommand %q", args[0])
}

func recsBuild(ctx context.Context, args []string, stderr io.Writer) error {
	var (
		data   string
		scorer string
		opts   recs.Options
	)
	fs := flag.NewFlagSet("aisle recs build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&data, "data", "./data", "data `directory`; the snapshot is written to "+recsFile+" in it")
	fs.StringVar(&scorer, "scorer", "cosine", "also-bought `scorer`: cosine or smith-linden")
	fs.IntVar(&opts.TopN, "top", 0, "also-bought neighbours kept per item (0: the default, 50)")
	fs.IntVar(&opts.MaxBasket, "max-basket", 0, "items counted per order (0: the default, 50)")
	similar := fs.Bool("similar", true, "also learn the similar-items embeddings and their HNSW graph into the snapshot")
	resample := fs.Int("resample", 0, "build from this many `orders` drawn with replacement from the shipped ones, over copies of the items making 50,000 (a scale test; 0: the shipped orders as they are)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("recs build: unexpected arguments %q", fs.Args())
	}
	var err error
	if opts.Scorer, err = recs.ParseScorer(scorer); err != nil {
		return err
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		return fmt.Errorf("recs build: cannot create data directory: %w", err)
	}
	opts.Progress = recsProgress(stderr, "also bought")
	start := time.Now()
	var l *recs.Lists
	if *resample > 0 {
		l, err = buildResampled(ctx, opts, *resample, stderr)
	} else {
		l, err = buildRecs(ctx, opts, stderr)
	}
	if err != nil {
		return err
	}
	var e *recs.Embeddings
	if *similar {
		if e, err = buildSimilar(ctx, runtime.GOMAXPROCS(0), stderr); err != nil {
			return err
		}
	}
	path := filepath.Join(data, recsFile)
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

// buildResampled builds the lists from n orders drawn with replacement,
// with a fixed seed, from the shipped ones, each over one of as many
// copies of the item set as make 50,000 items (item x of copy c is
// "x~c"): the scale test of 3M orders over 50k items, from the
// 97k shipped orders over 37k items.
func buildResampled(ctx context.Context, opts recs.Options, n int, stderr io.Writer) (*recs.Lists, error) {
	start := time.Now()
	o, err := instacartOrders(nil)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	st := l.Stats()
	fmt.Fprintf(stderr, "aisle: recs (%s) from %d resampled orders over %d items in %.1f s (resampling %.1f s): %d items with %d also-bought\n",
		st.Scorer, n, len(big.Items), time.Since(start).Seconds(), read.Seconds(), st.WithAlso, st.Neighbors)
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

func recsEval(ctx context.Context, args []string, stderr io.Writer) error {
	var (
		sample int
		half   bool
	)
	fs := flag.NewFlagSet("aisle recs eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&sample, "sample", 0, "score only the first `N` test orders (0: all)")
	fs.BoolVar(&half, "half", false, "hide half of each basket instead of one item")
	dimList := fs.String("dims", "64,128", "comma-separated `dimensions` of the embeddings evaluated (none: skip them)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var dims []int
	for f := range strings.SplitSeq(*dimList, ",") {
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d <= 0 {
			return fmt.Errorf("recs eval: --dims: %q is not a dimension", f)
		}
		dims = append(dims, d)
	}
	train, test, err := splitOrders()
	if err != nil {
		return err
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
	for i, sc := range []recs.Scorer{recs.Cosine, recs.SmithLinden} {
		start := time.Now()
		l, err := recs.Build(ctx, train, recs.Options{Scorer: sc})
		if err != nil {
			return err
		}
		built := time.Since(start)
		learned, pop := recs.Evaluate(l, test, recs.EvalOptions{HideHalf: half, Seed: 1})
		if i == 0 {
			fmt.Fprintln(stderr, "aisle: eval", pop)
		}
		fmt.Fprintf(stderr, "aisle: eval %v  (build %.1f s)\n", learned, built.Seconds())
		if i == 0 {
			home, _ := recs.EvaluateHome(l, test, cats, recs.HomeOptions{}, recs.EvalOptions{HideHalf: half, Seed: 1})
			fmt.Fprintf(stderr, "aisle: eval %v  (%d items per aisle at most)\n", home, recs.HomeOptions{}.EnsureDefaults().PerCategory)
			if err := evalSimilar(ctx, l, train, test, half, dims, stderr); err != nil {
				return err
			}
		}
	}
	return nil
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

// writeRecs writes l and e (nil for none) to path through a temporary file
// and a rename, so a reader never sees half a snapshot, and returns its
// size.
func writeRecs(path string, l *recs.Lists, e *recs.Embeddings) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".recs-*")
	if err != nil {
		return 0, fmt.Errorf("recs: %w", err)
	}
	n, err := recs.WriteSnapshot(f, l, e)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return 0, fmt.Errorf("recs: writing %s: %w", path, err)
	}
	return n, nil
}

func readRecs(path string) (*recs.Lists, error) {
	l, _, err := readSnapshot(path)
	return l, err
}

// readSnapshot reads the lists and the embeddings (nil when the snapshot
// has none) of the snapshot at path.
func readSnapshot(path string) (*recs.Lists, *recs.Embeddings, error) {
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

// startRecs gives srv its recommendations: from the snapshot in the data
// directory when there is one, else built from the shipped orders in the
// background (a few seconds on two cores for the lists, then about 30 s
// for the similar-items embeddings) and written there for the next start.
// A snapshot without embeddings, or with embeddings of other options than
// similarOptions, has them built and the snapshot rewritten. Until then
// the recommendation endpoints answer 503. The home page's live orders
// come from the ingest consumers of the same data directory (orderHook).
func startRecs(ctx context.Context, data string, srv *server.Server, stderr io.Writer) {
	home, err := recs.NewHome(recs.HomeOptions{})
	if err != nil {
		panic(err) // the default options are valid
	}
	if err := seedDemoHistory(home); err != nil {
		fmt.Fprintf(stderr, "aisle: recs: the demo user's history: %v\n", err)
	}
	srv.SetHome(home)
	live := recs.NewLive(recs.LiveOptions{})
	orderHooks.Store(data, orderSinks{home, live})
	path := filepath.Join(data, recsFile)
	start := time.Now()
	l, e, err := readSnapshot(path)
	if err == nil {
		srv.SetRecs(recs.Fresh{Lists: l, Live: live})
		home.SetLists(l)
		if e != nil && e.Options() == servedSimilar() {
			srv.SetSimilar(e)
			st := e.Stats()
			fmt.Fprintf(stderr, "aisle: recs and similar items (%d vectors, dim %d) loaded from %s in %.2f s\n",
				st.WithVector, st.Dim, path, time.Since(start).Seconds())
			return
		}
		fmt.Fprintf(stderr, "aisle: recs loaded from %s in %.2f s; similar items to build\n", path, time.Since(start).Seconds())
		go startSimilar(ctx, srv, l, path, stderr)
		return
	}
	if !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "aisle: recs: %v; building afresh\n", err)
	}
	go func() {
		l, err := buildRecs(ctx, recs.Options{Workers: 1}, stderr)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(stderr, "aisle: recs: %v\n", err)
			}
			return
		}
		srv.SetRecs(recs.Fresh{Lists: l, Live: live})
		home.SetLists(l)
		if _, err := writeRecs(path, l, nil); err != nil {
			fmt.Fprintf(stderr, "aisle: recs: %v\n", err)
		}
		startSimilar(ctx, srv, l, path, stderr)
	}()
}

// orderHooks holds the home page and the live co-purchases of each data
// directory served, so that the ingest consumers that serve opens for it
// (openGeneration) feed them the orders they apply without threading them
// through the serve configuration.
var orderHooks sync.Map // data directory -> orderSinks

// orderSinks are what live orders update: the users' histories of the
// home page, and the co-purchases layered on the lists (recs.Fresh).
type orderSinks struct {
	home *recs.Home
	live *recs.Live
}

// orderHook returns the ingest OnOrder of data's recommendations, or nil
// when they are off (--no-recs).
func orderHook(data string) func(catalog.OrderEvent) {
	h, ok := orderHooks.Load(data)
	if !ok {
		return nil
	}
	sinks := h.(orderSinks)
	return func(e catalog.OrderEvent) {
		sinks.home.Observe(e)
		sinks.live.Observe(e)
	}
}

// demoUser is the user of the demo token (credentials.go).
const demoUser = "u-demo"

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
			UserID: demoUser, PlacedAt: t0.Add(time.Duration(n) * 7 * 24 * time.Hour)}
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

// servedSimilar is similarOptions as recs.Embeddings.Options reports them:
// defaults filled in, Workers zero.
func servedSimilar() recs.EmbedOptions {
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

// startSimilar learns the item embeddings, on one worker, gives srv its
// similar items (until then /similar answers 503) and rewrites the
// snapshot at path with l and them, so the next start loads them.
func startSimilar(ctx context.Context, srv *server.Server, l *recs.Lists, path string, stderr io.Writer) {
	e, err := buildSimilar(ctx, 0, stderr)
	if err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(stderr, "aisle: similar items: %v\n", err)
		}
		return
	}
	srv.SetSimilar(e)
	n, err := writeRecs(path, l, e)
	if err != nil {
		fmt.Fprintf(stderr, "aisle: recs: %v\n", err)
		return
	}
	fmt.Fprintf(stderr, "aisle: recs: wrote %s (%d KiB) with the similar items\n", path, n>>10)
}

// recsProgress returns a recs.Options.Progress drawing bench.go's
// progress bar on w; it clears the bar when done.
func recsProgress(w io.Writer, what string) func(done, total int) {
	pb := &progressBar{w: w}
	finished := false
	return func(done, total int) {
		if finished {
			return
		}
		finished = done == total
		pb.set(what, float64(done)/float64(max(total, 1)))
		if done == total {
			pb.clear()
		}
	}
}
