package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/rank"
)

// TestBackgroundMerge: merges run behind Applies that update and delete
// documents of the segments being merged; the shard ends up holding the
// same products as one merging synchronously, none lost, none revived.
func TestBackgroundMerge(t *testing.T) {
	newShard := func(syncDocs int) *Shard {
		s, err := NewShard(Options{Rank: rank.DefaultOptions(), Dicts: NewDicts(), MaxSegments: 4,
			SyncMergeDocs: syncDocs, Now: func() time.Time { return mergeNow }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	bg, ref := newShard(1), newShard(-1)
	// Each background merge waits, before swapping its result in, until
	// the test has applied two more batches beside it.
	gate := make(chan struct{})
	bg.mergeHook = func() { <-gate; <-gate }
	r := rand.New(rand.NewPCG(3, 4))
	apply := func() {
		var ps []*catalog.Product
		for range 1 + r.IntN(40) {
			ps = append(ps, randProduct(r, fmt.Sprintf("p%d", r.IntN(300))))
		}
		var del []string
		for range r.IntN(10) {
			del = append(del, fmt.Sprintf("p%d", r.IntN(300)))
		}
		bg.Apply(ps, del)
		ref.Apply(ps, del)
	}
	swaps := 0
	for round := range 80 {
		apply()
		bg.mu.Lock()
		running := bg.mergeTo > 0
		bg.mu.Unlock()
		if running {
			apply()
			gate <- struct{}{}
			apply()
			gate <- struct{}{}
			swaps++
			bg.WaitMerges()
		}
		if round%10 == 9 {
			same(t, fmt.Sprintf("round %d", round), bg, ref)
		}
	}
	if swaps < 5 {
		t.Fatalf("only %d background merges ran; the test proves little", swaps)
	}
	same(t, "end", bg, ref)
	t.Logf("%d background merges, %d segments (reference %d)", swaps, bg.Stats().Segments, ref.Stats().Segments)
}

// same checks that a and b hold the same live products.
func same(t *testing.T, what string, a, b *Shard) {
	t.Helper()
	ids := map[string]*catalog.Product{}
	b.Each(func(p *catalog.Product) bool { ids[p.ID] = p; return true })
	n := 0
	a.Each(func(p *catalog.Product) bool {
		n++
		if ids[p.ID] != p {
			t.Fatalf("%s: %s is %p in the background-merged shard, %p in the reference", what, p.ID, p, ids[p.ID])
		}
		return true
	})
	if n != len(ids) || a.Stats().Docs != b.Stats().Docs {
		t.Fatalf("%s: %d live products (stats %d), want %d", what, n, a.Stats().Docs, len(ids))
	}
	for id, p := range ids {
		if q, ok := a.Product(id); !ok || q != p {
			t.Fatalf("%s: Product(%s) = %p, %v; want %p", what, id, q, ok, p)
		}
	}
	for _, w := range mergeWords {
		if x, y := search(a, w), search(b, w); x != y {
			t.Fatalf("%s: %q matches %d, reference %d", what, w, x, y)
		}
	}
}
