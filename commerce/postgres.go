package commerce

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The PostgreSQL backend. Each bucket is a table commerce.<bucket> of
// (k bytea primary key, v bytea); the schema is the versioned files of
// migrations/, applied at Open under an advisory lock.
//
// Every read-write transaction runs at SERIALIZABLE: PostgreSQL's
// serializable snapshot isolation aborts one of two transactions whose
// reads and writes could not have run one after the other (two shoppers
// reserving the last unit, in one process or two), and the loser is run
// again from the start on a fresh snapshot. The commerce logic was
// written for bbolt's one-writer-at-a-time transactions; SERIALIZABLE
// keeps exactly that contract with concurrent writers, for every bucket
// and every range scan, without a lock per code path. Stock reservations
// therefore need neither SELECT ... FOR UPDATE nor conditional updates:
// the read of a stock cell and its write are one serializable unit.
//
// Round trips are few: BEGIN travels with the first read, writes are kept
// in the transaction and sent with COMMIT in one pipeline (or before a
// range scan, which must see them), and a key read twice is read once.

//go:embed migrations/*.sql
var migrations embed.FS

// pgLockMigrate and pgLockRelay are the advisory lock keys (one space
// for the whole database: "aisle" in ASCII, then the use).
const (
	pgLockMigrate = int64(0x616973_6c65_0001)
	pgLockRelay   = int64(0x616973_6c65_0002)
)

// pgMaxRetryTime bounds how long one transaction is retried through
// serialization failures and dropped connections.
const pgMaxRetryTime = 5 * time.Minute

// errUnknownOutcome is a commit whose answer was lost with the connection:
// the transaction may or may not have committed. It is never retried
// here (that could apply it twice) and never acknowledged as done.
var errUnknownOutcome = errors.New("commerce: postgres: connection lost during COMMIT; the transaction may or may not have committed")

type pgBackend struct {
	pool     *pgxpool.Pool
	ctx      context.Context // canceled by close
	cancel   context.CancelFunc
	retries  atomic.Int64 // transactions run again, for tests and metrics
	resolved atomic.Int64 // lost COMMIT answers whose outcome was read back
	batcher  pgBatcher

	relayMu   sync.Mutex
	relayConn *pgxpool.Conn // holds pgLockRelay while this process relays
}

// openPostgres connects to url, applies the migrations and returns the
// backend.
func openPostgres(opts Options) (*pgBackend, error) {
	cfg, err := pgxpool.ParseConfig(opts.DB)
	if err != nil {
		return nil, fmt.Errorf("commerce: bad PostgreSQL connection string: %w", err)
	}
	if opts.Pool > 0 {
		cfg.MaxConns = int32(opts.Pool)
	} else if !strings.Contains(opts.DB, "pool_max_conns") {
		cfg.MaxConns = 32
	}
	ctx, cancel := context.WithCancel(context.Background())
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("commerce: cannot connect to PostgreSQL: %w", err)
	}
	b := &pgBackend{pool: pool, ctx: ctx, cancel: cancel, batcher: newPGBatcher(opts.MaxBatch)}
	if err := b.migrate(); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// migrate applies the files of migrations/ not yet applied, in name
// order, each in its own transaction, holding an advisory lock so that
// processes starting at once apply each file once.
func (b *pgBackend) migrate() error {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Minute)
	defer cancel()
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("commerce: cannot connect to PostgreSQL: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, pgLockMigrate); err != nil {
		return fmt.Errorf("commerce: migration lock: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, pgLockMigrate)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS commerce_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("commerce: migrations table: %w", err)
	}
	files, err := migrationFiles()
	if err != nil {
		return err
	}
	var have int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM commerce_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("commerce: reading applied migrations: %w", err)
	}
	if last := files[len(files)-1].version; have > last {
		return fmt.Errorf("commerce: the database has migration %d, this binary knows up to %d: run a newer binary", have, last)
	}
	for _, f := range files {
		if f.version <= have {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, f.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO commerce_migrations (version, name) VALUES ($1, $2)`, f.version, f.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("commerce: migration %s: %w", f.name, err)
		}
	}
	return nil
}

type migration struct {
	version   int
	name, sql string
}

// migrationFiles returns the embedded migrations in version order; a
// file is NNN_what.sql.
func migrationFiles() ([]migration, error) {
	ents, err := migrations.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("commerce: migration file %q is not named NNN_what.sql", e.Name())
		}
		sql, err := migrations.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{v, e.Name(), string(sql)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("commerce: migrations are not numbered 1, 2, ...: %q is number %d", m.name, i+1)
		}
	}
	return out, nil
}

func (b *pgBackend) close() error {
	b.releaseRelay()
	b.cancel()
	b.pool.Close()
	return nil
}

func (b *pgBackend) update(fn func(kvTx) error) error { return b.run(false, fn) }

// batch runs fn with the other batch calls waiting at that moment in one
// transaction and one COMMIT (pgbatch.go).
func (b *pgBackend) batch(fn func(kvTx) error) error { return b.batcher.do(b, fn) }

func (b *pgBackend) view(fn func(kvTx) error) error { return b.run(true, fn) }

func (b *pgBackend) count(bucket []byte) (int, error) {
	var n int
	err := b.pool.QueryRow(b.ctx, `SELECT count(*) FROM `+pgTable(bucket)).Scan(&n)
	return n, b.wrap(err)
}

// run runs fn in one transaction, again on a serialization failure or a
// dropped connection met before COMMIT was sent (the server rolled it
// back), with jittered backoff, for up to pgMaxRetryTime. It returns nil
// only once COMMIT has succeeded.
func (b *pgBackend) run(readOnly bool, fn func(kvTx) error) error {
	return b.retry(func() error { return b.attempt(readOnly, fn) })
}

func (b *pgBackend) retry(attempt func() error) error {
	deadline := time.Now().Add(pgMaxRetryTime)
	backoff := time.Millisecond
	for {
		err := attempt()
		if err == nil || !retryable(err) || time.Now().After(deadline) || b.ctx.Err() != nil {
			return b.wrap(err)
		}
		b.retries.Add(1)
		time.Sleep(backoff/2 + rand.N(backoff))
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

func (b *pgBackend) wrap(err error) error {
	if err != nil && b.ctx.Err() != nil {
		return ErrClosed
	}
	return err
}

func (b *pgBackend) attempt(readOnly bool, fn func(kvTx) error) error {
	conn, err := b.pool.Acquire(b.ctx)
	if err != nil {
		return err
	}
	defer conn.Release() // a connection left inside a transaction is destroyed, not reused
	tx := &pgTx{ctx: b.ctx, b: b, conn: conn, readOnly: readOnly, buckets: map[string]*pgBucket{}}
	if err := fn(tx); err != nil {
		tx.rollback()
		if tx.err != nil {
			return tx.err // fn may have decided on a failed read
		}
		return err
	}
	if tx.err != nil {
		tx.rollback()
		return tx.err
	}
	return tx.commit()
}

// retryable tells a serialization failure, a deadlock or a lost
// connection (after which the server rolls the transaction back).
func retryable(err error) bool {
	if errors.Is(err, errUnknownOutcome) {
		return false
	}
	if errors.Is(err, errRolledBack) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01", "57P01", "57P02", "57P03":
			return true
		}
		return strings.HasPrefix(pe.Code, "08")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err) || isConnClosed(err)
}

func isConnClosed(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "connection reset"))
}

// pgTable returns the table of a bucket; bucket names are fixed lowercase
// words (storeBuckets).
func pgTable(bucket []byte) string { return "commerce." + string(bucket) }

// pgTx is one transaction on one pooled connection. BEGIN is sent with the
// first statement; writes wait in pending until a range scan or COMMIT.
type pgTx struct {
	ctx      context.Context
	b        *pgBackend
	conn     *pgxpool.Conn
	readOnly bool
	begun    bool
	wrote    bool  // writes were sent (or are queued with COMMIT)
	err      error // the first failure; the transaction will not commit
	buckets  map[string]*pgBucket
	pending  []pgWrite
	rec      *pgRecording // set while a batch's functions run to learn what they read (pgbatch.go)
}

type pgWrite struct {
	table string
	k, v  []byte // v nil: delete
}

func (t *pgTx) beginSQL() string {
	if t.readOnly {
		return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	}
	return "BEGIN ISOLATION LEVEL SERIALIZABLE"
}

func (t *pgTx) fail(err error) {
	if t.err == nil && err != nil {
		t.err = err
	}
}

// query runs one query of the transaction (BEGIN, then the pending writes,
// go in the same pipeline) and hands its rows to scan.
func (t *pgTx) query(scan func(pgx.Rows) error, sql string, args ...any) {
	if t.err != nil {
		return
	}
	batch := &pgx.Batch{}
	if !t.begun {
		batch.Queue(t.beginSQL())
	}
	t.queueWrites(batch)
	qq := batch.Queue(sql, args...)
	qq.Query(func(rows pgx.Rows) error { return scan(rows) })
	t.begun = true
	t.fail(t.conn.SendBatch(t.ctx, batch).Close())
}

func (t *pgTx) queueWrites(batch *pgx.Batch) {
	if len(t.pending) > 0 {
		t.wrote = true
	}
	for _, w := range t.pending {
		if w.v == nil {
			batch.Queue(`DELETE FROM `+w.table+` WHERE k = $1`, w.k)
		} else {
			batch.Queue(`INSERT INTO `+w.table+` (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v`, w.k, w.v)
		}
	}
	t.pending = t.pending[:0]
}

func (t *pgTx) rollback() {
	if t.begun {
		t.conn.Exec(context.Background(), "ROLLBACK")
	}
}

// commit sends the pending writes and COMMIT in one pipeline. An error
// after COMMIT may have been received by the server is errUnknownOutcome.
func (t *pgTx) commit() error {
	if !t.begun && len(t.pending) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	if !t.begun {
		batch.Queue(t.beginSQL())
	}
	t.queueWrites(batch)
	write := t.wrote
	marker := int64(rand.Uint64() >> 1)
	if write {
		batch.Queue(`INSERT INTO commerce.commits (id) VALUES ($1)`, marker)
	}
	batch.Queue("COMMIT")
	t.begun = true
	pid := t.conn.Conn().PgConn().PID()
	err := t.conn.SendBatch(t.ctx, batch).Close()
	if err == nil {
		if write && marker%4096 == 0 {
			go t.b.pool.Exec(t.b.ctx, `DELETE FROM commerce.commits WHERE at < now() - interval '10 minutes'`)
		}
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.SeverityUnlocalized == "ERROR" || pe.SeverityUnlocalized == "" && pe.Severity == "ERROR") ||
		pgconn.SafeToRetry(err) {
		// The server answered with an ERROR (the transaction is aborted:
		// a write or COMMIT failed, as a serialization failure does), or
		// nothing was sent.
		t.rollback()
		return err
	}
	// A FATAL (the session terminated, the server shutting down) may come
	// after the commit completed, and so may a lost connection.
	if !write {
		return err // nothing was written: running it again is safe
	}
	t.conn.Conn().Close(context.Background()) // never reused
	return t.b.resolve(marker, pid, err)
}

// errRolledBack is a transaction whose COMMIT answer was lost and which
// resolve found not committed, its session ended: it is run again.
var errRolledBack = errors.New("commerce: postgres: the transaction did not commit (its connection was lost); running it again")

// resolve learns the outcome of a transaction whose COMMIT answer was
// lost: on another connection it waits, up to 30 s, until the old
// session (pid) has ended, then reads the transaction's commit marker.
// It returns nil if the transaction committed, errRolledBack if it did
// not, and errUnknownOutcome if it cannot tell (the database is out of
// reach, or the old session outlives the wait, as behind a network
// partition until TCP gives up).
func (b *pgBackend) resolve(marker int64, pid uint32, cause error) error {
	unknown := fmt.Errorf("%w: %w", errUnknownOutcome, cause)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && b.ctx.Err() == nil; time.Sleep(20 * time.Millisecond) {
		var committed, alive bool
		err := b.pool.QueryRow(b.ctx, `SELECT EXISTS (SELECT 1 FROM commerce.commits WHERE id = $1),
			EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $2)`, marker, int64(pid)).Scan(&committed, &alive)
		switch {
		case err != nil:
			continue // the server may be restarting
		case committed:
			b.resolved.Add(1)
			return nil
		case !alive:
			b.resolved.Add(1)
			return fmt.Errorf("%w: %w", errRolledBack, cause)
		}
	}
	return unknown
}

func (t *pgTx) Bucket(name []byte) kvBucket {
	b := t.buckets[string(name)]
	if b == nil {
		b = &pgBucket{tx: t, name: name, table: pgTable(name), cache: map[string][]byte{}}
		t.buckets[string(name)] = b
	}
	return b
}

// pgBucket caches what the transaction read and wrote: under one snapshot
// a key read again has the same value.
type pgBucket struct {
	tx    *pgTx
	name  []byte
	table string
	cache map[string][]byte // nil value: absent
	scans map[pgScan][][2][]byte
}

func (b *pgBucket) Get(k []byte) []byte {
	if r := b.tx.rec; r != nil {
		return r.get(b, k)
	}
	if v, ok := b.cache[string(k)]; ok {
		return v
	}
	var v []byte
	b.tx.query(func(rows pgx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&v); err != nil {
				return err
			}
			if v == nil {
				v = []byte{} // present, empty
			}
		}
		return rows.Err()
	}, `SELECT v FROM `+b.table+` WHERE k = $1`, k)
	if b.tx.err != nil {
		return nil
	}
	b.cache[string(k)] = v
	return v
}

func (b *pgBucket) Put(k, v []byte) error {
	if b.tx.readOnly {
		return errors.New("commerce: write in a read-only transaction")
	}
	if len(k) == 0 {
		return errors.New("commerce: empty key")
	}
	v = append(make([]byte, 0, len(v)), v...) // not nil: present
	if r := b.tx.rec; r != nil {
		// Learning: kept aside and thrown away.
		r.put(b, k, v)
		return nil
	}
	b.cache[string(k)] = v
	b.tx.pending = append(b.tx.pending, pgWrite{b.table, slices.Clone(k), v})
	return nil
}

func (b *pgBucket) Delete(k []byte) error {
	if b.tx.readOnly {
		return errors.New("commerce: write in a read-only transaction")
	}
	if r := b.tx.rec; r != nil {
		r.put(b, k, nil)
		return nil
	}
	b.cache[string(k)] = nil
	b.tx.pending = append(b.tx.pending, pgWrite{b.table, slices.Clone(k), nil})
	return nil
}

func (b *pgBucket) NextSequence() (uint64, error) {
	if string(b.name) != string(bucketOutbox) {
		return 0, fmt.Errorf("commerce: bucket %s has no sequence", b.name)
	}
	if r := b.tx.rec; r != nil {
		r.seq++
		return r.seq, nil
	}
	var n int64
	b.tx.query(func(rows pgx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&n); err != nil {
				return err
			}
		}
		return rows.Err()
	}, `SELECT nextval('commerce.outbox_seq')`)
	if b.tx.err != nil {
		return 0, b.tx.err
	}
	return uint64(n), nil
}

func (b *pgBucket) Cursor() kvCursor { return &pgCursor{b: b} }

func (b *pgBucket) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.tx.err
}

// pgCursorChunk is how many rows a cursor reads at a time.
const pgCursorChunk = 128

// pgCursor reads a bucket in chunks of key order from the key it is on.
// Rows are read after the transaction's pending writes are sent, so a
// cursor sees the transaction's own writes.
type pgCursor struct {
	b    *pgBucket
	rows [][2][]byte
	pos  int
	desc bool // rows are in descending order
	full bool // the last read filled a chunk: more may follow
}

func (c *pgCursor) fetch(desc bool, op string, k []byte) (key, value []byte) {
	sc := pgScan{desc, op, string(k)}
	if rows, ok := c.b.scans[sc]; ok { // read ahead by the batch (pgbatch.go)
		c.rows, c.pos, c.desc = c.b.overlay(rows, sc), 0, desc
		c.full = len(rows) == pgCursorChunk
		return c.at()
	}
	if r := c.b.tx.rec; r != nil {
		r.scan(c.b, sc)
		return nil, nil
	}
	order := "ASC"
	if desc {
		order = "DESC"
	}
	where, args := "", []any{}
	if op != "" {
		where, args = " WHERE k "+op+" $1", []any{k}
	}
	c.rows, c.pos, c.desc = c.rows[:0], 0, desc
	c.b.tx.query(func(rows pgx.Rows) error {
		for rows.Next() {
			var r [2][]byte
			if err := rows.Scan(&r[0], &r[1]); err != nil {
				return err
			}
			if r[1] == nil {
				r[1] = []byte{}
			}
			c.rows = append(c.rows, r)
		}
		return rows.Err()
	}, `SELECT k, v FROM `+c.b.table+where+` ORDER BY k `+order+` LIMIT `+strconv.Itoa(pgCursorChunk), args...)
	c.full = len(c.rows) == pgCursorChunk
	return c.at()
}

func (c *pgCursor) at() (k, v []byte) {
	if c.b.tx.err != nil || c.pos < 0 || c.pos >= len(c.rows) {
		return nil, nil
	}
	return c.rows[c.pos][0], c.rows[c.pos][1]
}

func (c *pgCursor) First() ([]byte, []byte)        { return c.fetch(false, "", nil) }
func (c *pgCursor) Last() ([]byte, []byte)         { return c.fetch(true, "", nil) }
func (c *pgCursor) Seek(k []byte) ([]byte, []byte) { return c.fetch(false, ">=", slices.Clone(k)) }

func (c *pgCursor) step(desc bool) ([]byte, []byte) {
	cur, _ := c.at()
	if cur == nil {
		return nil, nil
	}
	if c.desc == desc && c.pos+1 < len(c.rows) {
		c.pos++
		return c.at()
	}
	if c.desc == desc && !c.full {
		c.pos = len(c.rows)
		return nil, nil
	}
	op := ">"
	if desc {
		op = "<"
	}
	return c.fetch(desc, op, cur)
}

func (c *pgCursor) Next() ([]byte, []byte) { return c.step(false) }
func (c *pgCursor) Prev() ([]byte, []byte) { return c.step(true) }

func (c *pgCursor) Delete() error {
	k, _ := c.at()
	if k == nil {
		return errors.New("commerce: cursor delete past the end")
	}
	return c.b.Delete(k)
}

// openPostgresStore opens the PostgreSQL backend and checks the store
// format it holds, as openBolt does for a file.
func openPostgresStore(opts Options) (backend, error) {
	b, err := openPostgres(opts)
	if err != nil {
		return nil, err
	}
	err = b.update(func(tx kvTx) error {
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(keyFormat); {
		case v == nil:
			return meta.Put(keyFormat, []byte{StoreFormat})
		case len(v) != 1 || v[0] != StoreFormat:
			return fmt.Errorf("commerce: database has store format %v, want %d", v, StoreFormat)
		}
		return nil
	})
	if err != nil {
		b.close()
		return nil, fmt.Errorf("commerce: opening the PostgreSQL store: %w", err)
	}
	return b, nil
}

// errNotRelayLeader: another process holds the relay lock.
var errNotRelayLeader = errors.New("commerce: another process relays the outbox")

// holdRelay makes this process the one that relays the outbox, holding a
// session advisory lock on a connection of its own: two relays would
// publish the same records out of order. It checks on every call that
// the lock's session is alive, and takes the lock again when it was lost
// (PostgreSQL releases it when the session ends, so a relay killed with
// -9 hands over to another process). It returns errNotRelayLeader while
// another process holds it.
func (b *pgBackend) holdRelay(ctx context.Context) error {
	b.relayMu.Lock()
	defer b.relayMu.Unlock()
	if b.ctx.Err() != nil {
		return ErrClosed
	}
	if b.relayConn != nil {
		if _, err := b.relayConn.Exec(ctx, "SELECT 1"); err == nil {
			return nil
		}
		b.relayConn.Conn().Close(context.Background())
		b.relayConn.Release()
		b.relayConn = nil
	}
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, pgLockRelay).Scan(&got); err != nil {
		conn.Release()
		return err
	}
	if !got {
		conn.Release()
		return errNotRelayLeader
	}
	b.relayConn = conn
	return nil
}

// releaseRelay gives the relay lock up.
func (b *pgBackend) releaseRelay() {
	b.relayMu.Lock()
	defer b.relayMu.Unlock()
	if b.relayConn != nil {
		b.relayConn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, pgLockRelay)
		b.relayConn.Release()
		b.relayConn = nil
	}
}
