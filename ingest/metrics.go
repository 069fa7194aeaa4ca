package ingest

import (
	"context"
	"sort"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ApplyBuckets are the upper bounds of the apply latency histogram.
var ApplyBuckets = []time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 10 * time.Second,
}

// VisibleBuckets are the upper bounds of the event-to-searchable histogram.
var VisibleBuckets = []time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
	30 * time.Second, time.Minute,
}

// histogram counts durations in fixed buckets; safe for concurrent use.
type histogram struct {
	bounds []time.Duration
	counts []atomic.Uint64 // len(bounds)+1; the last is above every bound
	sumNs  atomic.Int64
}

func newHistogram(bounds []time.Duration) *histogram {
	return &histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

func (h *histogram) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := sort.Search(len(h.bounds), func(i int) bool { return d <= h.bounds[i] })
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
}

func (h *histogram) snapshot() Histogram {
	s := Histogram{Bounds: h.bounds, Counts: make([]uint64, len(h.counts)), Sum: time.Duration(h.sumNs.Load())}
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
	}
	return s
}

// Histogram is a snapshot of a fixed-bucket histogram. Counts[i] is the
// observations in bucket i alone (not cumulative); the last count is those
// above every bound.
type Histogram struct {
	Bounds []time.Duration
	Counts []uint64
	Sum    time.Duration
}

// Count returns the number of observations.
func (h Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// PartitionLag is how far the index is behind one partition.
type PartitionLag struct {
	Topic     string
	Partition int32
	// End is the partition's end offset when last polled, Applied the next
	// offset the index has applied; Lag is End − Applied, at least 0.
	End, Applied, Lag int64
}

// Metrics are the consumer's freshness figures.
type Metrics struct {
	Applied, Stale, Duplicates, DeadLettered int64
	// Lag is sorted by topic and partition; empty until end offsets have
	// been polled once.
	Lag []PartitionLag
	// ApplyLatency is the time of one partition's batch from decode to
	// the Sink's return; EventToSearchable the time from a record's
	// timestamp to the Sink's return after applying it.
	ApplyLatency, EventToSearchable Histogram
}

// Metrics returns the counters, lag and histograms.
func (c *Consumer) Metrics() Metrics {
	m := Metrics{
		Applied: c.applied.Load(), Stale: c.stale.Load(), Duplicates: c.dups.Load(), DeadLettered: c.dead.Load(),
		ApplyLatency: c.applyLat.snapshot(), EventToSearchable: c.visible.snapshot(),
	}
	ends, _ := c.ends.Load().(map[string]map[int32]int64)
	for t, ps := range ends {
		for p, end := range ps {
			a := c.Applied(t, p)
			m.Lag = append(m.Lag, PartitionLag{Topic: t, Partition: p, End: end, Applied: a, Lag: max(end-a, 0)})
		}
	}
	sort.Slice(m.Lag, func(i, j int) bool {
		if m.Lag[i].Topic != m.Lag[j].Topic {
			return m.Lag[i].Topic < m.Lag[j].Topic
		}
		return m.Lag[i].Partition < m.Lag[j].Partition
	})
	return m
}

// pollEnds lists the end offsets of the indexed topics every interval until
// ctx ends, for the lag gauges.
func (c *Consumer) pollEnds(ctx context.Context, cl *kgo.Client, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		lctx, cancel := context.WithTimeout(ctx, every)
		ends, err := EndOffsets(lctx, cl, IndexedTopics...)
		cancel()
		if err == nil {
			c.ends.Store(ends)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
