package query

import (
	"slices"
	"testing"
)

func TestStem(t *testing.T) {
	tests := map[string]string{
		"chairs": "chair", "batteries": "battery", "headphones": "headphone",
		"glasses": "glass", "boxes": "box", "bus": "bus", "series": "series", "ps4": "ps4",
		"watches": "watch", "dishes": "dish", "cases": "case", "shoes": "shoe",
		"hoodies": "hoodie", "cookies": "cookie", "ties": "tie", "flies": "fly",
		"lens": "lens", "lenses": "lens", "news": "news", "tennis": "tennis",
		"glass": "glass", "chair": "chair", "its": "its", "gas": "gas", "ass": "ass",
		"axes": "axe", "aches": "ache", "headaches": "headache", "potatoes": "potato",
		"dvds": "dvd", "2000s": "2000s", "mens": "men", "sizes": "size", "ies": "ies",
		"sses": "sse", "xes": "xes", "": "", "s": "s", "naïves": "naïve",
		"grey": "gray", "greys": "gray", "gray": "gray", "colours": "color", "colour": "color",
		"aluminium": "aluminum", "centres": "center", "tyres": "tire",
	}
	for in, want := range tests {
		if got := Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStemNoAlloc(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() {
		Stem("chair")
		Stem("ps4s")
		Stem("glass")
	}); n != 0 {
		t.Errorf("Stem of an unchanged term allocates %v times", n)
	}
}

// TestSpellingVariantsMatch: British and American spellings analyse to one
// term, so a search for "gray" finds a "Grey" title.
func TestSpellingVariantsMatch(t *testing.T) {
	for _, pair := range [][2]string{{"Grey Hoodie", "gray hoodies"}, {"Aluminium Colour Case", "aluminum color case"}} {
		a, b := AppendTerms(nil, pair[0]), AppendTerms(nil, pair[1])
		if !slices.Equal(a, b) {
			t.Errorf("AppendTerms(%q) = %q, AppendTerms(%q) = %q; want equal", pair[0], a, pair[1], b)
		}
	}
}
