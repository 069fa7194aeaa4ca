package bench

import (
	"context"
	"math"
	"slices"

	"github.com/aisle/aisle/corpora"
)

// Relevance are the figures of one engine over the judged queries,
// computed as internal/e2e computes them for corpora/icecat/rank_stats.txt.
type Relevance struct {
	Queries   int     `json:"queries"`
	Judged    int     `json:"judged"` // queries with a product rated 2 or 3; NDCG, recall and MRR average over these
	NDCG10    float64 `json:"ndcg10"`
	Recall100 float64 `json:"recall100"`
	MRR       float64 `json:"mrr"`
	ZeroRate  float64 `json:"zero_rate"`
}

// evaluate runs every judged query through s (text only, no filters) and
// scores the first 100 results with Score.
func evaluate(ctx context.Context, s Searcher, js []corpora.Judgment) (Relevance, error) {
	var ids []string
	return Score(js, func(q string) ([]string, int, error) {
		var total int
		var err error
		ids, total, err = s.Search(ctx, &Query{Text: q, Judged: true}, 100, ids)
		return ids, total, err
	})
}

// Score asks ranked for the first 100 results of every judged query and
// scores them: NDCG@10 with gains 2^rating-1, recall@100 of products rated 2
// or 3, MRR of the first product rated 2 or 3, and the share of queries with
// no result. Unjudged results count as 0. NDCG, recall and MRR average over
// the queries with a product rated 2 or 3. The ids ranked returns are read
// before it is called again.
func Score(js []corpora.Judgment, ranked func(query string) (ids []string, total int, err error)) (Relevance, error) {
	byQuery := map[string]map[string]int{}
	var queries []string
	for _, j := range js {
		m := byQuery[j.Query]
		if m == nil {
			m = map[string]int{}
			byQuery[j.Query] = m
			queries = append(queries, j.Query)
		}
		m[j.ProductID] = j.Rating
	}
	slices.Sort(queries)
	var m Relevance
	for _, qt := range queries {
		grades := byQuery[qt]
		ids, total, err := ranked(qt)
		if err != nil {
			return m, err
		}
		m.Queries++
		if total == 0 {
			m.ZeroRate++
		}
		var dcg float64
		for i, id := range ids[:min(10, len(ids))] {
			dcg += gain(grades[id]) / math.Log2(float64(i+2))
		}
		ideal := make([]int, 0, len(grades))
		relevant := 0
		for _, g := range grades {
			ideal = append(ideal, g)
			if g >= 2 {
				relevant++
			}
		}
		if relevant == 0 {
			continue
		}
		slices.Sort(ideal)
		slices.Reverse(ideal)
		var idcg float64
		for i, g := range ideal[:min(10, len(ideal))] {
			idcg += gain(g) / math.Log2(float64(i+2))
		}
		m.Judged++
		m.NDCG10 += dcg / idcg
		found, rr := 0, 0.0
		for i, id := range ids[:min(100, len(ids))] {
			if grades[id] >= 2 {
				found++
				if rr == 0 {
					rr = 1 / float64(i+1)
				}
			}
		}
		m.MRR += rr
		m.Recall100 += float64(found) / float64(relevant)
	}
	n := float64(max(m.Judged, 1))
	m.NDCG10 /= n
	m.Recall100 /= n
	m.MRR /= n
	m.ZeroRate /= float64(max(m.Queries, 1))
	return m, nil
}

func gain(rating int) float64 { return math.Exp2(float64(rating)) - 1 }
