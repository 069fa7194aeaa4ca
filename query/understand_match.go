package query

// The phrase matchers of Understand. Each looks at the tokens from i and
// returns how many it consumed, zero for no match.

// isWord reports whether toks[i] is a word among ws.
func isWord(toks []token, i int, ws ...string) bool {
	if i >= len(toks) || toks[i].kind != tokWord {
		return false
	}
	for _, w := range ws {
		if toks[i].text == w {
			return true
		}
	}
	return false
}

func isKind(toks []token, i int, k tokKind) bool { return i < len(toks) && toks[i].kind == k }

// matchRating reads a minimum rating: "4+ stars", "4 stars and up",
// "at least 4 stars", "over 4 stars", "rated 4 and up", "4.5 star".
func matchRating(toks []token, i int) (int, float64) {
	start := i
	switch {
	case isWord(toks, i, "at") && isWord(toks, i+1, "least"):
		i += 2
	case isWord(toks, i, "over", "above", "min", "minimum"):
		i++
	case isWord(toks, i, "rated", "rating"):
		i++
		if isWord(toks, i, "of", "at") {
			i++
		}
	}
	rated := i > start && isWord(toks, start, "rated", "rating")
	if !isKind(toks, i, tokNum) || toks[i].dollar {
		return 0, 0
	}
	r := toks[i].num
	if r < 1 || r > 5 {
		return 0, 0
	}
	i++
	plus := isKind(toks, i, tokPlus)
	if plus {
		i++
	}
	stars := isWord(toks, i, "star", "stars")
	if stars {
		i++
	}
	if !stars && !rated {
		return 0, 0
	}
	// The optional "and up" tail.
	switch {
	case (isWord(toks, i, "and") || isKind(toks, i, tokAmp)) && isWord(toks, i+1, "up", "above", "higher", "over", "better", "more"):
		i += 2
	case isWord(toks, i, "or") && isWord(toks, i+1, "more", "higher", "above", "better"):
		i += 2
	case isWord(toks, i, "up", "plus"):
		i++
	}
	return i - start, r
}

// unitWords follow a number that is a measure, not a price.
var unitWords = map[string]bool{
	"inch": true, "inches": true, "in": true, "gb": true, "tb": true, "mb": true, "mm": true, "cm": true,
	"m": true, "ft": true, "feet": true, "w": true, "watt": true, "watts": true, "mah": true, "hz": true,
	"mp": true, "oz": true, "lb": true, "lbs": true, "kg": true, "g": true, "ml": true, "l": true,
	"pack": true, "pcs": true, "pieces": true, "count": true, "ct": true, "star": true, "stars": true,
	"v": true, "volt": true, "volts": true, "percent": true, "x": true, "pages": true, "sheets": true,
	"years": true, "year": true, "months": true, "days": true, "hours": true, "minutes": true, "people": true,
}

func isDollarWord(toks []token, i int) bool {
	return isWord(toks, i, "dollars", "dollar", "usd", "bucks") || isKind(toks, i, tokDollar)
}

// price reads a number at i as a price: it returns the tokens consumed
// (the number and a trailing "dollars" or "$"), the amount, and whether it
// was marked as money. A number followed by a unit is not a price.
func price(toks []token, i int) (n int, v float64, money bool) {
	if !isKind(toks, i, tokNum) {
		return 0, 0, false
	}
	v, money = toks[i].num, toks[i].dollar
	n = 1
	if isDollarWord(toks, i+1) {
		return 2, v, true
	}
	if i+1 < len(toks) && toks[i+1].kind == tokWord && unitWords[toks[i+1].text] {
		return 0, 0, false
	}
	return n, v, money
}

// matchPrice reads a price bound or range.
func matchPrice(toks []token, i int) (n int, lo, hi float64, hasLo, hasHi bool) {
	start := i
	// "between 20 and 50 dollars", "between $20 - $50"
	if isWord(toks, i, "between") {
		n1, a, m1 := price(toks, i+1)
		if n1 == 0 {
			return 0, 0, 0, false, false
		}
		j := i + 1 + n1
		if !isWord(toks, j, "and", "to") && !isKind(toks, j, tokDash) {
			return 0, 0, 0, false, false
		}
		n2, b, m2 := price(toks, j+1)
		if n2 == 0 || !(m1 || m2) && !betweenPriceContext(toks, start) {
			return 0, 0, 0, false, false
		}
		return j + 1 + n2 - start, min(a, b), max(a, b), true, true
	}
	// "from $20 to $50", "from $20"
	if isWord(toks, i, "from") {
		n1, a, m1 := price(toks, i+1)
		if n1 == 0 {
			return 0, 0, 0, false, false
		}
		j := i + 1 + n1
		if isWord(toks, j, "to") || isKind(toks, j, tokDash) {
			if n2, b, m2 := price(toks, j+1); n2 > 0 && (m1 || m2) {
				return j + 1 + n2 - start, min(a, b), max(a, b), true, true
			}
		}
		if m1 {
			return j - start, a, 0, true, false
		}
		return 0, 0, 0, false, false
	}
	// "under $200", "less than 50", "up to 1,000 dollars", "< 30". A bare
	// number is a price only after a word that says so ("under",
	// "below", "less than"); after "max", "up to", "within" or "<" it
	// needs "$" or "dollars": "fridge max 726" names a model.
	upper, bare := 0, false
	switch {
	case isWord(toks, i, "under", "below"):
		upper, bare = 1, true
	case isWord(toks, i, "max", "maximum", "within", "upto"):
		upper = 1
	case isKind(toks, i, tokLess):
		upper = 1
	case isWord(toks, i, "less", "cheaper", "lower") && isWord(toks, i+1, "than"):
		upper, bare = 2, true
	case isWord(toks, i, "up") && isWord(toks, i+1, "to"):
		upper = 2
	}
	if upper > 0 {
		if n1, a, money := price(toks, i+upper); n1 > 0 && (bare || money) {
			return upper + n1, 0, a, false, true
		}
		return 0, 0, 0, false, false
	}
	lower := 0
	bare = false
	switch {
	case isWord(toks, i, "over", "above"):
		lower, bare = 1, true
	case isWord(toks, i, "min", "minimum"):
		lower = 1
	case isKind(toks, i, tokMore):
		lower = 1
	case isWord(toks, i, "more", "higher") && isWord(toks, i+1, "than"):
		lower, bare = 2, true
	case isWord(toks, i, "at") && isWord(toks, i+1, "least"):
		lower = 2
	}
	if lower > 0 {
		if n1, a, money := price(toks, i+lower); n1 > 0 && (bare || money) {
			return lower + n1, a, 0, true, false
		}
		return 0, 0, 0, false, false
	}
	// "$20-$50", "$20 - 50", "20-50 dollars", "$20 to $50"
	if n1, a, m1 := price(toks, i); n1 == 1 {
		j := i + 1
		if isKind(toks, j, tokDash) || isWord(toks, j, "to") {
			if n2, b, m2 := price(toks, j+1); n2 > 0 && (m1 || m2) {
				return j + 1 + n2 - start, min(a, b), max(a, b), true, true
			}
		}
	}
	return 0, 0, 0, false, false
}

// betweenPriceContext accepts "between 20 and 50" without a currency when
// the query says "price" or "priced" just before.
func betweenPriceContext(toks []token, i int) bool {
	return i > 0 && isWord(toks, i-1, "price", "priced", "prices", "costing", "cost")
}
