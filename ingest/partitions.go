package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Offsets are next offsets to read, by topic and partition, with the
// leader epoch of the last record read (kgo.Client.CommitOffsetsSync's
// argument).
type Offsets map[string]map[int32]kgo.EpochOffset

// Partitions is Aisle's one partition consumer, used by the index ingest
// and by every commerce consumer: franz-go's manual-commit model with a
// goroutine per partition. Each poll's records are split by partition
// number (every topic's partition p goes to one goroutine, in offset order
// per topic), the partitions' handlers run at the same time, and the
// poll's next offsets reach Commit only once every handler returned
// without error, which a handler does only once the records' effects are
// durable. A failed handler stops the consumer and nothing of that poll
// is committed: the records are read again after a restart, so handlers
// must be idempotent (a versioned or de-duplicated apply).
//
// Between polls no handler runs, so AfterPoll sees every partition at
// rest: the index uses it for the work that spans partitions (sales
// totals, snapshots).
type Partitions struct {
	// Client consumes the topics: a group consumer (with
	// BlockRebalanceOnPoll and DisableAutoCommit) or direct partitions.
	Client *kgo.Client
	// MaxPoll bounds the records of one poll; 0 means no bound.
	MaxPoll int
	// Handle applies one partition's records of a poll and returns once
	// their effects are durable.
	Handle func(ctx context.Context, partition int32, recs []*kgo.Record) error
	// AfterPoll, when set, runs once every handler of a poll succeeded,
	// before Commit; an error stops the consumer without committing.
	AfterPoll func(ctx context.Context) error
	// Commit records the next offsets of a poll whose every handler (and
	// AfterPoll) succeeded; an error stops the consumer.
	Commit func(ctx context.Context, next Offsets) error
	// Logf logs fetch errors; nil discards them.
	Logf func(format string, args ...any)
}

// Run polls until ctx ends or the client is closed (returning nil), or a
// handler, AfterPoll or Commit fails (returning its error, with nothing
// of the failed poll committed).
func (pc *Partitions) Run(ctx context.Context) error {
	if pc.Client == nil || pc.Handle == nil || pc.Commit == nil {
		return errors.New("ingest: Partitions needs a Client, a Handle and a Commit")
	}
	logf := pc.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	for {
		var fs kgo.Fetches
		if pc.MaxPoll > 0 {
			fs = pc.Client.PollRecords(ctx, pc.MaxPoll)
		} else {
			fs = pc.Client.PollFetches(ctx)
		}
		if fs.IsClientClosed() || ctx.Err() != nil {
			pc.Client.AllowRebalance()
			return nil
		}
		err := pc.poll(ctx, fs, logf)
		// With BlockRebalanceOnPoll, a rebalance waits until here: no
		// partition changes hands while its records are being handled.
		pc.Client.AllowRebalance()
		if err != nil {
			return err
		}
	}
}

// poll handles one poll's records and commits their offsets.
func (pc *Partitions) poll(ctx context.Context, fs kgo.Fetches, logf func(string, ...any)) error {
	fs.EachError(func(t string, p int32, err error) {
		if !errors.Is(err, context.Canceled) {
			logf("ingest: fetching %s/%d: %v", t, p, err)
		}
	})
	byPart := map[int32][]*kgo.Record{}
	next := Offsets{}
	fs.EachRecord(func(r *kgo.Record) {
		byPart[r.Partition] = append(byPart[r.Partition], r)
		if next[r.Topic] == nil {
			next[r.Topic] = map[int32]kgo.EpochOffset{}
		}
		next[r.Topic][r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
	})
	if len(byPart) == 0 {
		return nil
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for p, recs := range byPart {
		wg.Go(func() {
			if err := pc.Handle(ctx, p, recs); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("partition %d: %w", p, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if pc.AfterPoll != nil {
		if err := pc.AfterPoll(ctx); err != nil {
			return err
		}
	}
	return pc.Commit(ctx, next)
}
