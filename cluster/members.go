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
	last  map[string][][]int32 // per group, the members' shards of its last good description
	addrs map[string][]string  // per group, the members' addresses, aligned with last
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
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last, m.addrs = map[string][][]int32{}, map[string][]string{}
	}
	for _, g := range groups {
		d, ok := dg[g]
		if !ok || d.Err != nil || (d.State != "Stable" && m.last[g] != nil) {
			// A group whose coordinator does not answer this time
			// (moving, loading), or that is rebalancing (assignments
			// in flux), keeps its last stable description: the router
			// fails over per request from nodes that are gone.
			t.Problems = append(t.Problems, fmt.Sprintf("%s: %s %v", g, d.State, d.Err))
			for i, shards := range m.last[g] {
				for _, p := range shards {
					t.Shards[p] = append(t.Shards[p], m.addrs[g][i])
				}
			}
			continue
		}
		m.last[g], m.addrs[g] = nil, nil
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
				var mine []int32
				for _, p := range tp.Partitions {
					if int(p) < m.Shards && !slices.Contains(t.Shards[p], addr) {
						t.Shards[p] = append(t.Shards[p], addr)
						mine = append(mine, p)
					}
				}
				m.last[g] = append(m.last[g], mine)
				m.addrs[g] = append(m.addrs[g], addr)
			}
		}
	}
	m.table = t
	return t, nil
}

// Run reads the table every Interval until ctx ends; logf gets the
// errors.
func (m *Members) Run(ctx context.Context, logf func(string, ...any)) {
	iv := m.Interval
	if iv == 0 {
		iv = 250 * time.Millisecond
	}
	last := "every group stable"
	for {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		t, err := m.Read(rctx)
		cancel()
		msg := "every group stable"
		if err != nil {
			msg = err.Error()
		} else if len(t.Problems) > 0 {
			msg = fmt.Sprint(t.Problems)
		}
		if msg != last && ctx.Err() == nil {
			logf("cluster: membership: %s", msg)
		}
		last = msg
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
