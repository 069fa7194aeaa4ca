package spell

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0},
		{"abc", "abc", 0},
		{"", "abc", 3},
		{"wireless", "wirelss", 1},
		{"wireless", "wirelses", 1}, // transposition
		{"headphones", "hedphones", 1},
		{"headphones", "haedphoens", 2},
		{"ca", "abc", 3}, // OSA, not full Damerau
		{"café", "cafe", 1},
		{"kitten", "sitting", 3},
	} {
		if got := Distance(c.a, c.b); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
		if got := Distance(c.b, c.a); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.b, c.a, got, c.d)
		}
	}
}

func TestCost(t *testing.T) {
	for _, c := range []struct {
		typed, word string
		want        float64
	}{
		{"hesdphones", "headphones", costAdjacent},
		{"hexdphones", "headphones", 1},
		{"adress", "address", costDouble},
		{"wirelses", "wireless", costSwap},
		{"wireless", "wireless", 0},
	} {
		if got := Cost(c.typed, c.word); got != c.want {
			t.Errorf("Cost(%q, %q) = %g, want %g", c.typed, c.word, got, c.want)
		}
	}
}

func TestAdjacent(t *testing.T) {
	yes := []string{"as", "sa", "qw", "aq", "aw", "sz", "zs", "ws", "ed", "mn", "pl", "12", "1q", "2q"}
	no := []string{"aa", "ad", "qs", "ax", "pm", "a1", "é1"}
	for _, p := range yes {
		r := []rune(p)
		if !adjacent(r[0], r[1]) {
			t.Errorf("adjacent(%q) = false", p)
		}
	}
	for _, p := range no {
		r := []rune(p)
		if adjacent(r[0], r[1]) {
			t.Errorf("adjacent(%q) = true", p)
		}
	}
}

func seq(m map[string]uint64) func(func(string, uint64) bool) { return maps.All(m) }

var testWords = map[string]uint64{
	"wireless": 900, "headphones": 500, "headphone": 40, "headset": 300, "mouse": 800, "moose": 2,
	"keyboard": 700, "laptop": 1000, "lapdog": 1, "sony": 200, "samsung": 400, "charger": 300,
	"printer": 600, "pointer": 30, "toner": 300, "tone": 20, "battery": 500, "batter": 3,
	"ps4": 50, "tn2110": 5, "case": 900, "cable": 800,
}

func testDict(t testing.TB) *Dict {
	d, err := Build(seq(testWords), slices.Values([]string{"sony", "samsung"}))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDict(t *testing.T) {
	d := testDict(t)
	if d.Len() != len(testWords) {
		t.Fatalf("Len = %d, want %d", d.Len(), len(testWords))
	}
	for w, f := range testWords {
		if got := d.Freq(w); got != f {
			t.Errorf("Freq(%q) = %d, want %d", w, got, f)
		}
	}
	if d.Freq("nothere") != 0 || d.Freq("") != 0 || d.Freq(strings.Repeat("a", 100)) != 0 {
		t.Error("Freq of an absent word is not 0")
	}
	for _, w := range []string{"sony", "ps4", "abc123"} {
		if !d.Protected(w) {
			t.Errorf("Protected(%q) = false", w)
		}
	}
	if d.Protected("mouse") {
		t.Error("Protected(mouse) = true")
	}
	n := 0
	for range d.All() {
		n++
	}
	if n != len(testWords) {
		t.Errorf("All yields %d words, want %d", n, len(testWords))
	}
	empty, err := Build(seq(nil), nil)
	if err != nil || empty.Len() != 0 || empty.Freq("mouse") != 0 || empty.Protected("mouse") {
		t.Errorf("Build(empty) = %v, %v; want an empty dictionary", empty, err)
	}
	for w := range empty.All() {
		t.Errorf("the empty dictionary yields %q", w)
	}
}

// fakeIndex answers co-occurrence from a list of products' word sets.
type fakeIndex [][]string

func (f fakeIndex) DocFreq(w string) int { return f.CoCount(w, w) }
func (f fakeIndex) CoCount(a, b string) int {
	n := 0
	for _, p := range f {
		if slices.Contains(p, a) && slices.Contains(p, b) {
			n++
		}
	}
	return n
}

func TestCorrect(t *testing.T) {
	d := testDict(t)
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := fakeIndex{
		{"wireless", "mouse"}, {"wireless", "mouse"}, {"wireless", "headphones"}, {"wireless", "keyboard"},
		{"laptop", "charger"}, {"laser", "printer"}, {"toner", "printer"}, {"moose", "plush"},
	}
	for _, tc := range []struct {
		in, want string
		changed  int
	}{
		{"wirelss mouse", "wireless mouse", 1},
		{"wireless mouse", "wireless mouse", 0},
		{"wirelses headphnoes", "wireless headphones", 2},
		{"hedphones", "headphones", 1},
		{"keybaord", "keyboard", 1},
		{"laptpo charger", "laptop charger", 1},
		{"batery", "battery", 1},
		{"sny", "sny", 0},         // too short
		{"ps5", "ps5", 0},         // model number
		{"tn2120", "tn2120", 0},   // model number
		{"samsnug", "samsung", 1}, // brands are corrected into
		{"xyzzyq", "xyzzyq", 0},   // nothing near
		{"tonr printer", "toner printer", 1},
	} {
		got := c.Correct(d, ix, strings.Fields(tc.in))
		if s := strings.Join(got.Words, " "); s != tc.want || got.Changed != tc.changed {
			t.Errorf("Correct(%q) = %q (%d changed), want %q (%d)", tc.in, s, got.Changed, tc.want, tc.changed)
		}
	}
	// The typed word known with enough frequency is left alone.
	if got := c.Correct(d, ix, []string{"moose"}); got.Changed != 0 && d.Freq("moose") >= 3 {
		t.Errorf("known word corrected: %v", got.Words)
	}
}

func TestCorrectRealWords(t *testing.T) {
	words := map[string]uint64{"mouse": 50, "house": 10, "pad": 40, "plant": 20, "wireless": 60, "sony": 20, "pony": 10}
	d, err := Build(seq(words), slices.Values([]string{"sony"}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ix fakeIndex
	for range 25 {
		ix = append(ix, []string{"mouse", "pad"}, []string{"pony", "pad"})
	}
	ix = append(ix, []string{"house", "plant"}, []string{"house", "pad"})
	for _, tc := range []struct {
		in, want string
		changed  int
	}{
		{"house pad", "mouse pad", 1},           // 25 products share mouse+pad, 1 house+pad
		{"house plant", "house plant", 0},       // the typed pair is what the catalog has
		{"house", "house", 0},                   // no other word to go by
		{"sony pad", "sony pad", 0},             // protected: a brand is never changed
		{"wireless mouse", "wireless mouse", 0}, // nothing shares more
	} {
		got := c.CorrectRealWords(d, ix, strings.Fields(tc.in))
		if s := strings.Join(got.Words, " "); s != tc.want || got.Changed != tc.changed {
			t.Errorf("CorrectRealWords(%q) = %q (%d changed), want %q (%d)", tc.in, s, got.Changed, tc.want, tc.changed)
		}
	}
}

func TestCorrectStem(t *testing.T) {
	d, err := Build(seq(map[string]uint64{"earbud": 1, "case": 5}), nil)
	if err != nil {
		t.Fatal(err)
	}
	stem := func(w string) string { return strings.TrimSuffix(w, "s") }
	for _, tc := range []struct {
		stem     func(string) string
		in, want string
	}{
		{stem, "earfuds", "earbuds"}, // stem earfud -> earbud, the s put back
		{nil, "earfuds", "earfuds"},  // without a stemmer nothing is near
		{stem, "earfud", "earbud"},
	} {
		c, err := New(Options{Stem: tc.stem, MinLen2: 8}) // one edit for these
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Correct(d, nil, []string{tc.in}); got.Words[0] != tc.want {
			t.Errorf("Correct(%q) with stemmer %v = %q, want %q", tc.in, tc.stem != nil, got.Words[0], tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	var ps []Phrase
	for w, f := range testWords {
		ps = append(ps, Phrase{Text: w, Weight: f, Category: "electronics"})
	}
	ps = append(ps,
		Phrase{Text: "wireless headphones", Weight: 300, Category: "electronics/audio/headphones"},
		Phrase{Text: "wireless mouse", Weight: 400, Category: "electronics/computers/mice"},
		Phrase{Text: "wireless mouse", Weight: 100},
	)
	s := NewSuggester(slices.Values(ps))
	texts := func(ss []Suggestion) string {
		var out []string
		for _, x := range ss {
			out = append(out, x.Text)
		}
		return strings.Join(out, "|")
	}
	for _, tc := range []struct {
		q     string
		limit int
		want  string
	}{
		{"wire", 8, "wireless|wireless mouse|wireless headphones"},
		{"wireless m", 8, "wireless mouse"},
		{"wirl", 8, "wireless|wireless mouse|wireless headphones"}, // one deletion
		{"wrie", 8, "wireless|wireless mouse|wireless headphones"}, // transposition
		{"head", 2, "headphones|headset"},
		{"zzz", 8, ""},
		{"", 8, ""},
	} {
		if got := texts(s.Suggest(tc.q, tc.limit, nil)); got != tc.want {
			t.Errorf("Suggest(%q, %d) = %q, want %q", tc.q, tc.limit, got, tc.want)
		}
	}
	if got := s.Suggest("wireless mo", 1, nil); len(got) != 1 || got[0].Category != "electronics/computers/mice" || got[0].Weight != 500 {
		t.Errorf("Suggest(wireless mo) = %+v", got)
	}
}

// TestSuggestWide checks the precomputed ranges against a plain scan.
func TestSuggestWide(t *testing.T) {
	var ps []Phrase
	for i := range 5000 {
		w := uint64((i * 7919) % 1000)
		ps = append(ps, Phrase{Text: "a" + strings.Repeat("b", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26)), Weight: w})
	}
	s := NewSuggester(slices.Values(ps))
	for _, p := range []string{"a", "ab", "abb", "abbb", "aa", "abc", "abbbbbbz"} {
		got := s.Suggest(p, 10, nil)
		lo, hi := s.span(p)
		want := s.scan(lo, hi, 10, nil)
		if len(got) > len(want) {
			got = got[:len(want)]
		}
		for i := range want {
			if i >= len(got) || got[i].Text != s.keys[want[i]] {
				t.Fatalf("Suggest(%q)[%d] differs from a scan: got %v, want %v", p, i, got, want)
			}
		}
	}
}

// TestCorrectLexiconAndPlurals: a word of the lexicon is never a
// misspelling; a fix keeps the plural typed; stop words are never offered.
func TestCorrectLexiconAndPlurals(t *testing.T) {
	d, err := Build(maps.All(map[string]uint64{"home": 500, "garden": 80, "earbud": 40, "earbuds": 30, "switch": 20, "with": 900}), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Lexicon: NewLexicon([]string{"hose", "garden"}), Never: func(w string) bool { return w == "with" }})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want []string }{
		{[]string{"garden", "hose"}, []string{"garden", "hose"}},
		{[]string{"earbus"}, []string{"earbuds"}},
		{[]string{"earbd"}, []string{"earbud"}},
		{[]string{"swith"}, []string{"switch"}},
	} {
		if got := c.Correct(d, nil, tc.in).Words; !slices.Equal(got, tc.want) {
			t.Errorf("Correct(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A real word the catalog lacks, in a query that matched nothing.
	if got := c.CorrectUnmatched(d, nil, []string{"garden", "hose"}).Words; !slices.Equal(got, []string{"garden", "home"}) {
		t.Errorf("CorrectUnmatched(garden hose) = %q, want garden home", got)
	}
}

// pairIndex answers CoCount from a table of pairs.
type pairIndex map[[2]string]int

func (f pairIndex) DocFreq(string) int { return 0 }
func (f pairIndex) CoCount(a, b string) int {
	return f[[2]string{a, b}] + f[[2]string{b, a}]
}

func TestCompounds(t *testing.T) {
	d, err := Build(maps.All(map[string]uint64{"dishwasher": 40, "dish": 30, "washer": 25, "door": 90, "knob": 12, "set": 300, "garden": 50, "hose": 8}), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := pairIndex{[2]string{"dish", "washer"}: 2, [2]string{"knob", "set"}: 9, [2]string{"garden", "hose"}: 6}
	for _, tc := range []struct{ in, want []string }{
		{[]string{"white", "dish", "washer"}, []string{"white", "dish", "washer"}}, // Joins joins
		{[]string{"door", "knobset"}, []string{"door", "knob set"}},
		{[]string{"garden", "hose"}, []string{"garden", "hose"}}, // not written joined
		{[]string{"gardenhose"}, []string{"garden hose"}},        // held together
		{[]string{"doorset"}, []string{"doorset"}},               // never together
	} {
		if got := c.Compounds(d, ix, tc.in).Words; !slices.Equal(got, tc.want) {
			t.Errorf("Compounds(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// In a query that matched nothing, one product holding both is enough.
	if got := c.CompoundsUnmatched(d, ix, []string{"dishwasher2"}).Words; !slices.Equal(got, []string{"dishwasher2"}) {
		t.Errorf("CompoundsUnmatched(dishwasher2) = %q, want it unchanged (a digit)", got)
	}
	for _, tc := range []struct {
		in   string
		want string
		f    func(*Dict, Index, []string) Correction
	}{
		{"dishwasherx", "dishwasherx", c.Compounds},
		{"dishwasher", "dishwasher", c.CompoundsUnmatched}, // a word of the catalog
		{"dishwasherx", "dishwasherx", c.CompoundsUnmatched},
	} {
		if got := strings.Join(tc.f(d, ix, []string{tc.in}).Words, " "); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := c.CompoundsUnmatched(d, ix, []string{"dishwasher"}).Changed; got != 0 {
		t.Errorf("CompoundsUnmatched split a catalog word")
	}
	d2, err := Build(maps.All(map[string]uint64{"dish": 30, "washer": 25, "bluetooth": 9, "speaker": 7}), nil)
	if err != nil {
		t.Fatal(err)
	}
	ix2 := pairIndex{[2]string{"bluetooth", "speaker"}: 1}
	if got := strings.Join(c.CompoundsUnmatched(d2, ix2, []string{"bluetoothspeaker"}).Words, " "); got != "bluetooth speaker" {
		t.Errorf("CompoundsUnmatched(bluetoothspeaker) = %q, want bluetooth speaker", got)
	}
	if got := strings.Join(c.Compounds(d2, ix2, []string{"bluetoothspeaker"}).Words, " "); got != "bluetoothspeaker" {
		t.Errorf("Compounds(bluetoothspeaker) = %q on one product; want it unchanged", got)
	}
}

// countIndex answers DocFreq from a table and CoCount from pairs.
type countIndex struct {
	df    map[string]int
	pairs pairIndex
}

func (f countIndex) DocFreq(w string) int    { return f.df[w] }
func (f countIndex) CoCount(a, b string) int { return f.pairs.CoCount(a, b) }

// TestJoins: two words the catalog writes as one are joined when the joined
// word is in JoinRatio times more products than hold both words.
func TestJoins(t *testing.T) {
	words := map[string]uint64{"headphones": 400, "head": 60, "phones": 90, "mousepad": 20, "mouse": 300, "pad": 80,
		"dishwasher": 40, "dish": 30, "washer": 25, "sony": 50, "sonyx": 5, "x": 9}
	d, err := Build(maps.All(words), slices.Values([]string{"sony"}))
	if err != nil {
		t.Fatal(err)
	}
	df := map[string]int{}
	for w, f := range words {
		df[w] = int(f)
	}
	ix := countIndex{df, pairIndex{{"head", "phones"}: 3, {"mouse", "pad"}: 150, {"dish", "washer"}: 1}}
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{"wireless head phones", "wireless headphones"}, // 400 >= 20 * 3
		{"white dish washer", "white dishwasher"},
		{"mouse pad", "mouse pad"}, // the catalog writes it apart more
		{"sony x", "sony x"},       // a brand, and one letter
		{"head", "head"},
	} {
		got := c.Joins(d, ix, strings.Fields(tc.in))
		if s := strings.Join(slices.DeleteFunc(got.Words, func(w string) bool { return w == "" }), " "); s != tc.want {
			t.Errorf("Joins(%q) = %q, want %q", tc.in, s, tc.want)
		}
	}
}

// TestCorrectTwoEdits: a word of five to seven letters with nothing within
// one edit is corrected with two, on strong evidence only.
func TestCorrectTwoEdits(t *testing.T) {
	words := map[string]uint64{"laptop": 900, "lapdog": 1, "garmin": 40, "gaming": 300, "earbud": 2, "targus": 60,
		"night": 2, "light": 500, "box": 300, "watch": 200, "patch": 3}
	d, err := Build(maps.All(words), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := pairIndex{{"laptop", "bag"}: 30, {"watch", "gps"}: 12}
	for _, tc := range []struct{ in, want string }{
		{"ltpop", "laptop"},             // alone: 900 and no other two-edit word
		{"ltpop bag", "laptop bag"},     // 30 products of laptop and bag
		{"earbus", "earbud"},            // one edit, however rare, before two: not targus
		{"nigjht light", "night light"}, // never a repeat of another word
		{"gps wsrtch", "gps watch"},
		{"xbox", "xbox"},    // not box: too short to be corrected, so never offered
		{"watchh", "watch"}, // a letter typed after
		{"wwatch", "watch"}, // or before
	} {
		if got := strings.Join(c.Correct(d, ix, strings.Fields(tc.in)).Words, " "); got != tc.want {
			t.Errorf("Correct(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Without the evidence a two-edit word stays as typed: "gaimn" is one
	// edit from nothing, two from gaming and from garmin (40 products, not
	// ten times fewer than gaming's 300).
	if got := strings.Join(c.Correct(d, nil, []string{"gaimn"}).Words, " "); got != "gaimn" {
		t.Errorf("Correct(gaimn) = %q, want it unchanged", got)
	}
	if got := strings.Join(c.Correct(d, pairIndex{{"gaming", "mouse"}: 9}, []string{"gaimn", "mouse"}).Words, " "); got != "gaming mouse" {
		t.Errorf("Correct(gaimn mouse) = %q, want gaming mouse", got)
	}
}
