package recs

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// EvalOptions configure Evaluate. The zero value of a field means its
// default.
type EvalOptions struct {
	// K is the length of the ranked list scored; default 10.
	K int
	// HideHalf hides half of each basket's items (rounded down, at least
	// one) instead of one.
	HideHalf bool
	// Seed picks the hidden items.
	Seed uint64
}

// EvalResult is the basket-completion score of one method.
type EvalResult struct {
	Method  string
	Baskets int // baskets scored: those with at least two items
	// HitRate is the share of baskets with a hidden item in the top K,
	// Recall the share of hidden items found there (equal when one item is
	// hidden), NDCG the normalised discounted cumulative gain at K.
	HitRate, Recall, NDCG float64
	// Coverage is the share of items recommended to at least one basket.
	Coverage float64
	// hit says, per basket in order, whether a hidden item was in the top
	// K: what paired comparisons need.
	hit []bool
}

func (r EvalResult) String() string {
	return fmt.Sprintf("%-14s baskets %6d  HR %.4f ± %.4f  recall %.4f  NDCG %.4f  coverage %.4f",
		r.Method, r.Baskets, r.HitRate, r.HitRateCI(), r.Recall, r.NDCG, r.Coverage)
}

// HitRateCI is the half-width of HitRate's 95% confidence interval (the
// normal approximation of a binomial share over the baskets).
func (r EvalResult) HitRateCI() float64 {
	if r.Baskets == 0 {
		return 0
	}
	p := r.HitRate
	return 1.96 * math.Sqrt(p*(1-p)/float64(r.Baskets))
}

// PairedDiff compares two methods scored on the same baskets and hidden
// items: the mean of a's hit minus b's over the baskets, and the
// half-width of its 95% confidence interval (paired: the spread of the
// per-basket differences, not of each rate). It fails when the two were
// not scored on the same baskets.
func PairedDiff(a, b EvalResult) (diff, ci float64, err error) {
	if len(a.hit) != len(b.hit) || len(a.hit) == 0 {
		return 0, 0, fmt.Errorf("recs: %s scored %d baskets, %s %d: not a paired comparison", a.Method, len(a.hit), b.Method, len(b.hit))
	}
	n := float64(len(a.hit))
	var sum, sq float64
	for i := range a.hit {
		d := b2f(a.hit[i]) - b2f(b.hit[i])
		sum += d
		sq += d * d
	}
	mean := sum / n
	v := (sq/n - mean*mean) * n / max(n-1, 1)
	return mean, 1.96 * math.Sqrt(v/n), nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Evaluate scores basket completion on test, baskets of indexes into the
// items l was built with: for each basket it hides one item (or half, per
// opts), ranks the whole catalog from the visible rest and checks the top
// K. The learned ranking sums, over the visible items, their also-bought
// scores, excludes the visible items, and fills a short list from the most
// popular items. It returns the learned result and the popularity
// baseline's (the most ordered items not visible), scored on the same
// hidden items.
func Evaluate(l *Lists, test [][]int32, opts EvalOptions) (learned, popular EvalResult) {
	k := opts.K
	if k <= 0 {
		k = 10
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	n := len(l.items)
	pop := topByCount(l.count, 4*k+64) // enough to skip any visible items
	acc := make([]float32, n)
	visible := make([]bool, n)
	seenL := make([]bool, n)
	seenP := make([]bool, n)
	var (
		touched         []int32
		basket, hidden  []int32
		rankL, rankP    []int32
		sumL, sumP      EvalResult
		covL, covP, cnt int
	)
	for _, b := range test {
		basket = dedupe(append(basket[:0], b...))
		if len(basket) < 2 {
			continue
		}
		cnt++
		var vis []int32
		hidden, vis = hide(rng, basket, opts.HideHalf)
		for _, v := range vis {
			visible[v] = true
		}
		touched = touched[:0]
		for _, v := range vis {
			for _, nb := range l.Neighbors(v) {
				if visible[nb.Item] {
					continue
				}
				if acc[nb.Item] == 0 {
					touched = append(touched, nb.Item)
				}
				acc[nb.Item] += nb.Score
			}
		}
		slices.SortFunc(touched, func(a, b int32) int {
			if c := cmp.Compare(acc[b], acc[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		rankL = append(rankL[:0], touched[:min(k, len(touched))]...)
		for _, t := range touched {
			acc[t] = 0
		}
		rankL = fillFrom(rankL, pop, k, visible)
		rankP = fillFrom(rankP[:0], pop, k, visible)
		for _, v := range vis {
			visible[v] = false
		}
		score(&sumL, rankL, hidden)
		score(&sumP, rankP, hidden)
		covL += covered(seenL, rankL)
		covP += covered(seenP, rankP)
	}
	sumL.finish(l.scorer.String(), cnt, n, covL)
	sumP.finish("popularity", cnt, n, covP)
	return sumL, sumP
}

// fillFrom appends to rank, up to k items, those of pop neither visible
// nor in rank already.
func fillFrom(rank, pop []int32, k int, visible []bool) []int32 {
	for _, p := range pop {
		if len(rank) >= k {
			break
		}
		if !visible[p] && !slices.Contains(rank, p) {
			rank = append(rank, p)
		}
	}
	return rank
}

// covered marks the items of rank in seen and returns how many were not
// marked before: the coverage a ranking adds.
func covered(seen []bool, rank []int32) int {
	n := 0
	for _, x := range rank {
		if !seen[x] {
			seen[x] = true
			n++
		}
	}
	return n
}

// finish turns the sums over baskets into means and names the method;
// items is the catalog size coverage is a share of.
func (r *EvalResult) finish(method string, baskets, items, cov int) {
	r.Method, r.Baskets = method, baskets
	if baskets > 0 {
		r.HitRate /= float64(baskets)
		r.Recall /= float64(baskets)
		r.NDCG /= float64(baskets)
	}
	if items > 0 {
		r.Coverage = float64(cov) / float64(items)
	}
}

// score adds one basket's hit, recall and NDCG to sum.
func score(sum *EvalResult, rank, hidden []int32) {
	hits := 0
	var dcg, idcg float64
	for i, x := range rank {
		if slices.Contains(hidden, x) {
			hits++
			dcg += 1 / math.Log2(float64(i+2))
		}
	}
	for i := range min(len(hidden), len(rank)) {
		idcg += 1 / math.Log2(float64(i+2))
	}
	if hits > 0 {
		sum.HitRate++
		sum.NDCG += dcg / idcg
	}
	sum.hit = append(sum.hit, hits > 0)
	sum.Recall += float64(hits) / float64(len(hidden))
}

// dedupe sorts b and drops repeats, in place.
func dedupe(b []int32) []int32 {
	slices.Sort(b)
	return slices.Compact(b)
}

// topByCount returns the indexes of the n largest counts, largest first,
// ties by index; items with no count are left out.
func topByCount(count []int32, n int) []int32 {
	idx := make([]int32, 0, len(count))
	for i, c := range count {
		if c > 0 {
			idx = append(idx, int32(i))
		}
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp.Compare(count[b], count[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return idx[:min(n, len(idx))]
}

// hide shuffles basket and splits it into the items to predict (one, or
// half with hideHalf) and the items the recommender sees.
func hide(rng *rand.Rand, basket []int32, hideHalf bool) (hidden, visible []int32) {
	rng.Shuffle(len(basket), func(i, j int) { basket[i], basket[j] = basket[j], basket[i] })
	h := 1
	if hideHalf {
		h = max(1, len(basket)/2)
	}
	return basket[:h], basket[h:]
}
