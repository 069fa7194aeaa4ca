package query

import "testing"

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
