package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
)

// snapWorkload produces n products with price and stock events, and
// orders that sell them and products numbered from 119 down, which a
// second round of 60 does not update: their sales move on partitions
// other than their own.
func snapWorkload(t *testing.T, e *env, n, round int) {
	t.Helper()
	var recs []*kgo.Record
	for i := range n {
		id := fmt.Sprintf("s%03d", i)
		recs = append(recs, rec(t, testProduct(id, uint64(round))))
		if i%3 == 0 {
			recs = append(recs, PriceRecord(catalog.PriceEvent{ProductID: id, VariantID: id + "-v", Version: uint64(round),
				Price: catalog.Money{Amount: int64(500 + i + round), Currency: "USD"}}))
		}
		if i%5 == 0 {
			recs = append(recs, InventoryRecord(catalog.InventoryEvent{ProductID: id, VariantID: id + "-v", WarehouseID: "w",
				Version: uint64(round), Available: i % 2}))
		}
		if i%7 == 0 {
			recs = append(recs, orderRecord(fmt.Sprintf("o-%d-%d", round, i), "u", map[string]int{id: 1 + i%3, "s000": 1, fmt.Sprintf("s%03d", 119-i): 2}))
		}
		if i%11 == 0 && round > 1 {
			recs = append(recs, TombstoneRecord(id, uint64(round)+1))
		}
	}
	e.produce(recs...)
}

func (s *mapSink) snapshotOf() map[string]*catalog.Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]*catalog.Product, len(s.m))
	for id, p := range s.m {
		m[id] = p
	}
	return m
}

func sameProducts(t *testing.T, what string, got, want map[string]*catalog.Product) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d products, want %d", what, len(got), len(want))
	}
	for id, w := range want {
		g := got[id]
		if g == nil || !reflect.DeepEqual(*g, *w) {
			t.Fatalf("%s: %s is\n%+v\nwant\n%+v", what, id, g, w)
		}
	}
}

// settle produces a product and waits for it: its poll comes after the
// previous poll's sales were flushed to the sink.
func (e *env) settle() {
	e.t.Helper()
	e.settled++
	e.produce(rec(e.t, testProduct(fmt.Sprintf("settle-%d", e.settled), 1)))
	e.waitCaughtUp()
}

// copyDir copies the files of src into a new directory: what a kill -9
// would leave, taken while the consumer is idle.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range ents {
		b, err := os.ReadFile(filepath.Join(src, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, en.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestSnapshotRestart: a stop snapshots every partition and empties its
// log; a restart loads the index from the snapshots without applying a
// product; events after it, and a crash that leaves a log tail after the
// snapshot, restart to the same index, with sales moved by orders on other
// partitions applied again.
func TestSnapshotRestart(t *testing.T) {
	e := newEnv(t, 4)
	snapWorkload(t, e, 120, 1)
	e.start()
	e.waitCaughtUp()
	e.stop() // Run re-applies the products whose sales changed before it stops
	want := e.sink.snapshotOf()
	if p := want["s000"]; p == nil || p.SalesVelocity == 0 {
		t.Fatalf("s000 should have sales: %+v", p)
	}
	if got := e.c.Stats().Snapshots; got != 4 {
		t.Errorf("a stop wrote %d snapshots, want 4", got)
	}
	for p := range int32(4) {
		if fi, err := os.Stat(logPath(e.dir, p)); err != nil || fi.Size() != 0 {
			t.Errorf("partition %d's log after the snapshot: %v, %v; want empty", p, fi.Size(), err)
		}
	}

	e.start()
	sameProducts(t, "restart from snapshots", e.sink.snapshotOf(), want)
	if e.sink.loaded != len(want) || e.sink.applied != 0 {
		t.Errorf("restart loaded %d and applied %d products; want %d loaded and none applied", e.sink.loaded, e.sink.applied, len(want))
	}

	// New events, then a crash: the copy holds the snapshots and log
	// tails after them.
	snapWorkload(t, e, 60, 2)
	e.waitCaughtUp()
	e.settle()
	crashed := copyDir(t, e.dir)
	want = e.sink.snapshotOf()
	e.stop()

	sink := newMapSink(4)
	c, err := New(Options{Brokers: e.broker.Addrs(), Dir: crashed, Partitions: 4, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sameProducts(t, "restart from snapshots and log tails", sink.snapshotOf(), want)
	if sink.loaded == 0 || sink.applied == 0 || sink.applied >= len(want)+10 {
		t.Errorf("loaded %d, applied %d of %d: want the snapshot loaded and only the tail applied", sink.loaded, sink.applied, len(want))
	}

	// Without a SnapshotSink the same directory restores by applying
	// every product.
	plain := newMapSink(4)
	c2, err := New(Options{Brokers: e.broker.Addrs(), Dir: copyDir(t, crashed), Partitions: 4, Sink: plainSink{plain}})
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	sameProducts(t, "restart of a plain sink", plain.snapshotOf(), want)
}

func TestSnapshotCorrupt(t *testing.T) {
	e := newEnv(t, 2)
	snapWorkload(t, e, 20, 1)
	e.start()
	e.waitCaughtUp()
	e.stop()
	for _, damage := range []struct {
		name string
		fn   func([]byte) []byte
		want string
	}{
		{"flipped byte", func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }, "checksum"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-7] }, "checksum"},
		{"no header", func(b []byte) []byte { return b[:10] }, "not a partition snapshot"},
		{"newer format", func(b []byte) []byte { b[8] = 9; return b }, "format 9"},
	} {
		dir := copyDir(t, e.dir)
		path := snapPath(dir, 1)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, damage.fn(b), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = New(Options{Brokers: e.broker.Addrs(), Dir: dir, Partitions: 2, Sink: newMapSink(2)})
		if err == nil || !strings.Contains(err.Error(), damage.want) || !strings.Contains(err.Error(), "partition-0001.snap") {
			t.Errorf("%s: New: %v; want an error naming the file and %q", damage.name, err, damage.want)
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	p := testProduct("a", 3)
	p.Attributes = map[string]string{"colour": "red"}
	full := &entry{
		Offsets: map[string]int64{TopicProducts: 9, TopicOrders: 2},
		Records: []*record{
			{ID: "a", Content: p, ContentV: 3, RatingV: 2, Rating: &catalog.Rating{Avg: 4.5, Count: 2},
				Prices: map[string]priceState{"a-v": {V: 4, Price: catalog.Money{Amount: 100, Currency: "USD"}}},
				Stock:  map[string]stockState{"a-v\x00w": {V: 5, Available: 3}}},
			{ID: "b", DeletedV: 7},
		},
		Sales:  map[string]int64{"a": 3},
		Orders: []string{"o-1", "o-2"},
	}
	f.Add(appendEntry(nil, full))
	f.Add(appendEntry(nil, &entry{}))
	f.Add([]byte{1, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		again := appendEntry(nil, e)
		e2, err := decodeEntry(again)
		if err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("re-encoding a decoded entry: %v\n%+v\n%+v", err, e, e2)
		}
	})
}

// TestSnapshotInterrupted: a crash while a snapshot is written beside
// ingest leaves the previous snapshot, the log set aside for the new one
// and the log after it. A restart replays both logs, then snapshots the
// partition again and removes the old log.
func TestSnapshotInterrupted(t *testing.T) {
	e := newEnv(t, 2)
	snapWorkload(t, e, 40, 1)
	e.start()
	e.waitCaughtUp()
	e.stop() // snapshots, empty logs
	e.start()
	snapWorkload(t, e, 30, 2)
	e.waitCaughtUp()
	e.settle()
	first := copyDir(t, e.dir)
	snapWorkload(t, e, 20, 3)
	e.waitCaughtUp()
	e.settle()
	second := copyDir(t, e.dir)
	want := e.sink.snapshotOf()
	e.stop()

	// partition 1: its log up to round 2 set aside, round 3 after it.
	crashed := copyDir(t, second)
	a, _ := os.ReadFile(logPath(first, 1))
	b, _ := os.ReadFile(logPath(second, 1))
	if len(a) == 0 || len(b) <= len(a) {
		t.Fatalf("logs of %d and %d bytes; want both rounds in partition 1", len(a), len(b))
	}
	if err := os.WriteFile(oldLogPath3(crashed, 1), a, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath(crashed, 1), b[len(a):], 0o644); err != nil {
		t.Fatal(err)
	}
	sink := newMapSink(2)
	c, err := New(Options{Brokers: e.broker.Addrs(), Dir: crashed, Partitions: 2, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	sameProducts(t, "restart after an interrupted snapshot", sink.snapshotOf(), want)
	if _, err := os.Stat(oldLogPath3(crashed, 1)); !os.IsNotExist(err) {
		t.Errorf("the old log is still there after the restart: %v", err)
	}
	if fi, err := os.Stat(logPath(crashed, 1)); err != nil || fi.Size() != 0 {
		t.Errorf("partition 1's log after the new snapshot: %v; want empty", err)
	}
	if got := c.Stats().Snapshots; got != 1 {
		t.Errorf("the restart wrote %d snapshots, want 1 (partition 1)", got)
	}
	// And that snapshot alone restores the partition.
	sink2 := newMapSink(2)
	c2, err := New(Options{Brokers: e.broker.Addrs(), Dir: crashed, Partitions: 2, Sink: sink2})
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	sameProducts(t, "restart from the retaken snapshot", sink2.snapshotOf(), want)
}

// TestSnapshotsBesideIngest: with a small SnapshotBytes, snapshots are
// written in the background while ingest goes on; the logs rotate and the
// final state restarts whole.
func TestSnapshotsBesideIngest(t *testing.T) {
	e := newEnv(t, 4)
	e.maxPoll = 30
	e.snapshotBytes = 256
	for round := 1; round <= 4; round++ {
		snapWorkload(t, e, 100, round)
	}
	e.start()
	e.waitCaughtUp()
	background := e.c.Stats().Snapshots
	e.stop()
	want := e.sink.snapshotOf()
	if background == 0 {
		t.Fatalf("no snapshot was written while ingesting (%d batches)", e.c.Stats().Batches)
	}
	e.snapshotBytes = 0
	e.start()
	sameProducts(t, "restart", e.sink.snapshotOf(), want)
	// A partition whose log stayed empty since its last snapshot is not
	// snapshotted again at the stop; products of it that orders on other
	// partitions sold since are applied again.
	if e.sink.applied > len(want)/10 {
		t.Errorf("the restart applied %d of %d products; want nearly all loaded", e.sink.applied, len(want))
	}
	e.stop()
	t.Logf("%d snapshots written beside ingest", background)
}
