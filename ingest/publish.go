package ingest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
)

// NewProducer returns a client for publishing catalog events: idempotent,
// acks from all replicas, and Kafka's murmur2 key partitioner, so a
// product's events land in partition murmur2(id) mod n, the index shard of
// the product.
func NewProducer(brokers []string, opts ...kgo.Opt) (*kgo.Client, error) {
	base := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		// Batches are cut by their size before compression; a broker
		// refuses a batch over max.message.bytes (1 MiB by default, in
		// kfake and Kafka) after it. 4 MiB batches of the grown store's
		// products compressed to 1.05 MB with snappy, and aisle import
		// of 1M products failed with MESSAGE_TOO_LARGE; at franz-go's
		// default of about 1 MB a batch always fits.
		kgo.ProducerBatchMaxBytes(1_000_000),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("ingest: producer: %w", err)
	}
	return cl, nil
}

// ProductRecord returns the catalog.products record of p at p.Version.
func ProductRecord(p *catalog.Product) (*kgo.Record, error) {
	v, err := catalog.AppendProductEvent(nil, &catalog.ProductEvent{Schema: catalog.SchemaVersion, ID: p.ID, Version: p.Version, Product: p})
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	h, _ := catalog.ContentHash(p, nil)
	return &kgo.Record{Topic: TopicProducts, Key: []byte(p.ID), Value: v,
		Headers: productHeaders(p.Version, p.SellerID, h[:], p.CreatedAt, appendVariantIDs(nil, p))}, nil
}

// TombstoneRecord returns the versioned tombstone of product id.
func TombstoneRecord(id string, version uint64) *kgo.Record {
	return SellerTombstoneRecord(id, version, "")
}

// SellerTombstoneRecord returns the versioned tombstone of product id of
// seller (empty: the store's own).
func SellerTombstoneRecord(id string, version uint64, seller string) *kgo.Record {
	v, _ := json.Marshal(catalog.ProductEvent{Schema: catalog.SchemaVersion, ID: id, Version: version, Deleted: true})
	return &kgo.Record{Topic: TopicProducts, Key: []byte(id), Value: v, Headers: tombstoneHeaders(version, seller)}
}

// PriceRecord returns the catalog.prices record of e.
func PriceRecord(e catalog.PriceEvent) *kgo.Record {
	e.Schema = catalog.SchemaVersion
	v, _ := json.Marshal(e)
	return &kgo.Record{Topic: TopicPrices, Key: []byte(e.ProductID), Value: v}
}

// InventoryRecord returns the catalog.inventory record of e.
func InventoryRecord(e catalog.InventoryEvent) *kgo.Record {
	e.Schema = catalog.SchemaVersion
	v, _ := json.Marshal(e)
	return &kgo.Record{Topic: TopicInventory, Key: []byte(e.ProductID), Value: v}
}

// RatingRecord returns the catalog.ratings record of e.
func RatingRecord(e catalog.RatingEvent) *kgo.Record {
	e.Schema = catalog.SchemaVersion
	v, _ := json.Marshal(e)
	return &kgo.Record{Topic: TopicRatings, Key: []byte(e.ProductID), Value: v}
}

// OrderRecord returns the orders record of e, keyed by order id.
func OrderRecord(e catalog.OrderEvent) *kgo.Record {
	e.Schema = catalog.SchemaVersion
	v, _ := json.Marshal(e)
	return &kgo.Record{Topic: TopicOrders, Key: []byte(e.OrderID), Value: v}
}

// PublishProducts publishes ps to catalog.products, synchronously, in
// batches, and returns the number published.
func PublishProducts(ctx context.Context, cl *kgo.Client, ps []*catalog.Product) (int, error) {
	const batch = 5000
	n := 0
	recs := make([]*kgo.Record, 0, batch)
	for i := 0; i < len(ps); i += batch {
		recs = recs[:0]
		for _, p := range ps[i:min(i+batch, len(ps))] {
			r, err := ProductRecord(p)
			if err != nil {
				return n, err
			}
			recs = append(recs, r)
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return n, fmt.Errorf("ingest: publishing products: %w", err)
		}
		n += len(recs)
	}
	return n, nil
}

// Bootstrap publishes the products load returns as product events when the
// products topic is empty, as on the first start of the embedded broker, and
// reports whether it did. load is not called otherwise.
func Bootstrap(ctx context.Context, cl *kgo.Client, load func() ([]*catalog.Product, error)) (bool, error) {
	ends, err := EndOffsets(ctx, cl, TopicProducts)
	if err != nil {
		return false, err
	}
	for _, o := range ends[TopicProducts] {
		if o > 0 {
			return false, nil
		}
	}
	ps, err := load()
	if err != nil {
		return false, err
	}
	if _, err := PublishProducts(ctx, cl, ps); err != nil {
		return false, err
	}
	return true, nil
}
