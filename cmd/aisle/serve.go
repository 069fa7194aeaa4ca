package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/aisle/aisle/commerce"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/search"
	"github.com/aisle/aisle/server"
)

// shutdownGrace bounds how long a shutdown waits for requests in flight.
const shutdownGrace = 10 * time.Second

// serve listens first, so health checks get an answer while the store
// loads, then loads the store, marks the server ready, and serves until ctx
// ends.
func serve(ctx context.Context, cfg serveConfig, stderr io.Writer) error {
	if err := os.MkdirAll(cfg.data, 0o755); err != nil {
		return fmt.Errorf("serve: cannot create data directory: %w", err)
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	keys, tokens, err := setupCredentials(cfg.data, cfg.tokenKey, stderr)
	if err != nil {
		return fmt.Errorf("serve: credentials: %w", err)
	}
	popular := popularQueries()
	newEngine := func() (*search.Engine, error) {
		return search.New(search.Options{Shards: cfg.shards, PopularQueries: popular})
	}
	eng, err := newEngine()
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	live := newLiveEngine(eng)
	srv := server.New(live, server.Options{
		Logf:        func(format string, args ...any) { fmt.Fprintf(stderr, "aisle: "+format+"\n", args...) },
		Keys:        keys,
		Tokens:      tokens,
		SearchRate:  cfg.searchRate,
		SuggestRate: cfg.suggestRate,
	})
	setDemoUser(srv, cfg.data, stderr) // the storefront page's dev sign-in
	if !cfg.noRecs {
		startRecs(ctx, cfg.data, srv, stderr)
	}
	var shopStore *commerce.Store // with --no-kafka: seeded once the store is loaded
	shopSeeded := make(chan struct{})
	if cfg.noKafka { // with Kafka, feed starts the cart once it knows the brokers
		store, stopCommerce, err := startCommerce(ctx, cfg.data, splitList(cfg.brokers), cfg.replica, srv, liveVariants{live}, stderrLogf(stderr))
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer stopCommerce()
		stopShop, err := startShop(ctx, store, splitList(cfg.brokers), cfg.carrierDelay, srv, liveVariants{live}, shopSeeded, stderrLogf(stderr))
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer stopShop()
		replayOrders(store, orderHook(cfg.data), stderrLogf(stderr))
		shopStore = store
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(stderr, "aisle: listening on http://%s\n", ln.Addr())
	rx := newReindexer()
	if !cfg.noKafka {
		aln, err := serveAdmin(cfg.adminAddr, rx, keys)
		if err != nil {
			return fmt.Errorf("serve: admin listener: %w", err)
		}
		defer aln.Close()
		fmt.Fprintf(stderr, "aisle: admin API on http://%s (POST /admin/reindex)\n", aln.Addr())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	fctx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	fed := make(chan error, 1)
	if cfg.noKafka {
		go func() {
			err := load(eng, stderr)
			if err == nil {
				if shopStore != nil {
					seedStock(shopStore, eng.Each, stderrLogf(stderr))
					close(shopSeeded)
				}
				srv.SetReady(true)
				<-fctx.Done()
			}
			fed <- err
		}()
	} else {
		go func() { fed <- feed(fctx, cfg, live, newEngine, srv, rx, stderr, func() { srv.SetReady(true) }) }()
	}

	var runErr error
	select {
	case err := <-fed:
		runErr = err
		if err == nil && ctx.Err() == nil {
			runErr = errors.New("serve: ingest stopped")
		}
	case err := <-served:
		stopFeed()
		<-fed
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		stopFeed()
		if err := <-fed; err != nil {
			runErr = err
		}
	}

	fmt.Fprintln(stderr, "aisle: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("serve: shutdown: %w", err))
	}
	if err := <-served; err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("serve: %w", err))
	}
	return runErr
}

// load reads the shipped store into eng, in one upsert so each shard builds
// one segment, and reports the time and heap it took.
func load(eng *search.Engine, stderr io.Writer) error {
	start := time.Now()
	ps, err := corpora.DefaultStore()
	if err != nil {
		return fmt.Errorf("serve: loading the store: %w", err)
	}
	decoded := time.Now()
	if err := eng.Upsert(ps...); err != nil {
		return fmt.Errorf("serve: indexing %d products: %w", len(ps), err)
	}
	built := time.Now()
	if err := eng.RebuildSpelling(); err != nil {
		return fmt.Errorf("serve: building the spelling data: %w", err)
	}
	ss := eng.SpellingStats()
	fmt.Fprintf(stderr, "aisle: spelling data: %d words, %d autocomplete phrases, %d brands, %d colours in %.1f s\n",
		ss.Words, ss.Phrases, ss.Brands, ss.Colors, ss.Took.Seconds())
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(stderr, "aisle: loaded %d products in %.1f s (decode %.1f s, index %.1f s; heap %d MiB)\n",
		len(ps), built.Sub(start).Seconds(), decoded.Sub(start).Seconds(), built.Sub(decoded).Seconds(), ms.HeapAlloc>>20)
	return nil
}

// popularQueries are the judged Icecat queries, offered by autocomplete as
// the store's popular searches; none when they cannot be read.
func popularQueries() []string {
	js, err := corpora.IcecatJudgments()
	if err != nil {
		return nil
	}
	var qs []string
	seen := map[string]bool{}
	for _, j := range js {
		if !seen[j.Query] {
			seen[j.Query] = true
			qs = append(qs, j.Query)
		}
	}
	return qs
}
