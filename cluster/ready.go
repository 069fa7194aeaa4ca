package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Readiness tells which shards an index node serves: those its group
// assigns it, once it has applied every record that was in their
// partitions when it got them (its snapshots and logs restored, the rest
// consumed). A node answers only for those, so a node that joins or takes
// over shards serves them only once caught up.
type Readiness struct {
	Client     *kgo.Client
	Group      string
	InstanceID string
	Topics     []string
	Shards     int
	// Applied is the node's next applied offset of a topic's partition
	// (ingest.Consumer.Applied).
	Applied  func(topic string, partition int32) int64
	Interval time.Duration // default 100 ms

	mu     sync.Mutex
	target map[int32]map[string]int64 // per shard assigned: the end offsets to reach
	ready  map[int32]bool
}

// Ready reports whether the node serves shard.
func (r *Readiness) Ready(shard int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready[int32(shard)]
}

// Serving returns the shards served, ascending.
func (r *Readiness) Serving() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for s := range r.Shards {
		if r.ready[int32(s)] {
			out = append(out, s)
		}
	}
	return out
}

// Run follows the assignment until ctx ends.
func (r *Readiness) Run(ctx context.Context, logf func(string, ...any)) {
	iv := r.Interval
	if iv == 0 {
		iv = 100 * time.Millisecond
	}
	last := ""
	for {
		err := r.step(ctx)
		if err != nil && ctx.Err() == nil && err.Error() != last {
			logf("%v", err)
		}
		last = ""
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(iv):
		}
	}
}

// step reads the assignment once and updates the shards served.
func (r *Readiness) step(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	adm := kadm.NewClient(r.Client)
	dg, err := adm.DescribeGroups(ctx, r.Group)
	if err != nil {
		return fmt.Errorf("cluster: describing group %s: %w", r.Group, err)
	}
	mine := map[int32]bool{}
	d, ok := dg[r.Group]
	if !ok || d.Err != nil || d.State != "Stable" {
		// Rebalancing: the assignment is in flux (a cooperative
		// rebalance keeps the partitions that do not move), so the
		// shards served stay as they are until the group is stable.
		return nil
	}
	for _, m := range d.Members {
		if m.InstanceID == nil || *m.InstanceID != r.InstanceID {
			continue
		}
		if as, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range as.Topics {
				for _, p := range t.Partitions {
					if int(p) < r.Shards {
						mine[p] = true
					}
				}
			}
		}
	}
	r.mu.Lock()
	if r.target == nil {
		r.target, r.ready = map[int32]map[string]int64{}, map[int32]bool{}
	}
	for p := range r.target {
		if !mine[p] {
			delete(r.target, p)
			delete(r.ready, p)
		}
	}
	var fresh []int32
	for p := range mine {
		if r.target[p] == nil {
			fresh = append(fresh, p)
		}
	}
	r.mu.Unlock()
	if len(fresh) > 0 {
		ends, err := adm.ListEndOffsets(ctx, r.Topics...)
		if err != nil {
			return fmt.Errorf("cluster: listing end offsets: %w", err)
		}
		r.mu.Lock()
		for _, p := range fresh {
			t := map[string]int64{}
			for _, topic := range r.Topics {
				if o, ok := ends.Lookup(topic, p); ok && o.Err == nil {
					t[topic] = o.Offset
				}
			}
			r.target[p] = t
		}
		r.mu.Unlock()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for p, t := range r.target {
		if r.ready[p] {
			continue
		}
		caught := true
		for topic, end := range t {
			if r.Applied(topic, p) < end {
				caught = false
				break
			}
		}
		r.ready[p] = caught
	}
	return nil
}
