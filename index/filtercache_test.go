package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/rank"
)

// TestFilterCacheKeepsResults searches two shards holding the same
// products, one with a filter cache, cold and then warm, and requires the
// same answers to random requests with every filter; the warm pass must
// hit the cache.
func TestFilterCacheKeepsResults(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	fc := NewFilterCache(1 << 20)
	var shards [2]*Shard
	for i := range shards {
		o := Options{Rank: rank.DefaultOptions(), Dicts: NewDicts(), FacetAttrs: []string{"Color", "Size"},
			MaxSegments: 100, Now: func() time.Time { return mergeNow }}
		if i == 1 {
			o.Filters = fc
		}
		s, err := NewShard(o)
		if err != nil {
			t.Fatal(err)
		}
		shards[i] = s
	}
	for range 4 {
		var ps []*catalog.Product
		for _, id := range r.Perm(2000)[:300+r.IntN(300)] {
			ps = append(ps, randProduct(r, fmt.Sprintf("p%d", id)))
		}
		del := []string{fmt.Sprintf("p%d", r.IntN(2000))}
		for _, s := range shards {
			s.Apply(ps, del)
		}
	}
	reqs := randomRequests(rand.New(rand.NewPCG(33, 34)), shards[0], 300)
	// The shards number values in their own Dicts, in the same order.
	want := searchAll(shards[0], reqs)
	for pass := range 2 {
		got := searchAll(shards[1], reqs)
		for i := range reqs {
			if got[i] != want[i] {
				t.Fatalf("pass %d request %d (%+v) with the cache:\n%s\nwithout:\n%s", pass, i, reqs[i], got[i], want[i])
			}
		}
	}
	st := fc.Stats()
	if st.Hits == 0 || st.Misses == 0 || st.Bytes == 0 {
		t.Fatalf("cache stats %+v: want hits, misses and bytes held", st)
	}
	t.Logf("%+v", st)
}
