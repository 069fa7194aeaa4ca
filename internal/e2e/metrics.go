package e2e

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/search"
)

// Metrics are the relevance figures of one configuration over the judged
// queries.
type Metrics struct {
	Queries   int
	Judged    int // queries with a product rated 2 or 3, over which NDCG, recall and MRR are averaged
	NDCG10    float64
	Recall100 float64
	MRR       float64
	ZeroRate  float64
}

// Evaluate runs every judged query through eng and scores the results with
// the judgments: NDCG@10 with gains 2^rating-1, recall@100 of products rated
// 2 or 3, MRR of the first product rated 2 or 3, and the share of queries
// with no result. Unjudged results count as rating 0.
func Evaluate(eng *search.Engine, js []corpora.Judgment, plain bool) (Metrics, error) {
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
	var m Metrics
	for _, q := range queries {
		grades := byQuery[q]
		ids, total, err := top(eng, q, 100, plain)
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
		slices.Sort(ideal)
		slices.Reverse(ideal)
		var idcg float64
		for i, g := range ideal[:min(10, len(ideal))] {
			idcg += gain(g) / math.Log2(float64(i+2))
		}
		if relevant == 0 {
			continue // NDCG, recall and MRR are undefined without a relevant product
		}
		m.Judged++
		m.NDCG10 += dcg / idcg
		found := 0
		rr := 0.0
		for i, id := range ids {
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

// top returns the ids of the first k organic results of q.
func top(eng *search.Engine, q string, k int, plain bool) ([]string, int, error) {
	var ids []string
	total := 0
	for page := 1; len(ids) < k; page++ {
		res, err := eng.Search(context.Background(), &search.Request{Query: q, Page: page, PageSize: search.MaxPageSize, Plain: plain})
		if err != nil {
			return nil, 0, fmt.Errorf("query %q: %w", q, err)
		}
		total = res.Total
		organic := 0
		for _, h := range res.Hits {
			if h.Sponsored {
				continue
			}
			organic++
			ids = append(ids, h.Product.ID)
		}
		if organic < search.MaxPageSize {
			break
		}
	}
	return ids[:min(k, len(ids))], total, nil
}

func (m Metrics) String() string {
	return fmt.Sprintf("queries=%d judged=%d ndcg@10=%.4f recall@100=%.4f mrr=%.4f zero_rate=%.4f",
		m.Queries, m.Judged, m.NDCG10, m.Recall100, m.MRR, m.ZeroRate)
}
