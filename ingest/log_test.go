package ingest

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"os"
	"reflect"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/aisle/aisle/catalog"
)

func TestLogReplayAndTornTail(t *testing.T) {
	dir := t.TempDir()
	st := newState()
	l, offs, _, err := openLog(dir, 3, st, nil)
	if err != nil || len(offs) != 0 {
		t.Fatalf("fresh log: %v %v", offs, err)
	}
	st.product(prod("a", 1, "a1"))
	st.product(prod("b", 1, "b1"))
	if err := l.append(&entry{Offsets: map[string]int64{"catalog.products": 2}, Records: []*record{st.recs["a"], st.recs["b"]}}); err != nil {
		t.Fatal(err)
	}
	st.product(prod("a", 2, "a2"))
	if err := l.append(&entry{Offsets: map[string]int64{"catalog.products": 3}, Records: []*record{st.recs["a"]}}); err != nil {
		t.Fatal(err)
	}
	good := l.size
	// A third entry torn in the middle, as a crash before fsync leaves it.
	st.product(prod("c", 1, "c1"))
	if err := l.append(&entry{Offsets: map[string]int64{"catalog.products": 4}, Records: []*record{st.recs["c"]}}); err != nil {
		t.Fatal(err)
	}
	l.close()
	if err := os.Truncate(logPath(dir, 3), good+5); err != nil {
		t.Fatal(err)
	}

	st2 := newState()
	l2, offs, changed, err := openLog(dir, 3, st2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if offs["catalog.products"] != 3 {
		t.Errorf("resumes at %d, want 3", offs["catalog.products"])
	}
	if st2.recs["a"].Content.Title != "a2" || st2.recs["b"] == nil || st2.recs["c"] != nil {
		t.Errorf("replayed state wrong: %+v", st2.recs)
	}
	if !changed["a"] || !changed["b"] || len(changed) != 2 {
		t.Errorf("changed ids %v, want a and b", changed)
	}
	if l2.size != good {
		t.Errorf("log not truncated to its last whole frame: size %d, want %d", l2.size, good)
	}
	// Appending after recovery keeps everything; emptying it (after a
	// snapshot) leaves nothing to replay.
	st2.product(prod("d", 1, "d1"))
	if err := l2.append(&entry{Offsets: map[string]int64{"catalog.products": 9}, Records: []*record{st2.recs["d"]}}); err != nil {
		t.Fatal(err)
	}
	l2.close()
	st3 := newState()
	l3, offs, _, err := openLog(dir, 3, st3, nil)
	if err != nil || offs["catalog.products"] != 9 || len(st3.recs) != 3 {
		t.Fatalf("after recovery: offsets %v, %d records, err %v", offs, len(st3.recs), err)
	}
	if err := l3.reset(); err != nil {
		t.Fatal(err)
	}
	l3.close()
	_, offs, _, err = openLog(dir, 3, newState(), map[string]int64{"catalog.products": 9})
	if err != nil || offs["catalog.products"] != 9 {
		t.Fatalf("after reset: offsets %v, err %v; want the base's", offs, err)
	}
}

// An entry the snapshot covers (a crash after the snapshot and before the
// log was emptied) is skipped; those after it are replayed.
func TestLogSkipsCoveredEntries(t *testing.T) {
	dir := t.TempDir()
	st := newState()
	l, _, _, err := openLog(dir, 0, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.product(prod("a", 1, "old"))
	l.append(&entry{Offsets: map[string]int64{TopicProducts: 5, TopicPrices: 2}, Records: []*record{st.recs["a"]}})
	st.product(prod("b", 1, "b"))
	l.append(&entry{Offsets: map[string]int64{TopicProducts: 6, TopicPrices: 2}, Records: []*record{st.recs["b"]}})
	l.close()
	st2 := newState()
	st2.product(prod("a", 2, "new")) // what the snapshot holds
	_, offs, changed, err := openLog(dir, 0, st2, map[string]int64{TopicProducts: 5, TopicPrices: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st2.recs["a"].Content.Title != "new" || st2.recs["b"] == nil || offs[TopicProducts] != 6 {
		t.Errorf("a %q, b %v, offsets %v; want the snapshot's a, the log's b, offset 6", st2.recs["a"].Content.Title, st2.recs["b"], offs)
	}
	if len(changed) != 1 || !changed["b"] {
		t.Errorf("changed %v, want only b", changed)
	}
}

func TestLogCorruptChecksum(t *testing.T) {
	dir := t.TempDir()
	st := newState()
	l, _, _, _ := openLog(dir, 0, st, nil)
	st.product(prod("a", 1, "a1"))
	l.append(&entry{Offsets: map[string]int64{"t": 1}, Records: []*record{st.recs["a"]}})
	l.close()
	b, _ := os.ReadFile(logPath(dir, 0))
	b[len(b)-1] ^= 0xff
	os.WriteFile(logPath(dir, 0), b, 0o644)
	st2 := newState()
	_, offs, _, err := openLog(dir, 0, st2, nil)
	if err != nil || len(st2.recs) != 0 || len(offs) != 0 {
		t.Fatalf("a frame with a bad checksum must be dropped: %v %v %v", st2.recs, offs, err)
	}
}

// zstdFrame is a frame of a log of format 3 or older: the payload
// zstd-compressed.
func zstdFrame(t *testing.T, raw []byte) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	payload := enc.EncodeAll(raw, nil)
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(payload, crcTable))
	return append(out, payload...)
}

// A version 3 log (zstd frames), and the version 3 old log of a snapshot
// it interrupted, are read once and rewritten as a version 4 log holding
// what they held after the snapshot: the entries the snapshot covers are
// skipped, the records changed after it are marked changed.
func TestLogUpgradeFromV3(t *testing.T) {
	dir := t.TempDir()
	prod := func(id string) *record {
		return &record{ID: id, Content: &catalog.Product{ID: id, Title: id, Version: 1}, ContentV: 1}
	}
	write := func(path string, es ...entry) {
		var file []byte
		for _, e := range es {
			file = append(file, zstdFrame(t, appendEntry(nil, &e))...)
		}
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The snapshot was taken at offset 5; the old log holds an entry it
	// covers and one after it; the current log one more and a torn tail.
	write(oldLogPathOf(dir, 0, 3),
		entry{Offsets: map[string]int64{TopicProducts: 5}, Records: []*record{prod("covered")}},
		entry{Offsets: map[string]int64{TopicProducts: 6}, Records: []*record{prod("a")}})
	write(oldLogPath(dir, 0, 3),
		entry{Offsets: map[string]int64{TopicProducts: 8, TopicOrders: 2}, Records: []*record{prod("b")},
			Sales: map[string]int64{"a": 3}, Orders: []string{"o-1"}})
	f, _ := os.OpenFile(oldLogPath(dir, 0, 3), os.O_APPEND|os.O_WRONLY, 0o644)
	f.Write([]byte{9, 9, 9})
	f.Close()
	base := map[string]int64{TopicProducts: 5}
	st := newState()
	l, offs, changed, err := openLog(dir, 0, st, base)
	if err != nil {
		t.Fatal(err)
	}
	l.close()
	want := map[string]bool{"a": true, "b": true}
	if offs[TopicProducts] != 8 || offs[TopicOrders] != 2 || !reflect.DeepEqual(changed, want) || st.sales["a"] != 3 || st.recs["covered"] != nil {
		t.Fatalf("after the upgrade: offsets %v, changed %v, sales %v, covered %v", offs, changed, st.sales, st.recs["covered"])
	}
	for _, old := range []string{oldLogPathOf(dir, 0, 3), oldLogPath(dir, 0, 3)} {
		if _, err := os.Stat(old); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", old, err)
		}
	}
	st2 := newState()
	_, offs2, changed2, err := openLog(dir, 0, st2, base)
	if err != nil || !reflect.DeepEqual(offs2, offs) || !reflect.DeepEqual(changed2, want) || len(st2.recs) != 2 ||
		st2.sales["a"] != 3 || len(st2.orderIDs) != 1 {
		t.Fatalf("the version 4 log reads %v %v %v %v, err %v", offs2, changed2, st2.recs, st2.sales, err)
	}
}

// A version 1 or 2 log (JSON entries) is read once and rewritten as a
// current log holding the same state.
func TestLogUpgradeFromJSON(t *testing.T) {
	for _, v := range []int{1, 2} {
		dir := t.TempDir()
		p := &catalog.Product{ID: "a", Title: "a", Version: 1}
		entries := []entry{
			{Offsets: map[string]int64{TopicProducts: 7}, Records: []*record{{ID: "a", Content: p, ContentV: 1}}},
			{Offsets: map[string]int64{TopicProducts: 7, TopicOrders: 3}, Sales: map[string]int64{"a": 4}, Orders: []string{"o-1"}},
		}
		var file []byte
		for _, e := range entries {
			raw, _ := json.Marshal(&e)
			file = append(file, zstdFrame(t, raw)...)
		}
		if err := os.WriteFile(oldLogPath(dir, 0, v), file, 0o644); err != nil {
			t.Fatal(err)
		}
		st := newState()
		l, offs, _, err := openLog(dir, 0, st, nil)
		if err != nil {
			t.Fatal(err)
		}
		l.close()
		if offs[TopicProducts] != 7 || offs[TopicOrders] != 3 || st.recs["a"] == nil || st.sales["a"] != 4 {
			t.Errorf("v%d: after upgrade: offsets %v, records %v, sales %v; want the old log's", v, offs, st.recs, st.sales)
		}
		if _, err := os.Stat(oldLogPath(dir, 0, v)); !os.IsNotExist(err) {
			t.Errorf("v%d: the old log is still there: %v", v, err)
		}
		st2 := newState()
		if _, offs2, _, err := openLog(dir, 0, st2, nil); err != nil || !reflect.DeepEqual(offs2, offs) ||
			!reflect.DeepEqual(st2.recs, st.recs) || st2.sales["a"] != 4 || len(st2.orderIDs) != 1 {
			t.Errorf("v%d: the rewritten log reads %v %v %v, err %v", v, offs2, st2.recs, st2.sales, err)
		}
	}
}
