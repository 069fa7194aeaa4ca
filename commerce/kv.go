package commerce

import (
	"errors"

	bolt "go.etcd.io/bbolt"
)

// The commerce logic speaks to its store through a small transactional
// key-value interface shaped like bbolt's: named buckets of sorted keys,
// read and written inside one transaction. Two backends implement it:
// bbolt (the embedded default, one file per process) and PostgreSQL (one
// table per bucket, SERIALIZABLE transactions retried on conflicts, for
// several processes sharing one database; postgres.go).
//
// The interface keeps bbolt's shape on purpose: Get returns no error. A
// backend whose reads can fail (a dropped connection) records the first
// error in the transaction, answers nil from then on, and fails the
// transaction at commit, so no decision taken on a failed read is ever
// committed or acknowledged.

// kvTx is one transaction. Every bucket named in storeBuckets exists.
type kvTx interface {
	Bucket(name []byte) kvBucket
}

// kvBucket is one bucket of a transaction. A slice returned by Get or a
// cursor is valid until the transaction ends and must not be modified.
type kvBucket interface {
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
	// NextSequence returns a new integer for the bucket, increasing in
	// commit order among transactions that write a common key.
	NextSequence() (uint64, error)
	Cursor() kvCursor
	ForEach(fn func(k, v []byte) error) error
}

// kvCursor walks a bucket in key order; a nil key means past the end.
type kvCursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	Seek(key []byte) (k, v []byte)
	Next() (k, v []byte)
	Prev() (k, v []byte)
	// Delete deletes the key the cursor is on.
	Delete() error
}

// backend is a store's database.
type backend interface {
	// update runs fn in one read-write transaction and returns after the
	// commit is durable. fn may run more than once.
	update(fn func(kvTx) error) error
	// batch is update sharing the transaction and its commit with
	// concurrent callers where the backend can (group commit).
	batch(fn func(kvTx) error) error
	// view runs fn in one read-only transaction.
	view(fn func(kvTx) error) error
	// count returns the number of keys of a bucket.
	count(bucket []byte) (int, error)
	close() error
}

// boltBackend is the embedded bbolt file.
type boltBackend struct{ db *bolt.DB }

func (b boltBackend) update(fn func(kvTx) error) error {
	return boltErr(b.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) }))
}

func (b boltBackend) batch(fn func(kvTx) error) error {
	return boltErr(b.db.Batch(func(tx *bolt.Tx) error { return fn(boltTx{tx}) }))
}

func (b boltBackend) view(fn func(kvTx) error) error {
	return boltErr(b.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) }))
}

func (b boltBackend) count(bucket []byte) (int, error) {
	n := 0
	err := b.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucket).Stats().KeyN
		return nil
	})
	return n, boltErr(err)
}

func (b boltBackend) close() error { return b.db.Close() }

func boltErr(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

type boltTx struct{ tx *bolt.Tx }

func (t boltTx) Bucket(name []byte) kvBucket { return boltBucket{t.tx.Bucket(name)} }

type boltBucket struct{ b *bolt.Bucket }

func (b boltBucket) Get(k []byte) []byte                      { return b.b.Get(k) }
func (b boltBucket) Put(k, v []byte) error                    { return b.b.Put(k, v) }
func (b boltBucket) Delete(k []byte) error                    { return b.b.Delete(k) }
func (b boltBucket) NextSequence() (uint64, error)            { return b.b.NextSequence() }
func (b boltBucket) Cursor() kvCursor                         { return b.b.Cursor() }
func (b boltBucket) ForEach(fn func(k, v []byte) error) error { return b.b.ForEach(fn) }

// setFillPercent tells bbolt that keys are mostly appended in order.
func (b boltBucket) setFillPercent(f float64) { b.b.FillPercent = f }
