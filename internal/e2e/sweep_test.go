package e2e

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/rank"
	"github.com/aisle/aisle/search"
)

// The BM25F parameters are chosen to hold on catalogs of very different
// field richness: Icecat as published (long spec titles, brand, category,
// attributes, descriptions) and Icecat with titles only (a new seller's
// shape). The sweep prints NDCG@10 of the judged queries on both for each
// variation of the shipped parameters (doc/design.md records it):
//
//	go test ./internal/e2e -run TestBM25FSweep -sweep -v
var sweep = flag.Bool("sweep", false, "print NDCG@10 on icecat and icecat-titles for variations of the BM25F parameters")

func TestBM25FSweep(t *testing.T) {
	if !*sweep {
		t.Skip("run with -sweep")
	}
	icecat, err := corpora.Icecat()
	if err != nil {
		t.Fatal(err)
	}
	js, err := corpora.IcecatJudgments()
	if err != nil {
		t.Fatal(err)
	}
	full, titles := neutral(icecat), titlesOnly(neutral(icecat))
	now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	variants := []struct {
		name string
		set  func(o *rank.Options)
	}{
		{"shipped", func(o *rank.Options) {}},
		{"k1=0.9", func(o *rank.Options) { o.K1 = 0.9 }},
		{"k1=2.0", func(o *rank.Options) { o.K1 = 2.0 }},
		{"title.b=0.1", func(o *rank.Options) { o.Fields[rank.Title].B = 0.1 }},
		{"title.b=0.5", func(o *rank.Options) { o.Fields[rank.Title].B = 0.5 }},
		{"title.b=0.75", func(o *rank.Options) { o.Fields[rank.Title].B = 0.75 }},
		{"title.w=1.5", func(o *rank.Options) { o.Fields[rank.Title].Weight = 1.5 }},
		{"title.w=6", func(o *rank.Options) { o.Fields[rank.Title].Weight = 6 }},
	}
	for _, v := range variants {
		line := fmt.Sprintf("%-14s", v.name)
		for _, ps := range [][]*catalog.Product{full, titles} {
			o := rank.DefaultOptions()
			v.set(&o)
			eng, err := search.New(search.Options{Shards: 4, Rank: o, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if err := eng.Upsert(ps...); err != nil {
				t.Fatal(err)
			}
			m, err := Evaluate(eng, js, false)
			if err != nil {
				t.Fatal(err)
			}
			line += fmt.Sprintf(" ndcg@10=%.4f recall@100=%.4f", m.NDCG10, m.Recall100)
		}
		t.Log(line)
	}
}
