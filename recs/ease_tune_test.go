package recs

import (
	"context"
	"slices"
	"testing"
)

func TestTuneEASE(t *testing.T) {
	o := synthetic(60, 3000, 3)
	grid := []EASEOptions{{Items: 40, Lambda: 5}, {Items: 40, Lambda: 50}, {Items: 40, Lambda: 50, Dropout: 0.5}, {Items: 40, Lambda: 5000}}
	best, hits, err := TuneEASE(context.Background(), o, grid, EvalOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(grid, best) || len(hits) != len(grid) {
		t.Fatalf("chose %+v with hits %v from %v", best, hits, grid)
	}
	i := slices.Index(grid, best)
	for j, h := range hits {
		if h < 0 || h > 1 || h > hits[i] || (h == hits[i] && j < i) {
			t.Errorf("%+v has validation HR %v, the chosen %+v has %v", grid[j], h, best, hits[i])
		}
	}
	again, _, _ := TuneEASE(context.Background(), o, grid, EvalOptions{Seed: 1})
	if again != best {
		t.Errorf("a second tuning chose %+v, the first %+v", again, best)
	}
	if _, _, err := TuneEASE(context.Background(), o, nil, EvalOptions{}); err == nil {
		t.Error("no error for an empty grid")
	}
}
