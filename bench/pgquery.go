package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aisle/aisle/index"
	aq "github.com/aisle/aisle/query"
)

// pgEngine answers queries with PostgreSQL full-text search: a tsvector
// of weighted fields under a GIN index, ts_rank_cd, the filters as WHERE
// clauses, and facet counts with GROUP BY in the same round trip.
type pgEngine struct{ pool *pgxpool.Pool }

// Notes says how the peer was set up.
func (p *pgEngine) Notes() string {
	return "tsvector (title A, brand B, category C, attributes+description D) with GIN, plainto_tsquery('english'), ts_rank_cd; " +
		"every word must match, else any word; facets conjunctive, by GROUP BY over a materialised CTE; fsync off; " +
		"CPU and allocs are the Go client's only, memory is pg_total_relation_size"
}

// pgFacetSQL counts the facets over the matching rows m.
var pgFacetSQL = func() string {
	var edges []string
	for _, b := range index.PriceBuckets {
		edges = append(edges, strconv.FormatInt(b, 10))
	}
	var ratings []string
	for _, t := range index.RatingBuckets {
		ratings = append(ratings, strconv.FormatFloat(float64(t), 'g', -1, 64))
	}
	return `(SELECT 'brand' AS f, brand_lc AS v, count(*) AS n FROM m GROUP BY brand_lc ORDER BY n DESC LIMIT 20)
UNION ALL (SELECT 'category', c, count(*) AS n FROM m, unnest(m.cats) c GROUP BY c ORDER BY n DESC LIMIT 80)
UNION ALL (SELECT 'color', color, count(*) AS n FROM m WHERE color IS NOT NULL GROUP BY color ORDER BY n DESC LIMIT 20)
UNION ALL (SELECT 'price', width_bucket(price, ARRAY[` + strings.Join(edges, ",") + `]::bigint[])::text, count(*) FROM m GROUP BY 2)
UNION ALL (SELECT 'rating', t::text, count(*) FROM m, unnest(ARRAY[` + strings.Join(ratings, ",") + `]::float8[]) t WHERE rating >= t GROUP BY t)`
}()

func (p *pgEngine) Search(ctx context.Context, q *Query, k int, ids []string) ([]string, int, error) {
	ids, total, err := p.search(ctx, q, k, ids, false)
	if err == nil && total == 0 && len(strings.Fields(q.Text)) > 1 {
		ids, total, err = p.search(ctx, q, k, ids, true)
	}
	if err != nil {
		return ids[:0], 0, fmt.Errorf("bench: postgres: query %q: %w", q.Text, err)
	}
	return ids, total, nil
}

func (p *pgEngine) search(ctx context.Context, q *Query, k int, ids []string, relaxed bool) ([]string, int, error) {
	args := []any{q.Text}
	tsq := `(SELECT plainto_tsquery('english', $1) AS q) q0`
	if relaxed {
		tsq = `(SELECT replace(plainto_tsquery('english', $1)::text, '&', '|')::tsquery AS q) q0`
	}
	where := []string{"doc @@ q"}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	f := &q.Filter
	if f.Category != "" {
		where = append(where, "cats @> ARRAY["+arg(f.Category)+"::text]")
	}
	if len(f.Brands) > 0 {
		bs := make([]string, len(f.Brands))
		for i, b := range f.Brands {
			bs[i] = strings.ToLower(b)
		}
		where = append(where, "brand_lc = ANY("+arg(bs)+"::text[])")
	}
	if f.HasPriceMin {
		where = append(where, "price >= "+arg(f.PriceMin))
	}
	if f.HasPriceMax {
		where = append(where, "price <= "+arg(f.PriceMax))
	}
	if f.RatingMin > 0 {
		where = append(where, "rating >= "+arg(f.RatingMin))
	}
	if f.InStock {
		where = append(where, "in_stock")
	}
	if vs, ok := f.Attrs["color"]; ok {
		cs := make([]string, len(vs))
		for i, v := range vs {
			cs[i] = strings.ToLower(v)
		}
		where = append(where, "color = ANY("+arg(cs)+"::text[])")
	}
	order := "ts_rank_cd(doc, q) DESC"
	switch q.Sort {
	case aq.SortPriceAsc:
		order = "price ASC, " + order
	case aq.SortPriceDesc:
		order = "price DESC, " + order
	case aq.SortRating:
		order = "rating DESC, " + order
	case aq.SortNewest:
		order = "created DESC, " + order
	}
	match := "SELECT * FROM products, " + tsq + " WHERE " + strings.Join(where, " AND ")
	hits := "WITH m AS MATERIALIZED (" + match + ") SELECT id, count(*) OVER () FROM m ORDER BY " + order + " LIMIT " + strconv.Itoa(k)
	b := &pgx.Batch{}
	b.Queue(hits, args...)
	if q.Facets {
		b.Queue("WITH m AS MATERIALIZED ("+match+") "+pgFacetSQL, args...)
	}
	br := p.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return ids, 0, err
	}
	ids = ids[:0]
	total := 0
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return ids, 0, err
		}
		ids, total = append(ids, id), int(n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ids, 0, err
	}
	if q.Facets {
		frows, err := br.Query()
		if err != nil {
			return ids, 0, err
		}
		for frows.Next() {
		}
		frows.Close()
		if err := frows.Err(); err != nil {
			return ids, 0, err
		}
	}
	return ids, total, nil
}
