package bench

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
)

// Floors of the regression guard. They are ratios measured in the same
// run, never absolute times, and far below what is measured (about 20x
// and +0.03 on the Icecat catalog, 2 cores), so that only a large
// regression fails.
const (
	guardMinQPSRatio  = 3.0  // Aisle q/s over Bleve q/s at 2 clients
	guardNDCGMargin   = 0.03 // how far Aisle's NDCG@10 may fall below Bleve's
	guardLoadDuration = 2 * time.Second
)

var icecat struct {
	once sync.Once
	ps   []*catalog.Product
	js   []corpora.Judgment
	err  error
}

// icecatSet returns the Icecat catalog and its judgments, loaded once per
// test binary.
func icecatSet(tb testing.TB) ([]*catalog.Product, []corpora.Judgment) {
	icecat.once.Do(func() {
		icecat.ps, icecat.err = corpora.Icecat()
		if icecat.err == nil {
			icecat.js, icecat.err = corpora.IcecatJudgments()
		}
	})
	if icecat.err != nil {
		tb.Fatal(icecat.err)
	}
	return icecat.ps, icecat.js
}

// TestGuard runs Aisle and Bleve on the Icecat catalog with the same query
// log and fails when Aisle's q/s falls below guardMinQPSRatio times
// Bleve's, or its NDCG@10 more than guardNDCGMargin below Bleve's.
func TestGuard(t *testing.T) {
	ps, js := icecatSet(t)
	rep, err := Run(context.Background(), Config{
		Products: ps, Judgments: js, Peers: []string{PeerBleve},
		Concurrency: []int{2}, Duration: guardLoadDuration, LogSize: 2000, Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Engines) != 2 {
		t.Fatalf("measured %d engines, want aisle and bleve", len(rep.Engines))
	}
	a, b := rep.Engines[0], rep.Engines[1]
	for _, e := range rep.Engines {
		if e.Load[0].Errors > 0 {
			t.Errorf("%s: %d of %d queries failed", e.Name, e.Load[0].Errors, e.Load[0].Queries+e.Load[0].Errors)
		}
	}
	r := a.Load[0].QPS / b.Load[0].QPS
	t.Logf("aisle/bleve q/s at 2 clients: %.1f (%.0f / %.0f); ndcg@10 %.4f vs %.4f",
		r, a.Load[0].QPS, b.Load[0].QPS, a.Relevance.NDCG10, b.Relevance.NDCG10)
	if r < guardMinQPSRatio {
		t.Errorf("aisle answers %.1fx bleve's queries per second (%.0f / %.0f); the floor is %.1fx",
			r, a.Load[0].QPS, b.Load[0].QPS, guardMinQPSRatio)
	}
	if a.Relevance.NDCG10 < b.Relevance.NDCG10-guardNDCGMargin {
		t.Errorf("aisle ndcg@10 %.4f is more than %.2f below bleve's %.4f",
			a.Relevance.NDCG10, guardNDCGMargin, b.Relevance.NDCG10)
	}
}
