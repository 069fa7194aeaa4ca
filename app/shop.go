package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/commerce"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/ingest"
)

// The rest of the commerce services, over the store startCommerce opened
// (doc/checkout.md, doc/fulfillment.md, doc/reviews.md): checkout with the
// sandbox payment provider, fulfillment of the orders topic, reviews, the
// sandbox carrier, and the stock seeded from the catalog.

// recoverEvery is how often checkouts stuck between their reservation
// and their charge (a crash, a provider timeout) are finished, and how old
// they must be.
const recoverEvery = time.Minute

// shop is the commerce services over the store that the server serves:
// checkout (with the sandbox payment provider), reviews, and the
// warehouses orders are routed from.
type shop struct {
	store *commerce.Store
	ws    *commerce.Warehouses
	co    *commerce.Checkout
	rv    *commerce.Reviews
}

// newShop builds the shop over store, putting the shipped warehouses in a
// store that has none.
func newShop(store *commerce.Store) (*shop, error) {
	ws, err := store.Warehouses()
	if err != nil || ws.Len() == 0 {
		if err := store.PutWarehouses(corpora.Warehouses()); err != nil {
			return nil, fmt.Errorf("commerce: warehouses: %w", err)
		}
		if ws, err = store.Warehouses(); err != nil {
			return nil, fmt.Errorf("commerce: warehouses: %w", err)
		}
	}
	co := commerce.NewCheckout(store, ws, commerce.NewSandbox(), commerce.CheckoutOptions{})
	rv, err := commerce.NewReviews(store, commerce.ReviewOptions{})
	if err != nil {
		return nil, err
	}
	return &shop{store: store, ws: ws, co: co, rv: rv}, nil
}

// startShop runs the shop's background work: interrupted checkouts
// finished and review limits swept; with brokers, fulfilment of the orders
// topic (one routing decision per order, however often an order is
// delivered), stock adopted from other writers and new products' stock
// seeded; with carrierDelay above zero, the sandbox carrier shipping and
// then delivering routed orders after it. stop ends the loops and waits
// for them.
//
// seeded is closed once seedStock has run over the loaded index.
func startShop(ctx context.Context, sh *shop, brokers []string, carrierDelay time.Duration,
	seeded <-chan struct{}, logf func(string, ...any)) (stop func(), err error) {
	store, ws, co, rv := sh.store, sh.ws, sh.co, sh.rv
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(recoverEvery)
		defer t.Stop()
		for older := time.Duration(0); ; older = recoverEvery {
			if n, err := co.Recover(ctx, older); err != nil && ctx.Err() == nil && !errors.Is(err, commerce.ErrClosed) {
				logf("commerce: recovering checkouts: %v", err)
			} else if n > 0 {
				logf("commerce: finished %d interrupted checkouts", n)
			}
			if n, err := rv.Sweep(time.Now(), 10_000); err != nil && !errors.Is(err, commerce.ErrClosed) {
				logf("commerce: sweeping review limits: %v", err)
			} else if n == 10_000 {
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	if carrierDelay > 0 {
		wg.Go(func() {
			if err := store.SimulateCarrier(ctx, carrierDelay); err != nil && ctx.Err() == nil && !errors.Is(err, commerce.ErrClosed) {
				logf("commerce: the sandbox carrier stopped: %v", err)
			}
		})
	}
	if len(brokers) > 0 {
		admin, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
		if err != nil {
			cancel()
			return nil, fmt.Errorf("commerce: orders consumer: %w", err)
		}
		handle := store.OrderHandler(ws)
		wg.Go(func() {
			defer admin.Close()
			err := consumeTopic(ctx, admin, brokers, ingest.TopicOrders, store, logf, kgo.NewOffset().AtStart(), eachRecord(func(r *kgo.Record) error {
				e, err := catalog.DecodeOrderEvent(r.Key, r.Value)
				if err != nil { // the indexer dead-letters it; fulfillment skips it
					logf("commerce: skipping the order at %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err)
					return nil
				}
				return handle(e)
			}))
			if err != nil && ctx.Err() == nil {
				logf("commerce: the orders consumer stopped: %v", err)
			}
		})
		// Stock changes other writers publish (a seller's PATCH through the
		// catalog writer, which carries no replica header) are adopted, so
		// the store's next change of a cell publishes above their version.
		wg.Go(func() {
			err := consumeTopic(ctx, admin, brokers, ingest.TopicInventory, store, logf, kgo.NewOffset().AtStart(), eachRecord(func(r *kgo.Record) error {
				if _, ours := replicaOf(r); ours {
					return nil
				}
				e, err := catalog.DecodeInventoryEvent(r.Key, r.Value)
				if err != nil {
					return nil // the indexer dead-letters it
				}
				if _, err := store.AdoptStock(e); err != nil && !errors.Is(err, commerce.ErrLine) {
					return err
				}
				return nil
			}))
			if err != nil && ctx.Err() == nil {
				logf("commerce: the inventory consumer stopped: %v", err)
			}
		})
		// Products created or changed after the first start (a seller's
		// POST) get their catalog stock as new cells, so they can be
		// bought; cells the store holds keep their units. The consumer
		// starts once seedStock has run over the whole index, and on a
		// first start from the end of the topic: the seed covered the rest.
		wg.Go(func() {
			select {
			case <-seeded:
			case <-ctx.Done():
				return
			}
			// A partition's new products are seeded in one write.
			err := consumeTopic(ctx, admin, brokers, ingest.TopicProducts, store, logf, kgo.NewOffset().AtEnd(), func(_ context.Context, _ int32, recs []*kgo.Record) error {
				var batch []*catalog.Product
				for _, r := range recs {
					if e, err := catalog.DecodeProductEvent(r.Key, r.Value); err == nil && !e.Deleted && e.Product != nil {
						batch = append(batch, e.Product)
					}
				}
				if len(batch) == 0 {
					return nil
				}
				_, err := store.SeedStock(batch)
				return err
			})
			if err != nil && ctx.Err() == nil {
				logf("commerce: the products consumer stopped: %v", err)
			}
		})
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}, nil
}

// seedStock copies the catalog's stock into the commerce store's empty
// cells, so checkout can reserve what search shows; cells the store
// already holds keep their units.
func seedStock(store *commerce.Store, each func(func(*catalog.Product) bool), logf func(string, ...any)) {
	start := time.Now()
	var ps []*catalog.Product
	each(func(p *catalog.Product) bool { ps = append(ps, p); return true })
	n, err := store.SeedStock(ps)
	if err != nil {
		logf("commerce: %v", err)
		return
	}
	logf("commerce: stock of %d products checked, %d new cells seeded in %v", len(ps), n, time.Since(start).Round(time.Millisecond))
}

// replayOrders hands every paid order of the store to hook (the
// recommendations' live sinks, orderHook), so users' histories and the
// live co-purchases survive a restart; the sinks drop order ids they have
// seen. A nil hook (--no-recs) does nothing.
func replayOrders(store *commerce.Store, hook func(catalog.OrderEvent), logf func(string, ...any)) {
	if hook == nil {
		return
	}
	n := 0
	if err := store.EachOrder(func(e catalog.OrderEvent) bool { hook(e); n++; return true }); err != nil {
		logf("commerce: replaying orders into recommendations: %v", err)
		return
	}
	if n > 0 {
		logf("commerce: %d orders replayed into the recommendations", n)
	}
}
