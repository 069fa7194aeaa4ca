package recs

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// vectorSet is a synthetic probe: unit vectors to index and held-out
// queries drawn from the same distribution.
type vectorSet struct {
	name    string
	dim     int
	base    []float32 // n vectors
	queries []float32
}

// clusteredVectors draws n+q unit vectors of dim dimensions around
// clusters Gaussian centres (each coordinate N(0,1)), a point being its
// centre plus N(0, sigma²) noise per coordinate; clusters 0 means uniform
// random directions. The last q are the queries.
func clusteredVectors(n, q, dim, clusters int, sigma float64, seed uint64) vectorSet {
	rng := rand.New(rand.NewPCG(seed, 0xc1))
	centres := make([]float64, clusters*dim)
	for i := range centres {
		centres[i] = rng.NormFloat64()
	}
	all := make([]float32, (n+q)*dim)
	v := make([]float64, dim)
	for i := range n + q {
		var c []float64
		if clusters > 0 {
			k := rng.IntN(clusters)
			c = centres[k*dim : (k+1)*dim]
		}
		var norm float64
		for j := range v {
			v[j] = rng.NormFloat64()
			if c != nil {
				v[j] = c[j] + sigma*v[j]
			}
			norm += v[j] * v[j]
		}
		norm = math.Sqrt(norm)
		for j := range v {
			all[i*dim+j] = float32(v[j] / norm)
		}
	}
	name := "random"
	if clusters > 0 {
		name = "clustered"
	}
	return vectorSet{name: name, dim: dim, base: all[:n*dim], queries: all[n*dim:]}
}

// bruteForce returns, for each query, the ids of its k nearest base
// vectors by inner product, nearest first, on every core.
func bruteForce(vs vectorSet, k int) [][]uint32 {
	dim := vs.dim
	nq := len(vs.queries) / dim
	n := len(vs.base) / dim
	out := make([][]uint32, nq)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			var top []cand
			for qi := w; qi < nq; qi += workers {
				q := vs.queries[qi*dim : (qi+1)*dim]
				top = top[:0]
				for i := range n {
					d := 1 - dot(q, vs.base[i*dim:(i+1)*dim])
					if len(top) < k {
						top = pushMax(top, cand{uint32(i), d})
					} else if d < top[0].d {
						top = pushMax(popMax(top), cand{uint32(i), d})
					}
				}
				slices.SortFunc(top, func(a, b cand) int {
					if a.d < b.d {
						return -1
					}
					if a.d > b.d {
						return 1
					}
					return int(a.id) - int(b.id)
				})
				ids := make([]uint32, len(top))
				for i, c := range top {
					ids[i] = c.id
				}
				out[qi] = ids
			}
		})
	}
	wg.Wait()
	return out
}

// recallAt is the share of truth's ids found by search, over all queries.
func recallAt(vs vectorSet, truth [][]uint32, k int, search func(q []float32, k int) []uint32) float64 {
	hit, total := 0, 0
	for qi, want := range truth {
		got := search(vs.queries[qi*vs.dim:(qi+1)*vs.dim], k)
		for _, id := range want[:k] {
			if slices.Contains(got, id) {
				hit++
			}
		}
		total += k
	}
	return float64(hit) / float64(total)
}

func aisleSearch(h *HNSW, ef int) func(q []float32, k int) []uint32 {
	var hits []Hit
	var ids []uint32
	return func(q []float32, k int) []uint32 {
		hits = h.Search(hits[:0], q, k, ef)
		ids = ids[:0]
		for _, c := range hits {
			ids = append(ids, c.ID)
		}
		return ids
	}
}

// TestHNSWRecall: recall@10 against brute force on 20k clustered vectors
// must reach 0.95 at ef 64, and grow with ef.
func TestHNSWRecall(t *testing.T) {
	vs := clusteredVectors(20000, 300, 64, 100, 1, 1)
	start := time.Now()
	h, err := BuildHNSW(vs.base, vs.dim, HNSWOptions{Seed: 1, EfConstruction: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built 20k in %v", time.Since(start))
	truth := bruteForce(vs, 10)
	prev := 0.0
	for _, ef := range []int{16, 64, 128} {
		r := recallAt(vs, truth, 10, aisleSearch(h, ef))
		t.Logf("ef %d: recall@10 %.4f", ef, r)
		if r+0.01 < prev {
			t.Errorf("ef %d: recall %.4f below the %.4f of a smaller ef", ef, r, prev)
		}
		prev = r
		if ef == 64 && r < 0.95 {
			t.Errorf("recall@10 at ef 64 is %.4f; want at least 0.95", r)
		}
	}
}

func TestHNSWDeterministic(t *testing.T) {
	vs := clusteredVectors(3000, 10, 16, 10, 0.5, 2)
	a, err := BuildHNSW(vs.base, vs.dim, HNSWOptions{Seed: 7, M: 8, EfConstruction: 50})
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildHNSW(vs.base, vs.dim, HNSWOptions{Seed: 7, M: 8, EfConstruction: 50})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.links, b.links) || !slices.Equal(a.level, b.level) || a.entry != b.entry {
		t.Fatal("two builds with one seed differ")
	}
	c, err := BuildHNSW(vs.base, vs.dim, HNSWOptions{Seed: 8, M: 8, EfConstruction: 50})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.level, c.level) {
		t.Error("another seed drew the same levels")
	}
	// Layer 0 holds at most 2M links, the layers above M, and no node
	// links to itself.
	for id := range uint32(a.Len()) {
		for l := 0; l <= int(a.level[id]); l++ {
			_, nb := a.neighbors(id, l)
			limit := a.m
			if l == 0 {
				limit = a.m0
			}
			if len(nb) > limit || slices.Contains(nb, id) {
				t.Fatalf("node %d layer %d: links %v", id, l, nb)
			}
		}
	}
}

func TestHNSWConcurrentSearch(t *testing.T) {
	vs := clusteredVectors(2000, 64, 16, 10, 0.5, 3)
	h, err := BuildHNSW(vs.base, vs.dim, HNSWOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]Hit, 64)
	for i := range want {
		want[i] = h.Search(nil, vs.queries[i*16:(i+1)*16], 5, 32)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range want {
				got := h.Search(nil, vs.queries[i*16:(i+1)*16], 5, 32)
				if !slices.Equal(got, want[i]) {
					t.Errorf("query %d: %v, alone %v", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestHNSWErrors(t *testing.T) {
	if _, err := BuildHNSW([]float32{1, 1}, 2, HNSWOptions{}); err == nil {
		t.Error("a vector of norm sqrt 2 was accepted")
	}
	if _, err := BuildHNSW([]float32{1, 0, 0}, 2, HNSWOptions{}); err == nil {
		t.Error("3 floats were accepted as 2-vectors")
	}
	if err := (HNSWOptions{M: 1, EfConstruction: -1, EfSearch: -1}).Validate(); err == nil {
		t.Error("bad options validated")
	}
	h, err := BuildHNSW(nil, 4, HNSWOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Search(nil, []float32{1, 0, 0, 0}, 3, 0); len(got) != 0 {
		t.Errorf("empty graph found %v", got)
	}
}

// TestHNSWParallelRecall builds the graph of TestHNSWRecall on four
// workers inserting at once (under the race detector in CI) and asks the
// same recall.
func TestHNSWParallelRecall(t *testing.T) {
	vs := clusteredVectors(20000, 300, 64, 100, 1, 1)
	h, err := BuildHNSW(vs.base, vs.dim, HNSWOptions{Seed: 1, EfConstruction: 100, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	truth := bruteForce(vs, 10)
	if r := recallAt(vs, truth, 10, aisleSearch(h, 64)); r < 0.95 {
		t.Errorf("recall@10 at ef 64 is %.4f; want at least 0.95", r)
	} else {
		t.Logf("recall@10 at ef 64: %.4f", r)
	}
	if h.locks != nil {
		t.Error("the build locks outlive the build")
	}
}
