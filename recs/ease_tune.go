package recs

import (
	"context"
	"fmt"
)

// TuneEASE chooses EASE's options (λ, dropout) by held-out validation,
// never on the test split: every tenth basket of o (the 10th, 20th, ...)
// is held out, the cosine lists and EASE with each options of grid are
// built over the others, and the options whose lists complete the
// held-out baskets best (HR@eo.K, eo's hidden items; the first on a tie)
// are returned with the validation hit rate of each. The caller then fits
// EASE with them on all of o.
func TuneEASE(ctx context.Context, o Orders, grid []EASEOptions, eo EvalOptions) (best EASEOptions, hits []float64, err error) {
	if len(grid) == 0 {
		return best, nil, fmt.Errorf("recs: TuneEASE needs a grid of options")
	}
	fit := Orders{Items: o.Items}
	var val [][]int32
	for i, b := range o.Baskets {
		if i%10 == 9 {
			val = append(val, b)
		} else {
			fit.Baskets = append(fit.Baskets, b)
		}
	}
	base, err := Build(ctx, fit, Options{})
	if err != nil {
		return best, nil, err
	}
	hits = make([]float64, len(grid))
	bestHit := -1.0
	for i, opts := range grid {
		l, err := EASE(ctx, fit, base, opts)
		if err != nil {
			return best, nil, fmt.Errorf("recs: EASE at λ %g, dropout %g: %w", opts.Lambda, opts.Dropout, err)
		}
		r, _ := Evaluate(l, val, eo)
		hits[i] = r.HitRate
		if r.HitRate > bestHit {
			best, bestHit = opts, r.HitRate
		}
	}
	return best, hits, nil
}
