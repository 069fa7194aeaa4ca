package e2e

import (
	"testing"

	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/search"
)

func TestQuickIcecat(t *testing.T) {
	ps, err := corpora.Icecat()
	if err != nil {
		t.Fatal(err)
	}
	js, err := corpora.IcecatJudgments()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := search.New(search.Options{Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	for _, plain := range []bool{true, false} {
		m, err := Evaluate(eng, js, plain)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("plain=%v %v", plain, m)
	}
}
