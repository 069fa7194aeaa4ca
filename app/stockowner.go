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
// 2): a product may use a variant id that no other product holds. Holding
// an id: the live index's product with it, a product this process
// published with it (until a restart), or the product named by the id's
// stock cells in the commerce store, which is the durable record: cells
// outlive a product's delete, so a deleted product's variant ids stay its
// own, across restarts (reusing one would give the new product the old
// product's cells, which ChangeStock refuses, and its leftover units).
// Checks and publishes are serialised by mu, so two sellers racing for one
// id get one 201 and one 409.
type variantOwners struct {
	mu    sync.Mutex
	live  server.VariantFinder
	cells func(ids []string) (map[string]string, error) // commerce.Store.VariantProducts
	byID  map[string]string                             // variant id -> product id published with it
}

func newVariantOwners(live server.VariantFinder, cells func([]string) (map[string]string, error)) *variantOwners {
	return &variantOwners{live: live, cells: cells, byID: map[string]string{}}
}

// check returns catalog.ErrIDTaken, naming the variant, when another
// product holds one of p's variant ids; held is what cells returned for
// the ids (heldBy). Called with mu held.
func (v *variantOwners) check(p *catalog.Product, held map[string]string) error {
	for i, vr := range p.Variants {
		owner, ok := v.owner(vr.ID)
		if !ok {
			owner, ok = held[vr.ID]
		}
		if ok && owner != p.ID {
			return fmt.Errorf("%w: variants[%d].variant_id %q is used by another product", catalog.ErrIDTaken, i, vr.ID)
		}
	}
	return nil
}

// owner returns the product holding id by this process's record or the
// live index.
func (v *variantOwners) owner(id string) (string, bool) {
	if owner, ok := v.byID[id]; ok {
		return owner, true
	}
	if q, live := v.live.ProductOfVariant(id); live {
		return q.ID, true
	}
	return "", false
}

// heldBy reads from the store's cells, in one transaction, the products
// holding the variant ids of ps that neither this process nor the live
// index places.
func (v *variantOwners) heldBy(ps ...*catalog.Product) (map[string]string, error) {
	var ids []string
	for _, p := range ps {
		for _, vr := range p.Variants {
			if _, ok := v.owner(vr.ID); !ok {
				ids = append(ids, vr.ID)
			}
		}
	}
	if len(ids) == 0 || v.cells == nil {
		return nil, nil
	}
	return v.cells(ids)
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
	held, err := o.ids.heldBy(p)
	if err != nil {
		return ingest.Written{}, err
	}
	if err := o.ids.check(p, held); err != nil {
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
	held, herr := o.ids.heldBy(ps...)
	for i, p := range ps {
		err := herr
		if err == nil {
			err = o.checkWarehouses(p)
		}
		if err == nil {
			err = o.ids.check(p, held)
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
