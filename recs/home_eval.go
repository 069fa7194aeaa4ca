package recs

import (
	"math/rand/v2"
	"slices"
)

// EvaluateHome scores the personalized home row as Evaluate scores the
// lists, on the same hidden items (same Seed, same sequence): the visible
// items of each test basket stand in for one past order of a customer
// (the Instacart orders have no user ids), the row is ranked by the home
// scorer with at most opts.PerCategory items per category (cats names the
// category of each item; nil or "" for none) and filled from the most
// popular items. It returns the home result and the popularity baseline.
func EvaluateHome(l *Lists, test [][]int32, cats []string, hopts HomeOptions, opts EvalOptions) (home, popular EvalResult) {
	hopts = hopts.EnsureDefaults()
	k := opts.K
	if k <= 0 {
		k = 10
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	n := len(l.items)
	pop := topByCount(l.count, 4*k+64)
	visible := make([]bool, n)
	seenH := make([]bool, n)
	seenP := make([]bool, n)
	scratch := &homeScratch{}
	perCat := map[string]int{}
	var (
		basket, hidden  []int32
		rankH, rankP    []int32
		sumH, sumP      EvalResult
		covH, covP, cnt int
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
		clear(perCat)
		rankH = rankH[:0]
		for _, c := range homeRank(l, [][]int32{vis}, &hopts, scratch) {
			if len(rankH) >= k {
				break
			}
			if hopts.PerCategory > 0 && cats != nil && cats[c.item] != "" {
				if perCat[cats[c.item]] >= hopts.PerCategory {
					continue
				}
				perCat[cats[c.item]]++
			}
			rankH = append(rankH, c.item)
		}
		rankP = rankP[:0]
		for _, p := range pop {
			if len(rankP) >= k {
				break
			}
			if !visible[p] {
				rankP = append(rankP, p)
			}
		}
		for _, p := range pop {
			if len(rankH) >= k {
				break
			}
			if !visible[p] && !slices.Contains(rankH, p) {
				rankH = append(rankH, p)
			}
		}
		for _, v := range vis {
			visible[v] = false
		}
		score(&sumH, rankH, hidden)
		score(&sumP, rankP, hidden)
		for _, x := range rankH {
			if !seenH[x] {
				seenH[x] = true
				covH++
			}
		}
		for _, x := range rankP {
			if !seenP[x] {
				seenP[x] = true
				covP++
			}
		}
	}
	finish := func(r *EvalResult, method string, cov int) {
		r.Method, r.Baskets = method, cnt
		if cnt > 0 {
			r.HitRate /= float64(cnt)
			r.Recall /= float64(cnt)
			r.NDCG /= float64(cnt)
		}
		if n > 0 {
			r.Coverage = float64(cov) / float64(n)
		}
	}
	finish(&sumH, "home", covH)
	finish(&sumP, "popularity", covP)
	return sumH, sumP
}
