package query

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Vocabulary is what Understand needs to know of the catalog. Both
// methods take folded words separated by single spaces.
type Vocabulary interface {
	// Brand returns the catalog's name of the brand called words
	// ("sony" -> "Sony"), and false when there is none.
	Brand(words string) (string, bool)
	// Color returns the facet value of the colour word ("grey" -> "Grey"),
	// and false when it is not a colour of the catalog.
	Color(word string) (string, bool)
}

// CategoryVocabulary is the optional interface of a Vocabulary that
// predicts a category from the query's words.
type CategoryVocabulary interface {
	// Category returns the category most products holding words are in
	// (a slug, "electronics/audio/headphones"), and false when the words
	// do not point to one clearly.
	Category(words string) (string, bool)
}

// SizeVocabulary is the optional interface of a Vocabulary whose catalog
// has a size facet.
type SizeVocabulary interface {
	// Size returns the size facet value written word ("xl" -> "XL",
	// "10" -> "10"), and false when it is not a size of the catalog.
	Size(word string) (string, bool)
}

// Understood is what Understand extracted from a query. Prices are in
// major units of the store currency (dollars), as the shopper typed them.
type Understood struct {
	PriceMin, PriceMax       float64
	HasPriceMin, HasPriceMax bool
	// RatingMin is the least average rating asked for; zero means none.
	RatingMin float64
	// Brands are catalog brands named in the query: a boost, not a filter.
	Brands []string
	// Colors are colour facet values named in the query: a boost, not a
	// filter (most sellers' products have no colour attribute); the words
	// stay in the keywords.
	Colors []string
	// Sizes are size facet values named in the query: "size 10", or a
	// letter size alone ("xl", "large"): a boost, not a filter.
	Sizes []string
	// Category is the category predicted from the keywords: a boost, not
	// a filter; "" for none.
	Category string
	// Filtered names the understood constraints the search applied as
	// filters ("price_min", "price_max", "rating_min", "color", "size"):
	// a price or rating the query stated explicitly ("under $50", "4+
	// stars") and the request did not set itself, and a colour or size
	// when every one of the best matches carries it and the filter keeps
	// every full match. Everything else understood is a boost. Set by the search,
	// not by Understand.
	Filtered []string
}

// IsZero reports whether nothing was understood.
func (u *Understood) IsZero() bool {
	return !u.HasPriceMin && !u.HasPriceMax && u.RatingMin == 0 && len(u.Brands) == 0 && len(u.Colors) == 0 && len(u.Sizes) == 0 && u.Category == ""
}

// Understanding is a query split into keywords and the structure found in
// it. Understanding proposes and ranking decides: only explicit price and
// rating phrases become filters; brands, colours, sizes and the category
// are boosts.
type Understanding struct {
	// Keywords is the query with the price and rating phrases cut out
	// ("wireless headphones under $200" -> "wireless headphones"), and
	// the word "size" before a size. Brand, colour and size words stay:
	// they are boosted, not required. When cutting would leave no word,
	// Keywords is the query and only the boosts are understood.
	Keywords string
	Understood
}

// MaxUnderstandBytes bounds the queries Understand reads; longer ones are
// returned as keywords only.
const MaxUnderstandBytes = 1024

// maxPrice bounds the prices Understand accepts (in major units), so that
// a price in minor units fits an int64 with room to spare.
const maxPrice = 1e12

// Understand extracts price ranges, minimum ratings, brands and colours
// from a shopper's query:
//
//   - "under $200", "below 50", "less than 30", "up to $1,000", "max 80",
//     "cheaper than 20" set a maximum price;
//   - "over $1,000", "above 50", "more than 20", "from $30", "min 10" set a
//     minimum price;
//   - "$20-$50", "$20 - 50", "20-50 dollars", "between 20 and 50 dollars",
//     "from $20 to $50" set both (a bare "20-50" without "$" or "dollars"
//     is not a price: it might be a model number);
//   - "4+ stars", "4 stars and up", "4 stars & above", "4 stars or more",
//     "at least 4 stars", "4 star", "rated 4 and up" set a minimum rating
//     from 1 to 5;
//   - a brand of the catalog named in up to three consecutive words, and a
//     colour word of the catalog's colour facet (v may be nil).
//
// Understand is pure and safe for concurrent use.
func Understand(q string, v Vocabulary) Understanding {
	out := Understanding{Keywords: q}
	if len(q) > MaxUnderstandBytes || !utf8.ValidString(q) {
		return out
	}
	toks := tokenize(q)
	// used marks the tokens understood; kept, those of them that stay in
	// the keywords (colours and sizes: a boost, so the words still match
	// titles).
	used := make([]bool, len(toks))
	kept := make([]bool, len(toks))
	var u Understood
	for i := 0; i < len(toks); i++ {
		if used[i] {
			continue
		}
		if n, r := matchRating(toks, i); n > 0 {
			if u.RatingMin == 0 {
				u.RatingMin = r
			}
			markUsed(used, i, n)
			i += n - 1
			continue
		}
		if n, lo, hi, hasLo, hasHi := matchPrice(toks, i); n > 0 {
			if hasLo && !u.HasPriceMin {
				u.PriceMin, u.HasPriceMin = lo, true
			}
			if hasHi && !u.HasPriceMax {
				u.PriceMax, u.HasPriceMax = hi, true
			}
			markUsed(used, i, n)
			i += n - 1
		}
	}
	if u.HasPriceMin && u.HasPriceMax && u.PriceMin > u.PriceMax {
		u.PriceMin, u.PriceMax = u.PriceMax, u.PriceMin
	}
	if v != nil {
		for i := 0; i < len(toks); i++ {
			if used[i] || toks[i].kind != tokWord {
				continue
			}
			// The longest brand of up to three words from here.
			found := 0
			for n := min(3, len(toks)-i); n >= 1 && found == 0; n-- {
				if !allWords(toks[i:i+n], used[i:i+n]) {
					continue
				}
				if name, ok := v.Brand(joinWords(toks[i : i+n])); ok {
					if !contains(u.Brands, name) {
						u.Brands = append(u.Brands, name)
					}
					found = n
				}
			}
			if found > 0 {
				i += found - 1
				continue
			}
			if name, ok := v.Color(toks[i].text); ok {
				if !contains(u.Colors, name) {
					u.Colors = append(u.Colors, name)
				}
				used[i] = true
				kept[i] = true
			}
		}
	}
	if sv, ok := v.(SizeVocabulary); ok {
		matchSizes(q, toks, used, kept, sv, &u)
	}
	if cv, ok := v.(CategoryVocabulary); ok {
		u.Category = predictCategory(toks, used, cv)
	}
	cut := make([]bool, len(toks))
	for k := range cut {
		cut[k] = used[k] && !kept[k]
	}
	kw := keywords(q, toks, cut)
	if len(Words(kw)) == 0 {
		// Nothing would be left to search for: keep the words, and only
		// what does not filter.
		out.Brands, out.Colors, out.Sizes, out.Category = u.Brands, u.Colors, u.Sizes, u.Category
		return out
	}
	out.Keywords = kw
	out.Understood = u
	return out
}

// letterSizes are the words that name a size on their own; any other
// size value ("10", "42") is read only after the word "size".
var letterSizes = map[string]bool{"xxs": true, "xs": true, "s": true, "m": true, "l": true, "xl": true,
	"xxl": true, "xxxl": true, "2xl": true, "3xl": true, "small": true, "medium": true, "large": true}

// matchSizes reads "size X" and letter sizes of the catalog's size facet.
func matchSizes(q string, toks []token, used, kept []bool, v SizeVocabulary, u *Understood) {
	for i := 0; i < len(toks); i++ {
		if used[i] {
			continue
		}
		if toks[i].kind == tokWord && toks[i].text == "size" && i+1 < len(toks) && !used[i+1] {
			if name, ok := v.Size(strings.ToLower(q[toks[i+1].start:toks[i+1].end])); ok {
				if !contains(u.Sizes, name) {
					u.Sizes = append(u.Sizes, name)
				}
				used[i], used[i+1] = true, true
				i++
				continue
			}
		}
		if toks[i].kind == tokWord && letterSizes[toks[i].text] {
			if name, ok := v.Size(toks[i].text); ok {
				if !contains(u.Sizes, name) {
					u.Sizes = append(u.Sizes, name)
				}
				used[i], kept[i] = true, true
			}
		}
	}
}

// predictCategory returns the category of the longest run of up to three
// keyword words that has one, leftmost first.
func predictCategory(toks []token, used []bool, v CategoryVocabulary) string {
	for n := min(3, len(toks)); n >= 1; n-- {
		for i := 0; i+n <= len(toks); i++ {
			if !allWords(toks[i:i+n], used[i:i+n]) {
				continue
			}
			if c, ok := v.Category(joinWords(toks[i : i+n])); ok {
				return c
			}
		}
	}
	return ""
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func markUsed(used []bool, i, n int) {
	for k := i; k < i+n; k++ {
		used[k] = true
	}
}

func allWords(ts []token, used []bool) bool {
	for k := range ts {
		if used[k] || ts[k].kind != tokWord {
			return false
		}
	}
	return true
}

func joinWords(ts []token) string {
	if len(ts) == 1 {
		return ts[0].text
	}
	var b strings.Builder
	for k, t := range ts {
		if k > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// keywords returns q with the spans of used tokens cut out and the spaces
// around them collapsed.
func keywords(q string, toks []token, used []bool) string {
	any := false
	for _, u := range used {
		any = any || u
	}
	if !any {
		return q
	}
	var b strings.Builder
	prev := 0
	for k, t := range toks {
		if !used[k] {
			continue
		}
		b.WriteString(q[prev:t.start])
		b.WriteByte(' ')
		prev = t.end
	}
	b.WriteString(q[prev:])
	return strings.Join(strings.Fields(b.String()), " ")
}

type tokKind uint8

const (
	tokWord   tokKind = iota // letters, or letters and digits ("ps4")
	tokNum                   // a number, possibly with "$" ("$1,000", "4.5")
	tokPlus                  // "+"
	tokDash                  // "-", "–", "—"
	tokAmp                   // "&"
	tokLess                  // "<"
	tokMore                  // ">"
	tokDollar                // a "$" with no number after it ("50$")
	tokOther                 // any other punctuation
)

type token struct {
	kind       tokKind
	text       string  // folded, for words
	num        float64 // for numbers
	dollar     bool    // a number written with "$"
	start, end int     // byte span in the query
}

// tokenize splits q into words, numbers and the punctuation Understand
// reads. A run of letters and digits that is not a number ("ps4", "1tb",
// "wh-1000xm5" as three tokens) is a word.
func tokenize(q string) []token {
	var toks []token
	for i := 0; i < len(q); {
		r, size := utf8.DecodeRuneInString(q[i:])
		switch {
		case r == ' ' || unicode.IsSpace(r):
			i += size
		case r == '$' || isDigitRune(r):
			j := i
			dollar := false
			if r == '$' {
				dollar = true
				j++
				for j < len(q) && q[j] == ' ' {
					j++
				}
			}
			k := j
			for k < len(q) && (isDigit(q[k]) || (q[k] == ',' || q[k] == '.') && k+1 < len(q) && isDigit(q[k+1]) && k > j) {
				k++
			}
			// A number glued to letters is a word ("4k", "1tb", "ps4").
			if k == j || k < len(q) && isWordByte(q[k]) {
				e := k
				for e < len(q) && isWordByte(q[e]) {
					e++
				}
				if e == i || r == '$' && k == j {
					kind := tokOther
					if r == '$' {
						kind = tokDollar
					}
					toks = append(toks, token{kind: kind, start: i, end: i + 1})
					i++
					continue
				}
				toks = append(toks, token{kind: tokWord, text: Fold(q[j:e]), start: i, end: e})
				i = e
				continue
			}
			n, err := strconv.ParseFloat(strings.ReplaceAll(q[j:k], ",", ""), 64)
			if err != nil || n > maxPrice {
				toks = append(toks, token{kind: tokOther, start: i, end: k})
			} else {
				toks = append(toks, token{kind: tokNum, num: n, dollar: dollar, start: i, end: k})
			}
			i = k
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			e := i
			for e < len(q) {
				r2, s2 := utf8.DecodeRuneInString(q[e:])
				if !(unicode.IsLetter(r2) || unicode.IsDigit(r2) || unicode.Is(unicode.Mn, r2) || r2 == '\'') {
					break
				}
				e += s2
			}
			toks = append(toks, token{kind: tokWord, text: strings.ReplaceAll(Fold(q[i:e]), "'", ""), start: i, end: e})
			i = e
		default:
			kind := tokOther
			switch r {
			case '+':
				kind = tokPlus
			case '-', '–', '—':
				kind = tokDash
			case '&':
				kind = tokAmp
			case '<':
				kind = tokLess
			case '>':
				kind = tokMore
			}
			toks = append(toks, token{kind: kind, start: i, end: i + size})
			i += size
		}
	}
	return toks
}

func isDigitRune(r rune) bool { return '0' <= r && r <= '9' }

func isWordByte(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || isDigit(c) || c >= utf8.RuneSelf
}
