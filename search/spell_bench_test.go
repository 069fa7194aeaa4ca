package search

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

var spellOnce struct {
	sync.Once
	err error
}

// spellEngine is the default store of storeEngine with its spelling data
// built and the judged queries as popular searches.
func spellEngine(b *testing.B) *Engine {
	e, queries := storeEngine(b)
	spellOnce.Do(func() {
		e.opts.PopularQueries = queries
		spellOnce.err = e.RebuildSpelling()
	})
	if spellOnce.err != nil {
		b.Fatal(spellOnce.err)
	}
	return e
}

var benchTypos = []string{"wirelss hedphones", "blutooth speakr", "laptpo bag", "extrenal hard drive", "keybaord",
	"nintendo swich", "rechargable batteries", "projecter screen", "smartwach", "ipone case", "hdmi cabel", "tablte"}

// BenchmarkCorrect measures the correction of a misspelt query against the
// default store: candidates, scoring and co-occurrence counts.
func BenchmarkCorrect(b *testing.B) {
	e := spellEngine(b)
	st := e.getState()
	defer e.states.Put(st)
	for i, s := range e.shards {
		st.views[i] = s.View()
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.correct(st, benchTypos[i%len(benchTypos)], misspelt, false)
		i++
	}
}

// BenchmarkSuggest measures autocomplete on prefixes of the judged
// queries, one to all their letters, with and without a typo; it reports
// the 99th percentile.
func BenchmarkSuggest(b *testing.B) {
	e := spellEngine(b)
	var prefixes []string
	r := rand.New(rand.NewPCG(1, 2))
	for _, q := range append(slices.Clone(e.opts.PopularQueries), benchTypos...) {
		for n := 1; n <= len(q); n++ {
			prefixes = append(prefixes, q[:n])
		}
		prefixes = append(prefixes, typo(q, r))
	}
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		start := time.Now()
		e.Suggest(prefixes[i%len(prefixes)], 8)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(start))
		}
		i++
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	}
}

// benchSlips are misspelt queries of every kind the fallback tries: one
// and two edits, a word split in two, two words joined.
var benchSlips = []string{"wirelss hedphones", "laptpo bag", "keybaord", "ltpop bag", "wirless huadphones", "head phones",
	"lap top sleeve", "key board", "gamingkeyboard", "bluetoothspeaker", "nintendo swich", "smartwach"}

// BenchmarkSearchMisspelt measures whole searches of misspelt queries on
// the default store with its spelling built: the query as typed and every
// correction the fallback runs.
func BenchmarkSearchMisspelt(b *testing.B) {
	e := spellEngine(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := Request{Query: benchSlips[i%len(benchSlips)], Facets: true, NoCache: true}
		if _, err := e.Search(context.Background(), &r); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkJudgedQueriesServed is BenchmarkJudgedQueries (one goroutine)
// with the spelling built, as a store serves: a query that matched enough
// products still has its neighbouring words looked up for a join.
func BenchmarkJudgedQueriesServed(b *testing.B) {
	e := spellEngine(b)
	_, qs := storeEngine(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := Request{Query: qs[i%len(qs)], Facets: true, NoCache: true}
		if _, err := e.Search(context.Background(), &r); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
