package commerce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aisle/aisle/catalog"
)

var bucketWarehouses = []byte("warehouses")

// variantStockTx returns the units available per warehouse of variant, read
// inside tx.
func variantStockTx(tx kvTx, variant string) (map[string]int, error) {
	prefix := []byte(variant + "\x00")
	out := map[string]int{}
	c := tx.Bucket(bucketStock).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		st, err := decodeStock(k, v)
		if err != nil {
			return nil, err
		}
		if st.Available > 0 {
			out[st.WarehouseID] = st.Available
		}
	}
	return out, nil
}

// routeTx routes wants against the stock as tx sees it.
func routeTx(tx kvTx, ws *Warehouses, dest Point, wants []Want) ([]Line, error) {
	var err error
	lines, rerr := ws.Route(dest, wants, func(v string) map[string]int {
		m, e := variantStockTx(tx, v)
		if e != nil && err == nil {
			err = e
		}
		return m
	})
	if err != nil {
		return nil, err
	}
	return lines, rerr
}

// Available returns the units available (not reserved) per warehouse of
// variant.
func (s *Store) Available(variant string) (map[string]int, error) {
	var out map[string]int
	err := s.db.view(func(tx kvTx) error {
		var err error
		out, err = variantStockTx(tx, variant)
		return err
	})
	if errors.Is(err, ErrClosed) {
		return nil, ErrClosed
	}
	return out, err
}

// Route routes wants to dest against one consistent snapshot of the
// stock (Warehouses.Route). It reserves nothing: a checkout passes the
// lines to HardReserve, which refuses if the stock moved in between.
func (s *Store) Route(ws *Warehouses, dest Point, wants []Want) ([]Line, error) {
	var out []Line
	err := s.db.view(func(tx kvTx) error {
		var err error
		out, err = routeTx(tx, ws, dest, wants)
		return err
	})
	if errors.Is(err, ErrClosed) {
		return nil, ErrClosed
	}
	return out, err
}

// PutWarehouses stores the warehouse list (bucket "warehouses", key id,
// value JSON), replacing entries with the same id. Each must be valid.
func (s *Store) PutWarehouses(list []catalog.Warehouse) error {
	for i, w := range list {
		if err := w.Validate(); err != nil {
			return fmt.Errorf("commerce: warehouses[%d]: %w", i, err)
		}
	}
	return s.txn(func(tx kvTx) (error, error) {
		b := tx.Bucket(bucketWarehouses)
		for _, w := range list {
			v, err := json.Marshal(w)
			if err != nil {
				return nil, err
			}
			if err := b.Put([]byte(w.ID), v); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
}

// Warehouses returns the stored warehouses, ordered by id.
func (s *Store) Warehouses() (*Warehouses, error) {
	var list []catalog.Warehouse
	err := s.db.view(func(tx kvTx) error {
		return tx.Bucket(bucketWarehouses).ForEach(func(k, v []byte) error {
			var w catalog.Warehouse
			if err := json.Unmarshal(v, &w); err != nil {
				return fmt.Errorf("commerce: corrupt warehouse %q: %w", k, err)
			}
			list = append(list, w)
			return nil
		})
	})
	if errors.Is(err, ErrClosed) {
		return nil, ErrClosed
	}
	if err != nil {
		return nil, err
	}
	return NewWarehouses(list), nil
}
