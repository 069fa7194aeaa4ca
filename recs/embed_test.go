package recs

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestEmbedFindsGroups: on the synthetic orders (groups of four items
// bought together), an item's nearest neighbours in the embedding are
// mostly its group, and Similar filters for stock.
func TestEmbedFindsGroups(t *testing.T) {
	o := synthetic(400, 40000, 1)
	e, st, err := Embed(context.Background(), o, EmbedOptions{Dim: 32, Seed: 1, MinOrders: 5})
	if err != nil {
		t.Fatal(err)
	}
	if st.WithVector < 390 {
		t.Fatalf("stats %+v: want nearly every item with a vector", st)
	}
	good, total := 0, 0
	for x := range int32(400) {
		nb := e.Neighbors(nil, x, 3, 0)
		for _, n := range nb {
			if n.Item == x {
				t.Fatalf("item %d is its own neighbour", x)
			}
			if n.Item/4 == x/4 {
				good++
			}
			total++
		}
	}
	if float64(good) < 0.8*float64(total) {
		t.Errorf("%d of %d top-3 neighbours in the group; want 80%%", good, total)
	}
	// Determinism.
	e2, _, err := Embed(context.Background(), o, EmbedOptions{Dim: 32, Seed: 1, MinOrders: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.vecs, e2.vecs) || !slices.Equal(e.graph.links, e2.graph.links) {
		t.Error("two embeddings with one seed differ")
	}
	s := newStore(o.Items)
	first := e.Similar(nil, "p0", 3, s)
	if len(first) != 3 {
		t.Fatalf("similar to p0: %d items", len(first))
	}
	s[first[0].Product.ID].Variants[0].Stock = map[string]int{}
	after := e.Similar(nil, "p0", 3, s)
	for _, it := range after {
		if it.Product.ID == first[0].Product.ID || it.Product.ID == "p0" {
			t.Errorf("similar to p0 lists %s (out of stock or itself)", it.Product.ID)
		}
	}
	if got := e.Similar(nil, "nope", 3, s); len(got) != 0 {
		t.Errorf("unknown id: %d items", len(got))
	}
	// Evaluate through SimilarLists beats popularity on held-out orders.
	test := synthetic(400, 2000, 2).Baskets
	l, err := Build(context.Background(), o, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sl, err := SimilarLists(l, e, 20, 0)
	if err != nil {
		t.Fatal(err)
	}
	learned, pop := Evaluate(sl, test, EvalOptions{Seed: 1})
	t.Log(learned, pop)
	if learned.HitRate < 1.2*pop.HitRate {
		t.Errorf("similar items HR@10 %.4f, popularity %.4f", learned.HitRate, pop.HitRate)
	}
	bq := EvaluateSimilar(l, e, test, 0, EvalOptions{Seed: 1})
	t.Log(bq)
	if bq.Baskets != pop.Baskets || bq.HitRate < 1.2*pop.HitRate {
		t.Errorf("basket query: %v; popularity %v", bq, pop)
	}
	for _, g := range e.GraphRecall(10, 100, []int{10, 64}) {
		if g.Recall < 0.9 || g.QueriesPerSec <= 0 {
			t.Errorf("graph at ef %d: %+v", g.Ef, g)
		}
	}
}

func TestEmbedOptionsValidate(t *testing.T) {
	if err := (EmbedOptions{Dim: -1, MaxBasket: 1, HNSW: HNSWOptions{M: 1}}).Validate(); err == nil {
		t.Error("bad options validated")
	}
	if err := (EmbedOptions{}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestOrthonormalize: Cholesky QR gives orthonormal columns, and a matrix
// with dependent columns falls back to Gram-Schmidt.
func TestOrthonormalize(t *testing.T) {
	const m, p = 300, 12
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dependent := range []bool{false, true} {
		a := make([]float64, m*p)
		for i := range a {
			a[i] = rng.NormFloat64()
		}
		if dependent {
			for i := range m {
				a[i*p+5] = 2 * a[i*p+1]
			}
		}
		orthonormalize(a, m, p)
		for c := range p {
			for d := range p {
				var g float64
				for i := range m {
					g += a[i*p+c] * a[i*p+d]
				}
				want := 0.0
				if c == d && !(dependent && c == 5) {
					want = 1
				}
				if math.Abs(g-want) > 1e-9 {
					t.Fatalf("dependent %v: column %d · %d = %v, want %v", dependent, c, d, g, want)
				}
			}
		}
	}
}
