package corpora

import (
	"fmt"
	"sync"

	"github.com/aisle/aisle/catalog"
)

// DefaultStore returns the products of Icecat, BigBasket and Instacart
// concatenated in that order: the catalog Aisle serves when no other is
// given. The three sets are decoded concurrently.
func DefaultStore() ([]*catalog.Product, error) {
	loaders := [...]struct {
		name string
		load func() ([]*catalog.Product, error)
	}{
		{"icecat", Icecat},
		{"bigbasket", BigBasket},
		{"instacart", Instacart},
	}
	var (
		wg   sync.WaitGroup
		sets [len(loaders)][]*catalog.Product
		errs [len(loaders)]error
	)
	for i, l := range loaders {
		wg.Go(func() {
			sets[i], errs[i] = l.load()
		})
	}
	wg.Wait()
	n := 0
	for i := range sets {
		if errs[i] != nil {
			return nil, fmt.Errorf("corpora: loading %s: %w", loaders[i].name, errs[i])
		}
		n += len(sets[i])
	}
	out := make([]*catalog.Product, 0, n)
	for _, s := range sets {
		out = append(out, s...)
	}
	return out, nil
}
