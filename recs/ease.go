package recs

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse
// Data") is a closed-form item-item model: with G = XᵀX the item Gram
// matrix of the baskets and P = (G + λI)⁻¹, the weights are
// B_ij = -P_ij / P_jj (zero diagonal), and an item j scores Σ_i B_ij over
// the items i of a basket. Unlike cosine it learns how much each
// co-purchase explains beyond the others, so a staple bought with
// everything adds little.
//
// The inverse is dense: EASE runs over the Items most ordered items
// (default 3,000: a 3,000² inverse, 7-24 s with gonum's Cholesky on two
// cores shared with other work), and the lists of the others stay the base scorer's.

// EASEOptions configure EASE. The zero value of a field means its default.
type EASEOptions struct {
	// Items is how many of the most ordered items the model covers;
	// default 3,000.
	Items int
	// Lambda is the L2 regularisation λ; default 50.
	Lambda float64
	// TopN bounds the neighbours kept per item; default 100 (the sum over
	// a basket needs more of each row than cosine's 50).
	TopN int
	// MaxBasket caps a basket as Options does; default 50.
	MaxBasket int
	// Dropout p, from 0 to below 1, adds p/(1-p) times an item's own
	// count to its ridge: the dropout-shaped regulariser of Steck 2020
	// ("Autoencoders that don't overfit towards the identity", EDLAE's
	// full-rank closed form), which regularises a popular item more than
	// λ alone does. Default 0: plain EASE.
	Dropout float64
	// Cosine, when positive, blends the base lists into the modelled
	// rows (item-kNN + EASE): a pair's score is its EASE weight plus
	// Cosine times its base score, scaled so that the mean of the rows'
	// largest base scores equals the mean of their largest EASE weights.
	// Default 0: EASE alone.
	Cosine float64
	// Tail, when positive, weighs the base list's neighbours outside the
	// model, added to a modelled item's EASE neighbours (EASE cannot name
	// them); default none. Measured: 0.3 and 1 do not raise HR@10
	// (doc/recs.md).
	Tail float64
}

// EnsureDefaults returns o with every zero field set to its default.
func (o EASEOptions) EnsureDefaults() EASEOptions {
	if o.Items == 0 {
		o.Items = 3000
	}
	if o.Lambda == 0 {
		o.Lambda = 50
	}
	if o.TopN == 0 {
		o.TopN = 100
	}
	if o.MaxBasket == 0 {
		o.MaxBasket = 50
	}
	return o
}

// Validate lists every problem with o, or returns nil.
func (o EASEOptions) Validate() error {
	var errs []error
	if o.Items < 0 || o.Items > 20000 {
		errs = append(errs, fmt.Errorf("recs: EASEOptions.Items is %d; want 1 to 20,000 (the inverse is dense)", o.Items))
	}
	if o.Lambda < 0 || math.IsNaN(o.Lambda) || math.IsInf(o.Lambda, 0) {
		errs = append(errs, fmt.Errorf("recs: EASEOptions.Lambda is %v; want a finite positive number", o.Lambda))
	}
	if !(o.Cosine >= 0 && o.Cosine < math.Inf(1)) {
		errs = append(errs, fmt.Errorf("recs: EASEOptions.Cosine is %v; want a finite number, 0 or more", o.Cosine))
	}
	if !(o.Dropout >= 0 && o.Dropout < 1) {
		errs = append(errs, fmt.Errorf("recs: EASEOptions.Dropout is %v; want 0 to below 1", o.Dropout))
	}
	if o.TopN < 0 || o.MaxBasket < 0 || o.MaxBasket == 1 {
		errs = append(errs, fmt.Errorf("recs: EASEOptions.TopN %d or MaxBasket %d out of range", o.TopN, o.MaxBasket))
	}
	return errors.Join(errs...)
}

// EASE returns a copy of base (built from the same orders o) whose
// also-bought lists of the Items most ordered items are EASE's: the
// TopN items with the largest positive weight B_ij, Count the orders
// holding both. Bundles and the other items' lists are base's.
func EASE(ctx context.Context, o Orders, base *Lists, opts EASEOptions) (*Lists, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.EnsureDefaults()
	if base == nil || len(base.items) != len(o.Items) {
		return nil, errors.New("recs: EASE needs the base lists built from the same items")
	}
	top := topByCount(base.count, opts.Items)
	m := len(top)
	if m == 0 {
		return base, nil
	}
	pos := make([]int32, len(o.Items)) // item -> row + 1 in the model
	for r, x := range top {
		pos[x] = int32(r + 1)
	}
	b, err := newBaskets(o, opts.MaxBasket)
	if err != nil {
		return nil, err
	}
	g := make([]float64, m*m)
	var rows []int32
	for bi := range b.count() {
		rows = rows[:0]
		for _, x := range b.items[b.off[bi]:b.off[bi+1]] {
			if r := pos[x]; r != 0 {
				rows = append(rows, r-1)
			}
		}
		for _, i := range rows {
			gi := g[int(i)*m:]
			for _, j := range rows {
				gi[j]++
			}
		}
		if bi%4096 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("recs: EASE stopped counting: %w", ctx.Err())
		}
	}
	co := g // off the diagonal, the co-counts: the ridge and Factorize (which copies) leave them
	for i := range m {
		g[i*m+i] += opts.Lambda + opts.Dropout/(1-opts.Dropout)*g[i*m+i]
	}
	var chol mat.Cholesky
	if ok := chol.Factorize(mat.NewSymDense(m, g)); !ok {
		return nil, fmt.Errorf("recs: EASE: the Gram matrix of %d items plus λ %v is not positive definite", m, opts.Lambda)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("recs: EASE stopped: %w", err)
	}
	var p mat.SymDense
	if err := chol.InverseTo(&p); err != nil {
		return nil, fmt.Errorf("recs: EASE inverse: %w", err)
	}
	out := *base
	out.scorer = EASEScorer
	out.byID = base.byID
	rowsOf := make([][]Neighbor, len(o.Items))
	var cand []Neighbor
	scale := 0.0 // base score -> EASE weight, for the Cosine blend
	if opts.Cosine > 0 {
		var sumW, sumC float64
		for r, x := range top {
			maxW := 0.0
			for c := range m {
				if c != r && co[r*m+c] > 0 {
					maxW = max(maxW, -p.At(r, c)/p.At(c, c))
				}
			}
			sumW += maxW
			for _, nb := range base.Neighbors(x) {
				sumC += float64(nb.Score) // the largest first, then stop
				break
			}
		}
		if sumC > 0 {
			scale = opts.Cosine * sumW / sumC
		}
	}
	at := make([]int32, m) // row c's place in cand + 1, for the blend
	for r, x := range top {
		cand = cand[:0]
		for c := range m {
			if c == r {
				continue
			}
			w := -p.At(r, c) / p.At(c, c)
			if w > 0 && co[r*m+c] > 0 {
				cand = append(cand, Neighbor{Item: top[c], Score: float32(w), Count: int32(co[r*m+c])})
				at[c] = int32(len(cand))
			}
		}
		if scale > 0 {
			for _, nb := range base.Neighbors(x) {
				c := pos[nb.Item] - 1
				if c < 0 {
					continue
				}
				add := float32(scale * float64(nb.Score))
				if i := at[c]; i > 0 {
					cand[i-1].Score += add
				} else {
					cand = append(cand, Neighbor{Item: nb.Item, Score: add, Count: nb.Count})
				}
			}
		}
		for _, n := range cand {
			at[pos[n.Item]-1] = 0
		}
		if opts.Tail > 0 {
			for _, nb := range base.Neighbors(x) {
				if pos[nb.Item] == 0 {
					nb.Score *= float32(opts.Tail)
					cand = append(cand, nb)
				}
			}
		}
		rowsOf[x] = topNeighbors(cand, opts.TopN)
	}
	out.alsoOff = make([]uint32, len(o.Items)+1)
	out.also = make([]Neighbor, 0, len(base.also))
	for x := range o.Items {
		if pos[x] != 0 {
			out.also = append(out.also, rowsOf[x]...)
		} else {
			out.also = append(out.also, base.Neighbors(int32(x))...)
		}
		out.alsoOff[x+1] = uint32(len(out.also))
	}
	return &out, nil
}
