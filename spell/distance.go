package spell

import "unicode/utf8"

// maxRunes bounds the words Distance compares; longer words are at
// distance maxRunes.
const maxRunes = MaxWordLen

// Distance returns the optimal-string-alignment (restricted Damerau)
// distance between a and b: insertions, deletions, substitutions and
// transpositions of two adjacent letters each count one. It does not
// allocate.
func Distance(a, b string) int {
	d := distance(a, b, false)
	return int(d)
}

// Cost is Distance with the typist in mind: a substitution by a
// neighbouring key on a QWERTY keyboard, a doubled letter typed once or a
// letter typed twice, and a transposition each cost less than one.
func Cost(a, b string) float64 { return distance(a, b, true) }

const (
	costAdjacent = 0.6 // "hesdphones": s is next to a
	costDouble   = 0.5 // "adress" / "addresss"
	costSwap     = 0.6 // "wirelsess"
)

func distance(a, b string, weighted bool) float64 {
	var ra, rb [maxRunes]rune
	na, okA := toRunes(ra[:], a)
	nb, okB := toRunes(rb[:], b)
	if !okA || !okB {
		return maxRunes
	}
	x, y := ra[:na], rb[:nb]
	// Three rows of the OSA matrix.
	var r0, r1, r2 [maxRunes + 1]float64
	prev2, prev, cur := r0[:nb+1], r1[:nb+1], r2[:nb+1]
	for j := range prev {
		prev[j] = float64(j)
	}
	for i := 1; i <= na; i++ {
		cur[0] = float64(i)
		for j := 1; j <= nb; j++ {
			if x[i-1] == y[j-1] {
				cur[j] = prev[j-1]
				continue
			}
			sub, del, ins, swap := 1.0, 1.0, 1.0, 1.0
			if weighted {
				if adjacent(x[i-1], y[j-1]) {
					sub = costAdjacent
				}
				// deleting x[i-1] that doubles its neighbour
				if i >= 2 && x[i-2] == x[i-1] || i < na && x[i] == x[i-1] {
					del = costDouble
				}
				// inserting y[j-1] that doubles its neighbour
				if j >= 2 && y[j-2] == y[j-1] || j < nb && y[j] == y[j-1] {
					ins = costDouble
				}
				swap = costSwap
			}
			v := min(prev[j-1]+sub, prev[j]+del, cur[j-1]+ins)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				v = min(v, prev2[j-2]+swap)
			}
			cur[j] = v
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[nb]
}

// toRunes decodes s into dst and reports false when it does not fit.
func toRunes(dst []rune, s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); {
		if n == len(dst) {
			return n, false
		}
		c := s[i]
		if c < utf8.RuneSelf {
			dst[n] = rune(c)
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			dst[n] = r
			i += size
		}
		n++
	}
	return n, true
}

// keyPos is the row and column of each lower-case letter and digit on a
// QWERTY keyboard; rows are staggered by a quarter key.
var keyPos = func() (p [128][2]int8) {
	for i := range p {
		p[i] = [2]int8{-1, -1}
	}
	rows := []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"}
	for r, row := range rows {
		for c := 0; c < len(row); c++ {
			p[row[c]] = [2]int8{int8(r), int8(c)}
		}
	}
	return p
}()

// adjacent reports whether a and b are neighbouring keys on a QWERTY
// keyboard (same row next to each other, or touching on the row above or
// below).
func adjacent(a, b rune) bool {
	if a >= 128 || b >= 128 || a == b {
		return false
	}
	pa, pb := keyPos[a], keyPos[b]
	if pa[0] < 0 || pb[0] < 0 {
		return false
	}
	dr, dc := int(pa[0])-int(pb[0]), int(pa[1])-int(pb[1])
	switch dr {
	case 0:
		return dc == 1 || dc == -1
	case 1: // a is on the row below b: b's column c touches a's c-1... c
		return dc == 0 || dc == -1
	case -1:
		return dc == 0 || dc == 1
	}
	return false
}
