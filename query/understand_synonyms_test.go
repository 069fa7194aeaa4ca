package query

import (
	"slices"
	"strings"
	"testing"
)

func TestSynonyms(t *testing.T) {
	s, err := ParseSynonyms(strings.NewReader(`
# comment
tv, television, telly
laptop => notebook
Earphones => earbuds, headphones # trailing comment
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    string
		want [][]string
	}{
		{"TV", [][]string{{"tv", "television", "telly"}}},
		{"television stand", [][]string{{"television", "tv", "telly"}, {"stand"}}},
		{"gaming laptop", [][]string{{"gaming"}, {"laptop", "notebook"}}},
		{"notebook", [][]string{{"notebook"}}}, // one-way
		{"earphones", [][]string{{"earphone", "earbud", "headphone"}}},
		{"mouse", [][]string{{"mouse"}}},
	} {
		ws := Words(c.q)
		before := Words(c.q)
		got := s.Expand(ws)
		var terms [][]string
		for _, w := range got {
			terms = append(terms, w.Terms)
		}
		if !slices.EqualFunc(terms, c.want, slices.Equal[[]string]) {
			t.Errorf("Expand(%q) = %v, want %v", c.q, terms, c.want)
		}
		for i := range ws {
			if !slices.Equal(ws[i].Terms, before[i].Terms) {
				t.Errorf("Expand(%q) modified its input", c.q)
			}
		}
	}
	for _, bad := range []string{"tv", "a => ", "=> b", "notebook computer => laptop", "tv, flat screen"} {
		if _, err := ParseSynonyms(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseSynonyms(%q) = nil error", bad)
		}
	}
	var none *Synonyms
	if ws := Words("tv"); &none.Expand(ws)[0] != &ws[0] {
		t.Error("nil Synonyms copied the words")
	}
}

func FuzzParseSynonyms(f *testing.F) {
	for _, s := range []string{"tv, television\nlaptop => notebook\n# c", "a=>b=>c", ",,,", "=>", "\xff, \xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseSynonyms(strings.NewReader(text))
		if err != nil {
			return
		}
		for term, alts := range s.alts {
			if term == "" || slices.Contains(alts, term) {
				t.Fatalf("bad entry %q -> %v", term, alts)
			}
		}
		s.Expand(Words(text))
	})
}
