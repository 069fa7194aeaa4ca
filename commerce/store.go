package commerce

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// StoreFormat is the version of the store's layout (doc/commerce.md).
//
// Changelog:
//
//	1: buckets meta, carts, stock, resv, expiry.
//	2: adds outbox, checkout, idem, orders, routed, shipments, warehouses,
//	   purchases, reviews, votes, ratings. A format 1 store is upgraded in
//	   place by creating them (the change is additive).
const StoreFormat = 2

var (
	bucketMeta   = []byte("meta")
	bucketCarts  = []byte("carts")
	bucketStock  = []byte("stock")
	bucketResv   = []byte("resv")
	bucketExpiry = []byte("expiry")
	keyFormat    = []byte("format")

	// storeBuckets are created by Open. Each service names its own here.
	storeBuckets = [][]byte{
		bucketMeta, bucketCarts, bucketStock, bucketResv, bucketExpiry, bucketOutbox,
		[]byte("checkout"), []byte("idem"), []byte("orders"), []byte("routed"), []byte("shipments"),
		[]byte("warehouses"), []byte("purchases"), []byte("reviews"), []byte("votes"), []byte("ratings"),
		// Created on first use before the store interface; now by Open.
		[]byte("picklists"), []byte("carrier"), []byte("userorders"),
	}
)

// ErrClosed is returned by a Store after Close.
var ErrClosed = errors.New("commerce: store closed")

// errRefused rolls back a transaction whose function refused.
var errRefused = errors.New("commerce: refused")

// Options configure a Store.
type Options struct {
	// Path is the bbolt file; created if missing. Set Path or DB.
	Path string
	// DB is a PostgreSQL connection string (postgres://user@host:port/db)
	// for a store shared by several processes (postgres.go). Set Path or
	// DB.
	DB string
	// Pool is the most PostgreSQL connections; default 32, or the
	// connection string's pool_max_conns.
	Pool int
	// Replica names this process in carts' causal dots; unique per replica.
	Replica string
	// GroupCommit shares one transaction and one fsync among concurrent
	// writes (bbolt's Batch, up to MaxBatch writes or BatchDelay).
	GroupCommit bool
	BatchDelay  time.Duration // default 2ms
	MaxBatch    int           // default 1000
	// SoftTTL is how long a soft reservation holds stock; default 15m.
	SoftTTL time.Duration
	// MaxHoldPerLine bounds the units a cart line soft-holds, so carts
	// cannot hoard a product (two guest carts once held all 150 units of
	// one for 15 minutes, renewed by any cart write): a line of more
	// units holds this many and its checkout reserves the rest at
	// confirm. Default 10; negative: no bound.
	MaxHoldPerLine int
	// MaxHoldPerCart bounds the units one cart soft-holds over all its
	// lines (held in cart order; later lines hold what is left). Default
	// 30; negative: no bound.
	MaxHoldPerCart int
	// SoftHoldKeep is the share of a cell's units (available and
	// reserved) that soft holds leave available: a cart line holds a
	// cell's units only down to it. Holds alone then never show a product
	// sold out, and however many carts (guests are free to mint) hold a
	// product, checkouts reach at least this share of it. Default 0.5;
	// negative: none.
	SoftHoldKeep float64
	// Now is the clock for expiries; default time.Now.
	Now func() time.Time
}

// EnsureDefaults fills unset fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.BatchDelay == 0 {
		o.BatchDelay = 2 * time.Millisecond
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 1000
	}
	if o.SoftTTL == 0 {
		o.SoftTTL = 15 * time.Minute
	}
	if o.MaxHoldPerLine == 0 {
		o.MaxHoldPerLine = 10
	}
	if o.MaxHoldPerCart == 0 {
		o.MaxHoldPerCart = 30
	}
	if o.SoftHoldKeep == 0 {
		o.SoftHoldKeep = 0.5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate lists every problem with o.
func (o *Options) Validate() error {
	var errs []error
	if (o.Path == "") == (o.DB == "") {
		errs = append(errs, fmt.Errorf("commerce: set one of Options.Path (bbolt) and Options.DB (PostgreSQL); Path %q, DB %q", o.Path, o.DB))
	}
	if o.Replica == "" {
		errs = append(errs, errors.New("commerce: Options.Replica is empty"))
	}
	if o.BatchDelay < 0 || o.MaxBatch < 0 || o.SoftTTL < 0 || o.Pool < 0 {
		errs = append(errs, fmt.Errorf("commerce: negative option: BatchDelay %v, MaxBatch %d, SoftTTL %v, Pool %d", o.BatchDelay, o.MaxBatch, o.SoftTTL, o.Pool))
	}
	if o.SoftHoldKeep > 1 {
		errs = append(errs, fmt.Errorf("commerce: Options.SoftHoldKeep is %v; want a share of at most 1", o.SoftHoldKeep))
	}
	return errors.Join(errs...)
}

// Store keeps carts and inventory in one bbolt file. Every write is
// fsynced before it returns. Safe for concurrent use.
type Store struct {
	db   backend
	opts Options
	wake chan struct{} // see Relay in outbox.go
	// fault, set only by tests, injects a store error before a commit
	// (the transaction rolls back) or after it (the answer is lost).
	fault func(afterCommit bool) error
}

// Open opens or creates the store at opts.Path.
func Open(opts Options) (*Store, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var db backend
	var err error
	if opts.DB != "" {
		db, err = openPostgresStore(opts)
	} else {
		db, err = openBolt(opts)
	}
	if err != nil {
		return nil, err
	}
	return &Store{db: db, opts: opts, wake: make(chan struct{}, 1)}, nil
}

// openBolt opens or creates the bbolt file at opts.Path with every bucket
// of storeBuckets.
func openBolt(opts Options) (backend, error) {
	db, err := bolt.Open(opts.Path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("commerce: cannot open store %q: %w", opts.Path, err)
	}
	db.MaxBatchDelay, db.MaxBatchSize = opts.BatchDelay, opts.MaxBatch
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range storeBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(keyFormat); {
		case v == nil || len(v) == 1 && v[0] == 1:
			return meta.Put(keyFormat, []byte{StoreFormat})
		case len(v) != 1 || v[0] != StoreFormat:
			return fmt.Errorf("commerce: store %q has format %v, want %d", opts.Path, v, StoreFormat)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return boltBackend{db}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.close() }

// txn runs fn in one read-write transaction and returns after the commit
// is fsynced. fn returns a refusal (out of stock, a state conflict)
// before writing anything, so that with group commit it does not fail
// the writes sharing its transaction; a refusal commits nothing of fn's.
// With group commit fn may run more than once and must not have effects
// outside tx.
func (s *Store) txn(fn func(tx kvTx) (refusal error, err error)) error {
	var refusal error
	var err error
	if s.opts.GroupCommit {
		err = s.db.batch(func(tx kvTx) error {
			var err error
			if refusal, err = fn(tx); err == nil && s.fault != nil {
				err = s.fault(false)
			}
			return err
		})
	} else {
		// Alone in its transaction, a refusal rolls back and costs no fsync.
		err = s.db.update(func(tx kvTx) error {
			var err error
			if refusal, err = fn(tx); err == nil && refusal != nil {
				return errRefused
			}
			if err == nil && s.fault != nil {
				err = s.fault(false)
			}
			return err
		})
		if err == errRefused {
			err = nil
		}
	}
	if err == nil {
		s.notify()
		if s.fault != nil {
			err = s.fault(true)
		}
	}
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return ErrClosed
		}
		return fmt.Errorf("commerce: transaction: %w", err)
	}
	return refusal
}

func (s *Store) getCart(tx kvTx, userID string) (*Cart, error) {
	b := tx.Bucket(bucketCarts).Get([]byte(userID))
	if b == nil {
		return NewCart(s.opts.Replica), nil
	}
	c, err := DecodeCart(b, s.opts.Replica)
	if err != nil {
		return nil, fmt.Errorf("cart of %q: %w", userID, err)
	}
	return c, nil
}

func putCart(tx kvTx, userID string, c *Cart) error {
	return tx.Bucket(bucketCarts).Put([]byte(userID), c.Encode())
}

// Load returns the cart of userID; an empty cart when there is none.
func (s *Store) Load(userID string) (*Cart, error) {
	var c *Cart
	err := s.db.view(func(tx kvTx) error {
		var err error
		c, err = s.getCart(tx, userID)
		return err
	})
	if errors.Is(err, ErrClosed) {
		return nil, ErrClosed
	}
	return c, err
}

// Update runs fn on the cart of userID inside one transaction and stores
// the result; it returns the stored cart once the write is fsynced. An
// error from fn stores nothing and is returned. fn may run more than
// once with group commit, each time on a freshly loaded cart.
func (s *Store) Update(userID string, fn func(*Cart) error) (*Cart, error) {
	var out *Cart
	err := s.txn(func(tx kvTx) (error, error) {
		c, err := s.getCart(tx, userID)
		if err != nil {
			return nil, err
		}
		if err := fn(c); err != nil {
			return err, nil
		}
		out = c
		return nil, putCart(tx, userID, c)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Merge joins a replica's copy of userID's cart into the stored one.
func (s *Store) Merge(userID string, remote *Cart) (*Cart, error) {
	if err := remote.Validate(); err != nil {
		return nil, err
	}
	return s.Update(userID, func(c *Cart) error { c.Merge(remote); return nil })
}
