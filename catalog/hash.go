package catalog

import (
	"crypto/sha256"
	"time"
)

// ContentHash returns a hash of what p says, leaving out its version and
// timestamps, so two imports of the same product hash alike. It hashes the
// binary encoding (AppendProduct), whose maps are in key order: a change
// of that format changes the hashes, and a re-import then republishes
// every product once. scratch is reused for the encoding when large enough and returned.
func ContentHash(p *Product, scratch []byte) (hash [16]byte, buf []byte) {
	q := *p
	q.Version = 0
	q.CreatedAt, q.UpdatedAt = time.Time{}, time.Time{}
	buf = AppendProduct(scratch[:0], &q)
	sum := sha256.Sum256(buf)
	copy(hash[:], sum[:16])
	return hash, buf
}
