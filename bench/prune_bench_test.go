package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/search"
)

// BenchmarkPruning replays the scale workload's logs (text only; filters
// with all facets; the mixed log) one query at a time against Aisle on the
// default store grown to AISLE_BENCH_PRODUCTS products (default 100,000),
// with dynamic pruning off and on, in one run so that the two are
// compared under the same machine load. "cold" is the first pass with
// pruning, which builds the block-max metadata of every term it meets;
// "warm" the passes after. One op is one query.
//
//	AISLE_BENCH_PRODUCTS=1000000 go test ./bench -run '^$' -bench Pruning -benchtime 3000x
func BenchmarkPruning(b *testing.B) {
	n := 100_000
	if s := os.Getenv("AISLE_BENCH_PRODUCTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("AISLE_BENCH_PRODUCTS=%q: %v", s, err)
		}
	}
	store, err := corpora.DefaultStore()
	if err != nil {
		b.Fatal(err)
	}
	js, err := corpora.IcecatJudgments()
	if err != nil {
		b.Fatal(err)
	}
	ps := Grow(store, n, 1)
	e, err := search.New(search.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Upsert(ps...); err != nil {
		b.Fatal(err)
	}
	log := QueryLog(ps, JudgedQueries(js), 10000, 1)
	for _, w := range []struct {
		name string
		log  []Query
	}{{"text", textLog(log)}, {"filters+facets", facetLog(log)}, {"mixed", log}} {
		for _, mode := range []string{"exhaustive", "cold", "warm"} {
			b.Run(fmt.Sprintf("products=%d/log=%s/%s", n, w.name, mode), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				c0 := cpuSeconds()
				defer func() { b.ReportMetric((cpuSeconds()-c0)*1e9/float64(b.N), "cpu-ns/op") }()
				for b.Loop() {
					q := &w.log[i%len(w.log)]
					i++
					r := search.Request{Query: q.Text, Filter: q.Filter, Sort: q.Sort, Facets: q.Facets, PageSize: 10,
						NoPrune: mode == "exhaustive", NoCache: true}
					if _, err := e.Search(context.Background(), &r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
