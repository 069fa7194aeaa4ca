package query

import (
	"slices"
	"strings"
	"testing"
)

func TestAppendTerms(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		// Empty and blank input.
		{"", nil},
		{"   \t\n ", nil},
		{"-- & + / ... ,,, ''", nil},

		// Plain words: lower-cased, stemmed.
		{"Wireless Headphones", []string{"wireless", "headphone"}},
		{"office chairs", []string{"office", "chair"}},
		{"AA Batteries (8-pack)", []string{"aa", "battery", "8", "pack", "8pack"}},

		// Model numbers: the parts, then the joined form.
		{"Sony WH-1000XM5", []string{"sony", "wh", "1000xm5", "wh1000xm5"}},
		{"WH1000XM5", []string{"wh1000xm5"}},
		{"USB-C", []string{"usb", "c", "usbc"}},
		{"T-Shirts", []string{"t", "shirt", "tshirt"}},
		{"a-b-c", []string{"a", "b", "c", "abc"}},
		{"-leading and trailing-", []string{"leading", "and", "trailing"}},
		{"wh - 1000xm5", []string{"wh", "1000xm5"}},
		{"PS4 ps5", []string{"ps4", "ps5"}},
		{"usb‐c", []string{"usb", "c", "usbc"}}, // U+2010 hyphen
		{"10–20", []string{"10", "20"}},         // en dash separates

		// Numbers keep '.' and ',' between digits only.
		{"3.5mm jack", []string{"3.5mm", "jack"}},
		{"2,000 mAh", []string{"2,000", "mah", "2000mah"}},
		{"v1.2.3", []string{"v1.2.3"}},
		{"end. Next,word", []string{"end", "next", "word"}},
		{"costs 2, then 3.", []string{"cost", "2", "then", "3"}},
		{".5 and 5.", []string{"5", "and", "5"}},
		{"USB-3.0 hub", []string{"usb", "3.0", "usb3.0", "hub"}},

		// Punctuation separates; apostrophes are dropped.
		{"men's shoes", []string{"men", "shoe"}},
		{"Men’s Shoes", []string{"men", "shoe"}},
		{"kids' toys", []string{"kid", "toy"}},
		{"boss's desk", []string{"boss", "desk"}},
		{"rock'n'roll", []string{"rocknroll"}},
		{"'quoted'", []string{"quoted"}},
		{"salt&pepper", []string{"salt", "pepper"}},
		{"c++ book", []string{"c", "book"}},
		{"black/white", []string{"black", "white"}},
		{"snake_case", []string{"snake", "case"}},
		{"(red)[blue]{green}", []string{"red", "blue", "green"}},
		{"email@example.com", []string{"email", "example", "com"}},

		// Unicode folding.
		{"Crème Brûlée", []string{"creme", "brulee"}},
		{"Cre\u0300me", []string{"creme"}}, // decomposed input
		{"Straße", []string{"strasse"}},
		{"ﬁlter", []string{"filter"}},
		{"ＡＢＣ １２３", []string{"abc", "123"}},
		{"Ørsted Œuvre Æsir łódź", []string{"orsted", "oeuvre", "aesir", "lodz"}},
		{"İstanbul", []string{"istanbul"}},
		{"ΣΟΦΊΑ ς", []string{"σοφια", "σ"}},
		{"Москва", []string{"москва"}},
		{"head\u00adphones", []string{"headphone"}}, // soft hyphen
		{"½ inch…", []string{"inch"}},
		{"日本語", []string{"日本語"}},

		// Invalid UTF-8 separates.
		{"ab\xffcd", []string{"ab", "cd"}},
		{"\xc3", nil},
		{"caf\xc3", []string{"caf"}},
		{"\xed\xa0\x80x", []string{"x"}}, // surrogate half
	}
	for _, tt := range tests {
		got := AppendTerms(nil, tt.text)
		if !slices.Equal(got, tt.want) {
			t.Errorf("AppendTerms(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestAppendTermsAppends(t *testing.T) {
	dst := []string{"keep"}
	got := AppendTerms(dst, "Red Chairs")
	if want := []string{"keep", "red", "chair"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := AppendTerms(dst, "  "); len(got) != 1 {
		t.Errorf("blank text changed dst: %q", got)
	}
}

func TestAppendTermsLong(t *testing.T) {
	// Many words: every one comes out.
	text := strings.Repeat("wireless headphones ", 5000)
	got := AppendTerms(nil, text)
	if len(got) != 10000 || got[0] != "wireless" || got[9999] != "headphone" {
		t.Fatalf("got %d terms, first %q last %q", len(got), got[0], got[len(got)-1])
	}
	// One huge word: cut to MaxTermLen, on a rune boundary.
	for _, w := range []string{strings.Repeat("x", 100000), strings.Repeat("é", 1000), strings.Repeat("a-", 1000)} {
		for _, term := range AppendTerms(nil, w) {
			if len(term) > MaxTermLen || term == "" {
				t.Errorf("term of %d bytes", len(term))
			}
			checkTerm(t, term)
		}
		words := Words(w)
		if len(words) != 1 || len(words[0].Terms[0]) > MaxTermLen {
			t.Errorf("Words of a %d-byte word: %d words", len(w), len(words))
		}
	}
}

func TestWords(t *testing.T) {
	type w = Word
	tests := []struct {
		text string
		want []Word
	}{
		{"", nil},
		{" \t ", nil},
		{"&&&", nil},
		{"wireless headphones", []Word{{"wireless", []string{"wireless"}, false}, {"headphones", []string{"headphone"}, false}}},
		{"wh-1000xm5", []Word{{"wh-1000xm5", []string{"wh1000xm5"}, false}}},
		{"WH 1000XM5", []Word{{"WH", []string{"wh"}, false}, {"1000XM5", []string{"1000xm5"}, false}}},
		{"case for the iPhone", []Word{
			{"case", []string{"case"}, false},
			{"for", []string{"for"}, true},
			{"the", []string{"the"}, true},
			{"iPhone", []string{"iphone"}, false},
		}},
		{"a-to-z", []Word{{"a-to-z", []string{"atoz"}, false}}},
		{"\"men's\" boots!", []Word{{"men's", []string{"men"}, false}, {"boots", []string{"boot"}, false}}},
		{"Café, crème", []Word{{"Café", []string{"cafe"}, false}, {"crème", []string{"creme"}, false}}},
		{"3.5mm, usb-c", []Word{{"3.5mm", []string{"3.5mm"}, false}, {"usb-c", []string{"usbc"}, false}}},
		{"x\xffy", []Word{{"x", []string{"x"}, false}, {"y", []string{"y"}, false}}},
		{"AND Of In A An To On With", []Word{
			{"AND", []string{"and"}, true}, {"Of", []string{"of"}, true}, {"In", []string{"in"}, true},
			{"A", []string{"a"}, true}, {"An", []string{"an"}, true}, {"To", []string{"to"}, true},
			{"On", []string{"on"}, true}, {"With", []string{"with"}, true},
		}},
	}
	for _, tt := range tests {
		got := Words(tt.text)
		if !slices.EqualFunc(got, tt.want, func(a, b w) bool {
			return a.Text == b.Text && a.Stop == b.Stop && slices.Equal(a.Terms, b.Terms)
		}) {
			t.Errorf("Words(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}

func TestWordsTermsCapped(t *testing.T) {
	// Appending to one Word's Terms must not overwrite the next Word's.
	words := Words("red chairs")
	_ = append(words[0].Terms, "crimson")
	if words[1].Terms[0] != "chair" {
		t.Errorf("append to Terms clobbered the next word: %q", words[1].Terms)
	}
}

// TestIndexQueryAgreement checks the property the engine relies on: a product
// whose text is exactly the query matches every word of it.
func TestIndexQueryAgreement(t *testing.T) {
	for _, s := range agreementCorpus() {
		checkAgreement(t, s)
	}
}

// agreementCorpus returns a few hundred varied strings: product vocabulary,
// combined with punctuation, case and Unicode variations.
func agreementCorpus() []string {
	words := []string{
		"chairs", "batteries", "headphones", "glasses", "boxes", "bus", "series", "ps4",
		"WH-1000XM5", "USB-C", "3.5mm", "2,000", "men's", "kids'", "T-Shirts", "hoodies",
		"watches", "lenses", "Crème", "Straße", "ﬁlter", "ＡＢＣ", "Øre", "naïve", "İzmir",
		"wi-fi", "a", "the", "for", "x", "ies", "sses", "cookies", "flies", "ties", "axes",
		"v1.2", "-", "'s", "s", "ss", "news", "café", "日本", "Σ", "e\u0301", "10–20",
		"head\u00adset", "rock'n'roll", "a-b", "1,2,3", "x\xffy", "\xc3", "", "..", "iPad",
	}
	seps := []string{" ", "-", "'", ".", ",", "&", "+", "/", "’", "  ", ", ", " - "}
	var out []string
	for i, w := range words {
		out = append(out, w, strings.ToUpper(w), strings.ToLower(w))
		for j, sep := range seps {
			v := words[(i*7+j*3+1)%len(words)]
			out = append(out, w+sep+v, sep+w+sep)
		}
	}
	return out
}

func checkAgreement(t *testing.T, s string) {
	t.Helper()
	terms := AppendTerms(nil, s)
	for _, w := range Words(s) {
		if len(w.Terms) == 0 {
			t.Errorf("Words(%q): word %q has no terms", s, w.Text)
			continue
		}
		if !slices.Contains(terms, w.Terms[0]) {
			t.Errorf("Words(%q): word %q term %q not among index terms %q", s, w.Text, w.Terms[0], terms)
		}
	}
}

func TestAllocs(t *testing.T) {
	dst := make([]string, 0, 256)
	if n := testing.AllocsPerRun(100, func() { dst = AppendTerms(dst[:0], benchDescription) }); n != 1 {
		t.Errorf("AppendTerms of a %d-byte description: %v allocations, want 1", len(benchDescription), n)
	}
	if n := testing.AllocsPerRun(100, func() { Words("sony wh-1000xm5 headphones for men") }); n > 3 {
		t.Errorf("Words: %v allocations, want at most 3", n)
	}
}
