package query

import (
	"strconv"
	"strings"
)

// Measures: a number with a unit is written many ways in product text and
// queries: "55 inch", `55"`, "55-inch", "55in", "32 in. x 80 in.",
// "1/2 in.", "2 m", "2m", "2 metres", "10 lbs". Each is read as one
// canonical measure term, the number (a fraction as a decimal: "1/2" ->
// "0.5", "1-1/2" -> "1.5") glued to the unit's short name: "55in", "32in",
// "0.5in", "2m", "10lb". AppendTerms emits the measure term besides the
// words' own terms, and the engine rewrites a query's measures to their
// terms (Measures), so "55 inch tv" finds `139.7 cm (55")`.

// units maps a unit as written (folded) to its short name.
var units = map[string]string{
	"in": "in", "inch": "in", "inches": "in",
	"ft": "ft", "feet": "ft", "foot": "ft",
	"mm": "mm", "cm": "cm", "m": "m", "meter": "m", "meters": "m", "metre": "m", "metres": "m",
	"km": "km", "kg": "kg", "g": "g", "gram": "g", "grams": "g",
	"lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb",
	"oz": "oz", "ounce": "oz", "ounces": "oz",
	"l": "l", "liter": "l", "liters": "l", "litre": "l", "litres": "l", "ml": "ml",
	"gal": "gal", "gallon": "gal", "gallons": "gal", "qt": "qt", "quart": "qt",
	"w": "w", "watt": "w", "watts": "w", "v": "v", "volt": "v", "volts": "v",
	"amp": "a", "amps": "a", "mah": "mah", "hz": "hz",
	"gb": "gb", "tb": "tb", "mb": "mb",
	"btu": "btu", "gpm": "gpm", "psi": "psi",
}

// maxMeasureText bounds the texts searched for measures.
const maxMeasureText = 1 << 16

// nextMeasure finds the first measure of text at or after i. It returns
// its byte span, its term appended to buf[:0], and ok; ok is false when
// there is none.
func nextMeasure(text string, i int, buf []byte) (start, end int, term []byte, ok bool) {
	if len(text) > maxMeasureText {
		return 0, 0, buf, false
	}
	for i < len(text) {
		c := text[i]
		if !isDigit(c) || i > 0 && (isWordByte(text[i-1]) || text[i-1] == '.' || text[i-1] == '/') {
			i++
			continue
		}
		num, j, ok := readNumber(text, i, buf[:0])
		if !ok {
			i = j
			continue
		}
		unit, e := readUnit(text, j)
		if unit == "" {
			i = j
			continue
		}
		return i, e, append(num, unit...), true
	}
	return 0, 0, buf, false
}

// readNumber appends to dst at i a number ("55", "139.7", "1/2", "1-1/2",
// "2,000") in canonical form and returns it and the position after it.
func readNumber(text string, i int, dst []byte) ([]byte, int, bool) {
	j := i
	for j < len(text) && (isDigit(text[j]) || (text[j] == '.' || text[j] == ',') && j+1 < len(text) && isDigit(text[j+1])) {
		j++
	}
	whole := text[i:j]
	if j-i > 12 {
		return dst, j, false
	}
	hasPoint := strings.IndexByte(whole, '.') >= 0
	// A fraction, or a whole number and a fraction ("1-1/2", "1 1/2").
	if j+1 < len(text) && (text[j] == '-' || text[j] == ' ') && isDigit(text[j+1]) && !hasPoint && strings.IndexByte(whole, ',') < 0 {
		if f, k, ok := readFraction(text, j+1); ok {
			w, _ := strconv.Atoi(whole)
			return strconv.AppendFloat(dst, float64(w)+f, 'f', -1, 64), k, true
		}
	}
	if f, k, ok := readFraction(text, i); ok {
		return strconv.AppendFloat(dst, f, 'f', -1, 64), k, true
	}
	if hasPoint {
		var a [16]byte
		v, err := strconv.ParseFloat(string(appendDigits(a[:0], whole)), 64)
		if err != nil {
			return dst, j, false
		}
		return strconv.AppendFloat(dst, v, 'f', -1, 64), j, true
	}
	dst = appendDigits(dst, strings.TrimLeft(whole, "0"))
	if len(dst) == 0 {
		dst = append(dst, '0')
	}
	return dst, j, true
}

// appendDigits appends s without its thousands separators.
func appendDigits(dst []byte, s string) []byte {
	for k := 0; k < len(s); k++ {
		if s[k] != ',' {
			dst = append(dst, s[k])
		}
	}
	return dst
}

// readFraction reads "a/b" at i, a and b of at most two digits, b > 0.
func readFraction(text string, i int) (float64, int, bool) {
	a, j := readSmall(text, i)
	if j == i || j >= len(text) || text[j] != '/' {
		return 0, i, false
	}
	b, k := readSmall(text, j+1)
	if k == j+1 || b == 0 || k < len(text) && (isDigit(text[k]) || text[k] == '.') {
		return 0, i, false
	}
	return float64(a) / float64(b), k, true
}

func readSmall(text string, i int) (int, int) {
	n, j := 0, i
	for j < len(text) && j-i < 2 && isDigit(text[j]) {
		n = n*10 + int(text[j]-'0')
		j++
	}
	if j < len(text) && isDigit(text[j]) {
		return 0, i
	}
	return n, j
}

// readUnit reads a unit at i, after at most one space or hyphen: `"`, `”`,
// "in.", "inch", "ft", `'` (glued), "cm", "m"... It returns the unit's
// short name and the position after it (and after a full stop ending an
// abbreviation), or "" for none. "2 in 1" is not a measure.
func readUnit(text string, i int) (string, int) {
	if i < len(text) {
		switch {
		case text[i] == '"':
			return "in", i + 1
		case strings.HasPrefix(text[i:], "''"):
			return "in", i + 2
		case text[i] == '\'' && (i+1 == len(text) || !isWordByte(text[i+1])):
			return "ft", i + 1
		}
	}
	j := i
	if j < len(text) && (text[j] == ' ' || text[j] == '-') {
		j++
	}
	k := j
	for k < len(text) && isASCIILetter(text[k]) {
		k++
	}
	if k == j || k-j > 8 || k < len(text) && (isDigit(text[k]) || text[k] >= 0x80) {
		return "", i
	}
	var low [8]byte
	for x := j; x < k; x++ {
		low[x-j] = text[x] | 0x20
	}
	u, ok := units[string(low[:k-j])]
	if !ok {
		return "", i
	}
	if u == "in" && j > i {
		// "2 in 1", "3 in one" are not measures; "1/2 in pvc" is.
		if rest := strings.TrimLeft(text[k:], " "); rest != "" && text[k] != '.' && (isDigit(rest[0]) || strings.HasPrefix(rest, "one")) {
			return "", i
		}
	}
	if k < len(text) && text[k] == '.' && (k+1 == len(text) || !isDigit(text[k+1])) {
		k++
	}
	return u, k
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// Measures returns q with each measure replaced by its term ("55 inch tv"
// -> "55in tv", "1/2 in. pvc pipe" -> "0.5in pipe"); q itself when it has
// none.
func Measures(q string) string {
	var b strings.Builder
	var buf [32]byte
	prev := 0
	for i := 0; ; {
		start, end, term, ok := nextMeasure(q, i, buf[:0])
		if !ok {
			break
		}
		b.WriteString(q[prev:start])
		b.Write(term)
		prev, i = end, end
	}
	if prev == 0 {
		return q
	}
	b.WriteString(q[prev:])
	return b.String()
}

// appendMeasures appends to out, length-prefixed as appendTerm does, the
// measure terms of text that its words do not already spell ("55in"
// written so), and returns out and how many it appended. Two measures of
// one unit joined by "x" also give the dimension term of their numbers, as
// shoppers write it: "2 in. x 4 in." gives "2x4", "32 in. x 80 in."
// gives "32x80".
func appendMeasures(out []byte, text string) ([]byte, int) {
	var buf, prev [32]byte
	prevTerm := prev[:0]
	prevEnd := -1
	n := 0
	for i := 0; ; {
		start, end, term, ok := nextMeasure(text, i, buf[:0])
		if !ok {
			return out, n
		}
		i = end
		if len(term) > MaxTermLen-8 {
			prevEnd = -1
			continue
		}
		if !strings.EqualFold(string(term), text[start:end]) {
			out = appendTerm(out, term)
			n++
		}
		if prevEnd >= 0 && isTimes(text[prevEnd:start]) {
			if a, b, ok := sameUnit(prevTerm, term); ok {
				var d [64]byte
				out = appendTerm(out, append(append(append(d[:0], a...), 'x'), b...))
				n++
			}
		}
		prevTerm, prevEnd = append(prev[:0], term...), end
	}
}

// isTimes reports whether s, between two measures, is an "x" with spaces.
func isTimes(s string) bool {
	s = strings.TrimSpace(s)
	return s == "x" || s == "X" || s == "×"
}

// sameUnit returns the numbers of two measure terms of one unit.
func sameUnit(a, b []byte) ([]byte, []byte, bool) {
	ua, ub := unitStart(a), unitStart(b)
	if string(a[ua:]) != string(b[ub:]) {
		return nil, nil, false
	}
	return a[:ua], b[:ub], true
}

// unitStart returns where the unit of a measure term begins.
func unitStart(t []byte) int {
	k := len(t)
	for k > 0 && isASCIILetter(t[k-1]) {
		k--
	}
	return k
}
