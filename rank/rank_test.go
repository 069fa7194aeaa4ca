package rank

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestTopKMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{0, 1, 3, 10, 100} {
		for _, n := range []int{0, 1, 5, 50, 1000} {
			var all []Hit
			tk := NewTopK(k)
			for i := range n {
				h := Hit{Doc: uint32(i), Key: float64(r.IntN(20)), Score: float64(r.IntN(3))}
				all = append(all, h)
				tk.Push(h)
			}
			slices.SortFunc(all, func(a, b Hit) int {
				if Less(&a, &b) {
					return -1
				}
				return 1
			})
			want := all[:min(k, n)]
			got := tk.Sorted(nil)
			if !slices.Equal(got, want) {
				t.Fatalf("k=%d n=%d: got %v, want %v", k, n, got, want)
			}
		}
	}
}

func TestBM25F(t *testing.T) {
	o := DefaultOptions()
	fs := FieldStats{AvgLen: [NumFields]float64{10, 1, 3, 20, 50}}
	idf := IDF(1000, 10)
	title := TermFreqs{Title: 1}
	desc := TermFreqs{Description: 1}
	lens := DocLens{10, 1, 3, 20, 50}
	st, sd := BM25F(&o, &fs, idf, &title, &lens), BM25F(&o, &fs, idf, &desc, &lens)
	if !(st > sd && sd > 0) {
		t.Errorf("title match %g should outscore description match %g > 0", st, sd)
	}
	if st >= MaxBM25F(idf) {
		t.Errorf("score %g reached its upper bound %g", st, MaxBM25F(idf))
	}
	short := DocLens{5, 1, 3, 20, 50}
	if BM25F(&o, &fs, idf, &title, &short) <= st {
		t.Error("a shorter title should score higher for the same match")
	}
	if IDF(1000, 1) <= IDF(1000, 500) {
		t.Error("rare terms should weigh more")
	}
	if IDF(10, 10) < 0 {
		t.Error("IDF must not be negative")
	}
}

func TestBoost(t *testing.T) {
	o := DefaultOptions()
	base := Signals{RatingAvg: 4, RatingCount: 10, AgeDays: 100}
	cases := []struct {
		name string
		mod  func(*Signals)
	}{
		{"sales", func(s *Signals) { s.SalesVelocity = 10 }},
		{"rating", func(s *Signals) { s.RatingAvg = 4.9; s.RatingCount = 500 }},
		{"seller", func(s *Signals) { s.SellerQuality = 1 }},
		{"recency", func(s *Signals) { s.AgeDays = 1 }},
		{"stock", func(s *Signals) { s.InStock = true }},
	}
	b0 := Boost(&o, &base)
	for _, c := range cases {
		s := base
		c.mod(&s)
		if b := Boost(&o, &s); !(b > b0) || b > o.MaxBoost() {
			t.Errorf("%s: boost %g, want above %g and at most %g", c.name, b, b0, o.MaxBoost())
		}
	}
	p := o.Plain()
	if b := Boost(&p, &Signals{SalesVelocity: 100, InStock: true, RatingAvg: 5, RatingCount: 9}); b != 1 {
		t.Errorf("plain boost = %g, want 1", b)
	}
	if r := BayesRating(&o, 5, 1); !(r < 4.5 && r > o.RatingMean) {
		t.Errorf("one 5-star review gives %g; want shrunk toward %g", r, o.RatingMean)
	}
	if math.IsNaN(Boost(&o, &Signals{SellerQuality: math.NaN()})) {
		t.Error("NaN signal leaked into boost")
	}
}

func TestValidate(t *testing.T) {
	o := DefaultOptions()
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	o.K1 = -1
	o.Fields[Title].B = 2
	o.RecencyHalfLifeDays = 0
	err := o.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"K1", "title B", "RecencyHalfLifeDays"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func BenchmarkTopK(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]float64, 10000)
	for i := range keys {
		keys[i] = r.Float64()
	}
	tk := NewTopK(20)
	var out []Hit
	b.ReportAllocs()
	for b.Loop() {
		tk.Reset(20)
		for i, k := range keys {
			tk.Push(Hit{Doc: uint32(i), Key: k})
		}
		out = tk.Sorted(out[:0])
	}
}

// TestBoostMissingSignals: a product without sales, seller score,
// creation date or stock records is boosted as the prior, not as zero.
func TestBoostMissingSignals(t *testing.T) {
	o := DefaultOptions()
	old := Signals{AgeDays: 3000}                                                             // known, and all at zero
	missing := Signals{Missing: MissingSales | MissingSeller | MissingCreated | MissingStock} // no data at all
	a, b := Boost(&o, &old), Boost(&o, &missing)
	want := a + o.Prior*(o.Sales+o.Seller+o.Stock) + o.Recency*(o.Prior-math.Exp2(-3000/o.RecencyHalfLifeDays))
	if math.Abs(b-want) > 1e-12 || b <= a {
		t.Errorf("missing signals boost %g, zero signals %g; want %g, above", b, a, want)
	}
	best := Signals{SalesVelocity: 1e6, SellerQuality: 1, InStock: true}
	if c := Boost(&o, &best); c <= b {
		t.Errorf("the best signals (%g) must beat missing ones (%g)", c, b)
	}
}

// TestBM25FDrift checks the contract pruning relies on: a score under any
// field statistics is at most idf times the drift factor times the score
// of weight 1 under other statistics, for random frequencies, lengths,
// statistics and options.
func TestBM25FDrift(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 100000 {
		o := DefaultOptions()
		if i%2 == 0 {
			o.K1 = r.Float64() * 3
			for f := range o.Fields {
				o.Fields[f] = FieldParams{Weight: r.Float64() * 4, B: r.Float64()}
			}
		}
		var then, now FieldStats
		var tf TermFreqs
		var lens DocLens
		for f := range NumFields {
			then.AvgLen[f] = 0.5 + r.Float64()*30
			now.AvgLen[f] = then.AvgLen[f] * (0.5 + r.Float64())
			if r.IntN(4) == 0 {
				now.AvgLen[f] = then.AvgLen[f]
			}
			if r.IntN(2) == 0 {
				tf[f] = uint8(1 + r.IntN(4))
				lens[f] = uint16(int(tf[f]) + r.IntN(40))
			}
		}
		idf := r.Float64() * 10
		got := BM25F(&o, &now, idf, &tf, &lens)
		bound := idf * BM25FDrift(&then, &now) * BM25F(&o, &then, 1, &tf, &lens)
		if got > bound*(1+1e-12) {
			t.Fatalf("case %d: BM25F %g under %v above its bound %g from %v (tf %v lens %v, options %+v)", i, got, now, bound, then, tf, lens, o.Fields)
		}
	}
	zero := FieldStats{}
	if d := BM25FDrift(&zero, &FieldStats{AvgLen: [NumFields]float64{1}}); !math.IsInf(d, 1) {
		t.Fatalf("drift from a zero average is %g, want +Inf", d)
	}
}
