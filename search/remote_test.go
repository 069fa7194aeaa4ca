package search

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/index"
	"github.com/aisle/aisle/query"
)

// nodes is a Remote over engines in this process, each holding some
// shards; every request and answer goes through JSON, as over the wire.
type nodes struct {
	engines []*Engine
	holds   [][]int // per engine, the shards it serves
	shards  int
	down    map[int]bool // shards to report missing
}

func roundTrip[T any](t T) T {
	b, err := json.Marshal(t)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// plan assigns every live shard to the first engine holding it.
func (n *nodes) plan() (by [][]int, missing []int) {
	by = make([][]int, len(n.engines))
	for s := range n.shards {
		found := false
		for i, h := range n.holds {
			if !n.down[s] && slices.Contains(h, s) {
				by[i] = append(by[i], s)
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, s)
		}
	}
	return by, missing
}

func (n *nodes) TermStats(_ context.Context, terms []string) (*TermStats, []int, error) {
	by, missing := n.plan()
	sum := &TermStats{DF: map[string]int{}}
	for i, shards := range by {
		if len(shards) == 0 {
			continue
		}
		ts, err := n.engines[i].ShardTermStats(shards, roundTrip(terms))
		if err != nil {
			return nil, nil, err
		}
		sum.Add(roundTrip(ts))
	}
	return sum, missing, nil
}

func (n *nodes) Search(ctx context.Context, r ShardRequest) ([]*ShardResult, []int, error) {
	by, missing := n.plan()
	var out []*ShardResult
	for i, shards := range by {
		if len(shards) == 0 {
			continue
		}
		r.Shards = shards
		res, err := n.engines[i].SearchShards(ctx, roundTrip(&r))
		if err != nil {
			return nil, nil, err
		}
		out = append(out, roundTrip(res))
	}
	return out, missing, nil
}

func (n *nodes) Products(_ context.Context, ids []string) ([]*catalog.Product, error) {
	var out []*catalog.Product
	for _, id := range ids {
		s := index.Partition(id, n.shards)
		for i, h := range n.holds {
			if !n.down[s] && slices.Contains(h, s) {
				out = append(out, n.engines[i].ShardProducts([]string{id}, true)...)
				break
			}
		}
	}
	return out, nil
}

// newNodes indexes ps over engines holding the given shards each.
func newNodes(t testing.TB, opts Options, ps []*catalog.Product, holds [][]int) *nodes {
	n := &nodes{holds: holds, shards: opts.Shards, down: map[int]bool{}}
	for _, h := range holds {
		e, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		var mine []*catalog.Product
		for _, p := range ps {
			if slices.Contains(h, index.Partition(p.ID, opts.Shards)) {
				mine = append(mine, p)
			}
		}
		if err := e.Upsert(mine...); err != nil {
			t.Fatal(err)
		}
		n.engines = append(n.engines, e)
	}
	return n
}

// icecatSlice is the judged Icecat products and the first n others.
func icecatSlice(t testing.TB, n int) ([]*catalog.Product, []string) {
	ps, err := corpora.Icecat()
	if err != nil {
		t.Fatal(err)
	}
	js, err := corpora.IcecatJudgments()
	if err != nil {
		t.Fatal(err)
	}
	judged := map[string]bool{}
	var queries []string
	for _, j := range js {
		judged[j.ProductID] = true
		if !slices.Contains(queries, j.Query) {
			queries = append(queries, j.Query)
		}
	}
	var out []*catalog.Product
	for i, p := range ps {
		if i < n || judged[p.ID] {
			out = append(out, p)
		}
	}
	return out, queries
}

// equivRequests are the judged queries, plain and with facets, and
// generated ones: title words with filters, sorts and later pages.
func equivRequests(ps []*catalog.Product, judged []string, n int) []Request {
	var rs []Request
	for _, q := range judged {
		rs = append(rs, Request{Query: q, PageSize: 10, Facets: true}, Request{Query: q, PageSize: 10, Plain: true})
	}
	r := rand.New(rand.NewPCG(20, 1))
	for range n {
		p := ps[r.IntN(len(ps))]
		ws := query.Words(p.Title)
		var q string
		for range 1 + r.IntN(3) {
			if len(ws) > 0 {
				q += ws[r.IntN(len(ws))].Text + " "
			}
		}
		req := Request{Query: q, PageSize: 10, Page: 1 + r.IntN(3), Facets: r.IntN(2) == 0, Sort: query.Sort(r.IntN(int(query.SortNewest) + 1))}
		switch r.IntN(6) {
		case 0:
			req.Filter.Brands = []string{p.Brand, ps[r.IntN(len(ps))].Brand}
		case 1:
			req.Filter.Category = catalog.CategorySlug(p.Category[:1+r.IntN(len(p.Category))])
		case 2:
			req.Filter.PriceMax, req.Filter.HasPriceMax = int64(r.IntN(50000)), true
			req.Filter.InStock = true
		case 3:
			req.Filter.Brands = []string{"no such brand"}
		case 4:
			req.Query = ""
		}
		rs = append(rs, req)
	}
	return rs
}

// TestRouterEquivalence: the Icecat slice split over three nodes, through
// a router, answers as one engine holding all of it: the same hits in the
// same order with the same scores, totals and facet counts. With a shard
// down, the answer is partial and that of the products of the others.
func TestRouterEquivalence(t *testing.T) {
	ps, judged := icecatSlice(t, 2500)
	opts := Options{Shards: 6, FacetAttributes: []string{"color", "form factor"}}
	one, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := one.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	// Three nodes, the last two sharing shard 4 (replicas).
	ns := newNodes(t, opts, ps, [][]int{{0, 1}, {2, 3, 4}, {4, 5}})
	router, err := NewRouter(opts, ns)
	if err != nil {
		t.Fatal(err)
	}
	generated := 600
	if testing.Short() { // the CI's race pass
		generated = 150
	}
	reqs := equivRequests(ps, judged, generated)
	ctx := context.Background()
	compare := func(t *testing.T, want, got *Engine, reqs []Request) {
		nonEmpty := 0
		for _, r := range reqs {
			r.NoCache = true
			w, err := want.Search(ctx, &r)
			if err != nil {
				t.Fatal(err)
			}
			g, err := got.Search(ctx, &r)
			if err != nil {
				t.Fatal(err)
			}
			if len(w.Hits) > 0 {
				nonEmpty++
			}
			if d := diffResults(w, g); d != "" {
				t.Errorf("%+v: %s", r, d)
			}
		}
		if nonEmpty < len(reqs)/2 {
			t.Errorf("only %d of %d requests found anything: the comparison is weak", nonEmpty, len(reqs))
		}
		t.Logf("%d requests compared, %d with hits", len(reqs), nonEmpty)
	}
	t.Run("complete", func(t *testing.T) { compare(t, one, router, reqs) })

	// Sponsored slots and relaxed pages, on a corpus with ads.
	t.Run("sponsored", func(t *testing.T) {
		fx := fixture(3000, 5)
		one, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := one.Upsert(fx...); err != nil {
			t.Fatal(err)
		}
		router, err := NewRouter(opts, newNodes(t, opts, fx, [][]int{{0, 2, 4}, {1, 3, 5}}))
		if err != nil {
			t.Fatal(err)
		}
		ads := 0
		var reqs []Request
		for i, q := range []string{"wireless", "noise cancelling headphones", "portable bluetooth speaker laptop", "cable charger", "laptop"} {
			for page := range 3 {
				reqs = append(reqs, Request{Query: q, Page: page + 1, PageSize: 5 + 5*i, Facets: page == 0})
			}
		}
		compare(t, one, router, reqs)
		for _, r := range reqs {
			res, err := router.Search(ctx, &r)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range res.Hits {
				if h.Sponsored {
					ads++
				}
			}
		}
		if ads == 0 {
			t.Error("no sponsored hit: the comparison does not cover them")
		}
	})

	t.Run("shard down", func(t *testing.T) {
		ns.down[3] = true
		defer delete(ns.down, 3)
		var rest []*catalog.Product
		for _, p := range ps {
			if index.Partition(p.ID, opts.Shards) != 3 {
				rest = append(rest, p)
			}
		}
		without, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := without.Upsert(rest...); err != nil {
			t.Fatal(err)
		}
		res, err := router.Search(ctx, &Request{Query: judged[0]})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Partial || !slices.Equal(res.MissingShards, []int{3}) {
			t.Errorf("partial %v, missing %v; want true, [3]", res.Partial, res.MissingShards)
		}
		compare(t, without, router, reqs[:100])
	})
}

// diffResults describes how got differs from want, or "".
func diffResults(want, got *Result) string {
	ids := func(r *Result) []string {
		var out []string
		for _, h := range r.Hits {
			out = append(out, fmt.Sprintf("%s/%.6g/%v", h.Product.ID, h.Score, h.Sponsored))
		}
		return out
	}
	switch {
	case !slices.Equal(ids(want), ids(got)):
		return fmt.Sprintf("hits\n%v, want\n%v", ids(got), ids(want))
	case want.Total != got.Total || want.Exact != got.Exact || want.Relaxed != got.Relaxed:
		return fmt.Sprintf("total %d exact %d relaxed %v, want %d %d %v", got.Total, got.Exact, got.Relaxed, want.Total, want.Exact, want.Relaxed)
	case !reflect.DeepEqual(want.Facets, got.Facets):
		return fmt.Sprintf("facets\n%+v, want\n%+v", got.Facets, want.Facets)
	case !reflect.DeepEqual(want.FilterRelaxations, got.FilterRelaxations):
		return fmt.Sprintf("filter relaxations %+v, want %+v", got.FilterRelaxations, want.FilterRelaxations)
	}
	for i := range want.Hits {
		if !reflect.DeepEqual(Listing(want.Hits[i].Product), got.Hits[i].Product) || want.Hits[i].Offer != got.Hits[i].Offer {
			return fmt.Sprintf("hit %d: product or offer differs", i)
		}
	}
	return ""
}
