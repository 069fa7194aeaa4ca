package query

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

type testVocab struct{}

var vocabBrands = map[string]string{"sony": "Sony", "apple": "Apple", "samsung": "Samsung", "western digital": "Western Digital",
	"bose": "Bose", "hp": "HP", "logitech": "Logitech", "jbl": "JBL", "dell": "Dell", "lenovo": "Lenovo"}
var vocabColors = map[string]string{"black": "Black", "white": "White", "red": "Red", "grey": "Grey", "gray": "Grey", "silver": "Silver", "blue": "Blue"}

func (testVocab) Brand(w string) (string, bool) { n, ok := vocabBrands[w]; return n, ok }
func (testVocab) Color(w string) (string, bool) { n, ok := vocabColors[w]; return n, ok }

// describe renders an Understanding compactly for the table.
func describe(u Understanding) string {
	var parts []string
	parts = append(parts, "kw="+u.Keywords)
	if u.HasPriceMin {
		parts = append(parts, fmt.Sprintf("min=%g", u.PriceMin))
	}
	if u.HasPriceMax {
		parts = append(parts, fmt.Sprintf("max=%g", u.PriceMax))
	}
	if u.RatingMin > 0 {
		parts = append(parts, fmt.Sprintf("rating=%g", u.RatingMin))
	}
	if len(u.Brands) > 0 {
		parts = append(parts, "brand="+strings.Join(u.Brands, ","))
	}
	if len(u.Colors) > 0 {
		parts = append(parts, "color="+strings.Join(u.Colors, ","))
	}
	return strings.Join(parts, " ")
}

func TestUnderstand(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		// Maximum price.
		{"wireless headphones under $200", "kw=wireless headphones max=200"},
		{"wireless headphones under 200", "kw=wireless headphones max=200"},
		{"laptop below 500", "kw=laptop max=500"},
		{"usb cable less than $10", "kw=usb cable max=10"},
		{"mouse cheaper than 20 dollars", "kw=mouse max=20"},
		{"monitor up to $1,000", "kw=monitor max=1000"},
		{"tablet max $300", "kw=tablet max=300"},
		{"tablet max 300 dollars", "kw=tablet max=300"},
		{"speaker under $49.99", "kw=speaker max=49.99"},
		{"keyboard < $40", "kw=keyboard max=40"},
		{"printer under 100 bucks", "kw=printer max=100"},
		{"headset under 50$", "kw=headset max=50"},
		{"under $30 phone case", "kw=phone case max=30"},
		// Minimum price.
		{"gaming laptop over $1,000", "kw=gaming laptop min=1000"},
		{"camera above 300", "kw=camera min=300"},
		{"tv more than 500 dollars", "kw=tv min=500"},
		{"watch from $150", "kw=watch min=150"},
		{"ssd at least $80", "kw=ssd min=80"},
		{"drone > $200", "kw=drone min=200"},
		// Ranges.
		{"headphones $20-$50", "kw=headphones min=20 max=50"},
		{"headphones $20 - $50", "kw=headphones min=20 max=50"},
		{"headphones $20-50", "kw=headphones min=20 max=50"},
		{"headphones 20-50 dollars", "kw=headphones min=20 max=50"},
		{"keyboard between 20 and 50 dollars", "kw=keyboard min=20 max=50"},
		{"keyboard between $20 and $50", "kw=keyboard min=20 max=50"},
		{"mouse between $50 and $20", "kw=mouse min=20 max=50"},
		{"router from $30 to $60", "kw=router min=30 max=60"},
		{"charger $10 to $25", "kw=charger min=10 max=25"},
		{"laptop price between 400 and 800", "kw=laptop price min=400 max=800"},
		// Ratings.
		{"bluetooth speaker 4+ stars", "kw=bluetooth speaker rating=4"},
		{"bluetooth speaker 4 stars and up", "kw=bluetooth speaker rating=4"},
		{"bluetooth speaker 4 stars & up", "kw=bluetooth speaker rating=4"},
		{"bluetooth speaker at least 4 stars", "kw=bluetooth speaker rating=4"},
		{"blender 4.5 stars", "kw=blender rating=4.5"},
		{"coffee maker 3 star or more", "kw=coffee maker rating=3"},
		{"toaster rated 4 and up", "kw=toaster rating=4"},
		{"kettle over 4 stars", "kw=kettle rating=4"},
		{"4 stars and above headphones", "kw=headphones rating=4"},
		{"router 5 stars", "kw=router rating=5"},
		{"lamp 6 stars", "kw=lamp 6 stars"},
		// Both.
		{"wirelss hedphones under 200 4 stars", "kw=wirelss hedphones max=200 rating=4"},
		{"sony headphones under $300 4+ stars", "kw=sony headphones max=300 rating=4 brand=Sony"},
		{"tablet $100-$300 at least 4 stars", "kw=tablet min=100 max=300 rating=4"},
		// Brands: boosted, kept in the keywords.
		{"sony headphones", "kw=sony headphones brand=Sony"},
		{"Samsung TV", "kw=Samsung TV brand=Samsung"},
		{"western digital external hard drive", "kw=western digital external hard drive brand=Western Digital"},
		{"hp laser printer", "kw=hp laser printer brand=HP"},
		{"apple", "kw=apple brand=Apple"},
		{"logitech mouse and jbl speaker", "kw=logitech mouse and jbl speaker brand=Logitech,JBL"},
		{"dell dell laptop", "kw=dell dell laptop brand=Dell"},
		// Colours: a boost, kept in the keywords.
		{"black wireless mouse", "kw=black wireless mouse color=Black"},
		{"grey hoodie", "kw=grey hoodie color=Grey"},
		{"gray hoodie", "kw=gray hoodie color=Grey"},
		{"red and blue cable", "kw=red and blue cable color=Red,Blue"},
		{"white samsung phone under 400", "kw=white samsung phone max=400 brand=Samsung color=White"},
		// Nothing left: keep the words.
		{"under $200", "kw=under $200"},
		{"black", "kw=black color=Black"},
		{"4 stars", "kw=4 stars"},
		{"sony", "kw=sony brand=Sony"},
		// Numbers that are not prices: a model number after a word that
		// does not say price needs "$" or "dollars".
		{"fridge max 726", "kw=fridge max 726"},
		{"tablet max 300", "kw=tablet max 300"},
		{"drone > 200", "kw=drone > 200"},
		{"drill min 18", "kw=drill min 18"},
		{"ssd at least 80", "kw=ssd at least 80"},
		{"door up to 36", "kw=door up to 36"},
		{"iphone 11", "kw=iphone 11"},
		{"65 inch tv under 800", "kw=65 inch tv max=800"},
		{"tv over 50 inch", "kw=tv over 50 inch"},
		{"brother tn-2110 toner", "kw=brother tn-2110 toner"},
		{"wh-1000xm5", "kw=wh-1000xm5"},
		{"usb 3-5 hub", "kw=usb 3-5 hub"},
		{"ps4 games", "kw=ps4 games"},
		{"rtx 2060", "kw=rtx 2060"},
		{"1tb ssd under 100", "kw=1tb ssd max=100"},
		{"4k monitor", "kw=4k monitor"},
		{"batteries 24 pack under 20", "kw=batteries 24 pack max=20"},
		{"under armour shoes", "kw=under armour shoes"},
		{"between us", "kw=between us"},
		{"laptop from 2019", "kw=laptop from 2019"},
		{"charger up to 65 w", "kw=charger up to 65 w"},
		{"$", "kw=$"},
		{"", "kw="},
		{"café under €20", "kw=café under €20"},
	} {
		if got := describe(Understand(tc.q, testVocab{})); got != tc.want {
			t.Errorf("Understand(%q)\n got  %s\n want %s", tc.q, got, tc.want)
		}
	}
}

func TestUnderstandNilVocabulary(t *testing.T) {
	if got := describe(Understand("black sony headphones under 100", nil)); got != "kw=black sony headphones max=100" {
		t.Errorf("got %s", got)
	}
}

func FuzzUnderstand(f *testing.F) {
	for _, s := range []string{"wireless headphones under $200", "$20-$50", "between 20 and 50 dollars", "4+ stars",
		"at least 4 stars", "$1,000.99", "$$$", "4 stars & up", "sony black", "from $5 to", "- - $ +", "\xff$1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		u := Understand(q, testVocab{})
		if !utf8.ValidString(q) || len(q) > MaxUnderstandBytes {
			if u.Keywords != q || !u.IsZero() {
				t.Fatalf("invalid input understood: %+v", u)
			}
			return
		}
		if len(Words(u.Keywords)) == 0 && len(Words(q)) > 0 {
			t.Fatalf("keywords %q of %q have no word", u.Keywords, q)
		}
		if len(u.Keywords) > len(q) {
			t.Fatalf("keywords %q longer than %q", u.Keywords, q)
		}
		if u.HasPriceMin && u.HasPriceMax && u.PriceMin > u.PriceMax {
			t.Fatalf("price range %g > %g", u.PriceMin, u.PriceMax)
		}
		if u.PriceMin < 0 || u.PriceMax < 0 || u.PriceMax > maxPrice || u.PriceMin > maxPrice {
			t.Fatalf("price out of range: %+v", u)
		}
		if u.RatingMin != 0 && (u.RatingMin < 1 || u.RatingMin > 5) {
			t.Fatalf("rating %g", u.RatingMin)
		}
		if len(u.Colors) > 0 && len(Words(u.Keywords)) < len(u.Colors) {
			t.Fatalf("a colour is a boost, but its word was cut from the keywords: %+v", u)
		}
	})
}

// catVocab predicts categories from phrases.
type catVocab struct{ testVocab }

func (catVocab) Category(w string) (string, bool) {
	c, ok := map[string]string{"dvd player": "electronics/dvd-players", "headphones": "audio/headphones"}[w]
	return c, ok
}

func TestUnderstandCategory(t *testing.T) {
	for _, c := range []struct{ q, want string }{
		{"sony dvd player under $100", "electronics/dvd-players"}, // the longest run wins
		{"headphones", "audio/headphones"},
		{"black headphones", "audio/headphones"}, // the colour is cut first
		{"laptop bag", ""},
	} {
		u := Understand(c.q, catVocab{})
		if u.Category != c.want {
			t.Errorf("Understand(%q).Category = %q, want %q", c.q, u.Category, c.want)
		}
	}
	if u := Understand("dvd player", testVocab{}); u.Category != "" {
		t.Errorf("a vocabulary without categories predicted %q", u.Category)
	}
}

// sizeVocab has a size facet.
type sizeVocab struct{ testVocab }

func (sizeVocab) Size(w string) (string, bool) {
	v, ok := map[string]string{"xl": "XL", "m": "M", "10": "10", "large": "Large", "42": "42"}[w]
	return v, ok
}

func TestUnderstandSizes(t *testing.T) {
	for _, c := range []struct {
		q, kw string
		sizes []string
	}{
		{"running shoes size 10", "running shoes", []string{"10"}},
		{"hoodie xl", "hoodie xl", []string{"XL"}}, // a boost: the word stays
		{"black hoodie size m under $40", "black hoodie", []string{"M"}},
		{"tv 42 inch", "tv 42 inch", nil},       // a bare number is not a size
		{"shoes size 11", "shoes size 11", nil}, // not a size of the catalog
		{"xl", "xl", []string{"XL"}},
		{"size 10", "size 10", []string{"10"}}, // nothing would be left
		{"large pizza", "large pizza", []string{"Large"}},
	} {
		u := Understand(c.q, sizeVocab{})
		if u.Keywords != c.kw || !slices.Equal(u.Sizes, c.sizes) {
			t.Errorf("Understand(%q) = keywords %q sizes %q, want %q %q", c.q, u.Keywords, u.Sizes, c.kw, c.sizes)
		}
	}
}
