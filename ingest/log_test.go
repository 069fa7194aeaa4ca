package ingest

import (
	"os"
	"testing"
)

func TestLogReplayAndTornTail(t *testing.T) {
	dir := t.TempDir()
	st := newState()
	l, offs, err := openLog(dir, 3, st)
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
	l2, offs, err := openLog(dir, 3, st2)
	if err != nil {
		t.Fatal(err)
	}
	if offs["catalog.products"] != 3 {
		t.Errorf("resumes at %d, want 3", offs["catalog.products"])
	}
	if st2.recs["a"].Content.Title != "a2" || st2.recs["b"] == nil || st2.recs["c"] != nil {
		t.Errorf("replayed state wrong: %+v", st2.recs)
	}
	if l2.size != good {
		t.Errorf("log not truncated to its last whole frame: size %d, want %d", l2.size, good)
	}
	// Appending after recovery and compacting keep everything.
	st2.product(prod("d", 1, "d1"))
	if err := l2.append(&entry{Offsets: map[string]int64{"catalog.products": 9}, Records: []*record{st2.recs["d"]}}); err != nil {
		t.Fatal(err)
	}
	if err := l2.compact(st2, map[string]int64{"catalog.products": 9}); err != nil {
		t.Fatal(err)
	}
	l2.close()
	st3 := newState()
	_, offs, err = openLog(dir, 3, st3)
	if err != nil || offs["catalog.products"] != 9 || len(st3.recs) != 3 {
		t.Fatalf("after compaction: offsets %v, %d records, err %v", offs, len(st3.recs), err)
	}
}

func TestLogCorruptChecksum(t *testing.T) {
	dir := t.TempDir()
	st := newState()
	l, _, _ := openLog(dir, 0, st)
	st.product(prod("a", 1, "a1"))
	l.append(&entry{Offsets: map[string]int64{"t": 1}, Records: []*record{st.recs["a"]}})
	l.close()
	b, _ := os.ReadFile(logPath(dir, 0))
	b[len(b)-1] ^= 0xff
	os.WriteFile(logPath(dir, 0), b, 0o644)
	st2 := newState()
	_, offs, err := openLog(dir, 0, st2)
	if err != nil || len(st2.recs) != 0 || len(offs) != 0 {
		t.Fatalf("a frame with a bad checksum must be dropped: %v %v %v", st2.recs, offs, err)
	}
}
