package spell

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blevesearch/vellum"
)

// byteOSA is the optimal-string-alignment distance over bytes, the plain
// textbook way, to check the automaton against.
func byteOSA(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+c)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// TestDamerauAutomaton checks, on random words over a small alphabet, that
// the FST walk with the automaton finds exactly the words within the
// distance.
func TestDamerauAutomaton(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	word := func() string {
		b := make([]byte, 1+r.IntN(8))
		for i := range b {
			b[i] = "abcde"[r.IntN(5)]
		}
		return string(b)
	}
	m := map[string]uint64{}
	for range 3000 {
		m[word()] = 1
	}
	d, err := Build(seq(m), nil)
	if err != nil {
		t.Fatal(err)
	}
	var a damerau
	var it vellum.FSTIterator
	for range 300 {
		q, max := word(), 1+r.IntN(2)
		a.reset(q, max)
		var got []string
		err := it.Reset(d.fst, nil, nil, &a)
		for err == nil {
			k, _ := it.Current()
			got = append(got, string(k))
			err = it.Next()
		}
		if !errors.Is(err, vellum.ErrIteratorDone) {
			t.Fatal(err)
		}
		var want []string
		for w := range m {
			if byteOSA(q, w) <= max {
				want = append(want, w)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("within %d of %q: automaton %v, brute force %v", max, q, got, want)
		}
	}
}

func BenchmarkCandidates(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	m := map[string]uint64{}
	for range 30000 {
		n := 3 + r.IntN(10)
		w := make([]byte, n)
		for i := range w {
			w[i] = byte('a' + r.IntN(26))
		}
		m[string(w)] = uint64(1 + r.IntN(1000))
	}
	d, err := Build(seq(m), nil)
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	words := slices.Collect(func(yield func(string) bool) {
		for w := range m {
			if !yield(w[:len(w)-1] + "z") {
				return
			}
		}
	})
	var dst []Candidate
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		dst = c.Candidates(d, words[i%len(words)], dst[:0])
		i++
	}
}
