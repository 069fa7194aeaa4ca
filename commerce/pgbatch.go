package commerce

import "errors"

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
