package query

import (
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := map[string]string{
		"":                    "",
		"wireless headphones": "wireless headphones",
		"Wireless HEADPHONES": "wireless headphones",
		"Crème Brûlée":        "creme brulee",
		"Cre\u0300me":         "creme",
		"Straße ẞ":            "strasse ss",
		"ﬁlter ＡＢＣ":           "filter abc",
		"Ørsted Æ Œ Ł Þ Đ":    "orsted ae oe l th d",
		"İstanbul":            "istanbul",
		"Men’s & kids'":       "men’s & kids'",
		"ab\xffcd":            "ab\uFFFDcd",
		"head\u00adphones":    "headphones",
		"Москва":              "москва",
		"½ …":                 "½ …",
	}
	for in, want := range tests {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFoldNoAllocForLowerASCII(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Fold("usb-c cable, 2m") }); n != 0 {
		t.Errorf("Fold of lower-case ASCII allocates %v times", n)
	}
}

// TestFoldAgreesWithTerms checks that a single-part word's term is
// Stem(Fold(word)), the relation spell correction relies on.
func TestFoldAgreesWithTerms(t *testing.T) {
	for _, w := range []string{"Chairs", "Crème", "Straße", "ﬁlters", "ＡＢＣ", "Hoodies", "naïve"} {
		got := AppendTerms(nil, w)
		if want := Stem(Fold(w)); len(got) != 1 || got[0] != want {
			t.Errorf("AppendTerms(%q) = %q, want [%q]", w, got, want)
		}
		if !utf8.ValidString(Fold(w)) {
			t.Errorf("Fold(%q) is not valid UTF-8", w)
		}
	}
}
