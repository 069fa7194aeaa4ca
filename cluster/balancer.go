package cluster

import (
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ShardBalancer is the group balancer of the index nodes: cooperative and
// sticky like Kafka's cooperative-sticky, but by shard: partition p of
// every topic goes to the same member, since an index shard applies the
// products, prices, stock, ratings and orders of its partition together
// (cooperative-sticky balances each topic's partitions on their own).
// A member keeps the shards it owns up to an even share; the others go to
// the members below theirs. Each member's metadata carries its shard API
// address as user data.
type ShardBalancer struct {
	// Addr is this member's shard API address.
	Addr string
}

// ProtocolName is the group protocol every index node must speak.
func (*ShardBalancer) ProtocolName() string { return "aisle-shard-sticky" }

// IsCooperative: a rebalance revokes only the partitions that move.
func (*ShardBalancer) IsCooperative() bool { return true }

// JoinGroupMetadata carries the topics, the partitions owned and Addr.
func (s *ShardBalancer) JoinGroupMetadata(interests []string, current map[string][]int32, generation int32) []byte {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Version = 3
	meta.Topics = interests
	meta.Generation = generation
	meta.UserData = []byte(s.Addr)
	for t, ps := range current {
		o := kmsg.NewConsumerMemberMetadataOwnedPartition()
		o.Topic, o.Partitions = t, ps
		meta.OwnedPartitions = append(meta.OwnedPartitions, o)
	}
	sort.Slice(meta.OwnedPartitions, func(i, j int) bool { return meta.OwnedPartitions[i].Topic < meta.OwnedPartitions[j].Topic })
	return meta.AppendTo(nil)
}

// ParseSyncAssignment reads a consumer assignment.
func (*ShardBalancer) ParseSyncAssignment(b []byte) (map[string][]int32, error) {
	return kgo.ParseConsumerSyncAssignment(b)
}

// MemberBalancer balances with Balance.
func (s *ShardBalancer) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	b, err := kgo.NewConsumerBalancer(s, members)
	if err != nil {
		return nil, nil, err
	}
	return b, b.MemberTopics(), nil
}

// Balance assigns shard numbers to members, keeping what each owns up to
// its share, and every topic's partition p to the owner of shard p.
func (s *ShardBalancer) Balance(b *kgo.ConsumerBalancer, topics map[string]int32) kgo.IntoSyncAssignment {
	shards := int32(0)
	for _, n := range topics {
		shards = max(shards, n)
	}
	type member struct {
		m     *kmsg.JoinGroupResponseMember
		owned []int32
		got   []int32
	}
	var ms []*member
	b.EachMember(func(m *kmsg.JoinGroupResponseMember, meta *kmsg.ConsumerMemberMetadata) {
		x := &member{m: m}
		for _, o := range meta.OwnedPartitions {
			for _, p := range o.Partitions {
				if !slices.Contains(x.owned, p) {
					x.owned = append(x.owned, p)
				}
			}
		}
		slices.Sort(x.owned)
		ms = append(ms, x)
	})
	plan := b.NewPlan()
	if len(ms) == 0 {
		return plan
	}
	// The first shards%len members get one more: members are sorted by
	// instance id, so the shares are stable.
	share := func(i int) int {
		n := int(shards) / len(ms)
		if i < int(shards)%len(ms) {
			n++
		}
		return n
	}
	taken := make([]bool, shards)
	for i, x := range ms {
		for _, p := range x.owned {
			if p < shards && !taken[p] && len(x.got) < share(i) {
				taken[p] = true
				x.got = append(x.got, p)
			}
		}
	}
	for p := range shards {
		if taken[p] {
			continue
		}
		for i, x := range ms {
			if len(x.got) < share(i) {
				x.got = append(x.got, p)
				taken[p] = true
				break
			}
		}
	}
	for _, x := range ms {
		for t, n := range topics {
			var ps []int32
			for _, p := range x.got {
				if p < n {
					ps = append(ps, p)
				}
			}
			if len(ps) > 0 {
				plan.AddPartitions(x.m, t, ps)
			}
		}
	}
	plan.AdjustCooperative(b)
	return plan
}
