package recs

import (
	"context"
	"slices"
	"testing"
)

// TestEASE: on baskets of groups of four plus popular noise, EASE's best
// three neighbours of a modelled item are its group; items outside the
// model keep the base lists; the weights match the closed form computed
// here by Gauss-Jordan on a tiny case.
func TestEASE(t *testing.T) {
	o := synthetic(200, 20000, 1)
	base, err := Build(context.Background(), o, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := EASE(context.Background(), o, base, EASEOptions{Items: 120, Lambda: 10})
	if err != nil {
		t.Fatal(err)
	}
	if l.Stats().Scorer != EASEScorer {
		t.Errorf("scorer %v", l.Stats().Scorer)
	}
	modelled := topByCount(base.count, 120)
	bad := 0
	for _, x := range modelled {
		nb := l.Neighbors(x)
		if len(nb) < 3 {
			t.Fatalf("item %d has %d EASE neighbours", x, len(nb))
		}
		for _, n := range nb[:3] {
			if n.Item/4 != x/4 && slices.Contains(modelled, x/4*4+(n.Item%4)) {
				bad++
			}
			if !slices.Contains(modelled, n.Item) || n.Count <= 0 {
				t.Errorf("item %d: neighbour %+v outside the model or never bought with it", x, n)
			}
		}
	}
	if bad > 3*len(modelled)/20 { // at most 5% of the neighbours
		t.Errorf("%d of the best three neighbours of %d items are outside their group", bad, len(modelled))
	}
	for x := range int32(200) {
		if !slices.Contains(modelled, x) && !slices.Equal(l.Neighbors(x), base.Neighbors(x)) {
			t.Fatalf("item %d outside the model: lists differ from the base", x)
		}
	}

	// Three items: baskets {0,1} ×3, {1,2} ×1, {0,1,2} ×1; λ 1.
	tiny := Orders{Items: []string{"a", "b", "c"}, Baskets: [][]int32{{0, 1}, {0, 1}, {0, 1}, {1, 2}, {0, 1, 2}}}
	tb, err := Build(context.Background(), tiny, Options{MinCoCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	te, err := EASE(context.Background(), tiny, tb, EASEOptions{Items: 3, Lambda: 1})
	if err != nil {
		t.Fatal(err)
	}
	// G + λI over (b, a, c) by count: b 5, a 4, c 2.
	g := [][]float64{{6, 4, 2}, {4, 5, 1}, {2, 1, 3}}
	p := invert3(g)
	want := -p[0][1] / p[1][1] // B[b][a]
	for _, nb := range te.Neighbors(1) {
		if nb.Item == 0 && absf(float64(nb.Score)-want) > 1e-5 {
			t.Errorf("B[b][a] = %v, want %v", nb.Score, want)
		}
	}
	// Dropout 0.5 adds p/(1-p) = 1 × each item's count to its ridge
	// (Steck 2020): G + λI + diag(G) over (b, a, c).
	td, err := EASE(context.Background(), tiny, tb, EASEOptions{Items: 3, Lambda: 1, Dropout: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	pd := invert3([][]float64{{11, 4, 2}, {4, 9, 1}, {2, 1, 5}})
	wantD := -pd[0][1] / pd[1][1]
	found := false
	for _, nb := range td.Neighbors(1) {
		if nb.Item == 0 {
			found = true
			if absf(float64(nb.Score)-wantD) > 1e-5 {
				t.Errorf("dropout 0.5: B[b][a] = %v, want %v", nb.Score, wantD)
			}
		}
	}
	if !found {
		t.Error("dropout 0.5: a is not among b's neighbours")
	}
	// The cosine blend adds to each pair its base score times a constant
	// proportional to Cosine: twice the Cosine, twice the addition.
	score := func(l *Lists, x, y int32) float32 {
		for _, nb := range l.Neighbors(x) {
			if nb.Item == y {
				return nb.Score
			}
		}
		return -1
	}
	var blended [3]float32
	for i, c := range []float64{0, 0.5, 1} {
		l, err := EASE(context.Background(), tiny, tb, EASEOptions{Items: 3, Lambda: 1, Cosine: c})
		if err != nil {
			t.Fatal(err)
		}
		blended[i] = score(l, 1, 0)
	}
	if cs := score(tb, 1, 0); cs <= 0 || blended[0] != score(te, 1, 0) || blended[1] <= blended[0] ||
		absf(float64((blended[2]-blended[0])-2*(blended[1]-blended[0]))) > 1e-5 {
		t.Errorf("B[b][a] with cosine 0, 0.5, 1: %v (cosine list %v)", blended, cs)
	}
	for _, o := range []EASEOptions{{Lambda: -1}, {Dropout: 1}, {Dropout: -0.1}, {Cosine: -1}} {
		if _, err := EASE(context.Background(), tiny, tb, o); err == nil {
			t.Errorf("%+v is accepted", o)
		}
	}
}

func absf(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// invert3 inverts a 3×3 matrix by Gauss-Jordan.
func invert3(a [][]float64) [][]float64 {
	n := 3
	m := make([][]float64, n)
	for i := range m {
		m[i] = append(slices.Clone(a[i]), make([]float64, n)...)
		m[i][n+i] = 1
	}
	for c := range n {
		piv := m[c][c]
		for j := range 2 * n {
			m[c][j] /= piv
		}
		for r := range n {
			if r != c {
				f := m[r][c]
				for j := range 2 * n {
					m[r][j] -= f * m[c][j]
				}
			}
		}
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = m[i][n:]
	}
	return out
}
