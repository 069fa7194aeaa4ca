package app

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/commerce"
	"github.com/aisle/aisle/ingest"
)

// stockOwner is the catalog service the server publishes seller writes
// through: products go through the ingest Writer, and stock changes go
// through the commerce store, the one writer of every stock cell (issue
// 14, item 1). The store assigns the cell's next version in the same
// sequence as the holds, reservations and deductions, and enqueues the
// event to its outbox in the same transaction, so an acknowledged PATCH
// is never dropped by the index as not newer. The event is also produced
// at once, for the read-your-writes token; the outbox's later copy of it
// is a duplicate the index ignores.
type stockOwner struct {
	*ingest.Writer
	store   *commerce.Store
	feed    *ingest.Consumer
	prod    *kgo.Client
	replica string
}

// PublishStock changes one cell through the store and publishes its event.
func (o stockOwner) PublishStock(ctx context.Context, productID, variantID, warehouseID string, change func(available int) (int, error)) (ingest.Written, int, error) {
	listed, _, ok := o.feed.Stock(productID, variantID, warehouseID)
	if !ok {
		if _, _, exists := o.feed.ContentVersion(productID); !exists {
			return ingest.Written{}, 0, fmt.Errorf("%w: %q", ingest.ErrUnknownProduct, productID)
		}
		return ingest.Written{}, 0, fmt.Errorf("%w: product %q, variant %q", ingest.ErrUnknownVariant, productID, variantID)
	}
	ws, err := o.store.Warehouses()
	if err != nil {
		return ingest.Written{}, 0, err
	}
	if _, ok := ws.Get(warehouseID); !ok {
		return ingest.Written{}, 0, fmt.Errorf("%w: %q", commerce.ErrUnknownWarehouse, warehouseID)
	}
	st, err := o.store.ChangeStock(productID, variantID, warehouseID, listed, change)
	if err != nil {
		return ingest.Written{}, 0, err
	}
	// Applied and durable: the outbox publishes the event whatever
	// happens next. A failed produce here only costs the token.
	r := ingest.InventoryRecord(st.Event())
	r.Headers = append(r.Headers, kgo.RecordHeader{Key: replicaHeader, Value: []byte(o.replica)})
	got, err := o.prod.ProduceSync(ctx, r).First()
	w := ingest.Written{Version: st.Version}
	if err == nil {
		w.Topic, w.Partition, w.Offset = got.Topic, got.Partition, got.Offset
	}
	return w, st.Available, nil
}
