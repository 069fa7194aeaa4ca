package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
)

// TestBrowseEqualsExhaustive checks that a browse page (no words, by
// relevance), which skips ranges of documents whose best boost is below
// the k-th key, answers exactly what the exhaustive walk does: hits,
// sponsored hits, total and facets, over random filters, k, plain and
// blended scoring, on a shard of several segments with deletes; and that
// it skipped ranges.
func TestBrowseEqualsExhaustive(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	s, err := NewShard(Options{
		Rank: rank.DefaultOptions(), Dicts: NewDicts(), FacetAttrs: []string{"Color", "Size"},
		MaxSegments: 100, Now: func() time.Time { return mergeNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		var ps []*catalog.Product
		for _, id := range r.Perm(12000)[:3000+r.IntN(3000)] {
			ps = append(ps, randProduct(r, fmt.Sprintf("p%d", id)))
		}
		s.Apply(ps, []string{fmt.Sprintf("p%d", r.IntN(12000))})
	}
	plain := rank.DefaultOptions().Plain()
	n := 200
	if testing.Short() {
		n = 50 // the race pass
	}
	reqs := randomRequests(r, s, n)
	for _, q := range reqs {
		q.Words, q.IDF, q.MinMatch = nil, nil, 0
		q.Sort = query.SortRelevance
		q.K = []int{1, 10, 20, 100}[r.IntN(4)]
		if r.IntN(4) == 0 {
			q.Plain, q.Rank = true, &plain
		}
	}
	pruned := searchAll(s, reqs)
	skipped := 0
	var res Result
	for _, q := range reqs {
		s.View().Search(q, &res)
		skipped += res.skipped
		q.NoPrune = true
	}
	exhaustive := searchAll(s, reqs)
	for i := range reqs {
		if pruned[i] != exhaustive[i] {
			t.Fatalf("request %d (%+v) pruned:\n%s\nexhaustive:\n%s", i, reqs[i], pruned[i], exhaustive[i])
		}
	}
	if skipped < len(reqs) {
		t.Fatalf("%d ranges skipped over %d requests", skipped, len(reqs))
	}
	t.Logf("%d ranges skipped", skipped)
}
