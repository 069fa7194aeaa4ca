package search

import (
	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/index"
)

// Apply upserts ps and deletes the ids in del, each shard's part as one
// atomic change. It is the ingest Sink: its products were validated when
// their events were decoded, so Apply does not validate them again. The
// engine keeps the pointers.
func (e *Engine) Apply(ps []*catalog.Product, del []string) error {
	n := len(e.shards)
	by := make([][]*catalog.Product, n)
	for _, p := range ps {
		i := index.Partition(p.ID, n)
		by[i] = append(by[i], p)
	}
	dels := make([][]string, n)
	for _, id := range del {
		i := index.Partition(id, n)
		dels[i] = append(dels[i], id)
	}
	e.apply(by, dels)
	e.spellChanged()
	return nil
}
