package server

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/search"
	"github.com/valyala/fasthttp"
)

// Limits on search parameters beyond those of package search.
const (
	// MaxValueBytes bounds every parameter value other than q.
	MaxValueBytes = 1024
	// MaxFilterValues bounds the values of one multi-valued filter (brand,
	// one attr.NAME), counted across repeats.
	MaxFilterValues = 100
	// MaxAttrFilters bounds the distinct attr.NAME parameters.
	MaxAttrFilters = 32
	// DefaultPageSize is the page size when page_size is not given.
	DefaultPageSize = 20
	// DefaultBrandValues, DefaultCategoryValues and DefaultAttrValues are
	// how many values of each facet list a response holds unless facets=
	// asks for more: what the storefront page shows (server/web/app.js
	// shows every brand given, the first 12 categories, 10 values of an
	// attribute).
	DefaultBrandValues    = 10
	DefaultCategoryValues = 12
	DefaultAttrValues     = 10
	// MaxFacetValues bounds a facets=name:N; the engine computes at most
	// its own search.Options.MaxFacetValues (20 as shipped) of a list.
	MaxFacetValues = 100
	// maxFacetLimits bounds the name:N items of facets=.
	maxFacetLimits = 16
)

// Error codes in the "code" field of an error response.
const (
	CodeInvalidParameter = "invalid_parameter"
	CodeUnknownParameter = "unknown_parameter"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeNotReady         = "not_ready"
	CodeTimeout          = "timeout"
	CodeInternal         = "internal"
)

// paramError is a request parameter the server refuses, answered with 400.
type paramError struct {
	Code    string
	Param   string
	Message string
}

func (e *paramError) Error() string { return e.Message }

// invalid returns the error for param; msg continues a sentence that
// starts with the parameter's name.
func invalid(param, msg string) *paramError {
	return &paramError{Code: CodeInvalidParameter, Param: param, Message: param + " " + msg}
}

func unknown(param string) *paramError {
	msg := param + " is not a search parameter"
	if param == "" {
		msg = "a parameter with an empty name is not a search parameter"
	}
	return &paramError{Code: CodeUnknownParameter, Param: param, Message: msg}
}

// The single-valued parameters, as bits of a seen set so repeats are caught
// without a map.
const (
	seenQ = 1 << iota
	seenCategory
	seenPriceMin
	seenPriceMax
	seenRatingMin
	seenInStock
	seenSort
	seenPage
	seenPageSize
	seenFacets
	seenRelax
	seenPlain
)

// searchArgs is a parsed search request with the buffers it reuses; it is
// pooled by the server, so a request allocates only its strings.
type searchArgs struct {
	req    search.Request
	brands []string
	attrs  map[string][]string
	facets facetLimits
}

// facetLimits says how many values of each facet list a response holds:
// brand, category, and each attribute (by name in attrs, otherwise attr).
type facetLimits struct {
	brand, category, attr int
	attrs                 []facetLimit
}

type facetLimit struct {
	name string
	n    int
}

func (f *facetLimits) reset() {
	f.brand, f.category, f.attr = DefaultBrandValues, DefaultCategoryValues, DefaultAttrValues
	clear(f.attrs)
	f.attrs = f.attrs[:0]
}

// attrLimit returns the limit of the attribute facet name.
func (f *facetLimits) attrLimit(name string) int {
	for _, l := range f.attrs {
		if l.name == name {
			return l.n
		}
	}
	return f.attr
}

func (a *searchArgs) reset() {
	clear(a.brands)
	a.brands = a.brands[:0]
	clear(a.attrs)
	a.facets.reset()
	a.req = search.Request{}
}

// parse fills a from the query arguments of a search. priceDigits is the
// number of decimals of the store currency's minor unit (2 for cents).
//
// Every parameter may appear once, except brand and attr.NAME, whose
// repeats add values: brand=a&brand=b is brand=a,b. An empty value is the
// same as leaving the parameter out.
func (a *searchArgs) parse(args *fasthttp.Args, priceDigits int) *paramError {
	a.reset()
	r := &a.req
	r.Page, r.PageSize, r.Facets = 1, DefaultPageSize, true
	var seen uint32
	var err *paramError
	for k, v := range args.All() {
		if !utf8.Valid(k) {
			return &paramError{Code: CodeInvalidParameter, Param: string(k), Message: "a parameter name is not valid UTF-8"}
		}
		var bit uint32
		switch string(k) {
		case "q":
			bit = seenQ
		case "category":
			bit = seenCategory
		case "price_min":
			bit = seenPriceMin
		case "price_max":
			bit = seenPriceMax
		case "rating_min":
			bit = seenRatingMin
		case "in_stock":
			bit = seenInStock
		case "sort":
			bit = seenSort
		case "page":
			bit = seenPage
		case "page_size":
			bit = seenPageSize
		case "facets":
			bit = seenFacets
		case "relax":
			bit = seenRelax
		case "plain":
			bit = seenPlain
		}
		if bit == 0 && string(k) != "brand" && !strings.HasPrefix(string(k), "attr.") {
			return unknown(string(k))
		}
		if !utf8.Valid(v) {
			return invalid(string(k), "is not valid UTF-8")
		}
		if bit != 0 {
			if seen&bit != 0 {
				return invalid(string(k), "is given more than once")
			}
			seen |= bit
		}
		if string(k) != "q" && len(v) > MaxValueBytes {
			return invalid(string(k), "is "+strconv.Itoa(len(v))+" bytes, more than the limit of "+strconv.Itoa(MaxValueBytes))
		}
		if len(v) == 0 && bit != 0 {
			continue
		}
		switch string(k) {
		case "q":
			if len(v) > search.MaxQueryBytes {
				return invalid("q", "is "+strconv.Itoa(len(v))+" bytes, more than the limit of "+strconv.Itoa(search.MaxQueryBytes))
			}
			r.Query = string(v)
		case "category":
			r.Filter.Category = string(v)
		case "brand":
			if a.brands, err = appendList(a.brands, "brand", v); err != nil {
				return err
			}
		case "price_min":
			r.Filter.PriceMin, err = parsePrice("price_min", v, priceDigits)
			r.Filter.HasPriceMin = true
		case "price_max":
			r.Filter.PriceMax, err = parsePrice("price_max", v, priceDigits)
			r.Filter.HasPriceMax = true
		case "rating_min":
			r.Filter.RatingMin, err = parseRating("rating_min", v)
		case "in_stock":
			r.Filter.InStock, err = parseBool("in_stock", v)
		case "sort":
			s, ok := query.ParseSort(string(v))
			if !ok {
				return invalid("sort", "must be one of relevance, price_asc, price_desc, rating, newest")
			}
			r.Sort = s
		case "page":
			r.Page, err = parsePositive("page", v)
		case "page_size":
			r.PageSize, err = parsePositive("page_size", v)
			if err == nil && r.PageSize > search.MaxPageSize {
				return invalid("page_size", "is "+string(v)+", more than the limit of "+strconv.Itoa(search.MaxPageSize))
			}
		case "facets":
			if r.Facets, err = parseBool("facets", v); err != nil && len(v) > 0 && v[0] >= 'a' && v[0] <= 'z' {
				r.Facets, err = true, a.facets.parse(v)
			}
		case "relax":
			var relax bool
			relax, err = parseBool("relax", v)
			r.NoRelax = !relax
		case "plain":
			r.Plain, err = parseBool("plain", v)
		default:
			if err = a.addAttr(string(k[len("attr."):]), string(k), v); err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
	}
	if r.Filter.HasPriceMin && r.Filter.HasPriceMax && r.Filter.PriceMin > r.Filter.PriceMax {
		return invalid("price_min", "is "+formatMinor(r.Filter.PriceMin, priceDigits)+", more than price_max "+formatMinor(r.Filter.PriceMax, priceDigits))
	}
	if r.Page > search.MaxResultDepth/r.PageSize {
		return invalid("page", "is "+strconv.Itoa(r.Page)+" with page_size "+strconv.Itoa(r.PageSize)+
			", which reaches past the first "+strconv.Itoa(search.MaxResultDepth)+" results")
	}
	if len(a.brands) > 0 {
		r.Filter.Brands = a.brands
	}
	if len(a.attrs) > 0 {
		r.Filter.Attrs = a.attrs
	}
	return nil
}

// parse reads facets=name:N[,name:N]: brand, category or an attribute
// facet's name, each with the most values its list may hold.
func (f *facetLimits) parse(v []byte) *paramError {
	const msg = "must be true, false, or a list of name:N such as brand:50,color:20 (N from 1 to "
	s := string(v)
	for s != "" {
		item, rest, _ := strings.Cut(s, ",")
		s = rest
		name, num, ok := strings.Cut(strings.TrimSpace(item), ":")
		if !ok || name == "" {
			return invalid("facets", msg+strconv.Itoa(MaxFacetValues)+")")
		}
		n, err := parsePositive("facets", []byte(num))
		if err != nil || n > MaxFacetValues {
			return invalid("facets", msg+strconv.Itoa(MaxFacetValues)+"); "+strconv.Quote(item)+" is not")
		}
		switch name {
		case "brand":
			f.brand = n
		case "category":
			f.category = n
		default:
			if len(f.attrs) >= maxFacetLimits {
				return invalid("facets", "names more than "+strconv.Itoa(maxFacetLimits)+" facets")
			}
			f.attrs = append(f.attrs, facetLimit{name, n})
		}
	}
	return nil
}

func (a *searchArgs) addAttr(name, param string, v []byte) *paramError {
	if name == "" {
		return invalid(param, "names no attribute: write attr.NAME=value")
	}
	vals, ok := a.attrs[name]
	if !ok && len(a.attrs) >= MaxAttrFilters {
		return invalid(param, "is one attribute filter more than the limit of "+strconv.Itoa(MaxAttrFilters))
	}
	vals, err := appendList(vals, param, v)
	if err != nil {
		return err
	}
	if len(vals) == 0 && !ok {
		return nil
	}
	if a.attrs == nil {
		a.attrs = make(map[string][]string)
	}
	a.attrs[name] = vals
	return nil
}

// appendList appends the non-empty comma-separated items of v to dst; the
// items share one string allocation.
func appendList(dst []string, param string, v []byte) ([]string, *paramError) {
	s := string(v)
	for s != "" {
		item, rest, _ := strings.Cut(s, ",")
		s = rest
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		if len(dst) >= MaxFilterValues {
			return dst, invalid(param, "has more than "+strconv.Itoa(MaxFilterValues)+" values")
		}
		dst = append(dst, item)
	}
	return dst, nil
}

// maxPriceDigits bounds the integer part of a price so that it fits an
// int64 in minor units with room to spare.
const maxPriceDigits = 13

// parsePrice reads a non-negative decimal amount in major units ("19.99")
// and returns it in minor units, rounding extra decimals half up. Signs,
// exponents, hex and NaN are refused.
func parsePrice(param string, v []byte, digits int) (int64, *paramError) {
	const msg = "must be a non-negative decimal amount such as 19.99"
	intPart, frac, hasDot := strings.Cut(string(v), ".")
	if intPart == "" && (!hasDot || frac == "") {
		return 0, invalid(param, msg)
	}
	if len(intPart) > maxPriceDigits {
		return 0, invalid(param, "is too large")
	}
	var n int64
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		if c < '0' || c > '9' {
			return 0, invalid(param, msg)
		}
		n = n*10 + int64(c-'0')
	}
	for range digits {
		n *= 10
	}
	scale := pow10[digits]
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, invalid(param, msg)
		}
		scale /= 10
		switch {
		case scale > 0:
			n += int64(c-'0') * scale
		case scale == 0 && i == digits && c >= '5':
			n++ // round half up on the first dropped digit
		}
	}
	return n, nil
}

func formatMinor(amount int64, digits int) string {
	return string(appendMinor(nil, amount, digits))
}

// parseRating reads a decimal number of stars in [0, 5].
func parseRating(param string, v []byte) (float64, *paramError) {
	const msg = "must be a decimal number from 0 to 5"
	for _, c := range v {
		if (c < '0' || c > '9') && c != '.' {
			return 0, invalid(param, msg)
		}
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f < 0 || f > 5 {
		return 0, invalid(param, msg)
	}
	return f, nil
}

func parseBool(param string, v []byte) (bool, *paramError) {
	switch string(v) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, invalid(param, "must be true or false")
}

// parsePositive reads a decimal integer of at least 1.
func parsePositive(param string, v []byte) (int, *paramError) {
	const msg = "must be a whole number of at least 1"
	if len(v) > 9 {
		return 0, invalid(param, msg+" and at most 999999999")
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, invalid(param, msg)
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 {
		return 0, invalid(param, msg)
	}
	return n, nil
}
