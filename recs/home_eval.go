package recs

import (
	"math/rand/v2"
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
		rankP = fillFrom(rankP[:0], pop, k, visible)
		rankH = fillFrom(rankH, pop, k, visible)
		for _, v := range vis {
			visible[v] = false
		}
		score(&sumH, rankH, hidden)
		score(&sumP, rankP, hidden)
		covH += covered(seenH, rankH)
		covP += covered(seenP, rankP)
	}
	sumH.finish("home", cnt, n, covH)
	sumP.finish("popularity", cnt, n, covP)
	return sumH, sumP
}
