package recs

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aisle/aisle/catalog"
)

// Content vectors (issue 18, point 1): a dense unit vector for every
// product from its text alone, so a product with no orders, or created a
// second ago, has similar items.
//
// The features of a product are grouped by field: the words of the title,
// the character 4-grams of the title's words (so "cartridge" meets
// "cartridges" and a misspelt brand still shares most of its grams), the
// brand, every prefix of the category path, the attributes (name=value)
// and the words of the description. Each feature is hashed (FNV-1a) into
// one of 2^Buckets buckets and weighed by its sublinear term frequency
// times the inverse document frequency of its bucket, counted over the
// products given to NewContent; each group is normalised to unit length
// and scaled by its weight, so a long description cannot drown the title.
// The sparse vector is then projected to Dim dimensions by a very sparse
// random projection (Li, Hastie and Church 2006): each bucket adds its
// weight, with a sign, to Spread coordinates chosen by the hash, which
// keeps inner products in expectation. The result is normalised.
//
// Nothing is learned but the document frequencies: a product added after
// NewContent gets its vector from the same table (an unseen feature weighs
// as the rarest), so vectors are computed at index time without a
// rebuild.

// ContentOptions configure NewContent. The zero value of a field means its
// default.
type ContentOptions struct {
	// Dim is the length of a vector; default 128.
	Dim int
	// Buckets is log2 of the number of hash buckets; default 20.
	Buckets int
	// Spread is the coordinates each bucket adds to; default 4.
	Spread int
	// The weights of the feature groups (each group unit length before);
	// defaults title words 1, title 4-grams 0.6, brand 0.5, category 0.8,
	// attributes 0.4, description 0.3. A negative weight leaves the group
	// out.
	Title, Grams, Brand, Category, Attributes, Description float64
	// Seed varies the projection; vectors of different seeds are not
	// comparable.
	Seed uint64
}

// EnsureDefaults returns o with every zero field set to its default.
func (o ContentOptions) EnsureDefaults() ContentOptions {
	if o.Dim == 0 {
		o.Dim = 128
	}
	if o.Buckets == 0 {
		o.Buckets = 20
	}
	if o.Spread == 0 {
		o.Spread = 4
	}
	for _, w := range []struct {
		f   *float64
		def float64
	}{{&o.Title, 1}, {&o.Grams, 0.6}, {&o.Brand, 0.5}, {&o.Category, 0.8}, {&o.Attributes, 0.4}, {&o.Description, 0.3}} {
		if *w.f == 0 {
			*w.f = w.def
		}
	}
	return o
}

// Validate lists every problem with o, or returns nil.
func (o ContentOptions) Validate() error {
	var errs []error
	if o.Dim < 0 || o.Dim > 4096 {
		errs = append(errs, fmt.Errorf("recs: ContentOptions.Dim is %d; want 1 to 4096", o.Dim))
	}
	if o.Buckets < 0 || o.Buckets > 26 || (o.Buckets != 0 && o.Buckets < 8) {
		errs = append(errs, fmt.Errorf("recs: ContentOptions.Buckets is %d; want 8 to 26", o.Buckets))
	}
	if o.Spread < 0 || o.Spread > 16 || (o.Dim > 0 && o.Spread > o.Dim) {
		errs = append(errs, fmt.Errorf("recs: ContentOptions.Spread is %d; want 1 to 16 and at most Dim", o.Spread))
	}
	for _, w := range []float64{o.Title, o.Grams, o.Brand, o.Category, o.Attributes, o.Description} {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			errs = append(errs, errors.New("recs: ContentOptions has a weight that is not finite"))
			break
		}
	}
	return errors.Join(errs...)
}

// Content turns products into content vectors. Immutable once built: Vector
// may run concurrently from any number of goroutines.
type Content struct {
	opts  ContentOptions
	idf   []float32 // per bucket
	weigh [nGroups]float32
	docs  int
}

// The feature groups.
const (
	gTitle = iota
	gGrams
	gBrand
	gCategory
	gAttr
	gDesc
	nGroups
)

// NewContent counts the document frequencies of the features of ps (nil
// entries are skipped) and returns the vectoriser.
func NewContent(ps []*catalog.Product, opts ContentOptions) (*Content, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.EnsureDefaults()
	c := &Content{opts: opts}
	for g, w := range []float64{opts.Title, opts.Grams, opts.Brand, opts.Category, opts.Attributes, opts.Description} {
		c.weigh[g] = float32(max(w, 0))
	}
	df := make([]int32, 1<<opts.Buckets)
	var s contentScratch
	for _, p := range ps {
		if p == nil {
			continue
		}
		c.docs++
		s.features(p, c)
		var last uint32 = math.MaxUint32
		slices.Sort(s.buckets)
		for _, b := range s.buckets {
			if b != last {
				df[b]++
				last = b
			}
		}
	}
	c.idf = make([]float32, len(df))
	n := float64(c.docs)
	for b, d := range df {
		c.idf[b] = float32(math.Log((n + 1) / (float64(d) + 1)))
	}
	return c, nil
}

// Options returns the options c was built with, defaults filled in.
func (c *Content) Options() ContentOptions { return c.opts }

// Dim returns the length of c's vectors.
func (c *Content) Dim() int { return c.opts.Dim }

// feature is one hashed feature of a product: its bucket, group and
// occurrences.
type feature struct {
	bucket uint32
	group  uint8
	tf     float32
}

// contentScratch holds the buffers of one vectorisation; reused.
type contentScratch struct {
	feats   []feature
	buckets []uint32
	word    []byte
	acc     []float64
}

// Vector appends p's unit content vector to dst (a zero vector when p has
// no text at all) and returns it.
func (c *Content) Vector(dst []float32, p *catalog.Product) []float32 {
	var s contentScratch
	return c.vector(dst, p, &s)
}

func (c *Content) vector(dst []float32, p *catalog.Product, s *contentScratch) []float32 {
	s.features(p, c)
	// Merge repeats: sort by bucket and group, summing occurrences.
	slices.SortFunc(s.feats, func(a, b feature) int {
		if a.bucket != b.bucket {
			return int(a.bucket) - int(b.bucket)
		}
		return int(a.group) - int(b.group)
	})
	fs := s.feats[:0]
	for _, f := range s.feats {
		if n := len(fs); n > 0 && fs[n-1].bucket == f.bucket && fs[n-1].group == f.group {
			fs[n-1].tf++
			continue
		}
		fs = append(fs, f)
	}
	var norm [nGroups]float64
	for i := range fs {
		idf := c.idf[fs[i].bucket]
		if c.docs == 0 {
			idf = 1
		}
		w := (1 + float32(math.Log(float64(fs[i].tf)))) * idf
		fs[i].tf = w
		norm[fs[i].group] += float64(w) * float64(w)
	}
	for g := range norm {
		if norm[g] > 0 {
			norm[g] = float64(c.weigh[g]) / math.Sqrt(norm[g])
		}
	}
	dim := c.opts.Dim
	if cap(s.acc) < dim {
		s.acc = make([]float64, dim)
	}
	acc := s.acc[:dim]
	clear(acc)
	for _, f := range fs {
		w := float64(f.tf) * norm[f.group]
		if w == 0 {
			continue
		}
		h := uint64(f.bucket)*0x9e3779b97f4a7c15 ^ c.opts.Seed
		for range c.opts.Spread {
			h = mix64(h)
			if h&1 == 0 {
				acc[(h>>1)%uint64(dim)] += w
			} else {
				acc[(h>>1)%uint64(dim)] -= w
			}
		}
	}
	var sq float64
	for _, v := range acc {
		sq += v * v
	}
	inv := 0.0
	if sq > 0 {
		inv = 1 / math.Sqrt(sq)
	}
	for _, v := range acc {
		dst = append(dst, float32(v*inv))
	}
	return dst
}

// mix64 is the splitmix64 finaliser: a well-mixed step of a hash chain.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// features fills s.feats and s.buckets with p's features.
func (s *contentScratch) features(p *catalog.Product, c *Content) {
	s.feats, s.buckets = s.feats[:0], s.buckets[:0]
	mask := uint32(1)<<c.opts.Buckets - 1
	add := func(g uint8, h uint64) {
		b := uint32(h^(h>>32)) & mask
		s.feats = append(s.feats, feature{bucket: b, group: g, tf: 1})
		s.buckets = append(s.buckets, b)
	}
	if c.weigh[gTitle] > 0 || c.weigh[gGrams] > 0 {
		s.words(p.Title, func(w []byte) {
			if c.weigh[gTitle] > 0 {
				add(gTitle, fnv(fnvSeed('t'), w))
			}
			if c.weigh[gGrams] > 0 {
				grams(w, func(g []byte) { add(gGrams, fnv(fnvSeed('g'), g)) })
			}
		})
	}
	if p.Brand != "" && c.weigh[gBrand] > 0 {
		s.word = appendLower(s.word[:0], p.Brand)
		add(gBrand, fnv(fnvSeed('b'), s.word))
	}
	if c.weigh[gCategory] > 0 {
		h := fnvSeed('c')
		for _, cat := range p.Category {
			s.word = appendLower(s.word[:0], cat)
			h = fnv(h, s.word)
			h = fnv(h, []byte{'>'})
			add(gCategory, h)
		}
	}
	if c.weigh[gAttr] > 0 {
		for k, v := range p.Attributes {
			if len(v) == 0 || len(v) > 40 {
				continue
			}
			s.word = appendLower(append(appendLower(s.word[:0], k), '='), v)
			add(gAttr, fnv(fnvSeed('a'), s.word))
		}
	}
	if p.Description != "" && c.weigh[gDesc] > 0 {
		d := p.Description
		if len(d) > 2000 {
			d = d[:2000]
		}
		s.words(d, func(w []byte) { add(gDesc, fnv(fnvSeed('d'), w)) })
	}
}

// words calls fn with each lower-cased word of text: a run of letters and
// digits. The slice is valid until the next call.
func (s *contentScratch) words(text string, fn func([]byte)) {
	w := s.word[:0]
	flush := func() {
		if len(w) > 0 {
			fn(w)
			w = w[:0]
		}
	}
	for i := 0; i < len(text); {
		r, n := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(text[i:])
		}
		i += n
		switch {
		case r < utf8.RuneSelf && ('a' <= r && r <= 'z' || '0' <= r && r <= '9'):
			w = append(w, byte(r))
		case r < utf8.RuneSelf && 'A' <= r && r <= 'Z':
			w = append(w, byte(r+'a'-'A'))
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			w = utf8.AppendRune(w, unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	s.word = w
}

// grams calls fn with the 4-grams of the word with a boundary mark at
// each end ("^ink$" gives "^ink" and "ink$"); a word of one or two
// letters gives itself marked.
func grams(w []byte, fn func([]byte)) {
	var buf [64]byte
	if len(w)+2 > len(buf) {
		w = w[:len(buf)-2]
	}
	b := append(append(append(buf[:0], '^'), w...), '$')
	if len(b) <= 4 {
		fn(b)
		return
	}
	for i := 0; i+4 <= len(b); i++ {
		fn(b[i : i+4])
	}
}

func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// fnvSeed starts an FNV-1a hash with a group tag.
func fnvSeed(tag byte) uint64 { return fnv(14695981039346656037, []byte{tag}) }

// fnv continues the FNV-1a hash h over b.
func fnv(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// topCategory is the first element of p's category path, lower-cased for
// comparison ("" when p has none).
func topCategory(p *catalog.Product) string {
	if p == nil || len(p.Category) == 0 {
		return ""
	}
	return strings.ToLower(p.Category[0])
}
