package bench

import (
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/query"
)

// Query is one search of a workload, in the terms every engine answers:
// free text, the storefront's filters, a sort and whether facets are asked
// for. It is plain data shared read-only by concurrent clients.
type Query struct {
	Text   string
	Filter query.Filter
	Sort   query.Sort
	Facets bool
	// Judged is set for a query of the judgments, unset for a generated one.
	Judged bool
}

// Shares of the generated log.
const (
	shareFilter = 0.25 // a brand or category filter, sometimes price and stock
	shareSort   = 0.10 // a sort other than relevance
	shareFacets = 0.50 // facets asked for
	shareTypo   = 0.08 // one word with one edit
)

// JudgedQueries returns the distinct queries of js, in first-seen order.
func JudgedQueries(js []corpora.Judgment) []string {
	seen := map[string]bool{}
	var qs []string
	for _, j := range js {
		if !seen[j.Query] {
			seen[j.Query] = true
			qs = append(qs, j.Query)
		}
	}
	return qs
}

// QueryLog returns the load workload's log: every judged query (with
// facets, as a storefront asks) followed by n queries generated from the
// catalog with seed, shuffled together with the same seed.
//
// A generated query draws its first word from the catalog's title
// vocabulary with Zipf-distributed popularity, then 0 to 3 more words from
// the title of a product holding that word, so that most queries find
// something, as real ones do. A share adds filters taken from that product
// (brand, category, a price bound, in stock), a sort, facets, or a typo.
func QueryLog(ps []*catalog.Product, judged []string, n int, seed uint64) []Query {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	log := make([]Query, 0, len(judged)+n)
	for _, q := range judged {
		log = append(log, Query{Text: q, Facets: true, Judged: true})
	}
	if n > 0 && len(ps) > 0 {
		v := newVocab(ps)
		zipf := rand.NewZipf(r, 1.07, 2, uint64(len(v.words)-1))
		for range n {
			log = append(log, v.query(r, zipf, ps))
		}
	}
	r.Shuffle(len(log), func(i, j int) { log[i], log[j] = log[j], log[i] })
	return log
}

// vocab is the title vocabulary by falling frequency, with the products
// holding each word.
type vocab struct {
	words []string
	docs  [][]int32
}

var stopWords = map[string]bool{"and": true, "the": true, "for": true, "with": true, "of": true,
	"in": true, "to": true, "a": true, "an": true, "by": true, "on": true, "or": true, "x": true}

func titleWords(title string) []string {
	ws := strings.FieldsFunc(strings.ToLower(title), func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsDigit(c)
	})
	out := ws[:0]
	for _, w := range ws {
		if len(w) >= 2 && !stopWords[w] && strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			out = append(out, w)
		}
	}
	return out
}

func newVocab(ps []*catalog.Product) *vocab {
	docs := map[string][]int32{}
	for i, p := range ps {
		ws := titleWords(p.Title)
		slices.Sort(ws)
		for _, w := range slices.Compact(ws) {
			docs[w] = append(docs[w], int32(i))
		}
	}
	v := &vocab{}
	for w := range docs {
		v.words = append(v.words, w)
	}
	slices.SortFunc(v.words, func(a, b string) int {
		if d := len(docs[b]) - len(docs[a]); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	v.docs = make([][]int32, len(v.words))
	for i, w := range v.words {
		v.docs[i] = docs[w]
	}
	return v
}

func (v *vocab) query(r *rand.Rand, zipf *rand.Zipf, ps []*catalog.Product) Query {
	i := int(zipf.Uint64())
	first := v.words[i]
	p := ps[v.docs[i][r.IntN(len(v.docs[i]))]]
	words := []string{first}
	more := titleWords(p.Title)
	for extra := r.IntN(4); extra > 0 && len(more) > 0; extra-- {
		w := more[r.IntN(len(more))]
		if !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	if r.Float64() < shareTypo {
		k := r.IntN(len(words))
		words[k] = typo(r, words[k])
	}
	q := Query{Text: strings.Join(words, " ")}
	if r.Float64() < shareFilter {
		switch {
		case p.Brand != "" && r.IntN(2) == 0:
			q.Filter.Brands = []string{p.Brand}
		case len(p.Category) > 0:
			q.Filter.Category = catalog.CategorySlug(p.Category[:min(len(p.Category), 1+r.IntN(2))])
		}
		if r.IntN(3) == 0 {
			price, _ := p.Price()
			q.Filter.PriceMax, q.Filter.HasPriceMax = price.Amount*2, true
		}
		q.Filter.InStock = r.IntN(2) == 0
	}
	if r.Float64() < shareSort {
		q.Sort = query.Sort(1 + r.IntN(4))
	}
	q.Facets = r.Float64() < shareFacets
	return q
}

// typo applies one edit to a word of five letters or more: a deletion, a
// transposition or a substitution, on runes so the result stays UTF-8.
func typo(r *rand.Rand, w string) string {
	b := []rune(w)
	if len(b) < 5 {
		return w
	}
	k := 1 + r.IntN(len(b)-2)
	switch r.IntN(3) {
	case 0:
		return string(append(b[:k:k], b[k+1:]...))
	case 1:
		b[k], b[k+1] = b[k+1], b[k]
	default:
		b[k] = rune('a' + r.IntN(26))
	}
	return string(b)
}
