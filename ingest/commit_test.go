package ingest

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
)

// TestLateCommit: group commits that land late (behind what the index
// applied) or ahead of it (a commit the index's log never saw) change
// nothing: a restart resumes every partition from its snapshot and log,
// consuming the new records only, skipping none.
func TestLateCommit(t *testing.T) {
	e := newEnv(t, 4)
	w := newWorkload(200, 11)
	half := len(w.recs) / 2
	e.produce(w.recs[:half]...)
	e.start()
	e.waitCaughtUp()
	applied := e.c.Stats().Offsets[TopicProducts]
	e.stop()

	adm := kadm.NewClient(e.prod)
	var all []string // the markers
	for _, c := range []struct {
		name  string
		shift int64
	}{{"behind", -40}, {"ahead", +25}} {
		offs := kadm.Offsets{}
		for p, o := range applied {
			offs.Add(kadm.Offset{Topic: TopicProducts, Partition: p, At: max(0, o+c.shift), LeaderEpoch: -1})
		}
		// The stopped static member is still in the group; a commit
		// from outside needs it gone.
		if _, err := adm.LeaveGroup(e.ctx, kadm.LeaveGroup("aisle-indexer").InstanceIDs("aisle-indexer-0")); err != nil {
			t.Fatalf("%s: removing the static member: %v", c.name, err)
		}
		resp, err := adm.CommitOffsets(e.ctx, "aisle-indexer", offs)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("%s: committing to the group: %v", c.name, err)
		}
		// One new product per partition: the restart must consume
		// exactly these, from the offsets of the index's own logs.
		markers := map[int]string{}
		for i := 0; len(markers) < 4; i++ {
			id := fmt.Sprintf("m-%s-%d", c.name, i)
			if pn := newMapSink(4).partition(id); markers[pn] == "" {
				markers[pn] = id
				all = append(all, id)
				e.produce(rec(t, testProduct(id, 1)))
			}
		}
		e.start()
		e.waitCaughtUp()
		st := e.c.Stats()
		if n := st.Applied + st.Stale + st.Duplicates + st.DeadLettered; n != 4 {
			t.Errorf("%s: a restart after a late commit consumed %d records; want the 4 new ones (it resumes from the logs)", c.name, n)
		}
		for pn, id := range markers {
			if e.sink.get(id) == nil {
				t.Errorf("%s: %s, new on partition %d, was skipped", c.name, id, pn)
			}
			if got := st.Offsets[TopicProducts][int32(pn)]; got != applied[int32(pn)]+1 {
				t.Errorf("%s: partition %d is at %d, want %d", c.name, pn, got, applied[int32(pn)]+1)
			}
			applied[int32(pn)]++
		}
		e.stop()
	}
	e.produce(w.recs[half:]...)
	for _, id := range all {
		e.produce(TombstoneRecord(id, 2))
	}
	e.start()
	e.waitCaughtUp()
	w.check(t, e.sink)
	st := e.c.Stats()
	if n, want := st.Applied+st.Stale+st.Duplicates+st.DeadLettered, int64(len(w.recs)-half+len(all)); n != want {
		t.Errorf("consumed %d records after the late commits, want the %d new ones", n, want)
	}
	e.stop()
}
