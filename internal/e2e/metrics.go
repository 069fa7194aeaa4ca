package e2e

import (
	"context"
	"fmt"

	"github.com/aisle/aisle/bench"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/search"
)

// Metrics are the relevance figures of one configuration over the judged
// queries, as bench computes them.
type Metrics bench.Relevance

// Evaluate runs every judged query through eng, plain BM25F or blended, and
// scores its first 100 organic results with bench.Score.
func Evaluate(eng *search.Engine, js []corpora.Judgment, plain bool) (Metrics, error) {
	r, err := bench.Score(js, func(q string) ([]string, int, error) { return top(eng, q, 100, plain) })
	return Metrics(r), err
}

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
