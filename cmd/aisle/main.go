// Command aisle runs the Aisle search service. It parses flags and calls
// package app, which is the application (`aisle help` lists the commands;
// SIGINT or SIGTERM stops serve gracefully, app.App.Close).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/VictoriaMetrics/metrics"

	"github.com/aisle/aisle/app"
)

func main() {
	privateUmask()
	// The metrics library's one process-wide switch: # TYPE lines in
	// /metrics (doc/api.md).
	metrics.ExposeMetadata(true)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "aisle:", err)
		}
		stop()
		os.Exit(2)
	}
}

const usage = `usage: aisle serve [--addr HOST:PORT] [--data DIR] [--store demo|none] [--shards N] [--brokers HOST:PORT,...] [--kafka-port N] [--no-kafka] [--token-key FILE] ...
       aisle cluster [--nodes 3] [--replica-sets 2] [--data DIR] [--addr HOST:PORT] (doc/cluster.md)
       aisle import [--data DIR | --brokers HOST:PORT,...] [--seller ID] [--delete-missing] FILE...
       aisle seller create|revoke|list ...
       aisle recs build|eval ...
       aisle bench [--short] [--peers bleve,postgres] [--http] ...
       aisle help

"aisle COMMAND --help" lists a command's flags.`

// run runs the subcommand named by args[0] until ctx ends.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve", "cluster": // cluster takes serve's flags, --nodes, and --replica-sets as a count
		opts, err := parseServeFlags(args[1:], stderr)
		if err != nil {
			return err
		}
		if args[0] == "cluster" {
			return app.RunCluster(ctx, opts)
		}
		return serve(ctx, opts)
	case "recs":
		return recsCommand(ctx, args[1:], stderr)
	case "seller":
		return sellerCommand(args[1:], os.Stdout, stderr)
	case "import":
		return importCommand(ctx, args[1:], os.Stdout, stderr)
	case "bench":
		return benchCommand(ctx, args[1:], stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stderr, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// parseServeFlags returns the app options the serve flags say.
func parseServeFlags(args []string, stderr io.Writer) (app.Options, error) {
	opts := app.DefaultOptions()
	opts.Log = stderr
	var brokers string
	fs := flag.NewFlagSet("aisle serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opts.Addr, "addr", opts.Addr, "`address` to listen on; port 0 picks a free port")
	fs.StringVar(&opts.Data, "data", opts.Data, "data `directory`, created if missing")
	fs.IntVar(&opts.Shards, "shards", opts.Shards, "number of index shards")
	fs.StringVar(&opts.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to `file`")
	fs.StringVar(&brokers, "brokers", "", "Kafka `host:port` list; empty runs the embedded broker")
	fs.IntVar(&opts.KafkaPort, "kafka-port", 0, "loopback `port` of the embedded broker; 0 picks a free one")
	fs.StringVar(&opts.AdminAddr, "admin-addr", opts.AdminAddr, "`address` of the admin API (reindex); keep it on loopback")
	fs.StringVar(&opts.Store, "store", app.StoreDemo, "the catalog a fresh --data starts with: `demo` (the shipped store) or none (empty, for aisle import)")
	fs.BoolVar(&opts.NoKafka, "no-kafka", false, "load the shipped store directly, with no broker and no ingest")
	fs.BoolVar(&opts.NoRecs, "no-recs", false, "do not load or build recommendations (their endpoints answer 503)")
	fs.Float64Var(&opts.SearchRate, "search-rate", 0, "per-client searches a `second` (0: the default, 50; negative: no limit, for load tests)")
	fs.Float64Var(&opts.SuggestRate, "suggest-rate", 0, "per-client autocomplete requests a `second` (0: the default, 100; negative: no limit)")
	fs.DurationVar(&opts.CarrierDelay, "carrier-delay", opts.CarrierDelay, "sandbox carrier: ship, then deliver, each routed order after this `duration`; 0 turns it off")
	fs.StringVar(&opts.Replica, "replica", "", "`id` of this cart replica (unique per process); default: generated once into --data")
	fs.StringVar(&opts.CommerceDB, "commerce-db", "", "PostgreSQL `url` (postgres://user@host:port/db) of the commerce store shared by replicas; default the bbolt file in --data")
	fs.StringVar(&opts.TokenKey, "token-key", "", "`file` of the user token HMAC key (32+ bytes); default token.key in --data, generated")
	fs.Func("role", "what this process runs: `all` (default), index (a cluster's index node) or router (doc/cluster.md)", func(s string) error { opts.Role = app.Role(s); return nil })
	fs.StringVar(&opts.ReplicaSet, "replica-set", "", "--role index: the `name` of this node's replica set")
	fs.StringVar(&opts.NodeID, "node-id", "", "--role index: this node's static `id`, kept across restarts")
	fs.IntVar(&opts.Nodes, "nodes", opts.Nodes, "aisle cluster: index `nodes` per replica set")
	fs.Func("replica-sets", "--role router: the replica set `names` to search, comma-separated", func(s string) error { opts.ReplicaSets = splitList(s); return nil })
	if err := fs.Parse(args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	opts.Brokers = splitList(brokers)
	if err := opts.Validate(); err != nil {
		return opts, fmt.Errorf("serve: %w", err)
	}
	return opts, nil
}

// serve runs the application until ctx ends or a part of it fails.
func serve(ctx context.Context, opts app.Options) error {
	a, err := app.Open(ctx, opts)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-a.Done():
	}
	return a.Close()
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
