package query

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxTermLen is the longest term, in bytes, that AppendTerms and Words
// produce. A longer term (a pasted URL, a base64 blob, a long CJK run) is cut
// at the last rune boundary within the limit, on both sides, so they agree.
const MaxTermLen = 64

// appendTerm stores a term's length in one byte.
var _ [255 - MaxTermLen]struct{}

// The analyzer reads text as a sequence of words separated by spaces and
// punctuation. A word is one or more parts joined by hyphens: "wh-1000xm5"
// has the parts "wh" and "1000xm5". Within a part:
//
//   - letters and digits are folded (see Fold);
//   - apostrophes are dropped, and a possessive "'s" at the end of a part
//     with it ("men's" → "men", "kids'" → "kids" → "kid");
//   - '.' and ',' stay only between two ASCII digits ("3.5mm", "2,000",
//     "v1.2"); anywhere else they separate words;
//   - soft hyphens, zero-width joiners and combining marks are dropped
//     without separating anything.
//
// Everything else separates words: spaces, '&', '+', '/', '_', quotes,
// brackets, dashes other than the hyphen, symbols, and invalid UTF-8 bytes.

// AppendTerms appends to dst the index terms of text, in order, and returns
// the extended slice. Each word yields the stemmed form of each of its parts
// and then, if it has more than one part, the stemmed form of all its parts
// joined: "WH-1000XM5" yields "wh", "1000xm5", "wh1000xm5"; "USB-C" yields
// "usb", "c", "usbc"; "T-Shirts" yields "t", "shirt", "tshirt". Every term is
// non-empty, valid UTF-8 and at most MaxTermLen bytes. After the words'
// terms come the measure terms of the text ("55in" for `55"` or "55 inch";
// see Measures).
//
// The terms appended by one call share one backing string (one allocation
// for the whole text, plus the growth of dst): a caller that keeps a term
// longer than the text, such as a new key of a term dictionary, should
// strings.Clone it so as not to pin the rest.
func AppendTerms(dst []string, text string) []string {
	var outArr [1024]byte
	var bufArr [128]byte
	var cutArr [16]int
	out, buf, cuts := outArr[:0], bufArr[:0], cutArr[:0]
	n := 0
	for pos := 0; pos < len(text); {
		pos, _, _, buf, cuts = scanWord(text, pos, buf, cuts)
		prev := 0
		for _, c := range cuts {
			out = appendTerm(out, buf[prev:c])
			prev = c
			n++
		}
		if len(cuts) > 1 {
			out = appendTerm(out, buf)
			n++
		}
	}
	out, k := appendMeasures(out, text)
	n += k
	if n == 0 {
		return dst
	}
	return splitTerms(slices.Grow(dst, n), string(out))
}

// Word is one word of a shopper's query.
type Word struct {
	// Text is the word as typed, without the punctuation around it.
	Text string
	// Terms are the index terms any of which matches the word; the first is
	// the primary form. Today there is exactly one: the stemmed word, or for
	// a hyphenated word the stemmed joined form ("wh-1000xm5" →
	// "wh1000xm5"), which AppendTerms also emits. The unstemmed form is not
	// offered as an alternative because the index holds only stemmed terms,
	// so it could never match anything more. Callers must nevertheless
	// accept several.
	Terms []string
	// Stop marks a stop word ("for", "the", "with", "and", "of", "in", "a",
	// "an", "to", "on") the engine may drop from the conjunction.
	Stop bool
}

// Words analyzes a shopper's query: one Word per typed word, in order, with
// the terms to match for it. Words are separated exactly as AppendTerms
// separates them, so a product whose text is the query always matches it:
// Words(s)[i].Terms[0] is among AppendTerms(nil, s) for every s and i.
// "wh 1000xm5" is two Words; "wh-1000xm5" is one. Words returns nil when text
// has no word.
func Words(text string) []Word {
	var outArr [256]byte
	var bufArr [64]byte
	var cutArr [8]int
	out, buf, cuts := outArr[:0], bufArr[:0], cutArr[:0]
	var words []Word
	for pos := 0; pos < len(text); {
		if words == nil {
			// Usually exact: most queries separate words with single spaces.
			words = make([]Word, 0, strings.Count(text, " ")+1)
		}
		var start, end int
		pos, start, end, buf, cuts = scanWord(text, pos, buf, cuts)
		if len(cuts) == 0 {
			continue
		}
		out = appendTerm(out, buf)
		words = append(words, Word{
			Text: text[start:end],
			Stop: len(cuts) == 1 && isStop(buf),
		})
	}
	if len(words) == 0 {
		return nil
	}
	terms := splitTerms(make([]string, 0, len(words)), string(out))
	for i := range words {
		words[i].Terms = terms[i : i+1 : i+1]
	}
	return words
}

// isStop reports whether the folded word w is a stop word.
func isStop(w []byte) bool {
	switch string(w) {
	case "for", "the", "with", "and", "of", "in", "a", "an", "to", "on":
		return true
	}
	return false
}

// appendTerm appends to out the stemmed, length-limited form of the folded
// part p, preceded by its length in one byte (a term is at most MaxTermLen
// bytes), so that splitTerms can cut the converted string without searching.
func appendTerm(out, p []byte) []byte {
	i := len(out)
	out = append(append(out, 0), p...)
	t := stemBytes(out[i+1:])
	if len(t) > MaxTermLen {
		k := MaxTermLen
		for k > 0 && !utf8.RuneStart(t[k]) {
			k--
		}
		t = t[:k]
	}
	out[i] = byte(len(t))
	return out[:i+1+len(t)]
}

// splitTerms appends to dst the length-prefixed terms of s.
func splitTerms(dst []string, s string) []string {
	for len(s) > 0 {
		n := int(s[0]) + 1
		dst = append(dst, s[1:n])
		s = s[n:]
	}
	return dst
}

// scanWord reads the next word of text from pos. It returns the position
// after it, the byte span [start, end) of the word in text, its folded parts
// concatenated in buf, and in cuts the end offset of each part in buf. A word
// has at least one non-empty part unless the text held no more words, in
// which case next == len(text) and cuts is empty. buf and cuts are reused.
func scanWord(text string, pos int, buf []byte, cuts []int) (next, start, end int, _ []byte, _ []int) {
	buf, cuts = buf[:0], cuts[:0]
	start = -1
	part := 0 // start of the current part in buf
	i := pos
scan:
	for i < len(text) {
		c := text[i]
		class := asciiClass[c]
		size := 1
		if class == classWord {
			// The common case: copy a run of ASCII letters and digits at
			// once, then lower-case it in place.
			if start < 0 {
				start = i
			}
			j := i + 1
			for j < len(text) && asciiClass[text[j]] == classWord {
				j++
			}
			k := len(buf)
			buf = append(buf, text[i:j]...)
			for x := k; x < len(buf); x++ {
				buf[x] = asciiLower[buf[x]]
			}
			i, end = j, j
			continue
		}
		if class == classHigh {
			var r rune
			r, size = utf8.DecodeRuneInString(text[i:])
			buf, class = foldRune(buf, text[i:], r, size)
			if class == classWord {
				if start < 0 {
					start = i
				}
				i += size
				end = i
				continue
			}
		}
		switch class {
		case classIgnore:
			i += size
			continue
		case classApos:
			i += size
			if len(buf) > part && i < len(text) && text[i]|0x20 == 's' &&
				(i+1 == len(text) || asciiClass[text[i+1]] != classWord && asciiClass[text[i+1]] != classHigh) {
				i++ // possessive 's
				end = i
			}
			continue
		case classPoint:
			if len(buf) > part && isDigit(buf[len(buf)-1]) && i+1 < len(text) && isDigit(text[i+1]) {
				buf = append(buf, c)
				i++
				continue
			}
		case classJoin:
			if len(buf) > part {
				cuts = append(cuts, len(buf))
				part = len(buf)
			}
			i += size
			continue
		}
		// A separator.
		i += size
		if len(buf) > 0 {
			break scan
		}
	}
	if len(buf) > part {
		cuts = append(cuts, len(buf))
	}
	return i, start, end, buf, cuts
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
