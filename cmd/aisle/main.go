// Command aisle runs the Aisle search service.
//
//	aisle serve [--addr 127.0.0.1:8080] [--data ./data] [--shards 8]
//	aisle seller create --name NAME [--data ./data]
//	aisle seller revoke --id SELLER_ID [--data ./data]
//
// serve starts listening at once, answering /healthz with 503, then loads
// the shipped store into the engine and turns ready. SIGINT or SIGTERM
// shuts it down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
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

const usage = `usage: aisle serve [--addr HOST:PORT] [--data DIR] [--shards N] [--brokers HOST:PORT,...] [--kafka-port N] [--no-kafka] [--token-key FILE]
       aisle import [--data DIR | --brokers HOST:PORT,...] [--seller ID] [--delete-missing] FILE...
       aisle seller create|revoke|list ...`

// run runs the subcommand named by args[0] until ctx ends.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServeFlags(args[1:], stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stderr)
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

// serveConfig is what the serve flags say.
type serveConfig struct {
	addr   string
	data   string
	shards int
	// cpuProfile, when set, is a file to write a CPU profile of the whole
	// run to.
	cpuProfile string
	// brokers names a Kafka cluster; empty starts the embedded broker on
	// kafkaPort (0 picks a free port).
	brokers   string
	kafkaPort int
	// adminAddr is where the admin API listens; loopback by default.
	adminAddr string
	// noKafka loads the shipped store straight into the index, with no
	// broker: the quickest start, for benchmarks.
	noKafka bool
	// tokenKey is the file of the user token HMAC key; empty means
	// token.key in the data directory, generated when missing.
	tokenKey string
	// searchRate and suggestRate are the per-client requests a second of
	// search and autocomplete; 0 keeps the server's defaults, negative
	// turns the limit off (for load tests on loopback).
	searchRate, suggestRate float64
	// noRecs skips loading or building the recommendation lists and the
	// similar-items embeddings (their endpoints answer 503), for
	// benchmarks that should measure search alone.
	noRecs bool
	// replica names this process among the cart replicas; empty: the id
	// kept in the data directory (doc/cart.md).
	replica string
	// carrierDelay is how long the sandbox carrier takes to ship and then
	// deliver a routed order; 0 turns it off (doc/fulfillment.md).
	carrierDelay time.Duration
}

func parseServeFlags(args []string, stderr io.Writer) (serveConfig, error) {
	var cfg serveConfig
	fs := flag.NewFlagSet("aisle serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "`address` to listen on; port 0 picks a free port")
	fs.StringVar(&cfg.data, "data", "./data", "data `directory`, created if missing")
	fs.IntVar(&cfg.shards, "shards", 8, "number of index shards")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to `file`")
	fs.StringVar(&cfg.brokers, "brokers", "", "Kafka `host:port` list; empty runs the embedded broker")
	fs.IntVar(&cfg.kafkaPort, "kafka-port", 0, "loopback `port` of the embedded broker; 0 picks a free one")
	fs.StringVar(&cfg.adminAddr, "admin-addr", "127.0.0.1:0", "`address` of the admin API (reindex); keep it on loopback")
	fs.BoolVar(&cfg.noKafka, "no-kafka", false, "load the shipped store directly, with no broker and no ingest")
	fs.BoolVar(&cfg.noRecs, "no-recs", false, "do not load or build recommendations (their endpoints answer 503)")
	fs.Float64Var(&cfg.searchRate, "search-rate", 0, "per-client searches a `second` (0: the default, 50; negative: no limit, for load tests)")
	fs.Float64Var(&cfg.suggestRate, "suggest-rate", 0, "per-client autocomplete requests a `second` (0: the default, 100; negative: no limit)")
	fs.DurationVar(&cfg.carrierDelay, "carrier-delay", 5*time.Second, "sandbox carrier: ship, then deliver, each routed order after this `duration`; 0 turns it off")
	fs.StringVar(&cfg.replica, "replica", "", "`id` of this cart replica (unique per process); default: generated once into --data")
	fs.StringVar(&cfg.tokenKey, "token-key", "", "`file` of the user token HMAC key (32+ bytes); default token.key in --data, generated")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if cfg.shards < 1 {
		return cfg, fmt.Errorf("serve: --shards is %d; it must be at least 1", cfg.shards)
	}
	return cfg, nil
}
