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

// TestBlockMaxEqualsExhaustive is the property test of pruning: over
// random requests (conjunctive and relaxed, with synonyms, every filter,
// facets, sponsored hits, plain and blended scoring, small and large k) on
// a shard of several segments with deletes, the pruned search answers
// exactly what the exhaustive walk does: total, hits with their keys and
// scores, sponsored hits and facets. It also checks that pruning skipped
// work, so that it cannot pass by never pruning.
func TestBlockMaxEqualsExhaustive(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 23))
	s, err := NewShard(Options{
		Rank: rank.DefaultOptions(), Dicts: NewDicts(), FacetAttrs: []string{"Color", "Size"},
		MaxSegments: 100, Now: func() time.Time { return mergeNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		var ps []*catalog.Product
		for _, id := range r.Perm(12000)[:2000+r.IntN(3000)] {
			ps = append(ps, randProduct(r, fmt.Sprintf("p%d", id)))
		}
		var del []string
		for range r.IntN(100) {
			del = append(del, fmt.Sprintf("p%d", r.IntN(12000)))
		}
		s.Apply(ps, del)
	}
	if st := s.Stats(); st.Segments < 3 || st.Deleted == 0 {
		t.Fatalf("fixture: %+v, want several segments and some deleted", st)
	}
	v := s.View()
	plain := rank.DefaultOptions().Plain()
	reqs := randomRequests(r, s, 400)
	for _, q := range reqs {
		q.Sort = query.SortRelevance // the order pruning serves
		q.K = []int{1, 5, 10, 20, 100}[r.IntN(5)]
		if r.IntN(3) == 0 {
			q.Plain, q.Rank = true, &plain
		}
		if len(q.Words) > 0 && r.IntN(3) == 0 { // a synonym: a second term for a word
			w := r.IntN(len(q.Words))
			alt := query.Words(mergeWords[r.IntN(len(mergeWords))])[0].Terms[0]
			q.Words[w] = append(q.Words[w][:1:1], alt)
			q.IDF[w] = append(q.IDF[w][:1:1], rank.IDF(v.Docs(), v.DocFreq(alt)))
		}
		if len(q.Words) == 0 {
			w := query.Words(mergeWords[r.IntN(len(mergeWords))])[0].Terms
			q.Words = [][]string{w}
			q.IDF = [][]float64{{rank.IDF(v.Docs(), v.DocFreq(w[0]))}}
		}
	}
	pruned := searchAll(s, reqs)
	// The documents scored, pruned and not, over the requests that take
	// the block-max walk.
	var scoredPruned, scoredAll, blockMax int
	var res Result
	for _, q := range reqs {
		if ev := (evaluator{r: q, cur: []cursor{{}}}); ev.blockMaxPrunable() {
			blockMax++
			v.Search(q, &res)
			scoredPruned += res.scored
			q.NoPrune = true
			v.Search(q, &res)
			scoredAll += res.scored
		}
		q.NoPrune = true
	}
	exhaustive := searchAll(s, reqs)
	for i := range reqs {
		if pruned[i] != exhaustive[i] {
			t.Fatalf("request %d (%+v) pruned:\n%s\nexhaustive:\n%s", i, reqs[i], pruned[i], exhaustive[i])
		}
	}
	if blockMax < len(reqs)/3 {
		t.Fatalf("only %d of %d requests took the block-max walk", blockMax, len(reqs))
	}
	if scoredPruned*4 > scoredAll*3 {
		t.Fatalf("pruning scored %d documents, the exhaustive walk %d: it skipped too little", scoredPruned, scoredAll)
	}
	t.Logf("%d block-max requests; %d documents scored pruned, %d exhaustive", blockMax, scoredPruned, scoredAll)
}

// TestColumnSortEqualsExhaustive checks that a sort by a column, which
// skips scoring the text of documents whose key cannot enter the top-k,
// answers exactly what the walk scoring every match does (ties on the key
// are broken by the score, so a document whose key equals the k-th is
// still scored), and that it skipped work.
func TestColumnSortEqualsExhaustive(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	s, err := NewShard(Options{
		Rank: rank.DefaultOptions(), Dicts: NewDicts(), FacetAttrs: []string{"Color", "Size"},
		MaxSegments: 100, Now: func() time.Time { return mergeNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		var ps []*catalog.Product
		for _, id := range r.Perm(9000)[:2000+r.IntN(2000)] {
			ps = append(ps, randProduct(r, fmt.Sprintf("p%d", id)))
		}
		s.Apply(ps, []string{fmt.Sprintf("p%d", r.IntN(9000))})
	}
	n := 300
	if testing.Short() {
		n = 60 // the race pass
	}
	reqs := randomRequests(r, s, n)
	for _, q := range reqs {
		q.Sort = query.Sort(1 + r.IntN(4))
		q.Sponsored = 0 // the engine asks for sponsored hits on relevance only
		q.K = []int{1, 5, 10, 100}[r.IntN(4)]
	}
	pruned := searchAll(s, reqs)
	var scoredPruned, scoredAll int
	var res Result
	v := s.View()
	for _, q := range reqs {
		v.Search(q, &res)
		scoredPruned += res.scored
		q.NoPrune = true
		v.Search(q, &res)
		scoredAll += res.scored
	}
	exhaustive := searchAll(s, reqs)
	for i := range reqs {
		if pruned[i] != exhaustive[i] {
			t.Fatalf("request %d (%+v) pruned:\n%s\nexhaustive:\n%s", i, reqs[i], pruned[i], exhaustive[i])
		}
	}
	if scoredPruned*2 > scoredAll {
		t.Fatalf("column sorts scored %d texts, the exhaustive walk %d: it skipped too little", scoredPruned, scoredAll)
	}
	t.Logf("%d texts scored pruned, %d exhaustive", scoredPruned, scoredAll)
}
