package rank

import "math"

// IDF is BM25's inverse document frequency of a term found in df of n
// documents; it is never negative.
func IDF(n, df int) float64 {
	if df <= 0 || n <= 0 {
		return 0
	}
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

// FieldStats are the collection's average field lengths, in terms.
type FieldStats struct {
	AvgLen [NumFields]float64
}

// TermFreqs are a term's occurrences in each field of one document.
type TermFreqs [NumFields]uint8

// DocLens are a document's field lengths in terms.
type DocLens [NumFields]uint16

// BM25F scores one term in one document: the field frequencies are
// normalised by field length, weighed, summed, and saturated once
// (Robertson, Zaragoza and Taylor 2004).
func BM25F(o *Options, fs *FieldStats, idf float64, tf *TermFreqs, lens *DocLens) float64 {
	var t float64
	for f := Field(0); f < NumFields; f++ {
		if tf[f] == 0 {
			continue
		}
		p := &o.Fields[f]
		avg := fs.AvgLen[f]
		norm := 1.0
		if avg > 0 {
			norm = 1 - p.B + p.B*float64(lens[f])/avg
		}
		t += p.Weight * float64(tf[f]) / norm
	}
	if t == 0 {
		return 0
	}
	return idf * t / (o.K1 + t)
}

// MaxBM25F is the upper bound of BM25F for a term of weight idf: the
// saturation never reaches 1.
func MaxBM25F(idf float64) float64 { return idf }

// Signals are a product's business signals.
type Signals struct {
	SalesVelocity float64 // units a day
	RatingAvg     float64
	RatingCount   int
	SellerQuality float64 // 0 to 1
	AgeDays       float64 // since the product was created
	InStock       bool
	// Missing marks the signals the product has no data for: a new
	// seller's products have no sales, seller score, creation date or
	// stock records. A missing signal counts as Options.Prior, not as
	// zero. (A missing rating is already the store's mean: BayesRating.)
	Missing Missing
}

// Missing is a set of signals without data.
type Missing uint8

const (
	MissingSales Missing = 1 << iota
	MissingSeller
	MissingCreated
	MissingStock
)

// Boost returns the factor, at least 1, that multiplies a product's text
// score: 1 + the weighted sum of its signals, each mapped to [0, 1], a
// missing one at o.Prior.
func Boost(o *Options, s *Signals) float64 {
	b := 1.0
	switch {
	case s.Missing&MissingSales != 0:
		b += o.Sales * o.Prior
	case o.Sales > 0 && s.SalesVelocity > 0:
		b += o.Sales * s.SalesVelocity / (s.SalesVelocity + o.SalesSaturation)
	}
	if o.Rating > 0 {
		b += o.Rating * BayesRating(o, s.RatingAvg, s.RatingCount) / 5
	}
	switch {
	case s.Missing&MissingSeller != 0:
		b += o.Seller * o.Prior
	case o.Seller > 0:
		b += o.Seller * clamp01(s.SellerQuality)
	}
	switch {
	case s.Missing&MissingCreated != 0:
		b += o.Recency * o.Prior
	case o.Recency > 0 && s.AgeDays >= 0:
		b += o.Recency * math.Exp2(-s.AgeDays/o.RecencyHalfLifeDays)
	}
	switch {
	case s.Missing&MissingStock != 0:
		b += o.Stock * o.Prior
	case o.Stock > 0 && s.InStock:
		b += o.Stock
	}
	return b
}

// BayesRating shrinks an average of few reviews toward the store's mean, so
// one five-star review does not beat a thousand 4.7s.
func BayesRating(o *Options, avg float64, count int) float64 {
	if count <= 0 {
		return o.RatingMean
	}
	c := float64(count)
	return (o.RatingPrior*o.RatingMean + c*avg) / (o.RatingPrior + c)
}

func clamp01(v float64) float64 {
	switch {
	case v < 0 || math.IsNaN(v):
		return 0
	case v > 1:
		return 1
	}
	return v
}
