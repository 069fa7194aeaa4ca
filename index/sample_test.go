package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/rank"
)

// TestFacetSample checks sampled facet counts against exact ones over
// random requests on a shard of several segments with deletes: below the
// threshold the counts are the exact ones and not flagged; above it they
// are flagged, and every count is within five standard errors of the
// exact one (√(7c) for a count c at 1 in 8; the sample is fixed, so one
// draw is shared by every request and errors repeat across requests);
// the sample holds about one document in eight.
func TestFacetSample(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	s, err := NewShard(Options{Rank: rank.DefaultOptions(), Dicts: NewDicts(), FacetAttrs: []string{"Color", "Size"},
		MaxSegments: 100, Now: func() time.Time { return mergeNow }})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		var ps []*catalog.Product
		for _, id := range r.Perm(30000)[:8000+r.IntN(4000)] {
			ps = append(ps, randProduct(r, fmt.Sprintf("p%d", id)))
		}
		s.Apply(ps, []string{fmt.Sprintf("p%d", r.IntN(30000))})
	}
	v := s.View()
	for _, seg := range v.snap.segs {
		n, got := float64(seg.len()), float64(seg.sampleDocs().GetCardinality())
		if math.Abs(got-n/FacetSampleRate) > 5*math.Sqrt(n/FacetSampleRate) {
			t.Fatalf("sample of %v documents holds %v", n, got)
		}
	}
	var exact, sampled Result
	flagged, compared, big := 0, 0, 0
	n := 150
	if testing.Short() {
		n = 50 // the race pass
	}
	for _, q := range randomRequests(r, s, n) {
		q.Facets = true
		q.FacetSampleAbove = 0
		v.Search(q, &exact)
		if exact.FacetsSampled {
			t.Fatal("a request that does not sample is flagged")
		}
		q.FacetSampleAbove = 500
		v.Search(q, &sampled)
		if sampled.Total != exact.Total {
			t.Fatalf("total %d sampled, %d exact", sampled.Total, exact.Total)
		}
		if !sampled.FacetsSampled {
			if a, b := fmt.Sprint(sampled.Facets), fmt.Sprint(exact.Facets); a != b {
				t.Fatalf("unflagged counts differ:\n%s\n%s", a, b)
			}
			continue
		}
		flagged++
		check := func(what string, got, want uint32) {
			compared++
			c := float64(want)
			d := math.Abs(float64(got) - c)
			if d > 5*math.Sqrt(7*c)+FacetSampleRate {
				t.Fatalf("%s: %d sampled, %d exact", what, got, want)
			}
			if c >= 1000 {
				big++
			}
		}
		e, g := &exact.Facets, &sampled.Facets
		for i := range e.Price {
			check(fmt.Sprintf("price %d", i), g.Price[i], e.Price[i])
		}
		for i := range e.Rating {
			check(fmt.Sprintf("rating %d", i), g.Rating[i], e.Rating[i])
		}
		for b := range e.Brand {
			check(fmt.Sprintf("brand %d", b), g.Brand[b], e.Brand[b])
		}
		for l := range e.Leaf {
			check(fmt.Sprintf("leaf %d", l), g.Leaf[l], e.Leaf[l])
		}
		for k := range e.Attr {
			for i := range e.Attr[k] {
				check(fmt.Sprintf("attr %d value %d", k, i), g.Attr[k][i], e.Attr[k][i])
			}
		}
	}
	if flagged < n/8 || big < n/3 {
		t.Fatalf("%d sampled requests, %d counts of 1,000 or more: too few to test", flagged, big)
	}
	t.Logf("%d sampled requests, %d counts compared, %d of 1,000 or more", flagged, compared, big)
}
