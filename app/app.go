package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/internal/atomicfile"
	"github.com/aisle/aisle/search"
	"github.com/aisle/aisle/server"
)

// shutdownGrace bounds how long Close waits for requests in flight.
const shutdownGrace = 10 * time.Second

// An App is the running application of one process: the HTTP API, the
// index generations fed by ingest, the commerce runtime and the
// recommendations, with every background goroutine it starts. Open starts
// it; Close stops it in order.
type App struct {
	opts Options
	log  io.Writer

	srv      *server.Server
	live     *liveEngine
	keys     *auth.KeyStore
	rx       *reindexer
	ln       net.Listener
	admin    net.Listener // nil with NoKafka
	adminSrv *http.Server // serves admin

	popular   []string // autocomplete's popular queries
	shop      *shop    // the commerce store and services, opened by Open
	shopWhere string   // where the commerce store is, for the log

	// The services that come and go while the server runs, which its
	// Services funcs read: readiness, the ingest of the generation
	// serving, the recommendation lists and similar items once built.
	ready   atomic.Bool
	ingest  atomic.Pointer[ingestSide]
	recs    swap[server.Recommender]
	similar swap[server.SimilarItems]

	// orders are the recommendations' live sinks that ingest feeds the
	// orders it applies to; nil with NoRecs.
	orders *orderSinks
	// products gives products the ingest consumers apply their content
	// vector (recsindex.go).
	products productHook

	// ctx is the life of the background work; Close cancels it after
	// the HTTP API has drained.
	ctx    context.Context
	cancel context.CancelFunc
	// group holds every background goroutine but the HTTP server's.
	group sync.WaitGroup
	// closers run in reverse order once the group has ended.
	closers []func()
	// served gets the HTTP server's result.
	served chan error

	failOnce sync.Once
	done     chan struct{}
	err      error // the first fatal error, set before done closes

	closeOnce sync.Once
	closeErr  error
	// closeFn, for an index node or a router (cluster.go), stops what
	// Close stops for RoleAll.
	closeFn func() error
}

// Open starts the application: it listens at once (so /healthz answers 503
// while loading), then loads the index in the background and turns ready.
// ctx bounds Open alone; the App runs until Close, or until a part fails
// (Done).
func Open(ctx context.Context, opts Options) (_ *App, err error) {
	opts = opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	if opts.Role != RoleAll {
		return openClusterRole(ctx, opts)
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &App{opts: opts, log: opts.Log, ctx: bg, cancel: cancel, served: make(chan error, 1), done: make(chan struct{})}
	defer func() {
		if err != nil {
			a.stopAdmin(context.Background())
			a.cancel()
			a.group.Wait()
			a.runClosers()
		}
	}()
	if err := atomicfile.MkdirAll(opts.Data); err != nil {
		return nil, fmt.Errorf("serve: cannot create data directory: %w", err)
	}
	if opts.CPUProfile != "" {
		f, err := os.Create(opts.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("serve: %w", err)
		}
		a.closers = append(a.closers, func() { pprof.StopCPUProfile(); f.Close() })
	}
	keys, tokens, err := setupCredentials(opts.Data, opts.TokenKey, a.log)
	if err != nil {
		return nil, fmt.Errorf("serve: credentials: %w", err)
	}
	a.keys = keys
	eng, err := a.newEngine()
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	a.live = newLiveEngine(eng)
	store, where, err := openCommerce(opts.Data, opts.CommerceDB, opts.Replica)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	a.closers = append(a.closers, func() {
		if err := store.Close(); err != nil {
			a.logf("commerce: closing the store: %v", err)
		}
	})
	if a.shop, err = newShop(store); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	a.shopWhere = where
	svc := server.Services{
		Engine:          a.live,
		Suggester:       a.live,
		Caches:          a.live,
		Variants:        liveVariants{a.live},
		Ready:           a.ready.Load,
		Ingest:          a.currentIngest,
		Cart:            store,
		Checkout:        a.shop.co,
		CheckoutOptions: server.CheckoutOptions{Carts: store, Shipments: store},
		Reviews:         a.shop.rv,
		Moderator:       a.shop.rv,
		Guests:          tokens,
	}
	svc.DemoUserID, svc.DemoUserToken = demoUser(opts.Data, a.log) // the storefront page's dev sign-in
	if !opts.NoRecs {
		svc.Home, svc.Recs, svc.Similar = a.startRecs(), a.recs.get, a.similar.get
	}
	a.srv = server.New(svc, server.Options{
		Logf:        a.logf,
		Keys:        keys,
		Tokens:      tokens,
		SearchRate:  opts.SearchRate,
		SuggestRate: opts.SuggestRate,
	})
	var shopSeeded chan struct{}
	if opts.NoKafka { // with Kafka, feed starts the commerce runtime once it knows the brokers
		shopSeeded = make(chan struct{})
		stopCommerce, err := startCommerce(a.ctx, store, where, opts.Brokers, a.logf)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		a.closers = append(a.closers, stopCommerce)
		stopShop, err := startShop(a.ctx, a.shop, opts.Brokers, opts.CarrierDelay, shopSeeded, a.logf)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		a.closers = append(a.closers, stopShop)
		replayOrders(store, a.orderHook(), a.logf)
	}
	a.ln, err = net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(a.log, "aisle: listening on http://%s\n", a.ln.Addr())
	a.rx = newReindexer()
	if !opts.NoKafka {
		asrv, aln, err := listenAdmin(opts.AdminAddr, a.rx, keys, a.recsAdmin)
		if err != nil {
			a.ln.Close()
			return nil, fmt.Errorf("serve: admin listener: %w", err)
		}
		a.admin, a.adminSrv = aln, asrv
		a.group.Go(func() { asrv.Serve(aln) }) // ends at Shutdown (stopAdmin)
		fmt.Fprintf(a.log, "aisle: admin API on http://%s (POST /admin/reindex)\n", aln.Addr())
	}

	a.group.Go(func() {
		err := a.srv.Serve(a.ln)
		if err != nil {
			a.fail(fmt.Errorf("serve: %w", err))
		}
		a.served <- err
	})
	a.group.Go(func() {
		var err error
		if opts.NoKafka {
			err = a.loadDirect(eng, shopSeeded)
		} else {
			err = a.feed(a.ctx)
		}
		if err == nil && a.ctx.Err() == nil {
			err = errors.New("serve: ingest stopped")
		}
		if err != nil {
			a.fail(err)
		}
	})
	return a, nil
}

// loadDirect loads the shipped store into eng with no broker (NoKafka),
// seeds the commerce stock from it, turns ready and waits for Close.
func (a *App) loadDirect(eng *search.Engine, seeded chan struct{}) error {
	if a.opts.Store == StoreNone {
		if err := eng.RebuildSpelling(); err != nil {
			return err
		}
		a.logf("started with an empty catalog (--store none)")
	} else if err := load(eng, a.log); err != nil {
		return err
	}
	seedStock(a.shop.store, eng.Each, a.logf)
	close(seeded)
	a.ready.Store(true)
	<-a.ctx.Done()
	return nil
}

// newEngine returns an empty engine of the configured shards.
func (a *App) newEngine() (*search.Engine, error) {
	if a.popular == nil && a.opts.Store == StoreDemo {
		// The demo store's popular searches; a store's own catalog
		// has none of its own yet.
		a.popular = popularQueries()
	}
	return search.New(search.Options{Shards: a.opts.Shards, PopularQueries: a.popular})
}

// logf logs one line prefixed "aisle: ".
func (a *App) logf(format string, args ...any) {
	fmt.Fprintf(a.log, "aisle: "+format+"\n", args...)
}

// fail records the first fatal error and closes Done.
func (a *App) fail(err error) {
	a.failOnce.Do(func() {
		a.err = err
		close(a.done)
	})
}

// Done is closed when a part of the App has failed (the HTTP server, or
// ingest stopping on its own); Close then returns the error.
func (a *App) Done() <-chan struct{} { return a.done }

// Addr is the address the HTTP API listens on.
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// AdminAddr is the address of the admin API, nil with NoKafka.
func (a *App) AdminAddr() net.Addr {
	if a.admin == nil {
		return nil
	}
	return a.admin.Addr()
}

// Close stops the App in order: the HTTP API and the admin API stop
// accepting and drain the requests in flight (up to 10 s together), then
// the background work (ingest,
// commerce loops and relays, recommendation builds) is cancelled and
// awaited, and the stores and listeners close. It returns the fatal error
// that ended the App, if any, with any error of the shutdown. Close may be
// called more than once.
func (a *App) Close() error {
	if a.closeFn != nil {
		return a.closeCluster()
	}
	a.closeOnce.Do(func() {
		a.logf("shutting down")
		var errs []error
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		if err := a.srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("serve: shutdown: %w", err))
		}
		<-a.served
		if err := a.stopAdmin(sctx); err != nil {
			errs = append(errs, fmt.Errorf("serve: admin shutdown: %w", err))
		}
		cancel()
		a.cancel()
		a.group.Wait()
		a.runClosers()
		a.failOnce.Do(func() { close(a.done) })
		a.closeErr = errors.Join(append([]error{a.err}, errs...)...)
	})
	return a.closeErr
}

// stopAdmin shuts the admin API down, waiting for its requests within
// ctx; nothing without one.
func (a *App) stopAdmin(ctx context.Context) error {
	if a.adminSrv == nil {
		return nil
	}
	return a.adminSrv.Shutdown(ctx)
}

// runClosers runs the closers in reverse order of their adding.
func (a *App) runClosers() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// ingestSide is the write path of the generation serving.
type ingestSide struct {
	cat  server.Catalog
	feed server.Feed
}

// setIngest makes cat and feed the server's write path (both nil: none).
func (a *App) setIngest(cat server.Catalog, feed server.Feed) {
	if cat == nil && feed == nil {
		a.ingest.Store(nil)
		return
	}
	a.ingest.Store(&ingestSide{cat, feed})
}

// currentIngest is Services.Ingest.
func (a *App) currentIngest() (server.Catalog, server.Feed) {
	if p := a.ingest.Load(); p != nil {
		return p.cat, p.feed
	}
	return nil, nil
}

// swap holds a service of interface type T that comes and goes: the zero
// T (nil) until set.
type swap[T any] struct{ p atomic.Pointer[T] }

func (s *swap[T]) set(v T) { s.p.Store(&v) }

func (s *swap[T]) get() T {
	if p := s.p.Load(); p != nil {
		return *p
	}
	var zero T
	return zero
}
