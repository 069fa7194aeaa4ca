package recs

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Substitutes, not complements (issue 18, point 5). Basket completion
// measures complements; products judged relevant (rating 2 or 3) for the
// same search query are substitutes of each other. For every such product
// the similar items are asked and precision@K counts those judged relevant
// for one of its queries.

// Judged is one relevance judgement of a product for a query.
type Judged struct {
	Query     string
	ProductID string
	Rating    int // 0 to 3
}

// SubstituteResult is precision@K of one method's similar items.
type SubstituteResult struct {
	Method  string
	Anchors int // products judged relevant for some query, asked
	// Precision is precision@K with unjudged results counted not relevant,
	// and its 95% confidence half-width, clustered by query.
	Precision, CI float64
	// Judged is precision over the judged results only (condensed lists,
	// Sakai 2007): what Precision would be if unjudged results split as the
	// judged ones do. Empty is the share of anchors with no similar item.
	Judged, Empty float64
}

func (r SubstituteResult) String() string {
	return fmt.Sprintf("%-22s anchors %5d  P@10 %.4f ± %.4f  judged-only P@10 %.4f  empty %.4f",
		r.Method, r.Anchors, r.Precision, r.CI, r.Judged, r.Empty)
}

// EvaluateSubstitutes asks sim for the k similar items of every product
// judged relevant (2 or 3) for a query and scores them against the others
// relevant for the same queries. ps is the catalog the items are served
// from.
func EvaluateSubstitutes(js []Judged, sim interface {
	Similar([]Item, string, int, Products) []Item
}, ps Products, k int, method string) SubstituteResult {
	rated := map[string]map[string]int{} // query -> product -> rating
	queriesOf := map[string][]string{}
	for _, j := range js {
		m := rated[j.Query]
		if m == nil {
			m = map[string]int{}
			rated[j.Query] = m
		}
		m[j.ProductID] = j.Rating
		if j.Rating >= 2 && !slices.Contains(queriesOf[j.ProductID], j.Query) {
			queriesOf[j.ProductID] = append(queriesOf[j.ProductID], j.Query)
		}
	}
	anchors := make([]string, 0, len(queriesOf))
	for id := range queriesOf {
		anchors = append(anchors, id)
	}
	slices.Sort(anchors)
	res := SubstituteResult{Method: method}
	type cluster struct{ sum, n float64 }
	clusters := map[string]*cluster{}
	var prec []float64
	var judgedSum float64
	var judgedN, empty int
	var items []Item
	for _, id := range anchors {
		qs := queriesOf[id]
		items = sim.Similar(items[:0], id, k, ps)
		rel, judged := 0, 0
		for _, it := range items {
			best := -1
			for _, q := range qs {
				if r, ok := rated[q][it.Product.ID]; ok {
					best = max(best, r)
				}
			}
			if best >= 0 {
				judged++
			}
			if best >= 2 {
				rel++
			}
		}
		if len(items) == 0 {
			empty++
		}
		p := float64(rel) / float64(k)
		prec = append(prec, p)
		if judged > 0 {
			judgedSum += float64(rel) / float64(judged)
			judgedN++
		}
		c := clusters[qs[0]]
		if c == nil {
			c = &cluster{}
			clusters[qs[0]] = c
		}
		c.sum += p
		c.n++
	}
	n := float64(len(prec))
	res.Anchors = len(prec)
	if n == 0 {
		return res
	}
	for _, p := range prec {
		res.Precision += p
	}
	res.Precision /= n
	// Cluster-robust variance of the mean: anchors of one query are not
	// independent.
	var v float64
	for _, c := range clusters {
		d := c.sum - c.n*res.Precision
		v += d * d
	}
	res.CI = 1.96 * math.Sqrt(v) / n
	if judgedN > 0 {
		res.Judged = judgedSum / float64(judgedN)
	}
	res.Empty = float64(empty) / n
	return res
}

// EvaluateSimilarIndex scores basket completion by s as EvaluateSimilar
// does by embeddings (same baskets, hidden items and popularity fill for
// the same opts.Seed): the query is the normalised sum of the visible
// items' vectors in s, the ranking its nearest products that are items of
// l, less the visible ones. Category and stock are not applied: this
// measures the vectors.
func EvaluateSimilarIndex(l *Lists, s *SimilarIndex, test [][]int32, opts EvalOptions) EvalResult {
	k := opts.K
	if k <= 0 {
		k = 10
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	n := len(l.items)
	pop := topByCount(l.count, 4*k+64)
	visible := make([]bool, n)
	seen := make([]bool, n)
	rowItem := make([]int32, len(s.ids)) // graph row -> item of l, -1 for none
	itemRow := make([]int32, n)
	for i := range itemRow {
		itemRow[i] = -1
	}
	for r, id := range s.ids {
		rowItem[r] = -1
		if x, ok := l.byID[id]; ok {
			rowItem[r] = x
			itemRow[x] = int32(r)
		}
	}
	q := make([]float32, s.dim)
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
		found := 0
		for _, v := range vis {
			visible[v] = true
			if r := itemRow[v]; r >= 0 {
				found++
				for i, x := range s.graph.Vector(uint32(r)) {
					q[i] += x
				}
			}
		}
		rank = rank[:0]
		if found > 0 && !isZero(q) {
			normalize(q)
			for want := 4*k + len(vis); len(rank) < k && want <= 4096; want *= 4 {
				rank = rank[:0]
				hits = s.graph.Search(hits[:0], q, want, want)
				for _, h := range hits {
					if x := rowItem[h.ID]; x >= 0 && !visible[x] && len(rank) < k {
						rank = append(rank, x)
					}
				}
				if len(hits) < want {
					break
				}
			}
		}
		rank = fillFrom(rank, pop, k, visible)
		for _, v := range vis {
			visible[v] = false
		}
		score(&sum, rank, hidden)
		cov += covered(seen, rank)
	}
	sum.finish("similar", cnt, n, cov)
	return sum
}
