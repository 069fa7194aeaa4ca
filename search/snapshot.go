package search

import (
	"fmt"

	"github.com/aisle/aisle/catalog"
)

// CaptureShard returns a writer of shard p's index as it is now, in the
// index snapshot format (index.View.AppendSnapshot), which may run beside
// searches and later Applies; its byRef argument reports the products the
// caller can hand back by id on load. With Apply and LoadShard it makes
// the engine an ingest.SnapshotSink.
func (e *Engine) CaptureShard(p int) func(dst []byte, byRef func(*catalog.Product) bool) []byte {
	return e.shards[p].View().AppendSnapshot
}

// LoadShard replaces shard p's index with one CaptureShard's writer wrote (by an
// engine with the same shard count and options); resolve returns the
// products written by reference. The variant lookup learns the loaded
// products, and the spelling data is rebuilt as after an Apply.
func (e *Engine) LoadShard(p int, b []byte, resolve func(id string) (*catalog.Product, bool)) error {
	if p < 0 || p >= len(e.shards) {
		return fmt.Errorf("search: shard %d of %d", p, len(e.shards))
	}
	sh := e.shards[p]
	if err := sh.LoadSnapshot(b, resolve); err != nil {
		return fmt.Errorf("search: shard %d: %w", p, err)
	}
	ps := make([][]*catalog.Product, len(e.shards))
	sh.Each(func(q *catalog.Product) bool {
		ps[p] = append(ps[p], q)
		return true
	})
	none := func(string) (*catalog.Product, bool) { return nil, false }
	e.variants.update(ps, nil, none)
	e.gen.Add(1)
	e.spellChanged()
	return nil
}
