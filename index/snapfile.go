package index

import (
	"errors"

	"github.com/aisle/aisle/catalog"
)

// AppendSnapshot appends the shard's current contents (its published
// snapshot: segments and their deletions) to dst. byRef(p) reports whether
// the caller can hand p back on load by its id; such docs are written as
// their id only, others in full with catalog.AppendProduct.
func (s *Shard) AppendSnapshot(dst []byte, byRef func(*catalog.Product) bool) []byte {
	return dst // TODO: in progress
}

// LoadSnapshot replaces the shard's contents with a snapshot made by
// AppendSnapshot (of a shard with the same options); resolve returns the
// product of a by-reference doc. It publishes the loaded snapshot atomically.
func (s *Shard) LoadSnapshot(b []byte, resolve func(id string) (*catalog.Product, bool)) error {
	return errors.New("index: snapshot loading is not implemented yet")
}
