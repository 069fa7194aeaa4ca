package search

import "context"

// Searches are admitted in arrival order, at most GOMAXPROCS running at
// once; the others wait in the admission channel's queue, which the
// runtime serves first in, first out.
//
// Without it, under more concurrent searches than cores (64 clients on 2
// cores) the Go scheduler served them unfairly: a search that spawned
// shard goroutines or woke from its wait group ran next on its P
// (runnext, inheriting the time slice), while goroutines preempted at the
// end of a 10 ms slice went to the global run queue, which a busy P looks
// at once in 61 schedules. Most searches finished in a few hundred
// microseconds and a few waited seconds (the execution tracer's scheduler
// latency profile: 82% of the waiting after asyncPreempt). Waiting here
// instead, blocked and off the run queues, every search waits about as
// long as any other: the median rises to the fair share and the tail
// falls to it (doc/design.md, "Where the time goes").
//
// A router's engine (one with a Remote) admits nothing: its searches spend
// their time waiting on the nodes' answers, and GOMAXPROCS slots would
// cap it at that many round trips at once.

// admit waits for a search slot, or for ctx to end; the caller calls
// e.release() once when admitted.
func (e *Engine) admit(ctx context.Context) error {
	select {
	case e.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case e.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Engine) release() { <-e.slots }
