package query

import (
	"testing"
	"unicode/utf8"
)

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		"", " ", "Sony WH-1000XM5", "USB-C", "3.5mm, 2,000 mAh", "men's kids' boss's",
		"Crème Brûlée Straße ﬁlter ＡＢＣ", "\xff\xfe", "caf\xc3", "a-b-c-", "-'s", "1.", ".1",
		"ιΣ ς", "e\u0301\u0301", "head\u00adphones", "½…", "batteries glasses hoodies series",
		benchTitle, benchDescription,
	} {
		f.Add(s)
	}
}

func checkTerm(t *testing.T, term string) {
	t.Helper()
	switch {
	case term == "":
		t.Errorf("empty term")
	case !utf8.ValidString(term):
		t.Errorf("term %q is not valid UTF-8", term)
	case len(term) > MaxTermLen:
		t.Errorf("term %q is %d bytes, longer than MaxTermLen", term, len(term))
	}
}

func FuzzAppendTerms(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, term := range AppendTerms(nil, s) {
			checkTerm(t, term)
		}
		checkAgreement(t, s)
	})
}

func FuzzWords(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range Words(s) {
			if w.Text == "" || !utf8.ValidString(w.Text) {
				t.Errorf("Words(%q): bad Text %q", s, w.Text)
			}
			if len(w.Terms) == 0 {
				t.Fatalf("Words(%q): word %q has no terms", s, w.Text)
			}
			for _, term := range w.Terms {
				checkTerm(t, term)
			}
		}
		checkAgreement(t, s)
	})
}
