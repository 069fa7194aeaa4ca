package search

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/spell"
)

// The spelling evaluation indexes the default store, so it runs only when
// asked: go test ./search -run TestSpellEval -spelleval -v
var (
	spellEval = flag.Bool("spelleval", false, "run the spelling and query-understanding evaluation on the default store")
	hunspell  = flag.Bool("hunspell", false, "with -spelleval, run Debian's hunspell on the misspelling lists beside ours (minutes)")
)

const spellingDir = "../corpora/spelling/"

// misspelling is one (typed, meant) pair of a misspelling list.
type misspelling struct{ wrong, right string }

// readMisspellings reads the three lists of corpora/spelling, folded.
func readMisspellings(t *testing.T) []misspelling {
	var out []misspelling
	add := func(w, r string) {
		w, r = query.Fold(strings.TrimSpace(w)), query.Fold(strings.TrimSpace(r))
		if w != "" && r != "" && w != r && !strings.ContainsAny(w+r, " _'-") {
			out = append(out, misspelling{w, r})
		}
	}
	f, err := os.Open(spellingDir + "birkbeck.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		w, r, ok := strings.Cut(sc.Text(), "\t")
		if ok {
			add(w, r)
		}
	}
	pair := regexp.MustCompile(`'([^']+)'\s*:\s*'([^']+)'`)
	for _, name := range []string{"norvig_spell-testset1.txt", "norvig_spell-testset2.txt"} {
		b, err := os.ReadFile(spellingDir + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pair.FindAllStringSubmatch(string(b), -1) {
			for _, w := range strings.Fields(m[2]) {
				add(w, m[1])
			}
		}
	}
	b, err := os.ReadFile(spellingDir + "wikipedia_common_misspellings.json")
	if err != nil {
		t.Fatal(err)
	}
	var wiki map[string]string
	if err := json.Unmarshal(b, &wiki); err != nil {
		t.Fatal(err)
	}
	for w, r := range wiki {
		add(w, r)
	}
	slices.SortFunc(out, func(a, b misspelling) int { return strings.Compare(a.wrong+"\x00"+a.right, b.wrong+"\x00"+b.right) })
	return slices.Compact(out)
}

// typo makes one seeded typing error in a word of q of four letters or
// more without a digit: a deletion, an insertion or substitution by a
// keyboard neighbour, or a transposition. It returns q unchanged when no
// word qualifies.
func typo(q string, r *rand.Rand) string {
	words := strings.Fields(q)
	var cands []int
	for i, w := range words {
		if len(w) >= 4 && !strings.ContainsAny(w, "0123456789-") {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return q
	}
	i := cands[r.IntN(len(cands))]
	w := []byte(words[i])
	p := r.IntN(len(w))
	neighbours := func(c byte) []byte {
		rows := []string{"qwertyuiop", "asdfghjkl", "zxcvbnm"}
		var ns []byte
		for ri, row := range rows {
			ci := strings.IndexByte(row, c)
			if ci < 0 {
				continue
			}
			for dr := -1; dr <= 1; dr++ {
				if ri+dr < 0 || ri+dr >= len(rows) {
					continue
				}
				o := rows[ri+dr]
				for dc := -1; dc <= 1; dc++ {
					if dr != 0 && dc == -dr || dr == 0 && dc == 0 { // stagger: only two neighbours above and below
						continue
					}
					if k := ci + dc; k >= 0 && k < len(o) {
						ns = append(ns, o[k])
					}
				}
			}
		}
		if len(ns) == 0 {
			ns = []byte{c}
		}
		return ns
	}
	switch r.IntN(4) {
	case 0:
		w = slices.Delete(w, p, p+1)
	case 1:
		ns := neighbours(w[p])
		w = slices.Insert(w, p, ns[r.IntN(len(ns))])
	case 2:
		ns := neighbours(w[p])
		w[p] = ns[r.IntN(len(ns))]
	case 3:
		if p == len(w)-1 {
			p--
		}
		w[p], w[p+1] = w[p+1], w[p]
	}
	words[i] = string(w)
	return strings.Join(words, " ")
}

// ndcg10 is NDCG@10 of q with gains 2^rating-1 over its judgements; ok is
// false when q has no product rated 2 or 3.
func ndcg10(ids []string, grades map[string]int) (float64, bool) {
	var dcg, idcg float64
	for i, id := range ids[:min(10, len(ids))] {
		dcg += (math.Exp2(float64(grades[id])) - 1) / math.Log2(float64(i+2))
	}
	var ideal []int
	relevant := false
	for _, g := range grades {
		ideal = append(ideal, g)
		relevant = relevant || g >= 2
	}
	if !relevant {
		return 0, false
	}
	slices.Sort(ideal)
	slices.Reverse(ideal)
	for i, g := range ideal[:min(10, len(ideal))] {
		idcg += (math.Exp2(float64(g)) - 1) / math.Log2(float64(i+2))
	}
	return dcg / idcg, true
}

func TestSpellEval(t *testing.T) {
	if !*spellEval {
		t.Skip("run with -spelleval")
	}
	for _, set := range []string{"icecat", "store"} {
		t.Run(set, func(t *testing.T) { spellEvalSet(t, set) })
	}
}

func spellEvalSet(t *testing.T, set string) {
	var ps []*catalog.Product
	var err error
	if set == "icecat" {
		ps, err = corpora.Icecat()
	} else {
		ps, err = corpora.DefaultStore()
	}
	if err != nil {
		t.Fatal(err)
	}
	js, err := corpora.IcecatJudgments()
	if err != nil {
		t.Fatal(err)
	}
	queries := []string{}
	for _, j := range js {
		if !slices.Contains(queries, j.Query) {
			queries = append(queries, j.Query)
		}
	}
	eng, err := New(Options{Shards: 4, PopularQueries: queries})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	if err := eng.RebuildSpelling(); err != nil {
		t.Fatal(err)
	}
	ss := eng.SpellingStats()
	t.Logf("%s: %d products; spelling data: %d words, %d phrases, %d brands, %d colours, built in %v",
		set, len(ps), ss.Words, ss.Phrases, ss.Brands, ss.Colors, ss.Took.Round(time.Millisecond))

	grades := map[string]map[string]int{}
	for _, j := range js {
		if grades[j.Query] == nil {
			grades[j.Query] = map[string]int{}
		}
		grades[j.Query][j.ProductID] = j.Rating
	}
	slices.Sort(queries)
	ctx := context.Background()
	run := func(q string, noSpell, noUnderstand bool) *Result {
		res, err := eng.Search(ctx, &Request{Query: q, PageSize: 10, Plain: true, NoSpell: noSpell, NoUnderstand: noUnderstand})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ids := func(res *Result) []string {
		var out []string
		for _, h := range res.Hits {
			if !h.Sponsored {
				out = append(out, h.Product.ID)
			}
		}
		return out
	}
	// Clean judged queries: what fires, and what it costs.
	var base, full, judged float64
	fired := 0
	for _, q := range queries {
		r0 := run(q, true, true)
		r1 := run(q, false, false)
		if r1.DidYouMean != "" || r1.CorrectedFrom != "" {
			fired++
			t.Logf("%s: clean query %q: did_you_mean %q corrected_from %q", set, q, r1.DidYouMean, r1.CorrectedFrom)
		}
		if r1.Understood != nil && (r1.Understood.HasPriceMax || r1.Understood.HasPriceMin || r1.Understood.RatingMin > 0 || len(r1.Understood.Colors) > 0) {
			t.Logf("%s: clean query %q understood as a filter: %+v", set, q, *r1.Understood)
		}
		n0, ok := ndcg10(ids(r0), grades[q])
		if !ok {
			continue
		}
		n1, _ := ndcg10(ids(r1), grades[q])
		if math.Abs(n1-n0) > 1e-9 {
			t.Logf("%s: %q ndcg@10 %.4f -> %.4f (understood %+v)", set, q, n0, n1, r1.Understood)
		}
		base += n0
		full += n1
		judged++
	}
	t.Logf("%s: clean judged queries: %d of %d corrected or offered a correction (%.1f%%); ndcg@10 plain %.4f, with spelling and understanding %.4f",
		set, fired, len(queries), 100*float64(fired)/float64(len(queries)), base/judged, full/judged)

	// Seeded typos of the judged queries.
	rng := rand.New(rand.NewPCG(5, 5))
	var typoNo, typoYes, typoClean, nTypo float64
	fixed, changed := 0, 0
	var lat []time.Duration
	for _, q := range queries {
		tq := typo(q, rng)
		if tq == q {
			continue
		}
		changed++
		r0 := run(tq, true, false)
		start := time.Now()
		r1 := run(tq, false, false)
		lat = append(lat, time.Since(start))
		if r1.CorrectedFrom != "" && strings.EqualFold(r1.DidYouMean, q) || r1.DidYouMean != "" && strings.EqualFold(r1.DidYouMean, q) {
			fixed++
		}
		n0, ok := ndcg10(ids(r0), grades[q])
		if !ok {
			continue
		}
		n1, _ := ndcg10(ids(r1), grades[q])
		nc, _ := ndcg10(ids(run(q, false, false)), grades[q])
		typoNo += n0
		typoYes += n1
		typoClean += nc
		nTypo++
		if testing.Verbose() && n1 < nc-1e-9 {
			t.Logf("%s: typo %q of %q: ndcg %.3f without correction, %.3f with (dym %q from %q), %.3f clean", set, tq, q, n0, n1, r1.DidYouMean, r1.CorrectedFrom, nc)
		}
	}
	slices.Sort(lat)
	t.Logf("%s: %d judged queries with a seeded typo: %d corrected to the clean query (%.1f%%); ndcg@10 over %d judged: clean %.4f, typo without correction %.4f, with correction %.4f; whole search with correction p50 %v p99 %v",
		set, changed, fixed, 100*float64(fixed)/float64(changed), int(nTypo), typoClean/nTypo, typoNo/nTypo, typoYes/nTypo, lat[len(lat)/2], lat[len(lat)*99/100])

	// The misspelling lists, restricted to words of the catalog.
	sp := eng.spelling.Load()
	ms := readMisspellings(t)
	var inCatalog []misspelling
	for _, m := range ms {
		if sp.dict.Freq(m.right) >= 3 {
			inCatalog = append(inCatalog, m)
		}
	}
	at1, at3 := 0, 0
	var cands []spell.Candidate
	var correctTime time.Duration
	st := eng.getState()
	defer eng.states.Put(st)
	for i, s := range eng.shards {
		st.views[i] = s.View()
	}
	sx := &spellIndex{views: st.views}
	for _, m := range inCatalog {
		start := time.Now()
		c := eng.corrector.Correct(sp.dict, sx, []string{m.wrong})
		correctTime += time.Since(start)
		if c.Words[0] == m.right {
			at1++
		}
		cands = eng.corrector.Candidates(sp.dict, m.wrong, cands[:0])
		for k := range cands[:min(3, len(cands))] {
			if cands[k].Word == m.right {
				at3++
				break
			}
		}
		if c.Words[0] == m.right && !slices.ContainsFunc(cands[:min(3, len(cands))], func(c spell.Candidate) bool { return c.Word == m.right }) {
			at3++
		}
	}
	n := float64(len(inCatalog))
	reach := 0
	for _, m := range inCatalog {
		if spell.Distance(m.wrong, m.right) <= eng.corrector.MaxEdits(len([]rune(m.wrong))) {
			reach++
		}
	}
	t.Logf("%s: misspelling lists: %d pairs, %d whose correction is a catalog word (in 3+ products), %d (%.1f%%) of them within the edits allowed: accuracy@1 %.1f%% (%.1f%% of those within reach), @3 %.1f%%, %v per word",
		set, len(ms), len(inCatalog), reach, 100*float64(reach)/n, 100*float64(at1)/n, 100*float64(at1)/float64(max(reach, 1)), 100*float64(at3)/n, correctTime/time.Duration(max(1, len(inCatalog))))
	// The same with two edits from five letters on the evidence of one
	// edit, to show what the evidence (spell.Options.SureLen2) costs.
	wide, err := spell.New(spell.Options{MinLen2: 5, SureLen2: 5})
	if err != nil {
		t.Fatal(err)
	}
	wat1 := 0
	for _, m := range inCatalog {
		if c := wide.Correct(sp.dict, sx, []string{m.wrong}); c.Words[0] == m.right {
			wat1++
		}
	}
	t.Logf("%s: with two edits from 5 letters and no more evidence than one edit's: accuracy@1 %.1f%%", set, 100*float64(wat1)/n)
	if hs := hunspellAccuracy(t, inCatalog, sp.dict); hs != "" {
		t.Logf("%s: %s", set, hs)
	}
}

// hunspellAccuracy runs Debian's hunspell on the misspellings, with its
// en_US dictionary and with a dictionary of the catalog's words, and
// reports accuracy@1 and @3 of its suggestions; "" when hunspell is not
// installed.
func hunspellAccuracy(t *testing.T, ms []misspelling, d *spell.Dict) string {
	if _, err := exec.LookPath("hunspell"); err != nil || !*hunspell {
		return ""
	}
	dir := t.TempDir()
	var words []string
	for w, f := range d.All() {
		if f >= 3 && !strings.ContainsAny(w, "0123456789") {
			words = append(words, w)
		}
	}
	dic := fmt.Sprintf("%d\n%s\n", len(words), strings.Join(words, "\n"))
	if err := os.WriteFile(dir+"/catalog.dic", []byte(dic), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/catalog.aff", []byte("SET UTF-8\nTRY esianrtolcdugmphbyfvkwzxjq\nKEY qwertyuiop|asdfghjkl|zxcvbnm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var input strings.Builder
	for _, m := range ms {
		input.WriteString(m.wrong + "\n")
	}
	var out []string
	for _, dict := range []string{"en_US", dir + "/catalog"} {
		start := time.Now()
		cmd := exec.Command("hunspell", "-d", dict, "-a")
		cmd.Stdin = strings.NewReader(input.String())
		b, err := cmd.Output()
		if err != nil {
			t.Logf("hunspell -d %s: %v", dict, err)
			continue
		}
		took := time.Since(start)
		at1, at3 := 0, 0
		i := 0
		for _, line := range strings.Split(string(b), "\n")[1:] {
			if line == "" {
				continue
			}
			if i >= len(ms) {
				break
			}
			m := ms[i]
			i++
			var sugg []string
			switch line[0] {
			case '*', '+', '-':
				sugg = []string{m.wrong} // accepted as spelt: not corrected
			case '&':
				if _, rest, ok := strings.Cut(line, ": "); ok {
					for _, s := range strings.Split(rest, ", ") {
						sugg = append(sugg, query.Fold(s))
					}
				}
			}
			if len(sugg) > 0 && sugg[0] == m.right {
				at1++
			}
			if slices.Contains(sugg[:min(3, len(sugg))], m.right) {
				at3++
			}
		}
		name := "en_US"
		if dict != "en_US" {
			name = "catalog words"
		}
		n := float64(len(ms))
		out = append(out, fmt.Sprintf("hunspell (%s): accuracy@1 %.1f%%, @3 %.1f%%, %v per word",
			name, 100*float64(at1)/n, 100*float64(at3)/n, took/time.Duration(max(1, len(ms)))))
	}
	return strings.Join(out, "; ")
}

// TestSynonymsEval measures NDCG@10 of the judged queries on the Icecat
// catalog with no synonyms and with a small list, to show what synonyms
// do to relevance before any ships by default.
func TestSynonymsEval(t *testing.T) {
	if !*spellEval {
		t.Skip("run with -spelleval")
	}
	ps, err := corpora.Icecat()
	if err != nil {
		t.Fatal(err)
	}
	js, err := corpora.IcecatJudgments()
	if err != nil {
		t.Fatal(err)
	}
	grades := map[string]map[string]int{}
	for _, j := range js {
		if grades[j.Query] == nil {
			grades[j.Query] = map[string]int{}
		}
		grades[j.Query][j.ProductID] = j.Rating
	}
	eng, err := New(Options{Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	for _, list := range []string{"", "laptop, notebook\n", "tv, television\nearbuds, earphones\nheadset, headphones\n"} {
		var syn *query.Synonyms
		if list != "" {
			syn, err = query.ParseSynonyms(strings.NewReader(list))
			if err != nil {
				t.Logf("list %q: %v", list, err)
				continue
			}
		}
		eng.SetSynonyms(syn)
		var sum, n float64
		for q, g := range grades {
			res, err := eng.Search(context.Background(), &Request{Query: q, PageSize: 10, Plain: true})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, h := range res.Hits {
				ids = append(ids, h.Product.ID)
			}
			if v, ok := ndcg10(ids, g); ok {
				sum += v
				n++
			}
		}
		t.Logf("synonyms %q: ndcg@10 %.4f over %d judged queries", list, sum/n, int(n))
	}
}
