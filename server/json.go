package server

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/search"
	"github.com/aisle/aisle/spell"
)

// The search response is written by hand, appending to a pooled buffer:
// reflection-based encoding costs more than the search itself at the
// request rates the server is built for.

// bufPool holds response buffers. Buffers that grew past maxPooledBuf are
// dropped so one huge response does not pin memory forever.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

const maxPooledBuf = 1 << 20

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

const hexDigits = "0123456789abcdef"

// safeASCII[c] is true for the ASCII bytes a JSON string holds unescaped.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a JSON string: quotes, backslashes and control
// characters are escaped, U+2028 and U+2029 are escaped for JavaScript
// embedding, and every byte of invalid UTF-8 becomes \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendKey appends "key": for a key known to need no escaping, after a
// comma unless dst ends an opening brace.
func appendKey(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' && dst[n-1] != '[' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// appendFloat appends v in the shortest form that reads back exactly; NaN
// and infinities, which JSON cannot hold, become null.
func appendFloat(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

// minorDigits returns how many decimal places the minor unit of currency
// has: 2 for cents, 0 for currencies such as the yen.
func minorDigits(currency string) int {
	switch currency {
	case "JPY":
		return 0
	}
	return 2
}

var pow10 = [...]int64{1, 10, 100, 1000}

// appendMinor appends an amount in minor units as a decimal number in major
// units with exactly digits decimals: 1999 -> 19.99.
func appendMinor(dst []byte, amount int64, digits int) []byte {
	if digits <= 0 || digits >= len(pow10) {
		return strconv.AppendInt(dst, amount, 10)
	}
	if amount < 0 {
		dst = append(dst, '-')
		if amount == math.MinInt64 {
			return strconv.AppendInt(dst[:len(dst)-1], amount, 10)
		}
		amount = -amount
	}
	p := pow10[digits]
	dst = strconv.AppendInt(dst, amount/p, 10)
	dst = append(dst, '.')
	frac := amount % p
	for d := p / 10; d > 0; d /= 10 {
		dst = append(dst, byte('0'+frac/d%10))
	}
	return dst
}

// appendPrice appends {"amount","currency","was"}, with "was" only when the
// compare-at price is above the price.
func appendPrice(dst []byte, price, was catalog.Money) []byte {
	digits := minorDigits(price.Currency)
	dst = append(dst, `{"amount":`...)
	dst = appendMinor(dst, price.Amount, digits)
	dst = append(dst, `,"currency":`...)
	dst = appendString(dst, price.Currency)
	if was.Amount > price.Amount {
		dst = append(dst, `,"was":`...)
		dst = appendMinor(dst, was.Amount, digits)
	}
	return append(dst, '}')
}

// appendSlug appends catalog.CategorySlug(path) without allocating.
func appendSlug(dst []byte, path []string) []byte {
	for i, p := range path {
		if i > 0 {
			dst = append(dst, '/')
		}
		start := len(dst)
		dash := false
		for j := 0; j < len(p); {
			var r rune
			if c := p[j]; c < utf8.RuneSelf {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				r = rune(c)
				j++
			} else {
				var size int
				r, size = utf8.DecodeRuneInString(p[j:])
				r = unicode.ToLower(r)
				j += size
			}
			isWord := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && r != utf8.RuneError
			if !isWord {
				dash = len(dst) > start
				continue
			}
			if dash {
				dst = append(dst, '-')
				dash = false
			}
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// appendSearchResult appends the JSON body of a search response. The facet
// lists are trimmed to the limits of a (see facetLimits), keeping the
// values a filters by; a nil a writes them whole.
func appendSearchResult(dst []byte, res *search.Result, priceDigits int, a *searchArgs) []byte {
	dst = append(dst, `{"results":[`...)
	for i := range res.Hits {
		h := &res.Hits[i]
		if h.Product == nil {
			continue
		}
		if dst[len(dst)-1] != '[' {
			dst = append(dst, ',')
		}
		dst = appendHit(dst, h)
	}
	dst = append(dst, `],"facets":`...)
	if res.Facets == nil {
		dst = append(dst, "null"...)
	} else {
		dst = appendFacets(dst, res.Facets, priceDigits, a)
	}
	dst = append(dst, `,"facets_exact":`...)
	dst = appendBool(dst, res.Facets == nil || !res.Facets.Sampled)
	dst = append(dst, `,"total":`...)
	dst = strconv.AppendInt(dst, int64(res.Total), 10)
	dst = append(dst, `,"page":`...)
	dst = strconv.AppendInt(dst, int64(res.Page), 10)
	dst = append(dst, `,"page_size":`...)
	dst = strconv.AppendInt(dst, int64(res.PageSize), 10)
	dst = append(dst, `,"took_ms":`...)
	dst = strconv.AppendFloat(dst, float64(res.Took)/float64(time.Millisecond), 'f', 3, 64)
	dst = append(dst, `,"relaxed":`...)
	dst = appendBool(dst, res.Relaxed)
	dst = append(dst, `,"exact_total":`...)
	dst = strconv.AppendInt(dst, int64(res.Exact), 10)
	dst = append(dst, `,"filter_relaxations":[`...)
	for i, r := range res.FilterRelaxations {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"param":`...)
		dst = appendString(dst, r.Param)
		dst = append(dst, `,"value":`...)
		dst = appendString(dst, r.Value)
		dst = append(dst, `,"total":`...)
		dst = strconv.AppendInt(dst, int64(r.Total), 10)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if res.DidYouMean != "" {
		dst = append(dst, `,"did_you_mean":`...)
		dst = appendString(dst, res.DidYouMean)
	}
	if res.CorrectedFrom != "" {
		dst = append(dst, `,"corrected_from":`...)
		dst = appendString(dst, res.CorrectedFrom)
	}
	if u := res.Understood; u != nil {
		dst = append(dst, `,"understood":`...)
		dst = appendUnderstood(dst, u)
	}
	if res.Partial { // a router's answer with shards missing (doc/cluster.md)
		dst = append(dst, `,"partial":true,"missing_shards":[`...)
		for i, s := range res.MissingShards {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendInt(dst, int64(s), 10)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// appendUnderstood appends what query understanding found, as the
// storefront shows it in chips: {"price_min":20,"price_max":50,
// "rating_min":4,"brand":["Sony"],"color":["Black"],"size":["XL"],
// "filtered":["price_min","price_max","rating_min"],
// "category":"electronics/audio/headphones"}, each key only when set.
// "filtered" names the keys applied as filters (removable chips); the
// others are boosts.
// Prices are in major units, as typed. The category is a boost the
// storefront may show but not remove: it filters nothing.
func appendUnderstood(dst []byte, u *query.Understood) []byte {
	dst = append(dst, '{')
	if u.HasPriceMin {
		dst = appendKey(dst, "price_min")
		dst = appendFloat(dst, u.PriceMin)
	}
	if u.HasPriceMax {
		dst = appendKey(dst, "price_max")
		dst = appendFloat(dst, u.PriceMax)
	}
	if u.RatingMin > 0 {
		dst = appendKey(dst, "rating_min")
		dst = appendFloat(dst, u.RatingMin)
	}
	for _, l := range [...]struct {
		key string
		vs  []string
	}{{"brand", u.Brands}, {"color", u.Colors}, {"size", u.Sizes}, {"filtered", u.Filtered}} {
		if len(l.vs) == 0 {
			continue
		}
		dst = appendKey(dst, l.key)
		dst = append(dst, '[')
		for i, v := range l.vs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, v)
		}
		dst = append(dst, ']')
	}
	if u.Category != "" {
		dst = appendKey(dst, "category")
		dst = appendString(dst, u.Category)
	}
	return append(dst, '}')
}

// appendSuggestions appends the answer of /api/v1/suggest:
// {"suggestions":[{"text":...,"category":...}]}, the category only when
// known.
func appendSuggestions(dst []byte, ss []spell.Suggestion) []byte {
	dst = append(dst, `{"suggestions":[`...)
	for i := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"text":`...)
		dst = appendString(dst, ss[i].Text)
		if ss[i].Category != "" {
			dst = append(dst, `,"category":`...)
			dst = appendString(dst, ss[i].Category)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

func appendHit(dst []byte, h *search.Hit) []byte {
	p := h.Product
	price, was, inStock := h.Offer.Price, h.Offer.Was, h.Offer.InStock
	dst = append(dst, `{"product_id":`...)
	dst = appendString(dst, p.ID)
	dst = append(dst, `,"title":`...)
	dst = appendString(dst, p.Title)
	dst = append(dst, `,"brand":`...)
	dst = appendString(dst, p.Brand)
	dst = append(dst, `,"price":`...)
	dst = appendPrice(dst, price, was)
	dst = append(dst, `,"rating":{"avg":`...)
	dst = appendFloat(dst, p.Rating.Avg)
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, int64(p.Rating.Count), 10)
	dst = append(dst, `},"thumbnail_url":`...)
	dst = appendString(dst, p.Thumbnail)
	dst = append(dst, `,"badges":[`...)
	for i, b := range p.Badges {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, b)
	}
	dst = append(dst, `],"in_stock":`...)
	dst = appendBool(dst, inStock)
	dst = append(dst, `,"sponsored":`...)
	dst = appendBool(dst, h.Sponsored)
	if h.Partial {
		dst = append(dst, `,"partial":true`...)
	}
	dst = append(dst, `,"category":"`...)
	dst = appendSlug(dst, p.Category) // a slug needs no escaping
	return append(dst, `"}`...)
}

func appendFacets(dst []byte, f *search.Facets, priceDigits int, a *searchArgs) []byte {
	brandMax, catMax := len(f.Brand), len(f.Category)
	var brands []string
	if a != nil {
		brandMax, catMax, brands = a.facets.brand, a.facets.category, a.brands
	}
	dst = append(dst, `{"brand":`...)
	dst = appendFacetValues(dst, f.Brand, brandMax, brands)
	dst = append(dst, `,"category":[`...)
	for i, c := range f.Category[:min(catMax, len(f.Category))] {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"slug":`...)
		dst = appendString(dst, c.Slug)
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, c.Name)
		dst = append(dst, `,"level":`...)
		dst = strconv.AppendInt(dst, int64(c.Level), 10)
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendInt(dst, int64(c.Count), 10)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"price":`...)
	dst = appendRanges(dst, f.Price, float64(pow10[priceDigits]))
	dst = append(dst, `,"rating":`...)
	dst = appendRanges(dst, f.Rating, 1)
	dst = append(dst, `,"attributes":[`...)
	for i, at := range f.Attributes {
		if i > 0 {
			dst = append(dst, ',')
		}
		n, sel := len(at.Values), []string(nil)
		if a != nil {
			n, sel = a.facets.attrLimit(at.Name), a.attrs[at.Name]
		}
		dst = append(dst, `{"name":`...)
		dst = appendString(dst, at.Name)
		dst = append(dst, `,"values":`...)
		dst = appendFacetValues(dst, at.Values, n, sel)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// appendFacetValues appends the first n values of vs, and after them any
// later value that is one of selected (the storefront keeps a ticked box
// on the page), in their order.
func appendFacetValues(dst []byte, vs []search.FacetValue, n int, selected []string) []byte {
	dst = append(dst, '[')
	first := true
	for i, v := range vs {
		if i >= n && !isSelected(v.Value, selected) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, `{"value":`...)
		dst = appendString(dst, v.Value)
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendInt(dst, int64(v.Count), 10)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// isSelected reports whether v is one of the filter values sel, compared
// as the engine compares them, without regard to case.
func isSelected(v string, sel []string) bool {
	for _, s := range sel {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// appendRanges appends range buckets with their bounds divided by div (to
// turn minor currency units into major ones); an open upper bound is null.
func appendRanges(dst []byte, rs []search.RangeCount, div float64) []byte {
	dst = append(dst, '[')
	for i, r := range rs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"key":`...)
		dst = appendString(dst, r.Key)
		dst = append(dst, `,"from":`...)
		dst = appendFloat(dst, r.From/div)
		dst = append(dst, `,"to":`...)
		if r.To == 0 {
			dst = append(dst, "null"...)
		} else {
			dst = appendFloat(dst, r.To/div)
		}
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendInt(dst, int64(r.Count), 10)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}
