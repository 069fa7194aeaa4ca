package commerce

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/aisle/aisle/catalog"
)

// Errors of stock changes that callers branch on.
var (
	// ErrOtherProduct is a stock change naming a product that does not
	// own the cell's variant.
	ErrOtherProduct = errors.New("commerce: the variant belongs to another product")
	// ErrUnknownWarehouse is a stock change in a warehouse the store
	// does not know.
	ErrUnknownWarehouse = errors.New("commerce: no such warehouse")
)

// Replica returns the store's replica name, which the events it
// publishes carry.
func (s *Store) Replica() string { return s.opts.Replica }

// MaxUnits bounds the units of one stock cell (catalog.MaxUnits).
const MaxUnits = catalog.MaxUnits

// ChangeStock is the seller's change of a cell, through the cell's one
// writer: the store assigns the next version, in the same transaction as
// the holds, reservations and deductions that change the cell, and
// enqueues the inventory event to the outbox, so a seller's change can
// never carry a version that a hold already used (the index and AdoptStock
// would drop it as not newer). change turns the units available now into
// the new units, or refuses (its error is returned as is, nothing
// written). A cell the store does not hold yet (a product created after
// the last seed) starts from listed, the units the catalog lists for it.
// A cell that belongs to another product is refused with ErrOtherProduct.
func (s *Store) ChangeStock(productID, variant, warehouse string, listed int, change func(available int) (int, error)) (Stock, error) {
	if productID == "" || variant == "" || warehouse == "" || strings.IndexByte(variant, 0) >= 0 || strings.IndexByte(warehouse, 0) >= 0 {
		return Stock{}, fmt.Errorf("%w: change of %q in %q of product %q", ErrLine, variant, warehouse, productID)
	}
	var out Stock
	err := s.txn(func(tx kvTx) (error, error) {
		st, ok, err := getStock(tx, variant, warehouse)
		if err != nil {
			return nil, err
		}
		if ok && st.ProductID != "" && st.ProductID != productID {
			return fmt.Errorf("%w: %q is %q's", ErrOtherProduct, variant, st.ProductID), nil
		}
		if !ok {
			st.Available = listed
		}
		n, refusal := change(st.Available)
		if refusal != nil {
			return refusal, nil
		}
		if n < 0 || n > MaxUnits || st.Reserved > MaxUnits {
			return fmt.Errorf("%w: %d units; a cell holds 0 to %d", ErrLine, n, MaxUnits), nil
		}
		st.ProductID, st.Available = productID, n
		out = st
		return nil, putStock(tx, &out)
	})
	if err != nil {
		return Stock{}, err
	}
	return out, nil
}

// VariantProducts returns, for each of ids that has a stock cell, the
// product its cells belong to: the durable record of which product holds
// a variant id (cells outlive a product's delete, so its ids stay its
// own). An id without cells, or whose cells name no product, is absent.
func (s *Store) VariantProducts(ids []string) (map[string]string, error) {
	out := map[string]string{}
	err := s.db.view(func(tx kvTx) error {
		c := tx.Bucket(bucketStock).Cursor()
		for _, id := range ids {
			if id == "" || strings.IndexByte(id, 0) >= 0 {
				continue
			}
			prefix := []byte(id + "\x00")
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				if st, err := decodeStock(k, v); err == nil && st.ProductID != "" {
					out[id] = st.ProductID
					break
				}
			}
		}
		return nil
	})
	if errors.Is(err, ErrClosed) {
		return nil, ErrClosed
	}
	if err != nil {
		return nil, fmt.Errorf("commerce: reading the products of %d variants: %w", len(ids), err)
	}
	return out, nil
}
