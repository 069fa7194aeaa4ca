package ingest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
)

// Errors of the Writer that callers branch on.
var (
	ErrUnknownProduct = errors.New("ingest: unknown product")
	ErrUnknownVariant = errors.New("ingest: the product has no such variant")
	ErrNotCaughtUp    = errors.New("ingest: the index has not caught up with the topic, so the current version is not known")
)

// Written is where a write landed: the version it carries and the record's
// partition and offset.
type Written struct {
	Version   uint64
	Partition int32
	Offset    int64
	Topic     string
}

// Token returns the read-your-writes token of w, "topic:partition:offset",
// which a search passes as min_offset.
func (w Written) Token() string {
	return w.Topic + ":" + strconv.Itoa(int(w.Partition)) + ":" + strconv.FormatInt(w.Offset, 10)
}

// Writer is the thin catalog service's publishing side: it publishes
// seller writes as versioned events with ProduceSync.
//
// A real catalog database owns versions. The Writer derives them: the next
// version is one above the larger of the version the consumer's durable
// state holds and the last version this Writer published for the same key.
// Before its first write to a topic, it waits until the consumer has
// applied everything already in that topic, so versions published before a
// restart are known. This is correct for one writing process; two would
// publish equal versions and one write would be dropped as a duplicate.
//
// Writes are serialised by one mutex held across the produce; seller
// writes are rare next to searches.
type Writer struct {
	cl       *kgo.Client
	c        *Consumer
	mu       sync.Mutex
	products map[string]uint64     // id -> last content version published
	deleted  map[string]bool       // ids whose last write published here is a tombstone
	stock    map[string]stockState // product \0 variant \0 warehouse -> last published
	synced   map[string]bool       // topics caught up with since the start
	// SyncTimeout bounds the wait for the consumer to catch up before a
	// first write; default 5 s.
	SyncTimeout time.Duration
}

// NewWriter returns a Writer producing through cl (see NewProducer) and
// reading versions from c.
func NewWriter(cl *kgo.Client, c *Consumer) *Writer {
	return &Writer{cl: cl, c: c, products: map[string]uint64{}, deleted: map[string]bool{}, stock: map[string]stockState{},
		synced: map[string]bool{}, SyncTimeout: 5 * time.Second}
}

// sync waits, once per topic, until the consumer has applied everything
// in topic. Called with w.mu held.
func (w *Writer) sync(ctx context.Context, topic string) error {
	if w.synced[topic] {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, w.SyncTimeout)
	defer cancel()
	ends, err := EndOffsets(ctx, w.cl, topic)
	if err != nil {
		return err
	}
	for p, end := range ends[topic] {
		if end > 0 && !w.c.WaitApplied(ctx, topic, p, end-1) {
			return fmt.Errorf("%w: %s/%d applied %d of %d", ErrNotCaughtUp, topic, p, w.c.Applied(topic, p), end)
		}
	}
	w.synced[topic] = true
	return nil
}

// PublishProduct publishes p as a new content version. With create, p.ID
// must be new and the version is 1; otherwise the product must exist and
// the version is one above its current one. p.Version is set to the
// version published. p must be valid: the consumer dead-letters invalid
// documents.
func (w *Writer) PublishProduct(ctx context.Context, p *catalog.Product, create bool) (Written, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.sync(ctx, TopicProducts); err != nil {
		return Written{}, err
	}
	v, deletedV, exists := w.c.ContentVersion(p.ID)
	last, published := w.products[p.ID]
	switch {
	case create && (v > 0 || deletedV > 0 || published):
		return Written{}, fmt.Errorf("ingest: product %q already exists", p.ID)
	case create:
		p.Version = 1
	case w.deleted[p.ID] || (!exists && !published):
		return Written{}, fmt.Errorf("%w: %q", ErrUnknownProduct, p.ID)
	default:
		p.Version = max(v, deletedV, last) + 1
	}
	r, err := ProductRecord(p)
	if err != nil {
		return Written{}, err
	}
	out, err := w.produce(ctx, r)
	if err != nil {
		return Written{}, err
	}
	w.products[p.ID] = p.Version
	out.Version = p.Version
	return out, nil
}

// CreateProducts publishes new products at version 1, as a batch: every
// record is produced asynchronously and the client is flushed once. It
// returns, for each product, where it landed, or why it was not published
// (an id that exists, a refused record). Each p.Version is set to 1.
func (w *Writer) CreateProducts(ctx context.Context, ps []*catalog.Product) ([]Written, []error) {
	out := make([]Written, len(ps))
	errs := make([]error, len(ps))
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.sync(ctx, TopicProducts); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	var wg sync.WaitGroup
	for i, p := range ps {
		v, deletedV, _ := w.c.ContentVersion(p.ID)
		if _, published := w.products[p.ID]; published || v > 0 || deletedV > 0 {
			errs[i] = fmt.Errorf("ingest: product %q already exists", p.ID)
			continue
		}
		p.Version = 1
		r, err := ProductRecord(p)
		if err != nil {
			errs[i] = err
			continue
		}
		wg.Add(1)
		w.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				errs[i] = fmt.Errorf("ingest: producing to %s: %w", r.Topic, err)
				return
			}
			out[i] = Written{Version: 1, Partition: r.Partition, Offset: r.Offset, Topic: r.Topic}
		})
	}
	if err := w.cl.Flush(ctx); err != nil {
		// The promises still run, with the context's error for records
		// not sent.
		wg.Wait()
		for i := range errs {
			if errs[i] == nil && out[i].Topic == "" {
				errs[i] = fmt.Errorf("ingest: flushing: %w", err)
			}
		}
	}
	wg.Wait()
	for i, p := range ps {
		if errs[i] == nil {
			w.products[p.ID] = 1
		}
	}
	return out, errs
}

// DeleteProduct publishes the tombstone of product id at one above every
// version it had, so no late, older upsert brings it back. It returns
// ErrUnknownProduct for a product that does not exist or is deleted
// already (or whose tombstone this Writer published).
func (w *Writer) DeleteProduct(ctx context.Context, id, seller string) (Written, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.sync(ctx, TopicProducts); err != nil {
		return Written{}, err
	}
	v, deletedV, exists := w.c.ContentVersion(id)
	last, published := w.products[id]
	if w.deleted[id] || (!exists && !(published && last > deletedV)) {
		return Written{}, fmt.Errorf("%w: %q", ErrUnknownProduct, id)
	}
	version := max(v, deletedV, last) + 1
	out, err := w.produce(ctx, SellerTombstoneRecord(id, version, seller))
	if err != nil {
		return Written{}, err
	}
	w.products[id] = version
	w.deleted[id] = true
	out.Version = version
	return out, nil
}

// PublishStock publishes the next stock version of one variant in one
// warehouse, with the units change returns for the units available now.
// It returns the units published with the Written.
func (w *Writer) PublishStock(ctx context.Context, productID, variantID, warehouseID string, change func(available int) (int, error)) (Written, int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.sync(ctx, TopicInventory); err != nil {
		return Written{}, 0, err
	}
	if err := w.sync(ctx, TopicProducts); err != nil {
		return Written{}, 0, err
	}
	avail, v, ok := w.c.Stock(productID, variantID, warehouseID)
	if w.deleted[productID] {
		return Written{}, 0, fmt.Errorf("%w: %q", ErrUnknownProduct, productID)
	}
	if !ok {
		if _, _, exists := w.c.ContentVersion(productID); !exists {
			return Written{}, 0, fmt.Errorf("%w: %q", ErrUnknownProduct, productID)
		}
		return Written{}, 0, fmt.Errorf("%w: product %q, variant %q", ErrUnknownVariant, productID, variantID)
	}
	k := productID + "\x00" + variantID + "\x00" + warehouseID
	if last, has := w.stock[k]; has && last.V > v {
		avail, v = last.Available, last.V
	}
	n, err := change(avail)
	if err != nil {
		return Written{}, 0, err
	}
	e := catalog.InventoryEvent{ProductID: productID, VariantID: variantID, WarehouseID: warehouseID, Version: v + 1, Available: n}
	out, err := w.produce(ctx, InventoryRecord(e))
	if err != nil {
		return Written{}, 0, err
	}
	w.stock[k] = stockState{V: e.Version, Available: n}
	out.Version = e.Version
	return out, n, nil
}

func (w *Writer) produce(ctx context.Context, r *kgo.Record) (Written, error) {
	res := w.cl.ProduceSync(ctx, r)
	got, err := res.First()
	if err != nil {
		return Written{}, fmt.Errorf("ingest: producing to %s: %w", r.Topic, err)
	}
	return Written{Partition: got.Partition, Offset: got.Offset, Topic: got.Topic}, nil
}
