package recs

import (
	"fmt"
	"math"
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
