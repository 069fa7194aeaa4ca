package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/search"
)

// Searcher is what the workloads need of an engine under test.
//
// Search answers q with the ids of its first k organic results appended to
// ids[:0], and the number of matching products; when q.Facets is set the
// engine must compute the facets as a storefront page would (brand,
// category, price, rating and color counts), though only their cost is
// measured. Search must be safe for concurrent use.
type Searcher interface {
	Search(ctx context.Context, q *Query, k int, ids []string) ([]string, int, error)
}

// engine is one built engine of a run.
type engine struct {
	name string
	s    Searcher
	// close releases the engine's resources; nil when there are none.
	close func() error
	// bytes is the size of the engine's files or server memory outside the
	// Go heap, when it has any.
	bytes func() int64
	// loaded, when set, is the time the build spent loading the products,
	// without starting the engine (PostgreSQL: COPY, indexes, ANALYZE).
	loaded time.Duration
}

// builder indexes products into a new engine.
type builder func(ctx context.Context, ps []*catalog.Product) (*engine, error)

// aisle adapts search.Engine to Searcher. Its searches bypass the
// response cache unless cached is set: the workloads replay their log many
// times over, which a cache would turn into a measure of itself; the scale
// workload measures the cache on one pass of the log (see cachePass).
type aisle struct {
	e      *search.Engine
	cached bool
}

func buildAisle(shards int) builder {
	return func(ctx context.Context, ps []*catalog.Product) (*engine, error) {
		e, err := search.New(search.Options{Shards: shards})
		if err != nil {
			return nil, fmt.Errorf("bench: aisle: %w", err)
		}
		if err := e.Upsert(ps...); err != nil {
			return nil, fmt.Errorf("bench: aisle: indexing %d products: %w", len(ps), err)
		}
		return &engine{name: "aisle", s: aisle{e: e}}, nil
	}
}

func (a aisle) Search(ctx context.Context, q *Query, k int, ids []string) ([]string, int, error) {
	r := search.Request{Query: q.Text, Filter: q.Filter, Sort: q.Sort, Facets: q.Facets, PageSize: k, NoCache: !a.cached}
	res, err := a.e.Search(ctx, &r)
	if err != nil {
		return ids[:0], 0, fmt.Errorf("bench: aisle: query %q: %w", q.Text, err)
	}
	ids = ids[:0]
	for _, h := range res.Hits {
		if !h.Sponsored {
			ids = append(ids, h.Product.ID)
		}
	}
	return ids, res.Total, nil
}
