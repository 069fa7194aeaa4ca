package query

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Byte classes of the ASCII fast path; every byte >= 0x80 is classHigh and
// goes through foldRune.
const (
	classSep    uint8 = iota // separates words: space, most punctuation, control bytes
	classWord                // a-z, 0-9 (after lower-casing)
	classJoin                // '-': joins the parts of a model number ("wh-1000xm5")
	classApos                // '\'': dropped ("men's" -> "mens" before stemming)
	classPoint               // '.' and ',': kept only between two digits ("3.5mm", "2,000")
	classHigh                // first byte of a multi-byte rune or an invalid byte
	classIgnore              // dropped without separating: soft hyphen, zero-width joiner, combining marks
)

// asciiClass classifies every byte; asciiLower lower-cases A-Z and leaves every
// other byte alone.
var asciiClass, asciiLower = func() (c, l [256]uint8) {
	for i := range 256 {
		l[i] = uint8(i)
		switch {
		case i >= 0x80:
			c[i] = classHigh
		case 'a' <= i && i <= 'z', '0' <= i && i <= '9':
			c[i] = classWord
		case 'A' <= i && i <= 'Z':
			c[i] = classWord
			l[i] = uint8(i) + 'a' - 'A'
		case i == '-':
			c[i] = classJoin
		case i == '\'':
			c[i] = classApos
		case i == '.' || i == ',':
			c[i] = classPoint
		default:
			c[i] = classSep
		}
	}
	return c, l
}()

// special folds the letters that Unicode decomposition leaves alone but a
// shopper types as plain ASCII. Upper-case forms are listed as well, since it
// is consulted before lower-casing.
func special(r rune) string {
	switch r {
	case 'ß', 'ẞ':
		return "ss"
	case 'æ', 'Æ':
		return "ae"
	case 'œ', 'Œ':
		return "oe"
	case 'ø', 'Ø':
		return "o"
	case 'đ', 'Đ', 'ð', 'Ð':
		return "d"
	case 'ł', 'Ł', 'ŀ', 'Ŀ':
		return "l"
	case 'þ', 'Þ':
		return "th"
	case 'ı':
		return "i"
	case 'ħ', 'Ħ':
		return "h"
	case 'ŧ', 'Ŧ':
		return "t"
	case 'ς':
		return "σ"
	}
	return ""
}

// foldRune classifies the non-ASCII rune that starts s (size bytes long,
// r == utf8.RuneError with size 1 for an invalid byte). For classWord it
// appends the folded form to b: NFKD decomposition, combining marks removed,
// lower-cased, with the special table above for ß, æ, ø and the like. A rune
// whose decomposition contains anything but letters, digits and marks ("½",
// "…") is a separator, so that a word never carries punctuation.
func foldRune(b []byte, s string, r rune, size int) ([]byte, uint8) {
	switch r {
	case utf8.RuneError:
		return b, classSep // invalid byte, or U+FFFD itself
	case '\u2019', '\u2018', '\u02BC': // ’ ‘ ʼ
		return b, classApos
	case '\u2010', '\u2011': // hyphen, non-breaking hyphen
		return b, classJoin
	}
	if f := special(r); f != "" {
		return append(b, f...), classWord
	}
	d := norm.NFKD.PropertiesString(s[:size]).Decomposition()
	if len(d) == 0 {
		return appendFoldedOne(b, r)
	}
	n := len(b)
	for len(d) > 0 {
		dr, ds := utf8.DecodeRune(d)
		d = d[ds:]
		var c uint8
		if dr < utf8.RuneSelf {
			c = asciiClass[dr]
			if c == classWord {
				b = append(b, asciiLower[dr])
				continue
			}
		} else {
			b, c = appendFoldedOne(b, dr)
		}
		if c != classWord && c != classIgnore {
			return b[:n], classSep
		}
	}
	if len(b) == n {
		return b, classIgnore // only marks
	}
	return b, classWord
}

// appendFoldedOne folds a non-ASCII rune that has no decomposition.
func appendFoldedOne(b []byte, r rune) ([]byte, uint8) {
	switch {
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Cf, r):
		return b, classIgnore
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r):
		if f := special(r); f != "" {
			return append(b, f...), classWord
		}
		return utf8.AppendRune(b, unicode.ToLower(r)), classWord
	}
	return b, classSep
}

// Fold lower-cases s and folds it to the form the analyzer indexes: accents
// removed (é→e), compatibility forms expanded (ﬁ→fi, fullwidth Ａ→a), and ß→ss,
// æ→ae, ø→o and the like. It does not stem and keeps punctuation and spaces
// (lower-cased where they have a case); invalid UTF-8 becomes U+FFFD, combining
// marks and invisible format characters (soft hyphen, zero-width joiner) are
// dropped. For every word the analyzer keeps, the term is Stem(Fold(word)).
//
// Fold returns s itself, without allocating, when s is ASCII with no
// upper-case letter.
func Fold(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && asciiLower[s[i]] == s[i] {
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, i, len(s)+8)
	copy(b, s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, asciiLower[c])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		var class uint8
		b, class = foldRune(b, s[i:], r, size)
		switch class {
		case classSep:
			if r == utf8.RuneError {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = utf8.AppendRune(b, unicode.ToLower(r))
			}
		case classApos, classJoin:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}
