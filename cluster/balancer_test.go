package cluster

import (
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestShardBalancer: partition p of every topic goes to one member, shares
// are even, owned shards stay put, and the address rides in the metadata.
func TestShardBalancer(t *testing.T) {
	topics := map[string]int32{"products": 8, "prices": 8, "stock": 8}
	interests := []string{"products", "prices", "stock"}
	for _, tc := range []struct {
		name  string
		owned [][]int32 // per member, shards owned before
		want  [][]int32 // per member, shards after (before cooperative revocation)
	}{
		{"fresh", [][]int32{nil, nil, nil}, [][]int32{{0, 1, 2}, {3, 4, 5}, {6, 7}}},
		{"sticky", [][]int32{{5, 6, 7}, {0, 1, 2}, {3, 4}}, [][]int32{{5, 6, 7}, {0, 1, 2}, {3, 4}}},
		{"a member joins", [][]int32{{0, 1, 2, 3}, {4, 5, 6, 7}, nil}, [][]int32{{0, 1, 2}, {4, 5, 6}, {3, 7}}},
		{"a member left", [][]int32{{0, 1, 2}, {3, 4, 5}}, [][]int32{{0, 1, 2, 6}, {3, 4, 5, 7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var members []kmsg.JoinGroupResponseMember
			for i, owned := range tc.owned {
				cur := map[string][]int32{}
				if owned != nil {
					for tp := range topics {
						cur[tp] = owned
					}
				}
				bal := &ShardBalancer{Addr: fmt.Sprintf("127.0.0.1:%d", 7000+i)}
				id := fmt.Sprintf("m%d", i)
				m := kmsg.NewJoinGroupResponseMember()
				m.MemberID, m.InstanceID = id, &id
				m.ProtocolMetadata = bal.JoinGroupMetadata(interests, cur, 1)
				members = append(members, m)
			}
			sb := &ShardBalancer{}
			cb, err := kgo.NewConsumerBalancer(sb, members)
			if err != nil {
				t.Fatal(err)
			}
			plan := sb.Balance(cb, topics)
			// The cooperative adjustment withholds moved shards for one
			// round; what each member ends with is what it keeps plus
			// what is free now.
			byMember := plan.(*kgo.BalancePlan).AsMemberIDMap()
			for i := range tc.owned {
				id := fmt.Sprintf("m%d", i)
				var got []int32
				for tp := range topics {
					ps := slices.Sorted(slices.Values(byMember[id][tp]))
					if got == nil {
						got = ps
					} else if !slices.Equal(got, ps) {
						t.Fatalf("member %s: topic %s has %v, another topic %v: not co-partitioned", id, tp, ps, got)
					}
				}
				want := tc.want[i]
				// Revoked-then-moved shards may be held back a round.
				for _, p := range got {
					if !slices.Contains(want, p) {
						t.Errorf("member %s got shard %d; want a subset of %v", id, p, want)
					}
				}
				for _, p := range tc.owned[i] {
					if slices.Contains(want, p) && !slices.Contains(got, p) {
						t.Errorf("member %s lost shard %d it owns and keeps", id, p)
					}
				}
			}
			var meta kmsg.ConsumerMemberMetadata
			if err := meta.ReadFrom(members[0].ProtocolMetadata); err != nil || string(meta.UserData) != "127.0.0.1:7000" {
				t.Errorf("metadata user data %q, %v", meta.UserData, err)
			}
		})
	}
}
