package recs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"testing"
)

func embedded(t testing.TB) (*Lists, *Embeddings) {
	t.Helper()
	o := synthetic(120, 6000, 8)
	l, err := Build(context.Background(), o, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, _, err := Embed(context.Background(), o, EmbedOptions{Dim: 16, Seed: 3, MinOrders: 5, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return l, e
}

func TestSnapshotWithEmbeddings(t *testing.T) {
	l, e := embedded(t)
	var buf bytes.Buffer
	if _, err := WriteSnapshot(&buf, l, e); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l2, e2, err := ReadSnapshot(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l, l2) {
		t.Error("lists differ after the round trip")
	}
	if e2 == nil {
		t.Fatal("no embeddings read back")
	}
	if e2.Options() != e.Options() || e2.Options().Workers != 0 {
		t.Errorf("options %+v, wrote %+v", e2.Options(), e.Options())
	}
	g, g2 := e.graph, e2.graph
	if !slices.Equal(e.vecs, e2.vecs) || !slices.Equal(e.item, e2.item) || !slices.Equal(e.row, e2.row) ||
		!slices.Equal(g.links, g2.links) || !slices.Equal(g.level, g2.level) || !slices.Equal(g.off, g2.off) ||
		g.entry != g2.entry || g.top != g2.top || g.m != g2.m || g.efSearch != g2.efSearch {
		t.Fatal("embeddings differ after the round trip")
	}
	s := newStore(l.items)
	for _, id := range l.items {
		a, b := e.Similar(nil, id, 5, s), e2.Similar(nil, id, 5, s)
		if len(a) != len(b) {
			t.Fatalf("Similar(%s): %d items, %d after the round trip", id, len(a), len(b))
		}
		for i := range a {
			if a[i].Product.ID != b[i].Product.ID || a[i].Score != b[i].Score {
				t.Fatalf("Similar(%s)[%d]: %v, %v after the round trip", id, i, a[i], b[i])
			}
		}
	}
	// The lists alone, as Read gives them.
	if l3, err := Read(bytes.NewReader(b)); err != nil || !reflect.DeepEqual(l, l3) {
		t.Errorf("Read: %v", err)
	}
	// Without embeddings.
	buf.Reset()
	l.WriteTo(&buf)
	if _, e4, err := ReadSnapshot(&buf); err != nil || e4 != nil {
		t.Errorf("a snapshot without embeddings: %v, %v", e4, err)
	}
	for _, cut := range []int{headerSize, len(b) / 2, len(b) - 3} {
		if _, _, err := ReadSnapshot(bytes.NewReader(b[:cut])); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated at %d: err %v, want ErrCorrupt", cut, err)
		}
	}
	other := *e
	other.items = append(slices.Clone(e.items), "extra")
	if _, err := WriteSnapshot(&buf, l, &other); err == nil {
		t.Error("embeddings of other items: no error")
	}
}

// TestSnapshotV1 reads a version 1 snapshot written before embeddings were
// kept: the lists, no embeddings.
func TestSnapshotV1(t *testing.T) {
	f, err := os.Open("testdata/recs-v1.snap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, e, err := ReadSnapshot(f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Build(context.Background(), synthetic(40, 600, 7), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e != nil || !reflect.DeepEqual(l, want) {
		t.Errorf("v1 fixture: embeddings %v, lists equal %v", e, reflect.DeepEqual(l, want))
	}
}

// TestSnapshotCorruptGraph flips values the decoder must check rather
// than trust: a link target, a level, a vector.
func TestSnapshotCorruptGraph(t *testing.T) {
	l, e := embedded(t)
	for name, mutate := range map[string]func(e *Embeddings){
		"link beyond the nodes": func(e *Embeddings) {
			e.graph.links[1] = uint32(len(e.item) + 5)
			e.graph.links[0] = max(e.graph.links[0], 1)
		},
		"too many links":   func(e *Embeddings) { e.graph.links[0] = 999 },
		"vector not unit":  func(e *Embeddings) { e.vecs[3] = 7 },
		"entry not on top": func(e *Embeddings) { e.graph.top++ },
	} {
		c := *e
		o := e.graph
		c.vecs = slices.Clone(e.vecs)
		c.graph = &HNSW{dim: o.dim, m: o.m, m0: o.m0, efSearch: o.efSearch, vecs: c.vecs,
			level: slices.Clone(o.level), off: o.off, links: slices.Clone(o.links), entry: o.entry, top: o.top}
		mutate(&c)
		var buf bytes.Buffer
		if _, err := WriteSnapshot(&buf, l, &c); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ReadSnapshot(&buf); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", name, err)
		}
	}
}

func BenchmarkReadSnapshot(b *testing.B) {
	l, e := embedded(b)
	var buf bytes.Buffer
	if _, err := WriteSnapshot(&buf, l, e); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, _, err := ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}
