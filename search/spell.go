package search

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/index"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/spell"
)

// spelling is what the engine knows of the catalog's vocabulary, built from
// the live products as a whole and swapped atomically: the spelling
// dictionary, the autocomplete phrases, and the brands and colours query
// understanding recognises.
type spelling struct {
	dict  *spell.Dict
	sugg  *spell.Suggester
	vocab vocabulary
	built time.Time
	took  time.Duration
}

// popularWeight is the weight of a popular query in autocomplete: it ranks
// above all but the most common title phrases.
const popularWeight = 200

// RebuildSpelling builds the spelling dictionary, the autocomplete phrases
// and the query-understanding vocabulary from the live products, and swaps
// them in. Searches running meanwhile use the previous ones. After the
// first call, Upsert and Delete schedule a rebuild in the background, at
// most one at a time and at most once per Options.SpellRebuildDelay.
func (e *Engine) RebuildSpelling() error {
	start := time.Now()
	sp, err := e.buildSpelling()
	if err != nil {
		return err
	}
	sp.took = time.Since(start)
	e.spelling.Store(sp)
	e.gen.Add(1)
	return nil
}

// spellChanged schedules a background rebuild once a dictionary exists.
func (e *Engine) spellChanged() {
	if e.spelling.Load() == nil || e.opts.NoSpell {
		return
	}
	e.spellDirty.Store(true)
	if !e.spellBusy.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer e.spellBusy.Store(false)
		for e.spellDirty.Swap(false) {
			// A rebuild re-reads the whole catalog: at 1M products it
			// takes seconds, so rebuilds are spaced by four times the
			// last one's duration, leaving ingest at least 80% of a
			// core while a catalog streams in.
			wait := e.opts.SpellRebuildDelay
			if sp := e.spelling.Load(); sp != nil {
				wait = max(wait, 4*sp.took)
			}
			time.Sleep(wait)
			e.spellDirty.Store(false) // changes during the wait are in this build
			if err := e.RebuildSpelling(); err != nil {
				e.spellErrors.Add(1)
			}
		}
	}()
}

// SpellingStats describes the spelling data.
type SpellingStats struct {
	Words, Phrases, Brands, Colors int
	Built                          time.Time
	Took                           time.Duration
}

// SpellingStats returns the size of the current spelling data; all zero
// before RebuildSpelling.
func (e *Engine) SpellingStats() SpellingStats {
	sp := e.spelling.Load()
	if sp == nil {
		return SpellingStats{}
	}
	return SpellingStats{Words: sp.dict.Len(), Phrases: sp.sugg.Len(), Brands: len(sp.vocab.brands),
		Colors: len(sp.vocab.colors), Built: sp.built, Took: sp.took}
}

// textWords appends to dst the folded, unstemmed words of text, in order:
// letters and digits only, a hyphenated word as its parts. It is the
// spelling counterpart of query.AppendTerms, which stems.
func textWords(dst []string, text string) []string {
	for _, w := range query.Words(text) {
		f := query.Fold(w.Text)
		for part := range strings.SplitSeq(f, "-") {
			part = strings.Map(func(r rune) rune {
				if r == '\'' || r == '.' || r == ',' {
					return -1
				}
				return r
			}, part)
			if part != "" && len(part) <= spell.MaxWordLen {
				dst = append(dst, part)
			}
		}
	}
	return dst
}

func (e *Engine) buildSpelling() (*spelling, error) {
	var (
		df       = map[string]uint64{}
		protect  = map[string]struct{}{}
		brands   = map[string]*brandCount{}
		colors   = map[string]*brandCount{}
		sizes    = map[string]string{} // folded size value -> facet value
		sizeFac  = slices.Contains(e.opts.FacetAttributes, "size")
		phrases  = map[string]*phraseCount{}
		catIDs   = map[string]uint32{}
		catNames []string
		catPaths [][]string
		words    []string
		seen     = map[string]struct{}{}
		seenPhr  = map[string]struct{}{}
		products int
	)
	addWord := func(w string) {
		if _, ok := seen[w]; ok {
			return
		}
		seen[w] = struct{}{}
		df[w]++
	}
	e.Each(func(p *catalog.Product) bool {
		products++
		clear(seen)
		clear(seenPhr)
		words = textWords(words[:0], p.Title)
		for _, w := range words {
			addWord(w)
		}
		leafSlug := catalog.CategorySlug(p.Category)
		leaf, ok := catIDs[leafSlug]
		if !ok {
			leaf = uint32(len(catNames))
			catIDs[leafSlug] = leaf
			catNames = append(catNames, leafSlug)
			catPaths = append(catPaths, slices.Clone(p.Category))
		}
		// Title phrases of one to three words that neither start nor end
		// with a stop word.
		for i := range words {
			if isStopWord(words[i]) {
				continue
			}
			for n := 1; n <= 3 && i+n <= len(words); n++ {
				if isStopWord(words[i+n-1]) {
					continue
				}
				ph := strings.Join(words[i:i+n], " ")
				if _, ok := seenPhr[ph]; ok {
					continue
				}
				seenPhr[ph] = struct{}{}
				pc := phrases[ph]
				if pc == nil {
					pc = &phraseCount{}
					phrases[ph] = pc
				}
				pc.add(leaf)
			}
		}
		if p.Brand != "" {
			bw := textWords(words[:0], p.Brand)
			for _, w := range bw {
				addWord(w)
				protect[w] = struct{}{}
			}
			key := strings.Join(bw, " ")
			if key != "" {
				bc := brands[key]
				if bc == nil {
					bc = &brandCount{name: p.Brand}
					brands[key] = bc
				}
				bc.n++
				if _, ok := seenPhr[key]; ok {
					bc.inTitle++
				}
			}
		}
		for _, c := range p.Category {
			for _, w := range textWords(words[:0], c) {
				addWord(w)
			}
		}
		for _, w := range textWords(words[:0], p.Description) {
			addWord(w)
		}
		addColor := func(v string) {
			if v == "" {
				return
			}
			key := strings.Join(textWords(nil, v), " ")
			if key == "" {
				return
			}
			cc := colors[key]
			if cc == nil {
				cc = &brandCount{name: v}
				colors[key] = cc
			}
			cc.n++
		}
		addSize := func(v string) {
			if k := strings.ToLower(strings.TrimSpace(v)); sizeFac && k != "" && len(k) <= 16 {
				if _, ok := sizes[k]; !ok {
					sizes[k] = v
				}
			}
		}
		addSize(p.Attributes["size"])
		for i := range p.Variants {
			addSize(p.Variants[i].Attributes["size"])
		}
		addColor(p.Attributes["color"])
		for i := range p.Variants {
			addColor(p.Variants[i].Attributes["color"])
		}
		return true
	})
	dict, err := spell.Build(maps.All(df), maps.Keys(protect))
	if err != nil {
		return nil, fmt.Errorf("search: spelling dictionary of %d products: %w", products, err)
	}
	sugg := spell.NewSuggester(func(yield func(spell.Phrase) bool) {
		for ph, pc := range phrases {
			// A phrase of several words found in one title only is noise.
			if pc.n < 2 && strings.IndexByte(ph, ' ') >= 0 {
				continue
			}
			cat := ""
			if c, ok := pc.top(); ok {
				cat = catNames[c]
			}
			if !yield(spell.Phrase{Text: ph, Weight: uint64(pc.n), Category: cat}) {
				return
			}
		}
		for _, q := range e.opts.PopularQueries {
			ws := textWords(nil, q)
			if len(ws) == 0 {
				continue
			}
			ph := strings.Join(ws, " ")
			cat := e.queryCategory(q)
			if !yield(spell.Phrase{Text: ph, Weight: popularWeight, Category: cat}) {
				return
			}
		}
	})
	sp := &spelling{dict: dict, sugg: sugg, built: time.Now()}
	sp.vocab.build(brands, colors, e.opts.MinBrandProducts, func(key string) int {
		if pc := phrases[key]; pc != nil {
			return pc.n
		}
		return 0
	})
	sp.vocab.sizes = sizes
	sp.vocab.cats, sp.vocab.paths = predictable(phrases, catNames, catPaths)
	return sp, nil
}

// Category prediction: a title phrase of two or three words points to a
// category when it is in catMinProducts products or more and its commonest category's counter
// holds catMinShare of them (a lower bound on the true share).
const (
	catMinProducts = 5
	catMinShare    = 0.6
)

// predictable returns the phrases that point to one leaf category, and
// the path of each such category.
func predictable(phrases map[string]*phraseCount, names []string, paths [][]string) (map[string]string, map[string][]string) {
	cats, ps := map[string]string{}, map[string][]string{}
	for ph, pc := range phrases {
		if pc.n < catMinProducts || strings.IndexByte(ph, ' ') < 0 {
			continue // a word alone misleads: most "projector" titles are lamps for one
		}
		c, ok := pc.top()
		if !ok || float64(pc.count(c)) < catMinShare*float64(pc.n) || len(paths[c]) == 0 {
			continue
		}
		cats[ph] = names[c]
		ps[names[c]] = paths[c]
	}
	return cats, ps
}

// queryCategory returns the most common leaf category among the first
// ten results of q, "" when it has none.
func (e *Engine) queryCategory(q string) string {
	res, err := e.Search(context.Background(), &Request{Query: q, PageSize: 10, NoSpell: true, NoUnderstand: true})
	if err != nil || len(res.Hits) == 0 {
		return ""
	}
	count := map[string]int{}
	best := ""
	for _, h := range res.Hits {
		c := catalog.CategorySlug(h.Product.Category)
		count[c]++
		if count[c] > count[best] || count[c] == count[best] && c < best {
			best = c
		}
	}
	return best
}

type brandCount struct {
	name    string
	n       int
	inTitle int // products of the brand whose title names it
}

// phraseCount counts the products of a phrase and keeps its most common
// categories with the Misra-Gries summary of four counters, in constant
// space: a category of more than a fifth of the products is always among
// them, and the largest counter is the most common category in practice.
// A majority vote is not enough: "wireless mouse" splits between mice and
// keyboards, and the vote went to a grocery category seen last.
type phraseCount struct {
	n    int
	cats [4]struct{ cat, n uint32 }
}

func (p *phraseCount) add(cat uint32) {
	p.n++
	free := -1
	for k := range p.cats {
		c := &p.cats[k]
		if c.n > 0 && c.cat == cat {
			c.n++
			return
		}
		if c.n == 0 && free < 0 {
			free = k
		}
	}
	if free >= 0 {
		p.cats[free] = struct{ cat, n uint32 }{cat, 1}
		return
	}
	for k := range p.cats {
		p.cats[k].n--
	}
}

// count returns the counter of cat, a lower bound of its products.
func (p *phraseCount) count(cat uint32) uint32 {
	for _, c := range p.cats {
		if c.n > 0 && c.cat == cat {
			return c.n
		}
	}
	return 0
}

// top returns the category with the largest counter.
func (p *phraseCount) top() (uint32, bool) {
	best := -1
	for k, c := range p.cats {
		if c.n > 0 && (best < 0 || c.n > p.cats[best].n) {
			best = k
		}
	}
	if best < 0 {
		return 0, false
	}
	return p.cats[best].cat, true
}

func isStopWord(w string) bool {
	switch w {
	case "for", "the", "with", "and", "of", "in", "a", "an", "to", "on", "by", "or", "x":
		return true
	}
	return false
}

// spellIndex answers spell.Index from the views of one search.
type spellIndex struct {
	views []index.View
	req   index.Request
	res   index.Result
	words [2][]string
	idf   [2][]float64
}

func (s *spellIndex) DocFreq(w string) int {
	t := query.Stem(w)
	n := 0
	for _, v := range s.views {
		n += v.DocFreq(t)
	}
	return n
}

func (s *spellIndex) CoCount(a, b string) int {
	s.words[0] = append(s.words[0][:0], query.Stem(a))
	s.words[1] = append(s.words[1][:0], query.Stem(b))
	s.idf[0] = append(s.idf[0][:0], 1)
	s.idf[1] = append(s.idf[1][:0], 1)
	s.req = index.Request{Words: s.words[:], IDF: s.idf[:], CountOnly: true, Filter: index.Filter{Category: -1}}
	n := 0
	for _, v := range s.views {
		v.Search(&s.req, &s.res)
		n += s.res.Total
	}
	return n
}

// correction is a kind of change correct makes.
type correction uint8

const (
	noCorrection correction = iota
	misspelt                // words in neither the catalog nor the lexicon
	compound                // a non-word split in two (Compounds)
	joined                  // two words the catalog writes as one (Joins)
	realWord                // a known word typed for another (CorrectRealWords)
)

// correct returns q with the change of the given kind made, "" when it
// makes none. Everything else of q is kept as typed, so the corrected
// query reads the same to query understanding ("$20-$50"). unmatched says
// the query matched no product at all, when a misspelt correction may
// change a real word the catalog lacks too.
func (e *Engine) correct(st *state, q string, kind correction, unmatched bool) string {
	sp := e.spelling.Load()
	if sp == nil || e.opts.NoSpell {
		return ""
	}
	ws := query.Words(q)
	if len(ws) == 0 || len(ws) > e.opts.MaxWords {
		return ""
	}
	folded := make([]string, len(ws))
	for i, w := range ws {
		folded[i] = strings.ReplaceAll(query.Fold(w.Text), "'", "")
	}
	ix := &spellIndex{views: st.views}
	var c spell.Correction
	switch kind {
	case misspelt:
		if unmatched {
			c = e.corrector.CorrectUnmatched(sp.dict, ix, folded)
		} else {
			c = e.corrector.Correct(sp.dict, ix, folded)
		}
	case compound:
		if unmatched {
			c = e.corrector.CompoundsUnmatched(sp.dict, ix, folded)
		} else {
			c = e.corrector.Compounds(sp.dict, ix, folded)
		}
	case joined:
		c = e.corrector.Joins(sp.dict, ix, folded)
	case realWord:
		c = e.corrector.CorrectRealWords(sp.dict, ix, folded)
		if c.Changed > 0 && !titlePhrase(sp, c.Words, folded) {
			return ""
		}
	}
	if c.Changed == 0 {
		return ""
	}
	var b strings.Builder
	pos, changed := 0, false
	for i, w := range ws {
		at := strings.Index(q[pos:], w.Text)
		if at < 0 {
			return "" // cannot happen: Text is a substring of q, in order
		}
		at += pos
		if c.Words[i] == "" {
			// Joined to the word before: drop it and what separates them.
			pos, changed = at+len(w.Text), true
			continue
		}
		b.WriteString(q[pos:at])
		if c.Words[i] != folded[i] && !strings.ContainsAny(folded[i], "-.,") {
			b.WriteString(c.Words[i])
			changed = true
		} else {
			b.WriteString(w.Text)
		}
		pos = at + len(w.Text)
	}
	b.WriteString(q[pos:])
	if !changed {
		return ""
	}
	return b.String()
}

// realWordPhrase is the fewest titles that must hold a real-word
// correction beside a neighbouring query word ("mouse pad").
const realWordPhrase = 5

// titlePhrase reports whether a word changed from typed to fixed forms, with
// the query word before or after it, a phrase of at least realWordPhrase
// titles: the strong evidence a real word needs before it is replaced.
// "house pad" -> "mouse pad" has it in a store of mouse pads; "garden hose"
// -> "garden home" has not, though "garden" and "home" share many products.
func titlePhrase(sp *spelling, fixed, typed []string) bool {
	for i := range fixed {
		if fixed[i] == typed[i] {
			continue
		}
		if i > 0 && sp.sugg.Weight(fixed[i-1]+" "+fixed[i]) >= realWordPhrase ||
			i+1 < len(fixed) && sp.sugg.Weight(fixed[i]+" "+fixed[i+1]) >= realWordPhrase {
			return true
		}
	}
	return false
}

// Suggest completes the prefix q to at most limit popular phrases, most
// popular first, tolerating one typo in the last word. It answers nothing
// before RebuildSpelling.
func (e *Engine) Suggest(q string, limit int) []spell.Suggestion {
	sp := e.spelling.Load()
	if sp == nil {
		return nil
	}
	ws := textWords(nil, q)
	if len(ws) == 0 {
		return nil
	}
	// A finished last word completes only to phrases going on.
	prefix := strings.Join(ws, " ") + trailingSpace(q)
	out := sp.sugg.Suggest(prefix, limit, nil)
	if len(out) > 0 || len(ws) < 2 {
		return out
	}
	// Nothing starts so: correct the finished words ("wirless hea") with
	// the spelling dictionary and try again.
	fixed := false
	var cands []spell.Candidate
	for i, w := range ws[:len(ws)-1] {
		if sp.dict.Freq(w) > 0 || sp.dict.Protected(w) {
			continue
		}
		if cands = e.corrector.Candidates(sp.dict, w, cands[:0]); len(cands) > 0 {
			ws[i], fixed = cands[0].Word, true
		}
	}
	if !fixed {
		return out
	}
	prefix = strings.Join(ws, " ") + trailingSpace(q)
	return sp.sugg.Suggest(prefix, limit, out)
}

func trailingSpace(q string) string {
	if n := len(q); n > 0 && q[n-1] == ' ' {
		return " "
	}
	return ""
}

// spellFallback corrects a query that matched fewer than SpellMaxTotal
// products with every word, word by word, and then relaxes the corrected
// query as any other: "wireles mouse pad for gaming laptp" is answered for
// "wireless mouse pad for gaming laptop" though no product holds all six
// words. The kinds of correction are tried in turn until one replaces the
// results (CorrectedFrom is set):
//   - a non-word split in two (spell.Compounds: "gardenhose" -> "garden
//     hose"), when the change finds more full matches;
//   - misspelt words (in neither the catalog nor the English lexicon),
//     when the corrected query finds something and at least as many full
//     matches;
//   - two words joined (spell.Joins: "head phones" -> "headphones"), when
//     the change finds more full matches;
//   - a real-word correction ("house pad" for "mouse pad"), which needs
//     strong evidence: the query as typed matched no product with every
//     word, or SpellRatio times fewer than the correction does.
//
// A query that matched at least SpellMaxTotal products with every word is
// only joined, when the joined word is in SpellRatio times more products
// than the query matched ("lap top" -> "laptop").
func (e *Engine) spellFallback(ctx context.Context, st *state, r *Request, res *Result) (*Result, error) {
	if r.NoSpell {
		return res, nil
	}
	kinds := []correction{compound, joined, misspelt, realWord}
	if res.Exact >= e.opts.SpellMaxTotal {
		kinds = kinds[1:2]
	}
	for _, kind := range kinds {
		corrected := e.correct(st, r.Query, kind, res.Total == 0)
		if corrected == "" {
			continue
		}
		alt := &Result{Page: res.Page, PageSize: res.PageSize}
		if err := e.runQuery(ctx, st, r, corrected, alt); err != nil {
			return nil, err
		}
		var replace bool
		switch kind {
		case misspelt:
			replace = alt.Total > 0 && alt.Exact >= res.Exact
		case compound:
			replace = alt.Exact > res.Exact
		case joined:
			replace = alt.Exact > res.Exact && (res.Exact < e.opts.SpellMaxTotal || alt.Exact >= e.opts.SpellRatio*res.Exact)
		case realWord:
			far := alt.Exact >= e.opts.SpellRatio*max(res.Exact, 1)
			replace = alt.Exact > 0 && (res.Exact == 0 || far)
		}
		if replace {
			alt.DidYouMean = corrected
			alt.CorrectedFrom = r.Query
			return alt, nil
		}
	}
	return res, nil
}
