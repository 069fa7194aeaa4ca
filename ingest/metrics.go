package ingest

import (
	"context"
	"io"
	"sort"
	"strconv"
	"time"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The consumer's histograms go through the metrics library the server
// uses (VictoriaMetrics/metrics), in a Set of each Consumer's own; its
// counters are the atomics Stats reads, written beside them.

// applyBuckets are the upper bounds in seconds of the apply latency
// histogram, 0.1 ms to 10 s.
var applyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10}

// visibleBuckets are the upper bounds in seconds of the event-to-searchable
// histogram, 1 ms to a minute.
var visibleBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// newHistograms returns the consumer's Set with its two histograms.
func newHistograms() (set *vm.Set, applyLat, visible *vm.PrometheusHistogram) {
	set = vm.NewSet()
	applyLat = set.NewPrometheusHistogramExt("aisle_ingest_apply_seconds", applyBuckets)
	visible = set.NewPrometheusHistogramExt("aisle_ingest_event_to_searchable_seconds", visibleBuckets)
	return set, applyLat, visible
}

// PartitionLag is how far the index is behind one partition.
type PartitionLag struct {
	Topic     string
	Partition int32
	// End is the partition's end offset when last polled, Applied the next
	// offset the index has applied; Lag is End − Applied, at least 0.
	End, Applied, Lag int64
}

// Metrics are the consumer's freshness counters and lag.
type Metrics struct {
	Applied, Stale, Duplicates, DeadLettered int64
	// Lag is sorted by topic and partition; empty until end offsets have
	// been polled once.
	Lag []PartitionLag
}

// WritePrometheus writes the consumer's metrics in the Prometheus text
// format (doc/api.md): aisle_ingest_events_total by outcome,
// aisle_ingest_lag by partition, and the histograms
// aisle_ingest_apply_seconds (one partition's batch from decode to the
// Sink's return) and aisle_ingest_event_to_searchable_seconds (a record's
// timestamp to the Sink's return after applying it).
func (c *Consumer) WritePrometheus(w io.Writer) {
	m := c.Metrics()
	for _, o := range [...]struct {
		name string
		n    int64
	}{{"applied", m.Applied}, {"stale", m.Stale}, {"duplicate", m.Duplicates}, {"dead_lettered", m.DeadLettered}} {
		vm.WriteCounterUint64(w, `aisle_ingest_events_total{outcome="`+o.name+`"}`, uint64(o.n))
	}
	for _, l := range m.Lag {
		vm.WriteGaugeUint64(w, `aisle_ingest_lag{topic="`+l.Topic+`",partition="`+strconv.Itoa(int(l.Partition))+`"}`, uint64(l.Lag))
	}
	c.metrics.WritePrometheus(w)
}

// Metrics returns the counters and lag.
func (c *Consumer) Metrics() Metrics {
	m := Metrics{Applied: c.applied.Load(), Stale: c.stale.Load(), Duplicates: c.dups.Load(), DeadLettered: c.dead.Load()}
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
