package rank

import (
	"errors"
	"fmt"
	"math"
)

// Field is one of the text fields BM25F scores.
type Field uint8

const (
	Title Field = iota
	Brand
	Category
	Attributes
	Description
	NumFields
)

var fieldNames = [NumFields]string{"title", "brand", "category", "attributes", "description"}

func (f Field) String() string {
	if f < NumFields {
		return fieldNames[f]
	}
	return "unknown"
}

// FieldParams weigh one field in BM25F.
type FieldParams struct {
	Weight float64 // how much one occurrence here counts against one in the title
	B      float64 // length normalisation, 0 (none) to 1 (full)
}

// Options are the ranking weights. The zero value is not usable: start from
// DefaultOptions.
type Options struct {
	K1     float64
	Fields [NumFields]FieldParams

	// Business signal weights. The final relevance score is
	// text * (1 + sum of weight*signal), each signal in [0, 1], so text
	// relevance decides which products match and leads the order, and the
	// signals reorder products of similar text relevance.
	Sales   float64 // sales velocity, log-scaled
	Rating  float64 // Bayesian-averaged rating
	Seller  float64 // seller quality
	Recency float64 // newer products first, half-life RecencyHalfLifeDays
	Stock   float64 // in stock over out of stock

	RecencyHalfLifeDays float64
	// SalesSaturation is the sales velocity (units a day) at which the
	// sales signal reaches about 0.5.
	SalesSaturation float64
	// RatingPrior is the number of phantom reviews at the store's mean
	// rating used to shrink averages of few reviews.
	RatingPrior float64
	RatingMean  float64
	// Prior is the value in [0, 1] a missing signal counts as (sales,
	// seller quality, recency, stock): neutral, the middle of the range,
	// so a new seller's product with a better text match is not ranked
	// under an older product's weaker one for having no history.
	Prior float64

	// SponsoredSlots are the 0-based positions of a page where sponsored
	// products are placed; organic results keep their order and stay on
	// the page around them.
	SponsoredSlots []int
	// SponsoredMinRelevance is the share of the page's best organic score
	// a sponsored product needs to be shown.
	SponsoredMinRelevance float64
}

// DefaultOptions returns the weights Aisle ships with; rank_stats.txt in
// corpora/ records what they give on the judged queries.
func DefaultOptions() Options {
	return Options{
		K1: 1.2,
		Fields: [NumFields]FieldParams{
			Title:       {Weight: 3.0, B: 0.3},
			Brand:       {Weight: 2.0, B: 0.3},
			Category:    {Weight: 1.5, B: 0.5},
			Attributes:  {Weight: 0.6, B: 0.75},
			Description: {Weight: 0.4, B: 0.75},
		},
		Sales:                 0.15,
		Rating:                0.10,
		Seller:                0.05,
		Recency:               0.05,
		Stock:                 0.15,
		RecencyHalfLifeDays:   365,
		SalesSaturation:       5,
		RatingPrior:           5,
		RatingMean:            3.8,
		Prior:                 0.5,
		SponsoredSlots:        []int{0, 5},
		SponsoredMinRelevance: 0.5,
	}
}

// Plain returns o with every business signal off: BM25F alone.
func (o Options) Plain() Options {
	o.Sales, o.Rating, o.Seller, o.Recency, o.Stock = 0, 0, 0, 0, 0
	return o
}

// MaxBoost is the largest factor a product's signals can multiply its text
// score by; pruning uses it as an upper bound.
func (o *Options) MaxBoost() float64 {
	return 1 + o.Sales + o.Rating + o.Seller + o.Recency + o.Stock
}

// Validate returns every problem with o, joined.
func (o *Options) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("rank: "+format, args...)) }
	finite := func(name string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			bad("%s is %g; want a finite number >= 0", name, v)
		}
	}
	finite("K1", o.K1)
	for f := Field(0); f < NumFields; f++ {
		finite(f.String()+" weight", o.Fields[f].Weight)
		if b := o.Fields[f].B; !(b >= 0 && b <= 1) {
			bad("%s B is %g; want 0 to 1", f, b)
		}
	}
	finite("Sales", o.Sales)
	finite("Rating", o.Rating)
	finite("Seller", o.Seller)
	finite("Recency", o.Recency)
	finite("Stock", o.Stock)
	if !(o.RecencyHalfLifeDays > 0) {
		bad("RecencyHalfLifeDays is %g; want > 0", o.RecencyHalfLifeDays)
	}
	if !(o.SalesSaturation > 0) {
		bad("SalesSaturation is %g; want > 0", o.SalesSaturation)
	}
	finite("RatingPrior", o.RatingPrior)
	if !(o.Prior >= 0 && o.Prior <= 1) {
		bad("Prior is %g; want 0 to 1", o.Prior)
	}
	if !(o.RatingMean >= 0 && o.RatingMean <= 5) {
		bad("RatingMean is %g; want 0 to 5", o.RatingMean)
	}
	for _, s := range o.SponsoredSlots {
		if s < 0 || s > 100 {
			bad("sponsored slot %d is outside 0 to 100", s)
		}
	}
	if !(o.SponsoredMinRelevance >= 0 && o.SponsoredMinRelevance <= 1) {
		bad("SponsoredMinRelevance is %g; want 0 to 1", o.SponsoredMinRelevance)
	}
	return errors.Join(errs...)
}
