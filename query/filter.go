package query

// Filter restricts a search to products that match every set field. The zero
// Filter matches everything.
type Filter struct {
	// Category is a category slug path ("electronics/audio"); a node
	// matches its whole subtree.
	Category string
	// Brands is a multi-select: a product matches if its brand is any of
	// them (compared case-insensitively).
	Brands []string
	// PriceMin and PriceMax bound the price in minor units; HasPriceMin and
	// HasPriceMax tell whether each bound is set.
	PriceMin, PriceMax       int64
	HasPriceMin, HasPriceMax bool
	// RatingMin keeps products whose average rating is at least this; zero
	// means no bound.
	RatingMin float64
	// InStock keeps only products with stock in some warehouse.
	InStock bool
	// Attrs maps an attribute name to the values to accept (disjunctive
	// within a name, conjunctive across names).
	Attrs map[string][]string
}

// IsZero reports whether f filters nothing.
func (f *Filter) IsZero() bool {
	return f.Category == "" && len(f.Brands) == 0 && !f.HasPriceMin && !f.HasPriceMax &&
		f.RatingMin == 0 && !f.InStock && len(f.Attrs) == 0
}

// Sort is the order of a result list.
type Sort uint8

const (
	SortRelevance Sort = iota
	SortPriceAsc
	SortPriceDesc
	SortRating
	SortNewest
)

var sortNames = [...]string{"relevance", "price_asc", "price_desc", "rating", "newest"}

func (s Sort) String() string {
	if int(s) < len(sortNames) {
		return sortNames[s]
	}
	return "unknown"
}

// ParseSort returns the Sort named by s, and false for an unknown name.
func ParseSort(s string) (Sort, bool) {
	if s == "" {
		return SortRelevance, true
	}
	for i, n := range sortNames {
		if n == s {
			return Sort(i), true
		}
	}
	return 0, false
}
