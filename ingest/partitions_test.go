package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestPartitionsCommitsOnlyHandled: records are handled a partition at a
// time, every record once, and a poll whose handler fails commits nothing
// of that poll, so a consumer restarted from the committed offsets gets
// the failed records again (the commerce consumer used to record the
// offsets of a batch whose flush never ran).
func TestPartitionsCommitsOnlyHandled(t *testing.T) {
	e := newEnv(t, 4)
	const topic = "partitions-test"
	ctx := e.ctx
	if _, err := kadm.NewClient(e.prod).CreateTopic(ctx, 4, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	mk := func(i int) *kgo.Record {
		return &kgo.Record{Topic: topic, Partition: int32(i % 4), Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprint(i))}
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(e.broker.Addrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var recs []*kgo.Record
	for i := range 40 {
		recs = append(recs, mk(i))
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	committed := map[int32]int64{}
	var mu sync.Mutex
	run := func(fail func(*kgo.Record) bool) (map[string]int, error) {
		offs := map[int32]kgo.Offset{}
		mu.Lock()
		for p := range int32(4) {
			offs[p] = kgo.NewOffset().AtStart()
			if o, ok := committed[p]; ok {
				offs[p] = kgo.NewOffset().At(o)
			}
		}
		mu.Unlock()
		cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker.Addrs()...),
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}), kgo.FetchMaxWait(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		seen := map[string]int{}
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		pc := Partitions{
			Client: cl,
			Handle: func(_ context.Context, p int32, rs []*kgo.Record) error {
				for _, r := range rs {
					if r.Partition != p {
						return fmt.Errorf("record of partition %d handed to partition %d", r.Partition, p)
					}
					if fail(r) {
						return errors.New("poison")
					}
				}
				mu.Lock()
				for _, r := range rs {
					seen[string(r.Value)]++
				}
				mu.Unlock()
				return nil
			},
			Commit: func(_ context.Context, next Offsets) error {
				mu.Lock()
				defer mu.Unlock()
				for p, o := range next[topic] {
					committed[p] = o.Offset
				}
				done := true
				for p := range int32(4) {
					done = done && committed[p] == 10
				}
				if done {
					cancel()
				}
				return nil
			},
		}
		err = pc.Run(rctx)
		mu.Lock()
		defer mu.Unlock()
		return seen, err
	}

	// Record 13 (partition 1) fails: the run stops, and partition 1 is
	// not committed at or past it.
	_, err = run(func(r *kgo.Record) bool { return string(r.Value) == "13" })
	if err == nil || !containsPoison(err) {
		t.Fatalf("run with a poison record returned %v; want its error", err)
	}
	mu.Lock()
	if committed[1] > 13/4 {
		t.Errorf("partition 1 committed up to %d though its record at offset %d failed", committed[1], 13/4)
	}
	mu.Unlock()
	// The restart handles everything not committed, the failed record
	// included.
	seen, err := run(func(*kgo.Record) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	if seen["13"] != 1 {
		t.Errorf("the failed record was not redelivered after the restart")
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range 40 {
		if committed[int32(i%4)] < int64(i/4)+1 {
			t.Errorf("record %d not committed: partition %d at %d", i, i%4, committed[int32(i%4)])
		}
	}
}

func containsPoison(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == "poison" {
			return true
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				if containsPoison(e) {
					return true
				}
			}
		}
	}
	return false
}
