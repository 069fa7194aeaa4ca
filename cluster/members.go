package cluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// GroupName is the consumer group of the index nodes of replica set rs.
func GroupName(rs string) string { return "aisle-index-" + rs }

// Table maps every shard to the addresses of the nodes assigned it, one per
// replica set at most, in replica-set order.
type Table struct {
	Shards   [][]string
	Read     time.Time
	Problems []string // groups that could not be described, or are rebalancing
}

// Members keeps the Table of some replica sets fresh by describing their
// groups every Interval.
type Members struct {
	Client      *kgo.Client
	ReplicaSets []string
	Shards      int
	// Topic is the topic whose partition numbers are the shards.
	Topic    string
	Interval time.Duration // default 250 ms

	mu    sync.Mutex
	table Table
}

// Table returns the latest table.
func (m *Members) Table() Table {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.table
}

// Read describes the groups once and stores the table.
func (m *Members) Read(ctx context.Context) (Table, error) {
	t := Table{Shards: make([][]string, m.Shards), Read: time.Now()}
	groups := make([]string, len(m.ReplicaSets))
	for i, rs := range m.ReplicaSets {
		groups[i] = GroupName(rs)
	}
	dg, err := kadm.NewClient(m.Client).DescribeGroups(ctx, groups...)
	if err != nil {
		return t, fmt.Errorf("cluster: describing groups %v: %w", groups, err)
	}
	for _, g := range groups {
		d, ok := dg[g]
		if !ok || d.Err != nil {
			t.Problems = append(t.Problems, fmt.Sprintf("%s: %v", g, d.Err))
			continue
		}
		if d.State != "Stable" {
			t.Problems = append(t.Problems, fmt.Sprintf("%s: %s", g, d.State))
		}
		for _, mem := range d.Members {
			meta, ok := mem.Join.AsConsumer()
			if !ok || len(meta.UserData) == 0 {
				continue
			}
			addr := string(meta.UserData) // ShardBalancer puts it there
			as, ok := mem.Assigned.AsConsumer()
			if !ok {
				continue
			}
			for _, tp := range as.Topics {
				if tp.Topic != m.Topic {
					continue
				}
				for _, p := range tp.Partitions {
					if int(p) < m.Shards && !slices.Contains(t.Shards[p], addr) {
						t.Shards[p] = append(t.Shards[p], addr)
					}
				}
			}
		}
	}
	m.mu.Lock()
	m.table = t
	m.mu.Unlock()
	return t, nil
}

// Run reads the table every Interval until ctx ends; logf gets the
// errors.
func (m *Members) Run(ctx context.Context, logf func(string, ...any)) {
	iv := m.Interval
	if iv == 0 {
		iv = 250 * time.Millisecond
	}
	last := ""
	for {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := m.Read(rctx)
		cancel()
		if err != nil && ctx.Err() == nil && err.Error() != last {
			logf("%v", err)
		}
		if err != nil {
			last = err.Error()
		} else {
			last = ""
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(iv):
		}
	}
}

// Covered reports whether every shard has at least one node.
func (t Table) Covered() bool {
	for _, s := range t.Shards {
		if len(s) == 0 {
			return false
		}
	}
	return len(t.Shards) > 0
}
