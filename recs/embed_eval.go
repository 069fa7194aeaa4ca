package recs

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

func nowNano() int64 { return time.Now().UnixNano() }

// EvaluateSimilar scores basket completion by the embeddings on the same
// baskets, hidden items and popularity fill as Evaluate (same opts.Seed):
// the query is the normalised sum of the visible items' vectors, the
// ranking its nearest items in the HNSW graph (ef, 0 for the default)
// less the visible ones, filled from the most popular items. l gives the
// popularity and must name the same items as e. A basket with no visible
// item embedded is ranked by popularity alone.
func EvaluateSimilar(l *Lists, e *Embeddings, test [][]int32, ef int, opts EvalOptions) EvalResult {
	k := opts.K
	if k <= 0 {
		k = 10
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	n := len(l.items)
	pop := topByCount(l.count, 4*k+64)
	visible := make([]bool, n)
	seen := make([]bool, n)
	q := make([]float32, e.dim)
	var (
		basket, rank []int32
		hits         []Hit
		sum          EvalResult
		cov, cnt     int
	)
	for _, b := range test {
		basket = dedupe(append(basket[:0], b...))
		if len(basket) < 2 {
			continue
		}
		cnt++
		hidden, vis := hide(rng, basket, opts.HideHalf)
		clear(q)
		embedded := 0
		for _, v := range vis {
			visible[v] = true
			if r := e.row[v]; r >= 0 {
				embedded++
				for i, x := range e.vecs[int(r)*e.dim : (int(r)+1)*e.dim] {
					q[i] += x
				}
			}
		}
		rank = rank[:0]
		if embedded > 0 {
			var norm float64
			for _, x := range q {
				norm += float64(x) * float64(x)
			}
			if norm > 0 {
				inv := float32(1 / math.Sqrt(norm))
				for i := range q {
					q[i] *= inv
				}
				want := min(k+len(vis), e.graph.Len())
				hits = e.graph.Search(hits[:0], q, want, max(ef, want))
				for _, hh := range hits {
					if x := e.item[hh.ID]; !visible[x] && len(rank) < k {
						rank = append(rank, x)
					}
				}
			}
		}
		for _, p := range pop {
			if len(rank) >= k {
				break
			}
			if !visible[p] && !slices.Contains(rank, p) {
				rank = append(rank, p)
			}
		}
		for _, v := range vis {
			visible[v] = false
		}
		score(&sum, rank, hidden)
		for _, x := range rank {
			if !seen[x] {
				seen[x] = true
				cov++
			}
		}
	}
	sum.Method, sum.Baskets = "embed+hnsw", cnt
	if cnt > 0 {
		sum.HitRate /= float64(cnt)
		sum.Recall /= float64(cnt)
		sum.NDCG /= float64(cnt)
	}
	if n > 0 {
		sum.Coverage = float64(cov) / float64(n)
	}
	return sum
}

// GraphRecall is the recall@k of the embeddings' HNSW graph against brute
// force at one ef, and its single-thread queries per second.
type GraphRecall struct {
	Ef            int
	Recall        float64
	QueriesPerSec float64
}

// GraphRecall measures the graph on the vectors of up to queries items
// (every items/queries-th one) as queries, at each ef: recall@k against an
// exhaustive scan, and queries per second on one goroutine.
func (e *Embeddings) GraphRecall(k, queries int, efs []int) []GraphRecall {
	m := len(e.item)
	if m == 0 || queries <= 0 {
		return nil
	}
	step := max(1, m/queries)
	var qs []uint32
	for r := 0; r < m && len(qs) < queries; r += step {
		qs = append(qs, uint32(r))
	}
	truth := make([][]uint32, len(qs))
	var top []cand
	for i, r := range qs {
		q := e.graph.Vector(r)
		top = top[:0]
		for j := range uint32(m) {
			d := e.graph.dist(q, j)
			if len(top) < k {
				top = pushMax(top, cand{j, d})
			} else if d < top[0].d {
				top = pushMax(popMax(top), cand{j, d})
			}
		}
		for _, c := range top {
			truth[i] = append(truth[i], c.id)
		}
	}
	var out []GraphRecall
	var hits []Hit
	for _, ef := range efs {
		found, total := 0, 0
		start := nowNano()
		for i, r := range qs {
			hits = e.graph.Search(hits[:0], e.graph.Vector(r), k, ef)
			for _, h := range hits {
				if slices.Contains(truth[i], h.ID) {
					found++
				}
			}
			total += len(truth[i])
		}
		el := float64(nowNano()-start) / 1e9
		out = append(out, GraphRecall{Ef: ef, Recall: float64(found) / float64(max(total, 1)), QueriesPerSec: float64(len(qs)) / max(el, 1e-9)})
	}
	return out
}
