package spell

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/blevesearch/vellum"
)

// Index is what a Corrector needs to know of the catalog beyond the words
// of its Dict. Both methods take folded words.
type Index interface {
	// DocFreq returns how many products hold word in any field.
	DocFreq(word string) int
	// CoCount returns how many products hold both a and b.
	CoCount(a, b string) int
}

// Options configure a Corrector. The zero value of a field means its
// default.
type Options struct {
	// MinLen1 is the shortest word, in letters, corrected with one edit;
	// default 4.
	MinLen1 int
	// MinLen2 is the shortest word corrected with two edits; default 5.
	MinLen2 int
	// SureLen2 is the shortest word whose two-edit corrections need no
	// more evidence than one edit's; default 8. Below it, a two-edit
	// candidate must share RealWordMin products with another query word,
	// or, for a word alone, be in KnownFreq products and ten times as many
	// as any other two-edit candidate: "ltpop" is "laptop", and a clean
	// word of five to seven letters is not taken for a far word.
	SureLen2 int
	// KnownFreq is the product count from which a word is left alone:
	// a word in at least KnownFreq products (by its Dict frequency or the
	// Index's DocFreq) is never corrected; default 3.
	KnownFreq int
	// MinRatio is how many times more frequent than the typed word a
	// correction must be when the typed word is in the catalog at all;
	// default 20.
	MinRatio float64
	// MaxCandidates bounds the candidates kept per word; default 8.
	MaxCandidates int
	// RealWordRatio is how many times more products a one-edit change of
	// a known word must share with the query's other words for
	// CorrectRealWords to make it; default 10.
	RealWordRatio float64
	// RealWordMin is the fewest products the changed word must share
	// with another query word; default 5.
	RealWordMin int
	// JoinRatio is how many times more products must hold two words
	// joined as one than hold them both for Joins to join them;
	// default 20.
	JoinRatio float64
	// Lexicon, when set, holds the real words of the language: a word in
	// it is never corrected as a misspelling, and CorrectRealWords changes
	// it only through CorrectRealWords, whose evidence the caller may
	// require to be stronger still ("garden hose" is not "garden home").
	Lexicon *Lexicon
	// Never, when set, reports the words never offered as a correction
	// (stop words: "swith" is "switch", not "with").
	Never func(string) bool
	// Stem, when set, maps a word to the stem the index searches. A word
	// with no candidate is tried again as its stem, and what the stemmer
	// cut is put back on the correction: "earfuds", stem "earfud", gives
	// "earbud" and so "earbuds", when only "earbud" is in the dictionary.
	Stem func(string) string
}

// EnsureDefaults fills unset fields with defaults.
func (o *Options) EnsureDefaults() {
	if o.MinLen1 == 0 {
		o.MinLen1 = 4
	}
	if o.MinLen2 == 0 {
		o.MinLen2 = 5
	}
	if o.SureLen2 == 0 {
		o.SureLen2 = 8
	}
	if o.KnownFreq == 0 {
		o.KnownFreq = 3
	}
	if o.MinRatio == 0 {
		o.MinRatio = 20
	}
	if o.MaxCandidates == 0 {
		o.MaxCandidates = 8
	}
	if o.RealWordRatio == 0 {
		o.RealWordRatio = 10
	}
	if o.RealWordMin == 0 {
		o.RealWordMin = 5
	}
	if o.JoinRatio == 0 {
		o.JoinRatio = 20
	}
}

// Validate lists every problem with o.
func (o *Options) Validate() error {
	var errs []error
	if o.MinLen1 < 1 {
		errs = append(errs, fmt.Errorf("spell: MinLen1 is %d; want at least 1", o.MinLen1))
	}
	if o.MinLen2 < o.MinLen1 {
		errs = append(errs, fmt.Errorf("spell: MinLen2 is %d, below MinLen1 %d", o.MinLen2, o.MinLen1))
	}
	if o.SureLen2 < o.MinLen2 {
		errs = append(errs, fmt.Errorf("spell: SureLen2 is %d, below MinLen2 %d", o.SureLen2, o.MinLen2))
	}
	if o.KnownFreq < 1 {
		errs = append(errs, fmt.Errorf("spell: KnownFreq is %d; want at least 1", o.KnownFreq))
	}
	if o.MinRatio < 1 {
		errs = append(errs, fmt.Errorf("spell: MinRatio is %g; want at least 1", o.MinRatio))
	}
	if o.JoinRatio < 1 {
		errs = append(errs, fmt.Errorf("spell: JoinRatio is %g; want at least 1", o.JoinRatio))
	}
	if o.MaxCandidates < 1 || o.MaxCandidates > 32 {
		errs = append(errs, fmt.Errorf("spell: MaxCandidates is %d; want 1 to 32", o.MaxCandidates))
	}
	return errors.Join(errs...)
}

// Corrector corrects words against a Dict. It is safe for concurrent use
// and pools the memory of its automata: make one and share it.
type Corrector struct {
	opts     Options
	automata sync.Pool // *lookup
}

// lookup is the reusable memory of one candidate search.
type lookup struct {
	aut damerau
	it  vellum.FSTIterator
}

// New returns a Corrector.
func New(opts Options) (*Corrector, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	c := &Corrector{opts: opts}
	c.automata.New = func() any { return new(lookup) }
	return c, nil
}

// Candidate is a dictionary word offered for a typed word.
type Candidate struct {
	Word  string
	Freq  uint64
	Dist  int     // Damerau distance to the typed word
	Cost  float64 // Cost to the typed word
	Score float64 // higher is better
}

// MaxEdits returns the edits allowed for a word of n letters.
func (c *Corrector) MaxEdits(n int) int {
	switch {
	case n >= c.opts.MinLen2:
		return 2
	case n >= c.opts.MinLen1:
		return 1
	}
	return 0
}

// Candidates appends to dst the dictionary words within the allowed edits
// of word, best first, at most MaxCandidates of them, and returns the
// extended slice. word itself is never a candidate.
func (c *Corrector) Candidates(d *Dict, word string, dst []Candidate) []Candidate {
	n := runeCount(word)
	edits := c.MaxEdits(n)
	if edits == 0 || len(word) > MaxWordLen {
		return dst
	}
	a := c.automata.Get().(*lookup)
	defer c.automata.Put(a)
	start := len(dst)
	// One edit first: most typos are one, and its walk is several times
	// cheaper. Two edits only when one finds no word in KnownFreq products.
	for e := 1; e <= edits; e++ {
		dst = c.search(a, d, word, e, dst[:start])
		for _, cd := range dst[start:] {
			if cd.Freq >= uint64(c.opts.KnownFreq) {
				e = edits
				break
			}
		}
	}
	cs := dst[start:]
	slices.SortFunc(cs, byScore)
	if len(cs) > c.opts.MaxCandidates {
		dst = dst[:start+c.opts.MaxCandidates]
	}
	return dst
}

// search appends the words within edits of word, in dictionary order.
func (c *Corrector) search(a *lookup, d *Dict, word string, edits int, dst []Candidate) []Candidate {
	a.aut.reset(word, edits)
	start := len(dst)
	err := a.it.Reset(d.fst, nil, nil, &a.aut)
	for err == nil {
		k, f := a.it.Current()
		if string(k) != word {
			// The automaton counts byte edits; confirm with the rune
			// distance and weigh by the typist's likely slips. A word
			// with a digit is a model number: never offered for a
			// typed word without one.
			// Nor is a word shorter than MinLen1, which is too short
			// to be corrected itself ("xbox" is not "box").
			if dist := distance(word, string(k), false); dist <= float64(edits) && (!hasDigit(string(k)) || hasDigit(word)) &&
				(c.opts.Never == nil || !c.opts.Never(string(k))) && runeCount(string(k)) >= c.opts.MinLen1 {
				cost := Cost(word, string(k))
				dst = append(dst, Candidate{Word: string(k), Freq: f, Dist: int(dist), Cost: cost, Score: score(cost, f)})
			}
		}
		err = a.it.Next()
	}
	if err != nil && !errors.Is(err, vellum.ErrIteratorDone) {
		return dst[:start]
	}
	return dst
}

func byScore(a, b Candidate) int {
	if a.Score != b.Score {
		if a.Score > b.Score {
			return -1
		}
		return 1
	}
	if a.Word < b.Word {
		return -1
	}
	if a.Word > b.Word {
		return 1
	}
	return 0
}

// score weighs a candidate: each unit of cost is worth a factor of e^2.5
// (about 12) in frequency.
func score(cost float64, freq uint64) float64 {
	return -2.5*cost + math.Log1p(float64(freq))
}

func runeCount(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}

// Correction is the outcome of Correct.
type Correction struct {
	// Words are the query's words with the corrections applied.
	Words []string
	// Changed counts the words corrected.
	Changed int
}

// Correct returns the query words with the misspelt ones corrected. A word
// is left alone when it is protected (a brand, or with a digit), shorter
// than MinLen1, or known: in KnownFreq products or more. For the others the
// candidates from Candidates are rescored by how many products hold them
// together with the query's other words, so "wireles mouse" becomes
// "wireless mouse" and not "wireles moose". ix may be nil, which skips the
// index checks. Correct allocates only the returned slice.
func (c *Corrector) Correct(d *Dict, ix Index, words []string) Correction {
	return c.correct(d, ix, words, true)
}

// CorrectUnmatched is Correct for a query that matched no product at all,
// not even by one word: a word of the Lexicon the catalog lacks is then
// corrected too ("shies" -> "shoes"), as nothing is lost by offering it.
func (c *Corrector) CorrectUnmatched(d *Dict, ix Index, words []string) Correction {
	return c.correct(d, ix, words, false)
}

func (c *Corrector) correct(d *Dict, ix Index, words []string, lexicon bool) Correction {
	out := Correction{Words: slices.Clone(words)}
	if d == nil {
		return out
	}
	var candArr, stemArr [32]Candidate
	for i, w := range words {
		if c.known(d, ix, w) && (lexicon || !c.opts.Lexicon.Has(w) || c.catalogKnown(d, ix, w)) {
			continue
		}
		cands := c.Candidates(d, w, candArr[:0])
		suffix := ""
		if !hasNear(cands) && c.opts.Stem != nil {
			// Try the stem, and give the correction back the suffix,
			// when the word has nothing within one edit and the stem has
			// ("earuds", stem "earud", is "earbuds", not "cards").
			if st := c.opts.Stem(w); st != w && strings.HasPrefix(w, st) && !c.known(d, ix, st) {
				if sc := c.Candidates(d, st, stemArr[:0]); len(cands) == 0 || hasNear(sc) {
					cands, suffix = sc, w[len(st):]
				}
			}
		}
		if len(cands) == 0 {
			continue
		}
		typed := d.Freq(w)
		if ix != nil {
			typed = max(typed, uint64(ix.DocFreq(w)))
		}
		if runeCount(w) < c.opts.SureLen2 {
			cands = c.sure2(ix, out.Words, i, cands)
		}
		if typed > 0 {
			// A word of the catalog, if misspelt there too, is only
			// corrected within one edit.
			n := 0
			for _, cd := range cands {
				if cd.Dist <= 1 {
					cands[n] = cd
					n++
				}
			}
			cands = cands[:n]
		}
		best, bestScore := -1, math.Inf(-1)
		for k := range cands {
			cd := &cands[k]
			if typed > 0 && float64(cd.Freq) < c.opts.MinRatio*float64(typed) {
				continue
			}
			s := cd.Score
			if ix != nil && hasContext(out.Words, i) {
				// With other words to go by, co-occurrence says more
				// than overall frequency: "laptop cawe" is "laptop
				// case", though "care" is in more products.
				s += c.context(ix, out.Words, i, cd.Word) - 0.7*math.Log1p(float64(cd.Freq))
			}
			if s > bestScore {
				best, bestScore = k, s
			}
		}
		if best < 0 || math.IsInf(bestScore, -1) {
			continue
		}
		out.Words[i] = c.plural(d, w, cands[best].Word) + suffix
		out.Changed++
	}
	return out
}

// sure2 drops from cands, the candidates for words[i], the two-edit ones
// without strong evidence (Options.SureLen2): no candidate within one edit
// (however rare: "earbus" is "earbud", not "targus"), no repeat of another
// query word ("nigjht light" is not "light light"), and a share of
// RealWordMin products with another query word, or for a word alone,
// KnownFreq products and ten times as many as any other two-edit
// candidate.
func (c *Corrector) sure2(ix Index, words []string, i int, cands []Candidate) []Candidate {
	far, near := 0, false
	var top, second uint64
	for _, cd := range cands {
		if cd.Dist >= 2 {
			far++
			if cd.Freq > top {
				top, second = cd.Freq, top
			} else if cd.Freq > second {
				second = cd.Freq
			}
		} else {
			near = true
		}
	}
	if far == 0 {
		return cands
	}
	alone := ix == nil || !hasContext(words, i)
	n := 0
	for _, cd := range cands {
		keep := cd.Dist < 2
		switch {
		case keep:
		case near || slices.Contains(words, cd.Word):
		case alone:
			keep = cd.Freq == top && top >= uint64(c.opts.KnownFreq) && top >= 10*second
		default:
			_, peak := c.coScore(ix, words, i, cd.Word)
			keep = peak >= c.opts.RealWordMin
		}
		if keep {
			cands[n] = cd
			n++
		}
	}
	return cands[:n]
}

// hasNear reports whether a candidate is within one edit.
func hasNear(cands []Candidate) bool {
	for _, cd := range cands {
		if cd.Dist < 2 {
			return true
		}
	}
	return false
}

// plural returns fix, or its plural when the typed word w ends in "s" and
// fix does not, and the plural is a dictionary word within the edits w
// allows: "earbus" is "earbuds", not "earbud", and "gams" is "games". Both
// search the same stem; the shopper reads the plural they typed.
func (c *Corrector) plural(d *Dict, w, fix string) string {
	if !strings.HasSuffix(w, "s") || strings.HasSuffix(fix, "s") {
		return fix
	}
	p := fix + "s"
	if d.Freq(p) > 0 && distance(w, p, false) <= float64(c.MaxEdits(runeCount(w))) {
		return p
	}
	return fix
}

// CorrectRealWords looks for a real-word error in a query of known words
// that found little: one word typed as another word of the catalog
// ("house pad" for "mouse pad"). A word is changed, within one edit, to
// the candidate that shares the most products with the query's other
// words, when that is RealWordRatio times more than the word as typed
// shares and at least RealWordMin with one of them. Protected words and
// words shorter than MinLen1 are left alone. At most one word changes.
func (c *Corrector) CorrectRealWords(d *Dict, ix Index, words []string) Correction {
	out := Correction{Words: slices.Clone(words)}
	if d == nil || ix == nil || len(words) < 2 {
		return out
	}
	a := c.automata.Get().(*lookup)
	defer c.automata.Put(a)
	var candArr [32]Candidate
	bestI, bestWord, bestGain := -1, "", math.Log(c.opts.RealWordRatio)
	for i, w := range words {
		if runeCount(w) < c.opts.MinLen1 || d.Protected(w) || len(w) > MaxWordLen || !hasContext(words, i) {
			continue
		}
		cands := c.search(a, d, w, 1, candArr[:0])
		if len(cands) == 0 {
			continue
		}
		slices.SortFunc(cands, byScore)
		cands = cands[:min(len(cands), c.opts.MaxCandidates)]
		typed, _ := c.coScore(ix, words, i, w)
		for _, cd := range cands {
			if slices.Contains(words, cd.Word) {
				continue // "night light" is not "light light"
			}
			s, peak := c.coScore(ix, words, i, cd.Word)
			if peak < c.opts.RealWordMin {
				continue
			}
			if gain := s - typed; gain > bestGain {
				bestI, bestWord, bestGain = i, cd.Word, gain
			}
		}
	}
	if bestI >= 0 {
		out.Words[bestI] = bestWord
		out.Changed = 1
	}
	return out
}

// coScore sums log(1 + products shared) of cand with each other word of
// the query, and returns the largest count too.
func (c *Corrector) coScore(ix Index, words []string, i int, cand string) (float64, int) {
	s, peak := 0.0, 0
	for j, o := range words {
		if j == i || len(o) < minContext {
			continue
		}
		n := ix.CoCount(cand, o)
		s += math.Log1p(float64(n))
		peak = max(peak, n)
	}
	return s, peak
}

// catalogKnown reports whether w is short, protected or in KnownFreq
// products: known without the Lexicon.
func (c *Corrector) catalogKnown(d *Dict, ix Index, w string) bool {
	if runeCount(w) < c.opts.MinLen1 || d.Protected(w) || d.Freq(w) >= uint64(c.opts.KnownFreq) {
		return true
	}
	return ix != nil && ix.DocFreq(w) >= c.opts.KnownFreq
}

// known reports whether w is to be left alone: short, protected, a real
// word of the Lexicon, or in KnownFreq products.
func (c *Corrector) known(d *Dict, ix Index, w string) bool {
	if runeCount(w) < c.opts.MinLen1 || d.Protected(w) || c.opts.Lexicon.Has(w) {
		return true
	}
	if d.Freq(w) >= uint64(c.opts.KnownFreq) {
		return true
	}
	return ix != nil && ix.DocFreq(w) >= c.opts.KnownFreq
}

// minContext is the shortest word, in bytes, that counts as context:
// "sd" in "sd carc" does.
const minContext = 2

// hasContext reports whether words has a word other than words[i] to
// score co-occurrence with.
func hasContext(words []string, i int) bool {
	for j, o := range words {
		if j != i && len(o) >= minContext {
			return true
		}
	}
	return false
}

// context scores a candidate for words[i] by its co-occurrence with the
// other words: log of the products holding both, and a penalty of the
// equivalent of one edit for a word it never appears with.
func (c *Corrector) context(ix Index, words []string, i int, cand string) float64 {
	s := 0.0
	for j, o := range words {
		if j == i || len(o) < minContext {
			continue
		}
		n := ix.CoCount(cand, o)
		if n == 0 {
			s -= 2.5
			continue
		}
		s += math.Log1p(float64(n))
	}
	if math.IsInf(s, -1) {
		return math.Inf(-1)
	}
	return s
}
