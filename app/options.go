package app

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"time"
)

// Role names what a process runs (doc/cluster.md).
type Role string

const (
	// RoleAll runs everything in one process: the index and its ingest,
	// the commerce runtime, recommendations and the HTTP API.
	RoleAll Role = "all"
	// RoleIndex is an index node of a cluster: it holds the shards its
	// replica set's consumer group assigns it and answers the internal
	// shard API on Addr; no public API.
	RoleIndex Role = "index"
	// RoleRouter holds no index: it answers the public search API on
	// Addr by scatter-gather over the index nodes of ReplicaSets.
	RoleRouter Role = "router"
)

// Options configure an App: every serve flag is a field. The zero value of
// a field with a default (Addr, Data, Shards, AdminAddr, Role, Log) means
// that default; DefaultOptions returns them all filled in, CarrierDelay
// too, whose zero turns the sandbox carrier off.
type Options struct {
	// Role is what this process runs (RoleAll).
	Role Role
	// ReplicaSet (RoleIndex) names the replica set this node belongs to:
	// its consumer group. NodeID is its static member id, kept across
	// restarts so it takes its shards back without a full rebalance.
	ReplicaSet, NodeID string
	// ReplicaSets (RoleRouter) are the replica sets the router reads.
	ReplicaSets []string
	// Nodes is the index nodes per replica set of RunCluster.
	Nodes int
	// Addr is the address of the HTTP API; port 0 picks a free port.
	Addr string
	// Data is the data directory, created if missing.
	Data string
	// Shards is the number of index shards (and partitions of the
	// catalog topics this process creates).
	Shards int
	// CPUProfile, when set, is a file to write a CPU profile of the whole
	// run to.
	CPUProfile string
	// Brokers names a Kafka cluster; empty starts the embedded broker on
	// KafkaPort (0 picks a free port).
	Brokers   []string
	KafkaPort int
	// AdminAddr is where the admin API (reindex) listens; keep it on
	// loopback.
	AdminAddr string
	// Store is the catalog a fresh data directory starts with: StoreDemo
	// publishes the shipped 93,710-product store when the products topic
	// is empty; StoreNone starts empty, for a store's own catalog (aisle
	// import). Empty means StoreDemo.
	Store string
	// NoKafka loads the shipped store straight into the index, with no
	// broker and no ingest: the quickest start, for benchmarks.
	NoKafka bool
	// NoRecs skips loading or building the recommendation lists and the
	// similar-items embeddings (their endpoints answer 503), for
	// benchmarks that should measure search alone.
	NoRecs bool
	// TokenKey is the file of the user token HMAC key; empty means
	// token.key in the data directory, generated when missing.
	TokenKey string
	// SearchRate and SuggestRate are the per-client requests a second of
	// search and autocomplete; 0 keeps the server's defaults, negative
	// turns the limit off (for load tests on loopback).
	SearchRate, SuggestRate float64
	// Replica names this process among the cart replicas; empty: the id
	// kept in the data directory (doc/cart.md).
	Replica string
	// CommerceDB is a PostgreSQL connection string (postgres://...) for
	// the commerce store; empty keeps it in the bbolt file in Data. Several
	// processes (each with its own Replica) share stock, orders and carts
	// through one database (doc/commerce.md).
	CommerceDB string
	// CarrierDelay is how long the sandbox carrier takes to ship and then
	// deliver a routed order; 0 turns it off (doc/fulfillment.md).
	CarrierDelay time.Duration
	// Log receives the progress lines, each prefixed "aisle: ".
	Log io.Writer `json:"-"`
}

// The catalogs a fresh server can start with (Options.Store).
const (
	StoreDemo = "demo"
	StoreNone = "none"
)

// DefaultOptions returns the options `aisle serve` starts with.
func DefaultOptions() Options {
	return Options{
		Role:         RoleAll,
		Nodes:        3,
		Addr:         "127.0.0.1:8080",
		Data:         "./data",
		Shards:       8,
		Store:        StoreDemo,
		AdminAddr:    "127.0.0.1:0",
		CarrierDelay: 5 * time.Second,
		Log:          os.Stderr,
	}
}

// EnsureDefaults returns o with its zero fields that have a default set to
// it (CarrierDelay keeps its zero: off).
func (o Options) EnsureDefaults() Options {
	d := DefaultOptions()
	if o.Role == "" {
		o.Role = d.Role
	}
	if o.Addr == "" {
		o.Addr = d.Addr
	}
	if o.Nodes == 0 {
		o.Nodes = d.Nodes
	}
	if o.Data == "" {
		o.Data = d.Data
	}
	if o.Shards == 0 {
		o.Shards = d.Shards
	}
	if o.AdminAddr == "" {
		o.AdminAddr = d.AdminAddr
	}
	if o.Store == "" {
		o.Store = d.Store
	}
	if o.Log == nil {
		o.Log = d.Log
	}
	return o
}

// Validate returns every problem of o (after EnsureDefaults), joined, or
// nil.
func (o Options) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch o.Role {
	case RoleAll:
	case RoleIndex:
		if o.ReplicaSet == "" || o.NodeID == "" {
			bad("--role index needs --replica-set and --node-id")
		}
	case RoleRouter:
		if len(o.ReplicaSets) == 0 {
			bad("--role router needs --replica-sets")
		}
	default:
		bad("role %q is not one of %s, %s, %s", o.Role, RoleAll, RoleIndex, RoleRouter)
	}
	if o.Role != RoleAll && len(o.Brokers) == 0 {
		bad("--role %s needs --brokers (the cluster's Kafka)", o.Role)
	}
	if o.Shards < 1 {
		bad("--shards is %d; it must be at least 1", o.Shards)
	}
	if o.Store != StoreDemo && o.Store != StoreNone {
		bad("--store is %q; want %s (the shipped store) or %s (start empty)", o.Store, StoreDemo, StoreNone)
	}
	for _, a := range []struct{ flag, addr string }{{"--addr", o.Addr}, {"--admin-addr", o.AdminAddr}} {
		if _, port, err := net.SplitHostPort(a.addr); err != nil {
			bad("%s %q is not host:port: %v", a.flag, a.addr, err)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad("%s %q: port %q is not a number from 0 to 65535", a.flag, a.addr, port)
		}
	}
	if o.KafkaPort < 0 || o.KafkaPort > 65535 {
		bad("--kafka-port is %d; it must be from 0 to 65535", o.KafkaPort)
	}
	for i, b := range o.Brokers {
		if b == "" {
			bad("--brokers: broker %d is empty", i+1)
		}
	}
	if o.CarrierDelay < 0 {
		bad("--carrier-delay is %v; it must be 0 (off) or more", o.CarrierDelay)
	}
	if math.IsNaN(o.SearchRate) || math.IsNaN(o.SuggestRate) {
		bad("--search-rate and --suggest-rate must be numbers")
	}
	if o.Data == "" {
		bad("--data is empty")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid options: %w", errors.Join(errs...))
	}
	return nil
}
