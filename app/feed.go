package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/ingest"
)

// feed builds the index through Kafka, the way a production deployment
// does: it starts the embedded broker unless Brokers names a cluster,
// creates the topics with one partition per shard, replays the current
// generation's ingest logs into the live engine, publishes the shipped store
// as product events when the products topic is empty, and consumes until ctx
// ends. The server turns ready once the index has applied every event
// published before the consumer started; it gets the seller writes, the
// freshness metrics and the commerce services. A reindex asked of a.rx
// builds a new generation and swaps it into a.live.
func (a *App) feed(ctx context.Context) error {
	start := time.Now()
	cfg, live, rx, stderr, logf := a.opts, a.live, a.rx, a.log, a.logf
	ready := func() { a.ready.Store(true) }
	brokers := cfg.Brokers
	if len(brokers) == 0 {
		b, err := ingest.StartBroker(filepath.Join(cfg.Data, "kafka"), cfg.KafkaPort)
		if err != nil {
			return err
		}
		defer b.Close()
		brokers = b.Addrs()
		fmt.Fprintf(stderr, "aisle: embedded Kafka broker on %s (data in %s)\n", strings.Join(brokers, ","), filepath.Join(cfg.Data, "kafka"))
	}
	prod, err := ingest.NewProducer(brokers)
	if err != nil {
		return err
	}
	defer prod.Close()
	shopStore := a.shop.store
	stopCommerce, err := startCommerce(ctx, shopStore, a.shopWhere, brokers, logf)
	if err != nil {
		return err
	}
	defer stopCommerce()
	parts, err := ingest.EnsureTopics(ctx, prod, int32(cfg.Shards))
	if err != nil {
		return err
	}
	for t, n := range parts {
		if n != cfg.Shards {
			return fmt.Errorf("serve: topic %s has %d partitions but the index has %d shards; start with --shards %d", t, n, cfg.Shards, n)
		}
	}
	// The orders topic exists now.
	seeded := make(chan struct{})
	stopShop, err := startShop(ctx, a.shop, brokers, cfg.CarrierDelay, seeded, logf)
	if err != nil {
		return err
	}
	defer stopShop()
	replayOrders(shopStore, a.orderHook(), logf)
	markReady := ready
	ready = sync.OnceFunc(func() { seedStock(shopStore, live.get().Each, logf); close(seeded); markReady() })
	gn, err := currentGeneration(cfg.Data)
	if err != nil {
		return err
	}
	cur, err := a.openGeneration(ctx, gn, brokers, live.get())
	if err != nil {
		return err
	}
	defer func() { cur.stop() }()
	owners := newVariantOwners(liveVariants{live}, shopStore.VariantProducts)
	a.setIngest(stockOwner{ingest.NewWriter(prod, cur.c), shopStore, cur.c, prod, shopStore.Replica(), owners}, cur.c)
	defer a.setIngest(nil, nil)
	if n := cur.eng.Len(); n > 0 {
		fmt.Fprintf(stderr, "aisle: %d products from the ingest logs of generation %d in %.1f s\n", n, gn, time.Since(start).Seconds())
	}
	n := 0
	published, err := false, error(nil)
	if cfg.Store == StoreDemo {
		published, err = ingest.Bootstrap(ctx, prod, func() ([]*catalog.Product, error) {
			ps, err := corpora.DefaultStore()
			if err != nil {
				return nil, fmt.Errorf("serve: loading the store: %w", err)
			}
			n = len(ps)
			return ps, nil
		})
	}
	if err != nil {
		return err
	}
	if published {
		fmt.Fprintf(stderr, "aisle: published the shipped store, %d products, to %s in %.1f s\n", n, ingest.TopicProducts, time.Since(start).Seconds())
	}
	if err := cur.catchUp(ctx, prod); err != nil {
		return err
	}
	if err := setCurrentGeneration(cfg.Data, gn); err != nil {
		return err
	}
	if err := cur.eng.RebuildSpelling(); err != nil {
		return fmt.Errorf("serve: building the spelling data: %w", err)
	}
	st := cur.c.Stats()
	fmt.Fprintf(stderr, "aisle: index caught up with Kafka: %d products in %.1f s (%d events applied, %d stale, %d duplicate, %d dead-lettered)\n",
		cur.eng.Len(), time.Since(start).Seconds(), st.Applied, st.Stale, st.Duplicates, st.DeadLettered)
	rx.set(func(s *reindexStatus) { s.Generation = gn })
	ready()
	for {
		select {
		case err := <-cur.done:
			cur.done <- err // for the deferred stop
			if err == nil && ctx.Err() == nil {
				err = errors.New("serve: the consumer stopped")
			}
			return err
		case <-ctx.Done():
			return nil
		case <-rx.req:
			next, err := a.reindex(ctx, brokers, prod, cur.n+1)
			if err != nil {
				logf("reindex to generation %d failed: %v", cur.n+1, err)
				rx.set(func(s *reindexStatus) { s.State, s.Error, s.Finished = "failed", err.Error(), time.Now().UTC() })
				continue
			}
			// Swap: the server answers from the new generation and
			// the writer versions against its state; then the old
			// generation stops and its logs go.
			live.swap(next.eng)
			a.setIngest(stockOwner{ingest.NewWriter(prod, next.c), shopStore, next.c, prod, shopStore.Replica(), owners}, next.c)
			old := cur
			cur = next
			if err := setCurrentGeneration(cfg.Data, cur.n); err != nil {
				return err
			}
			if err := old.stop(); err != nil {
				logf("stopping generation %d: %v", old.n, err)
			}
			os.RemoveAll(generationDir(cfg.Data, old.n))
			logf("reindex: generation %d serves %d products", cur.n, cur.eng.Len())
			rx.set(func(s *reindexStatus) {
				s.State, s.Generation, s.Products, s.Finished = "done", cur.n, cur.eng.Len(), time.Now().UTC()
			})
		}
	}
}

// reindex builds generation n from the start of the topics, with no logs,
// beside the live one, and returns it once it has caught up.
func (a *App) reindex(ctx context.Context, brokers []string, prod *kgo.Client, n int) (*generation, error) {
	start := time.Now()
	cfg := a.opts
	if err := os.RemoveAll(generationDir(cfg.Data, n)); err != nil {
		return nil, err
	}
	eng, err := a.newEngine()
	if err != nil {
		return nil, err
	}
	g, err := a.openGeneration(ctx, n, brokers, eng)
	if err != nil {
		return nil, err
	}
	if err := g.catchUp(ctx, prod); err != nil {
		g.stop()
		os.RemoveAll(generationDir(cfg.Data, n))
		return nil, err
	}
	if err := eng.RebuildSpelling(); err != nil {
		g.stop()
		os.RemoveAll(generationDir(cfg.Data, n))
		return nil, err
	}
	a.logf("reindex: generation %d built from the start of the topics in %.1f s", n, time.Since(start).Seconds())
	return g, nil
}
