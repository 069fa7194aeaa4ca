package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/commerce"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/server"
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
	ids     *variantOwners
}

// variantOwners makes variant ids unique across products (issue 14, item
// 2): a product may use a variant id that no other live product holds and
// that no other product was published with by this process. Checks and
// publishes are serialised by mu, so two sellers racing for one id get one
// 201 and one 409. An id stays with the product this process published it
// for until a restart, even when a later version of the product drops it;
// after a restart the index is the record.
type variantOwners struct {
	mu   sync.Mutex
	live server.VariantFinder
	byID map[string]string // variant id -> product id published with it
}

func newVariantOwners(live server.VariantFinder) *variantOwners {
	return &variantOwners{live: live, byID: map[string]string{}}
}

// check returns catalog.ErrIDTaken, naming the variant, when another
// product holds one of p's variant ids. Called with mu held.
func (v *variantOwners) check(p *catalog.Product) error {
	for i, vr := range p.Variants {
		owner, ok := v.byID[vr.ID]
		if !ok {
			if q, live := v.live.ProductOfVariant(vr.ID); live {
				owner, ok = q.ID, true
			}
		}
		if ok && owner != p.ID {
			return fmt.Errorf("%w: variants[%d].variant_id %q is used by another product", catalog.ErrIDTaken, i, vr.ID)
		}
	}
	return nil
}

func (v *variantOwners) record(p *catalog.Product) {
	for _, vr := range p.Variants {
		v.byID[vr.ID] = p.ID
	}
}

// PublishProduct publishes p when its variant ids are its own.
func (o stockOwner) PublishProduct(ctx context.Context, p *catalog.Product, create bool) (ingest.Written, error) {
	if err := o.checkWarehouses(p); err != nil {
		return ingest.Written{}, err
	}
	o.ids.mu.Lock()
	defer o.ids.mu.Unlock()
	if err := o.ids.check(p); err != nil {
		return ingest.Written{}, err
	}
	w, err := o.Writer.PublishProduct(ctx, p, create)
	if err == nil {
		o.ids.record(p)
	}
	return w, err
}

// CreateProducts publishes the products of ps whose variant ids are their
// own (and not another of ps's), refusing the others with ErrIDTaken.
func (o stockOwner) CreateProducts(ctx context.Context, ps []*catalog.Product) ([]ingest.Written, []error) {
	o.ids.mu.Lock()
	defer o.ids.mu.Unlock()
	out := make([]ingest.Written, len(ps))
	errs := make([]error, len(ps))
	var ok []*catalog.Product
	var at []int
	claimed := map[string]string{}
	for i, p := range ps {
		err := o.checkWarehouses(p)
		if err == nil {
			err = o.ids.check(p)
		}
		for j, vr := range p.Variants {
			if owner, dup := claimed[vr.ID]; err == nil && dup && owner != p.ID {
				err = fmt.Errorf("%w: variants[%d].variant_id %q is used by another product of the batch", catalog.ErrIDTaken, j, vr.ID)
			}
		}
		if err != nil {
			errs[i] = err
			continue
		}
		for _, vr := range p.Variants {
			claimed[vr.ID] = p.ID
		}
		ok = append(ok, p)
		at = append(at, i)
	}
	if len(ok) == 0 {
		return out, errs
	}
	w, e := o.Writer.CreateProducts(ctx, ok)
	for k, i := range at {
		out[i], errs[i] = w[k], e[k]
		if e[k] == nil {
			o.ids.record(ps[i])
		}
	}
	return out, errs
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

// checkWarehouses refuses stock in a warehouse the store does not know
// (it would "ship" from nowhere).
func (o stockOwner) checkWarehouses(p *catalog.Product) error {
	ws, err := o.store.Warehouses()
	if err != nil {
		return err
	}
	for i, v := range p.Variants {
		for w := range v.Stock {
			if _, ok := ws.Get(w); !ok {
				return fmt.Errorf("%w: variants[%d] has stock in %q", commerce.ErrUnknownWarehouse, i, w)
			}
		}
	}
	return nil
}
