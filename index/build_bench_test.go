package index

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
)

// catalogGen makes realistic products: titles of 6-12 words, three-level
// categories from a pool of 200 paths, 5-10 attributes from a pool of
// names and values, 1-3 variants with attributes, and descriptions of
// 300-600 characters over a vocabulary of a few thousand words drawn with
// a skewed (Zipf-like) frequency.
type catalogGen struct {
	r      *rand.Rand
	vocab  []string
	brands []string
	cats   [][]string
	attrs  []genAttr
	zipf   *rand.Zipf
}

type genAttr struct {
	name   string
	values []string
}

var genSyllables = []string{"ka", "lo", "mi", "ne", "ro", "ta", "vi", "su", "pe", "dor", "lin", "max", "tek", "flo", "gra", "zen", "bri", "cor", "del", "fin", "hal", "jet", "mon", "qua"}

func newCatalogGen(seed uint64) *catalogGen {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &catalogGen{r: r}
	word := func(syl int) string {
		var b strings.Builder
		for range syl {
			b.WriteString(genSyllables[r.IntN(len(genSyllables))])
		}
		return b.String()
	}
	seen := map[string]bool{}
	for len(g.vocab) < 4000 {
		w := word(1 + r.IntN(3))
		if !seen[w] {
			seen[w] = true
			g.vocab = append(g.vocab, w)
		}
	}
	for range 300 {
		g.brands = append(g.brands, strings.ToUpper(word(1)[:1])+word(2))
	}
	top := make([]string, 12)
	for i := range top {
		top[i] = "Dept " + strings.ToUpper(word(1)) + " & " + word(2)
	}
	for range 200 {
		g.cats = append(g.cats, []string{
			top[r.IntN(len(top))],
			strings.ToUpper(word(1)[:1]) + word(2) + " " + word(1),
			word(2) + "s",
		})
	}
	names := []string{"Color", "Size", "Material", "Weight", "Pattern", "Style", "Capacity", "Power", "Finish", "Fit", "Voltage", "Length", "Width", "Origin", "Warranty", "Age Range", "Gender", "Season", "Connectivity", "Battery"}
	for _, n := range names {
		a := genAttr{name: n}
		for range 5 + r.IntN(40) {
			switch r.IntN(3) {
			case 0:
				a.values = append(a.values, fmt.Sprintf("%d %s", 1+r.IntN(500), []string{"cm", "oz", "W", "mAh", "kg"}[r.IntN(5)]))
			default:
				a.values = append(a.values, strings.ToUpper(word(1)[:1])+word(1+r.IntN(2))+" "+word(1))
			}
		}
		g.attrs = append(g.attrs, a)
	}
	g.zipf = rand.NewZipf(r, 1.1, 8, uint64(len(g.vocab)-1))
	return g
}

func (g *catalogGen) words(b *strings.Builder, n int) {
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.vocab[g.zipf.Uint64()])
	}
}

func (g *catalogGen) product(id string) *catalog.Product {
	r := g.r
	var b strings.Builder
	g.words(&b, 6+r.IntN(7))
	if r.IntN(2) == 0 {
		fmt.Fprintf(&b, " X%d-%d", r.IntN(5000), r.IntN(100))
	}
	title := b.String()
	b.Reset()
	want := 300 + r.IntN(301)
	for b.Len() < want {
		g.words(&b, 8)
		b.WriteString(". ")
	}
	p := &catalog.Product{
		ID: id, Title: title, Description: b.String(),
		Brand:         g.brands[r.IntN(len(g.brands))],
		Category:      g.cats[r.IntN(len(g.cats))],
		Attributes:    map[string]string{},
		Rating:        catalog.Rating{Avg: float64(r.IntN(51)) / 10, Count: r.IntN(3000)},
		SalesVelocity: r.ExpFloat64() * 3,
		SellerQuality: r.Float64(),
		CreatedAt:     mergeNow.Add(-time.Duration(r.IntN(20000)) * time.Hour),
	}
	for _, i := range r.Perm(len(g.attrs))[:5+r.IntN(6)] {
		a := &g.attrs[i]
		p.Attributes[a.name] = a.values[r.IntN(len(a.values))]
	}
	if r.IntN(5) == 0 {
		p.Sponsored = 1 + r.Int64N(50)
	}
	for v := range 1 + r.IntN(3) {
		p.Variants = append(p.Variants, catalog.Variant{
			ID: fmt.Sprintf("%s-%d", id, v),
			Attributes: map[string]string{
				"Size":  g.attrs[1].values[r.IntN(len(g.attrs[1].values))],
				"Color": g.attrs[0].values[r.IntN(len(g.attrs[0].values))],
			},
			Price: catalog.Money{Amount: 100 + r.Int64N(200000), Currency: "USD"},
			Stock: map[string]int{"w1": r.IntN(4), "w2": r.IntN(2)},
		})
	}
	return p
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (g *catalogGen) products(n int, prefix string) []*catalog.Product {
	ps := make([]*catalog.Product, n)
	for i := range ps {
		ps[i] = g.product(fmt.Sprintf("%s%d", prefix, i))
	}
	return ps
}

// BenchmarkBuild builds a segment of 500 or 5,000 realistic products with warm
// dictionaries, as Kafka ingest does once the catalog's facet values are
// known; impl=reference is build before it was optimised.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{500, 5000} {
		benchmarkBuild(b, n)
	}
}

func benchmarkBuild(b *testing.B, n int) {
	ps := newCatalogGen(1).products(n, "p")
	opts := mergeOptions()
	build(ps, opts, mergeNow) // warm the dictionaries
	for _, impl := range []struct {
		name  string
		build func([]*catalog.Product, *Options, time.Time) *segment
	}{{"build", build}, {"reference", buildReference}} {
		b.Run(fmt.Sprintf("size=%d/impl=%s", n, impl.name), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				impl.build(ps, opts, mergeNow)
			}
			// CPU time, of the whole process (GC included), is steadier
			// than wall time on a machine shared with other work.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/product")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/product")
		})
	}
}
