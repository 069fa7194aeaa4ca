package spell

import "slices"

// Compounds splits a word in neither the catalog nor the Lexicon that is
// two words the catalog holds together ("gardenhose" -> "garden hose", the
// pair in at least RealWordMin products), putting the two words, with a
// space, in its place. At most one word is split; Changed says whether one
// was. Protected words and words with digits are left alone. Joins does
// the opposite.
func (c *Corrector) Compounds(d *Dict, ix Index, words []string) Correction {
	return c.compounds(d, ix, words, c.opts.RealWordMin)
}

// CompoundsUnmatched is Compounds for a query that matched no product at
// all, not even by one word: a product holding the two words is then
// evidence enough, as nothing is lost by offering them. Short titles
// rarely hold both: "bluetooth speaker" is in one title-only Icecat title.
func (c *Corrector) CompoundsUnmatched(d *Dict, ix Index, words []string) Correction {
	return c.compounds(d, ix, words, 1)
}

func (c *Corrector) compounds(d *Dict, ix Index, words []string, least int) Correction {
	out := Correction{Words: slices.Clone(words)}
	if d == nil || ix == nil {
		return out
	}
	for i, w := range words {
		n := len(w)
		if n < 6 || n > MaxWordLen || d.Protected(w) || c.known(d, ix, w) {
			continue
		}
		best, bestN := "", least-1
		for k := 3; k <= n-3; k++ {
			a, b := w[:k], w[k:]
			if !c.real(d, a) || !c.real(d, b) {
				continue
			}
			if co := ix.CoCount(a, b); co > bestN {
				best, bestN = a+" "+b, co
			}
		}
		if best != "" {
			out.Words[i] = best
			out.Changed = 1
			return out
		}
	}
	return out
}

// Joins joins two neighbouring words the catalog writes as one ("head
// phones" -> "headphones", "dish washer" -> "dishwasher"), when the
// evidence is strong: the joined word is in KnownFreq products or more and
// in JoinRatio times more products than hold the two words together (in
// any field, so a pair a catalog also writes apart, "mouse pad" beside
// "mousepad", is left alone). Words with a digit, protected words and
// words under two letters are not joined. The joined word takes the first
// word's place and the second is set to ""; at most one pair is joined,
// the one whose joined word is in the most products.
func (c *Corrector) Joins(d *Dict, ix Index, words []string) Correction {
	out := Correction{Words: slices.Clone(words)}
	if d == nil || ix == nil {
		return out
	}
	best, bestN := -1, 0
	for i := 0; i+1 < len(words); i++ {
		a, b := words[i], words[i+1]
		if len(a) < 2 || len(b) < 2 || len(a)+len(b) > MaxWordLen || !letters(a) || !letters(b) ||
			d.Protected(a) || d.Protected(b) {
			continue
		}
		j := a + b
		if d.Freq(j) < uint64(c.opts.KnownFreq) {
			continue // the dictionary lookup first: most pairs stop here
		}
		n := ix.DocFreq(j)
		if n < c.opts.KnownFreq || n <= bestN || float64(n) < c.opts.JoinRatio*float64(max(ix.CoCount(a, b), 1)) {
			continue
		}
		best, bestN = i, n
	}
	if best >= 0 {
		out.Words[best] = words[best] + words[best+1]
		out.Words[best+1] = ""
		out.Changed = 1
	}
	return out
}

// letters reports whether w is made of letters a to z only.
func letters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return w != ""
}

// real reports whether w is a word of the catalog (in KnownFreq products)
// or of the Lexicon.
func (c *Corrector) real(d *Dict, w string) bool {
	return d.Freq(w) >= uint64(c.opts.KnownFreq) || c.opts.Lexicon.Has(w)
}
