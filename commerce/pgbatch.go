package commerce

import (
	"errors"

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
			tx := &pgTx{ctx: b.ctx, conn: conn, buckets: map[string]*pgBucket{}}
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
		misses := t.rec.misses
		t.rec = nil
		if len(misses) == 0 || t.err != nil {
			return
		}
		t.prefetch(misses)
	}
}

// prefetch reads the keys of misses into the buckets' caches, absent keys
// as nil, in one pipeline.
func (t *pgTx) prefetch(misses map[string]map[string]bool) {
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
	t.begun = true
	t.fail(t.conn.SendBatch(t.ctx, batch).Close())
	if t.err != nil {
		for name, keys := range misses { // nothing learned is trusted
			for k := range keys {
				delete(t.buckets[name].cache, k)
			}
		}
	}
}
