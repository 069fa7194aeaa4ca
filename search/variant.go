package search

import (
	"hash/maphash"
	"sync"

	"github.com/aisle/aisle/catalog"
)

// variantIndex maps a variant id to the id of the product that holds it,
// for the services that name variants (a cart line, an inventory change).
// It is kept by apply, so Upsert, Delete and Apply keep it current. It is
// sharded by variant id, each shard behind its own mutex. An entry may
// outlive its variant (a product replaced without it); ProductOfVariant
// checks the live product, so such an entry answers not found.
type variantIndex struct {
	once   sync.Once
	seed   maphash.Seed
	shards [16]variantShard
}

type variantShard struct {
	mu sync.RWMutex
	m  map[string]string // variant id -> product id
}

func (x *variantIndex) shard(variantID string) *variantShard {
	x.once.Do(x.init)
	return &x.shards[maphash.String(x.seed, variantID)%uint64(len(x.shards))]
}

func (x *variantIndex) init() {
	x.seed = maphash.MakeSeed()
	for i := range x.shards {
		x.shards[i].m = map[string]string{}
	}
}

// update records the variants of the upserted products and forgets those
// of the deleted ones, as long as no other product claimed them since.
// It runs before the shards apply the change, so old reads the products
// being replaced or deleted.
func (x *variantIndex) update(ps [][]*catalog.Product, del [][]string, old func(id string) (*catalog.Product, bool)) {
	forget := func(p *catalog.Product) {
		for i := range p.Variants {
			sh := x.shard(p.Variants[i].ID)
			sh.mu.Lock()
			if sh.m[p.Variants[i].ID] == p.ID {
				delete(sh.m, p.Variants[i].ID)
			}
			sh.mu.Unlock()
		}
	}
	for _, ids := range del {
		for _, id := range ids {
			if p, ok := old(id); ok && p != nil {
				forget(p)
			}
		}
	}
	for _, part := range ps {
		for _, p := range part {
			if q, ok := old(p.ID); ok && q != nil {
				forget(q)
			}
			for i := range p.Variants {
				sh := x.shard(p.Variants[i].ID)
				sh.mu.Lock()
				sh.m[p.Variants[i].ID] = p.ID
				sh.mu.Unlock()
			}
		}
	}
}

// ProductOfVariant returns the live product holding the variant, and
// whether there is one. The product must not be modified.
func (e *Engine) ProductOfVariant(variantID string) (*catalog.Product, bool) {
	sh := e.variants.shard(variantID)
	sh.mu.RLock()
	id, ok := sh.m[variantID]
	sh.mu.RUnlock()
	if !ok {
		return nil, false
	}
	p, ok := e.Product(id)
	if !ok || p == nil || VariantOf(p, variantID) == nil {
		return nil, false
	}
	return p, true
}

// VariantOf returns the variant of p with id, or nil.
func VariantOf(p *catalog.Product, variantID string) *catalog.Variant {
	for i := range p.Variants {
		if p.Variants[i].ID == variantID {
			return &p.Variants[i]
		}
	}
	return nil
}
