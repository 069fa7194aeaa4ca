package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/search"
	"github.com/aisle/aisle/server"
)

// feed builds the index through Kafka, the way a production deployment
// does: it starts the embedded broker unless --brokers names a cluster,
// creates the topics with one partition per shard, replays the ingest logs
// into eng, publishes the shipped store as product events when the products
// topic is empty, and consumes until ctx ends. ready is called once the
// index has applied every event published before the consumer started.
// srv, when not nil, gets the seller writes and the freshness metrics.
func feed(ctx context.Context, cfg serveConfig, eng *search.Engine, srv *server.Server, stderr io.Writer, ready func()) error {
	start := time.Now()
	brokers := splitList(cfg.brokers)
	if len(brokers) == 0 {
		b, err := ingest.StartBroker(filepath.Join(cfg.data, "kafka"), cfg.kafkaPort)
		if err != nil {
			return err
		}
		defer b.Close()
		brokers = b.Addrs()
		fmt.Fprintf(stderr, "aisle: embedded Kafka broker on %s (data in %s)\n", strings.Join(brokers, ","), filepath.Join(cfg.data, "kafka"))
	}
	prod, err := ingest.NewProducer(brokers)
	if err != nil {
		return err
	}
	defer prod.Close()
	parts, err := ingest.EnsureTopics(ctx, prod, int32(cfg.shards))
	if err != nil {
		return err
	}
	for t, n := range parts {
		if n != cfg.shards {
			return fmt.Errorf("serve: topic %s has %d partitions but the index has %d shards; start with --shards %d", t, n, cfg.shards, n)
		}
	}
	c, err := ingest.New(ingest.Options{
		Brokers:    brokers,
		Dir:        filepath.Join(cfg.data, "ingest"),
		Partitions: cfg.shards,
		Sink:       eng,
		Logf:       func(format string, args ...any) { fmt.Fprintf(stderr, "aisle: "+format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	defer c.Close()
	if srv != nil {
		srv.SetIngest(ingest.NewWriter(prod, c), c)
		defer srv.SetIngest(nil, nil)
	}
	if n := eng.Len(); n > 0 {
		fmt.Fprintf(stderr, "aisle: %d products from the ingest logs in %.1f s\n", n, time.Since(start).Seconds())
	}
	n := 0
	published, err := ingest.Bootstrap(ctx, prod, func() ([]*catalog.Product, error) {
		ps, err := corpora.DefaultStore()
		if err != nil {
			return nil, fmt.Errorf("serve: loading the store: %w", err)
		}
		n = len(ps)
		return ps, nil
	})
	if err != nil {
		return err
	}
	if published {
		fmt.Fprintf(stderr, "aisle: published the shipped store, %d products, to %s in %.1f s\n", n, ingest.TopicProducts, time.Since(start).Seconds())
	}
	ends, err := ingest.EndOffsets(ctx, prod, ingest.CatalogTopics...)
	if err != nil {
		return err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !c.CaughtUp(ends) {
		select {
		case err := <-runErr:
			return err
		case <-tick.C:
		}
	}
	if err := eng.RebuildSpelling(); err != nil {
		return fmt.Errorf("serve: building the spelling data: %w", err)
	}
	st := c.Stats()
	fmt.Fprintf(stderr, "aisle: index caught up with Kafka: %d products in %.1f s (%d events applied, %d stale, %d duplicate, %d dead-lettered)\n",
		eng.Len(), time.Since(start).Seconds(), st.Applied, st.Stale, st.Duplicates, st.DeadLettered)
	ready()
	return <-runErr
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
