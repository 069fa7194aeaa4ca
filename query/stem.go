package query

// Stem returns the light English singular of a folded term, the same
// stemmer AppendTerms and Words apply to every term. It is a plural and
// possessive stemmer in the spirit of Lucene's EnglishMinimalStemmer, tuned for
// product text:
//
//   - a term with a digit is never touched ("ps4", "3.5mm", "1000xm5");
//   - nothing is shortened below 3 bytes, and only terms ending in "s" change;
//   - "ss", "us" and "is" endings stay ("glass", "bus", "tennis");
//   - "ies" becomes "y" ("batteries" → "battery"), except for nouns whose
//     singular ends in "ie" ("hoodies" → "hoodie", "ties" → "tie");
//   - "es" is dropped after "ss", "x", "ch" and "sh" ("glasses" → "glass",
//     "boxes" → "box", "watches" → "watch"), except for "-che" nouns
//     ("headaches" → "headache");
//   - otherwise the final "s" is dropped ("chairs" → "chair",
//     "headphones" → "headphone", "cases" → "case");
//   - a short list of words keeps its "s" ("series", "news", "lens",
//     "canvas") and a few irregular plurals map to them ("lenses" → "lens").
//
// Stem expects a term as Fold produces it (lower case); it returns term
// itself when nothing changes.
func Stem(term string) string {
	if (len(term) < 4 || term[len(term)-1] != 's') && !isVariant(term) {
		return term
	}
	var a [64]byte
	b := stemBytes(append(a[:0], term...))
	if string(b) == term {
		return term
	}
	return string(b)
}

// stemBytes stems b in place and returns the stemmed prefix of it, with a
// British spelling turned American ("colours" -> "color").
func stemBytes(b []byte) []byte {
	b = pluralBytes(b)
	if c, ok := spellingVariants[string(b)]; ok {
		b = append(b[:0], c...) // never longer: b's bytes suffice
	}
	return b
}

// spellingVariants maps British spellings to the American ones, applied
// after the plural is cut, so "grey" and "gray" are one term, as are
// "colour" and "color". Every value is at most as long as its key.
var spellingVariants = map[string]string{
	"grey": "gray", "colour": "color", "aluminium": "aluminum", "jewellery": "jewelry",
	"centre": "center", "theatre": "theater", "fibre": "fiber", "litre": "liter",
	"metre": "meter", "tyre": "tire", "favourite": "favorite", "flavour": "flavor",
	"organiser": "organizer", "moisturiser": "moisturizer", "sanitiser": "sanitizer",
	"deodourant": "deodorant", "harbour": "harbor", "armour": "armor", "mould": "mold",
	"catalogue": "catalog", "cheque": "check", "pyjama": "pajama", "odour": "odor",
	"vapour": "vapor", "humour": "humor", "neighbour": "neighbor", "behaviour": "behavior",
	"storey": "story", "sceptre": "scepter", "kerb": "curb", "plough": "plow",
}

func isVariant(term string) bool {
	_, ok := spellingVariants[term]
	return ok
}

// pluralBytes cuts the plural of b in place and returns the prefix.
func pluralBytes(b []byte) []byte {
	n := len(b)
	if n < 4 || b[n-1] != 's' {
		return b
	}
	for _, c := range b {
		if '0' <= c && c <= '9' {
			return b
		}
	}
	switch string(b) { // the conversion does not allocate in a switch
	case "series", "species", "news", "lens", "canvas", "christmas", "atlas",
		"chaos", "bias", "alias", "always", "perhaps", "does", "goes":
		return b
	case "lenses", "buses", "biases", "aliases", "canvases", "atlases",
		"potatoes", "tomatoes", "heroes", "echoes", "mangoes", "mosquitoes",
		"volcanoes", "tornadoes", "torpedoes", "dominoes", "vetoes":
		return b[:n-2]
	case "niches", "caches", "headaches", "moustaches", "mustaches", "avalanches",
		"quiches", "creches", "cliches", "psyches", "microfiches":
		return b[:n-1]
	}
	switch b[n-2] {
	case 's', 'u', 'i':
		return b
	case 'e':
		switch b[n-3] {
		case 'i': // -ies
			if n >= 5 && !ieNoun(b[:n-1]) {
				b[n-3] = 'y'
				return b[:n-2]
			}
		case 's': // -sses
			if b[n-4] == 's' && n >= 5 {
				return b[:n-2]
			}
		case 'x': // -xes
			if n >= 5 {
				return b[:n-2]
			}
		case 'h': // -ches, -shes
			if (b[n-4] == 'c' || b[n-4] == 's') && n >= 6 {
				return b[:n-2]
			}
		}
	}
	return b[:n-1]
}

// ieNoun reports whether w, a singular ending in "ie", is a noun whose plural
// only adds "s": "hoodie" → "hoodies" rather than "hoody".
func ieNoun(w []byte) bool {
	switch string(w) {
	case "hoodie", "beanie", "cookie", "movie", "selfie", "zombie", "calorie",
		"rookie", "brownie", "smoothie", "goodie", "onesie", "bootie", "nightie",
		"undie", "pixie", "pinkie", "magpie", "necktie", "bowtie", "prairie",
		"genie", "cutie", "sweetie", "roadie", "foodie", "newbie", "birdie",
		"collie", "auntie", "hippie", "indie", "sortie", "veggie",
		"lassie", "sharpie", "scrunchie", "bestie", "boogie", "budgie", "freebie",
		"groupie", "junkie", "kiddie", "oldie", "walkie", "talkie", "yuppie",
		"lingerie", "eyrie", "reverie", "porkpie", "potpie":
		return true
	}
	return false
}
