package index

import (
	"context"
	"errors"
)

// Deadlines bound the work of one shard evaluation (zoekt's
// search/sched.go discipline): the evaluator checks its context every
// checkEvery documents it scores or walks, and every segment, and a
// search whose context ended stops there instead of finishing the shard.

// checkEvery is how many documents pass between two context checks: a
// check costs a lock and a few nanoseconds, a document some hundred.
const checkEvery = 4096

// errStopped unwinds an evaluation whose context ended from deep inside a
// walk (the scoring loops of score, maxScore and the block-max walk all
// score through text) up to SearchContext, which recovers it. It never
// leaves the package.
var errStopped = errors.New("index: evaluation stopped")

// tick counts n documents and stops the evaluation, by panicking with
// errStopped, once its context has ended; checked every checkEvery.
func (ev *evaluator) tick(n int) {
	if ev.ctx == nil {
		return
	}
	ev.ticks += n
	if ev.ticks < checkEvery {
		return
	}
	ev.ticks = 0
	if ev.ctx.Err() != nil {
		panic(errStopped)
	}
}

// SearchContext is Search bounded by ctx: it returns ctx's error, with res
// reset, when ctx ends before the shard is evaluated, checking every
// segment and every few thousand documents.
func (v View) SearchContext(ctx context.Context, r *Request, res *Result) (err error) {
	if err := ctx.Err(); err != nil {
		res.Reset()
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			if p != errStopped {
				panic(p)
			}
			res.Reset()
			err = ctx.Err()
		}
	}()
	v.search(ctx, r, res)
	return nil
}
