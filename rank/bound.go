package rank

import "math"

// BM25FDrift is what dynamic pruning needs to keep score bounds computed
// under one collection's field statistics valid under another's: for every
// term frequencies tf and field lengths lens,
//
//	BM25F(o, now, idf, tf, lens) <= idf * BM25FDrift(then, now) * BM25F(o, then, 1, tf, lens)
//
// The factor is the largest growth of an average field length (at least
// 1): a longer average shortens a field's length normalisation by at most
// that ratio, and the saturation t/(K1+t) grows at most linearly. It is
// +Inf when a field's average went from zero to non-zero or back, where no
// finite factor holds. Bounds stored per posting block use it so that they
// stay valid as the catalog grows, without being recomputed;
// TestBM25FDrift checks the inequality over random inputs, so a change to
// BM25F that breaks it fails there.
func BM25FDrift(then, now *FieldStats) float64 {
	c := 1.0
	for f := range then.AvgLen {
		a, b := then.AvgLen[f], now.AvgLen[f]
		switch {
		case a == b:
		case a <= 0 || b <= 0:
			return math.Inf(1)
		default:
			c = max(c, b/a)
		}
	}
	return c
}
