package ingest

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The topics of doc/ingest.md. Catalog events are keyed by product id.
const (
	TopicProducts  = "catalog.products"  // compacted: the latest product document or tombstone per id
	TopicPrices    = "catalog.prices"    // variant price changes
	TopicInventory = "catalog.inventory" // stock per variant and warehouse
	TopicOrders    = "orders"            // placed orders, keyed by order id
	TopicRatings   = "catalog.ratings"   // review summaries, keyed by product id
	TopicCarts     = "carts"             // carts exchanged by the cart replicas, keyed by user id
	dlqSuffix      = ".dlq"
)

// CatalogTopics are the topics of the catalog's own events, keyed by
// product id.
var CatalogTopics = []string{TopicProducts, TopicPrices, TopicInventory, TopicRatings}

// IndexedTopics are the topics the indexer consumes: the catalog topics and
// the orders, whose units sold feed the sales signal of ranking.
var IndexedTopics = []string{TopicProducts, TopicPrices, TopicInventory, TopicRatings, TopicOrders}

// DLQ returns the dead-letter topic of topic.
func DLQ(topic string) string { return topic + dlqSuffix }

// EnsureTopics creates the catalog, order and dead-letter topics with the
// given partition count where they are missing; the products topic is
// compacted. Existing topics are left as they are, and their partition
// count is returned so callers can check it matches the shard count.
func EnsureTopics(ctx context.Context, cl *kgo.Client, partitions int32) (map[string]int, error) {
	adm := kadm.NewClient(cl)
	compact := map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}
	if _, err := adm.CreateTopics(ctx, partitions, 1, compact, TopicProducts); err != nil {
		return nil, fmt.Errorf("ingest: creating %s: %w", TopicProducts, err)
	}
	rest := []string{TopicPrices, TopicInventory, TopicRatings, TopicOrders}
	for _, t := range append(append([]string(nil), CatalogTopics...), TopicOrders) {
		rest = append(rest, DLQ(t))
	}
	resp, err := adm.CreateTopics(ctx, partitions, 1, nil, rest...)
	if err != nil {
		return nil, fmt.Errorf("ingest: creating topics: %w", err)
	}
	for _, r := range resp {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return nil, fmt.Errorf("ingest: creating %s: %w", r.Topic, r.Err)
		}
	}
	md, err := adm.Metadata(ctx, append(rest, TopicProducts)...)
	if err != nil {
		return nil, fmt.Errorf("ingest: topic metadata: %w", err)
	}
	out := map[string]int{}
	for _, t := range md.Topics {
		if t.Err != nil {
			return nil, fmt.Errorf("ingest: topic %s: %w", t.Topic, t.Err)
		}
		out[t.Topic] = len(t.Partitions)
	}
	return out, nil
}

// EndOffsets returns the next offset to be written of every partition of
// topics: once the indexer has applied up to these, it has caught up with
// everything published before the call.
func EndOffsets(ctx context.Context, cl *kgo.Client, topics ...string) (map[string]map[int32]int64, error) {
	lo, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("ingest: listing end offsets: %w", err)
	}
	out := map[string]map[int32]int64{}
	var errs []error
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("%s/%d: %w", o.Topic, o.Partition, o.Err))
			return
		}
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.Offset
	})
	return out, errors.Join(errs...)
}
