package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/internal/atomicfile"
	"github.com/aisle/aisle/search"
)

// A generation is one index built from Kafka: an engine, the consumer that
// feeds it, in its own consumer group, and its partition logs in
// DATA/ingest/g<N>. DATA/ingest/CURRENT names the generation serve starts
// from. A reindex builds generation N+1 from the start of the topics beside
// the live one N, swaps it in once it has caught up, and only then stops N
// and removes its logs; events arriving meanwhile reach both, so none is
// lost.
type generation struct {
	n      int
	eng    *search.Engine
	c      *ingest.Consumer
	cancel context.CancelFunc
	done   chan error
}

func generationDir(data string, n int) string {
	return filepath.Join(data, "ingest", "g"+strconv.Itoa(n))
}

// currentGeneration reads DATA/ingest/CURRENT; a fresh directory is at
// generation 1.
func currentGeneration(data string) (int, error) {
	b, err := os.ReadFile(filepath.Join(data, "ingest", "CURRENT"))
	if errors.Is(err, os.ErrNotExist) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("serve: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("serve: %s does not name a generation: %q", filepath.Join(data, "ingest", "CURRENT"), b)
	}
	return n, nil
}

// setCurrentGeneration writes DATA/ingest/CURRENT atomically.
func setCurrentGeneration(data string, n int) error {
	if err := atomicfile.Write(filepath.Join(data, "ingest", "CURRENT"), []byte(strconv.Itoa(n)+"\n")); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// loadingHeap turns the collector off while the snapshots load, behind a
// memory limit of three quarters of the machine's memory, and returns what
// restores both. A load allocates most of the heap at once and keeps it:
// collecting as it grows marks everything loaded so far again and again
// (a restart of 1M products in a new process: 9.8-12.6 s with the target
// at 400%, 9.3-9.9 s with it off). Without /proc/meminfo the target is
// only raised to 400%.
func loadingHeap() func() {
	limit := debug.SetMemoryLimit(-1)
	total := memTotal()
	if total <= 0 {
		old := debug.SetGCPercent(400)
		return func() { debug.SetGCPercent(old) }
	}
	debug.SetMemoryLimit(min(limit, total/4*3))
	old := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(old)
		debug.SetMemoryLimit(limit)
	}
}

// memTotal returns the machine's memory in bytes from /proc/meminfo, or 0.
func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// The engine saves and loads its shards in the ingest snapshots.
var _ ingest.SnapshotSink = (*search.Engine)(nil)

// openGeneration replays generation n's logs into eng and starts its
// consumer.
func (a *App) openGeneration(ctx context.Context, n int, brokers []string, eng *search.Engine) (*generation, error) {
	defer loadingHeap()()
	c, err := ingest.New(ingest.Options{
		Brokers:    brokers,
		Group:      "aisle-indexer-g" + strconv.Itoa(n),
		InstanceID: "aisle-indexer-0-g" + strconv.Itoa(n),
		Dir:        generationDir(a.opts.Data, n),
		Partitions: a.opts.Shards,
		Sink:       a.sink(eng),
		OnOrder:    a.orderHook(),
		Logf:       a.logf,
	})
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	g := &generation{n: n, eng: eng, c: c, cancel: cancel, done: make(chan error, 1)}
	a.group.Go(func() { g.done <- c.Run(rctx) })
	return g, nil
}

// catchUp waits until g has applied everything published to the catalog
// topics before the call.
func (g *generation) catchUp(ctx context.Context, prod *kgo.Client) error {
	ends, err := ingest.EndOffsets(ctx, prod, ingest.CatalogTopics...)
	if err != nil {
		return err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !g.c.CaughtUp(ends) {
		select {
		case err := <-g.done:
			g.done <- err // stop and the feed loop read it again
			if err == nil {
				err = errors.New("consumer stopped")
			}
			return fmt.Errorf("serve: generation %d: %w", g.n, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// stop ends g's consumer and closes its logs.
func (g *generation) stop() error {
	g.cancel()
	err := <-g.done
	return errors.Join(err, g.c.Close())
}
