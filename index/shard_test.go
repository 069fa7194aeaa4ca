package index

import (
	"fmt"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

func product(id, title string) *catalog.Product {
	return &catalog.Product{
		ID: id, Title: title, Brand: "Acme",
		Category: []string{"Home", "Kitchen"},
		Variants: []catalog.Variant{{ID: id + "-v", Price: catalog.Money{Amount: 100, Currency: "USD"}, Stock: map[string]int{"w": 1}}},
	}
}

func newShard(t testing.TB) *Shard {
	t.Helper()
	s, err := NewShard(Options{Rank: rank.DefaultOptions(), Dicts: NewDicts(), MaxSegments: 4})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func search(s *Shard, words ...string) int {
	r := &Request{Filter: Filter{Category: -1}, K: 10, Rank: &rank.Options{}}
	*r.Rank = rank.DefaultOptions()
	for _, w := range words {
		for _, qw := range query.Words(w) {
			r.Words = append(r.Words, qw.Terms)
			r.IDF = append(r.IDF, make([]float64, len(qw.Terms)))
		}
	}
	var res Result
	s.View().Search(r, &res)
	return res.Total
}

// TestMergeKeepsEveryDocument applies many small batches, with updates and
// deletes among them, so that segments merge repeatedly, and checks the
// shard against a map of what it should hold.
func TestMergeKeepsEveryDocument(t *testing.T) {
	s := newShard(t)
	want := map[string]string{}
	for b := range 200 {
		var ps []*catalog.Product
		for i := range 5 {
			id := fmt.Sprintf("p%d", (b*5+i)%300)
			title := fmt.Sprintf("kettle batch%d", b)
			ps = append(ps, product(id, title))
			want[id] = title
		}
		var del []string
		if b%7 == 0 {
			id := fmt.Sprintf("p%d", b%300)
			del = append(del, id)
			delete(want, id)
			// An id both deleted and upserted in a batch is upserted.
		}
		s.Apply(ps, del)
		for _, id := range del {
			for _, p := range ps {
				if p.ID == id {
					want[id] = p.Title
				}
			}
		}
		if st := s.Stats(); st.Segments > 4 {
			t.Fatalf("batch %d: %d segments, more than MaxSegments", b, st.Segments)
		}
	}
	if st := s.Stats(); st.Docs != len(want) {
		t.Fatalf("shard holds %d documents, want %d", st.Docs, len(want))
	}
	for id, title := range want {
		p, ok := s.Product(id)
		if !ok || p.Title != title {
			t.Fatalf("Product(%s) = %v, %v; want title %q", id, p, ok, title)
		}
	}
	if n := search(s, "kettle"); n != len(want) {
		t.Fatalf("search finds %d, want %d", n, len(want))
	}
	if n := search(s, "batch199"); n != 5 {
		t.Fatalf("last batch found %d times, want 5", n)
	}
}

func TestNewShardValidates(t *testing.T) {
	if _, err := NewShard(Options{Rank: rank.DefaultOptions()}); err == nil {
		t.Error("no Dicts accepted")
	}
	o := rank.DefaultOptions()
	o.K1 = -1
	if _, err := NewShard(Options{Rank: o, Dicts: NewDicts()}); err == nil {
		t.Error("invalid rank options accepted")
	}
}

func BenchmarkApplySmallBatches(b *testing.B) {
	ps := make([]*catalog.Product, 20000)
	for i := range ps {
		ps[i] = product(fmt.Sprintf("p%d", i), fmt.Sprintf("kettle model %d steel", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		s := newShard(b)
		s.opts.Now = time.Now
		for i := 0; i < len(ps); i += 100 {
			s.Apply(ps[i:i+100], nil)
		}
	}
}
