package commerce

import (
	"bytes"
	"errors"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// Group commit on PostgreSQL. Callers of batch queue their functions; one
// of them leads: it takes every function queued (up to MaxBatch), runs
// them one after the other in one SERIALIZABLE transaction, each seeing
// the writes of those before it, and sends one COMMIT for all. At most one
// batch is in flight per process, so a process's batches never conflict
// with each other; the next batch gathers while one commits. A hot stock
// cell is then written once per batch instead of once per shopper, and a
// serialization failure (against another process) runs the whole batch
// again. As with bbolt's Batch, a function that fails is taken out and run
// alone, so its error is its own.

type pgCall struct {
	fn   func(kvTx) error
	done chan error
}

type pgBatcher struct {
	max    int
	queue  chan *pgCall  // waiting calls
	leader chan struct{} // one slot: the batch in flight
}

func newPGBatcher(max int) pgBatcher {
	if max <= 0 {
		max = 1000
	}
	return pgBatcher{max: max, queue: make(chan *pgCall, 4*max), leader: make(chan struct{}, 1)}
}

func (q *pgBatcher) do(b *pgBackend, fn func(kvTx) error) error {
	c := &pgCall{fn: fn, done: make(chan error, 1)}
	select {
	case q.queue <- c:
	default:
		return b.run(false, fn) // the queue is full: run alone
	}
	for {
		select {
		case err := <-c.done:
			return err
		case q.leader <- struct{}{}:
			select {
			case err := <-c.done: // a leader before took it
				<-q.leader
				return err
			default:
			}
			q.lead(b)
			<-q.leader
		}
	}
}

// lead runs the queued calls as one batch and answers each.
func (q *pgBatcher) lead(b *pgBackend) {
	var calls []*pgCall
	for len(calls) < q.max {
		select {
		case c := <-q.queue:
			calls = append(calls, c)
			continue
		default:
		}
		break
	}
	for len(calls) > 0 {
		failed := -1
		err := b.retry(func() error {
			failed = -1
			conn, err := b.pool.Acquire(b.ctx)
			if err != nil {
				return err
			}
			defer conn.Release()
			tx := &pgTx{ctx: b.ctx, b: b, conn: conn, buckets: map[string]*pgBucket{}}
			if len(calls) > 1 {
				tx.learn(calls)
			}
			for i, c := range calls {
				if err := c.fn(tx); err != nil || tx.err != nil {
					tx.rollback()
					if tx.err != nil {
						return tx.err
					}
					failed = i
					return errBatchCall
				}
			}
			return tx.commit()
		})
		if errors.Is(err, errBatchCall) {
			// Run the failing call alone for its own answer; the rest again.
			c := calls[failed]
			c.done <- b.run(false, c.fn)
			calls = append(calls[:failed], calls[failed+1:]...)
			continue
		}
		for _, c := range calls {
			c.done <- err
		}
		return
	}
}

var errBatchCall = errors.New("commerce: a call of the batch failed")

// pgRecording learns which keys a batch's functions read before they run
// for real. Every function of a batch may run more than once and has no
// effect outside its transaction, so the leader first runs them all
// against what the transaction has cached, writes kept aside and
// thrown away, a missing key answered as absent and noted; it reads all
// the noted keys in one round trip (one query per bucket, WHERE k =
// ANY), and runs them again to learn the keys that depend on those
// values, up to pgLearnRounds times. The real run then finds nearly
// every key in the cache: a batch of hundreds of checkouts costs a few
// round trips instead of several per checkout. Scans are not learned.
type pgRecording struct {
	misses  map[string]map[string]bool   // bucket -> keys to read
	scratch map[string]map[string][]byte // bucket -> this round's writes (nil value: deleted)
	scans   map[string]map[pgScan]bool   // bucket -> cursor reads to read ahead
	seq     uint64
}

const pgLearnRounds = 3

func (r *pgRecording) get(b *pgBucket, k []byte) []byte {
	if v, ok := r.scratch[string(b.name)][string(k)]; ok {
		return v
	}
	if v, ok := b.cache[string(k)]; ok {
		return v
	}
	m := r.misses[string(b.name)]
	if m == nil {
		m = map[string]bool{}
		r.misses[string(b.name)] = m
	}
	m[string(k)] = true
	return nil
}

func (r *pgRecording) put(b *pgBucket, k, v []byte) {
	m := r.scratch[string(b.name)]
	if m == nil {
		m = map[string][]byte{}
		r.scratch[string(b.name)] = m
	}
	m[string(k)] = v
}

// learn runs calls in recording mode and reads what they missed into the
// transaction's cache, round after round.
func (t *pgTx) learn(calls []*pgCall) {
	for range pgLearnRounds {
		t.rec = &pgRecording{misses: map[string]map[string]bool{}, scratch: map[string]map[string][]byte{}}
		for _, c := range calls {
			c.fn(t) // its answer is thrown away with its writes
		}
		misses, scans := t.rec.misses, t.rec.scans
		t.rec = nil
		if len(misses) == 0 && len(scans) == 0 || t.err != nil {
			return
		}
		t.prefetch(misses, scans)
	}
}

// prefetch reads the keys of misses into the buckets' caches, absent keys
// as nil, in one pipeline.
func (t *pgTx) prefetch(misses map[string]map[string]bool, scans map[string]map[pgScan]bool) {
	batch := &pgx.Batch{}
	if !t.begun {
		batch.Queue(t.beginSQL())
	}
	t.queueWrites(batch)
	for name, keys := range misses {
		b := t.Bucket([]byte(name)).(*pgBucket)
		ks := make([][]byte, 0, len(keys))
		for k := range keys {
			ks = append(ks, []byte(k))
			b.cache[k] = nil // absent unless a row says otherwise
		}
		batch.Queue(`SELECT k, v FROM `+b.table+` WHERE k = ANY($1)`, ks).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var k, v []byte
				if err := rows.Scan(&k, &v); err != nil {
					return err
				}
				if v == nil {
					v = []byte{}
				}
				b.cache[string(k)] = v
			}
			return rows.Err()
		})
	}
	for name, set := range scans {
		b := t.Bucket([]byte(name)).(*pgBucket)
		if b.scans == nil {
			b.scans = map[pgScan][][2][]byte{}
		}
		for sc := range set {
			order, where, args := "ASC", "", []any{}
			if sc.desc {
				order = "DESC"
			}
			if sc.op != "" {
				where, args = " WHERE k "+sc.op+" $1", []any{[]byte(sc.key)}
			}
			batch.Queue(`SELECT k, v FROM `+b.table+where+` ORDER BY k `+order+` LIMIT `+strconv.Itoa(pgCursorChunk), args...).Query(func(rows pgx.Rows) error {
				var out [][2][]byte
				for rows.Next() {
					var r [2][]byte
					if err := rows.Scan(&r[0], &r[1]); err != nil {
						return err
					}
					if r[1] == nil {
						r[1] = []byte{}
					}
					out = append(out, r)
				}
				b.scans[sc] = out
				return rows.Err()
			})
		}
	}
	t.begun = true
	t.fail(t.conn.SendBatch(t.ctx, batch).Close())
	if t.err != nil {
		for name, keys := range misses { // nothing learned is trusted
			for k := range keys {
				delete(t.buckets[name].cache, k)
			}
		}
		for name := range scans {
			t.buckets[name].scans = nil
		}
	}
}

// pgScan is a cursor's read: from key (op ">=", ">" or "<"; "" from the
// first or last key) in one direction.
type pgScan struct {
	desc    bool
	op, key string
}

func (r *pgRecording) scan(b *pgBucket, sc pgScan) {
	if r.scans == nil {
		r.scans = map[string]map[pgScan]bool{}
	}
	m := r.scans[string(b.name)]
	if m == nil {
		m = map[pgScan]bool{}
		r.scans[string(b.name)] = m
	}
	m[sc] = true
}

// overlay returns rows, a chunk read ahead for sc, as the transaction sees
// them now: the keys it wrote since (all in the cache, as are keys it read,
// which hold the same values) put in or taken out, within the range the
// chunk covers, in the scan's order.
func (b *pgBucket) overlay(rows [][2][]byte, sc pgScan) [][2][]byte {
	full := len(rows) == pgCursorChunk
	var bound string
	if full {
		bound = string(rows[len(rows)-1][0])
	}
	in := func(k string) bool {
		switch {
		case sc.op == ">=" && k < sc.key, sc.op == ">" && k <= sc.key, sc.op == "<" && k >= sc.key:
			return false
		case full && !sc.desc && k > bound, full && sc.desc && k < bound:
			return false
		}
		return true
	}
	m := make(map[string][]byte, len(rows))
	for _, r := range rows {
		m[string(r[0])] = r[1]
	}
	apply := func(src map[string][]byte) {
		for k, v := range src {
			if !in(k) {
				continue
			}
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
	}
	apply(b.cache)
	if r := b.tx.rec; r != nil {
		apply(r.scratch[string(b.name)])
	}
	out := make([][2][]byte, 0, len(m))
	for k, v := range m {
		out = append(out, [2][]byte{[]byte(k), v})
	}
	slices.SortFunc(out, func(x, y [2][]byte) int {
		if sc.desc {
			return bytes.Compare(y[0], x[0])
		}
		return bytes.Compare(x[0], y[0])
	})
	return out
}
