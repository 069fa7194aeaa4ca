package recs

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aisle/aisle/catalog"
)

var updateSimilar = flag.Bool("update-similar", false, "rewrite testdata/similar-v1.snap")

// hybridFixture is the hybrid index of TestSimilarHybrid's store (toners
// bought with laptops), its inputs, and a product added after the build.
func hybridFixture(t testing.TB) (ps []*catalog.Product, c *Content, e *Embeddings, counts func(string) int, s *SimilarIndex) {
	t.Helper()
	ps = textCatalog()
	o := Orders{}
	for _, p := range ps {
		o.Items = append(o.Items, p.ID)
	}
	for rep := range 40 {
		for i := range 10 {
			o.Baskets = append(o.Baskets, []int32{int32(i), int32(20 + i), int32(20 + (i+rep)%10)})
		}
	}
	e, _, err := Embed(context.Background(), o, EmbedOptions{Dim: 8, Seed: 1, MinOrders: 5, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := Build(context.Background(), o, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	counts = func(id string) int {
		x, ok := l.Index(id)
		if !ok {
			return 0
		}
		return int(l.count[x])
	}
	if c, err = NewContent(ps, ContentOptions{}); err != nil {
		t.Fatal(err)
	}
	opts := SimilarOptions{Blend: 5, Exhaustive: -1, Workers: 1}
	if s, err = BuildSimilar(context.Background(), ps, c, e, counts, opts); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(textProduct("new-toner", "black toner cartridges xl", "Electronics", "Printers", "Toner")); err != nil {
		t.Fatal(err)
	}
	return ps, c, e, counts, s
}

// sameAnswers fails unless a and b answer the same similar items for
// every product of ps and the added one.
func sameAnswers(t *testing.T, a, b *SimilarIndex, ps []*catalog.Product) {
	t.Helper()
	st := store{"new-toner": textProduct("new-toner", "black toner cartridges xl", "Electronics", "Printers", "Toner")}
	for _, p := range ps {
		st[p.ID] = p
	}
	for id := range st {
		x, y := a.Similar(nil, id, 10, st), b.Similar(nil, id, 10, st)
		if len(x) == 0 || !slices.EqualFunc(x, y, func(i, j Item) bool { return i.Product.ID == j.Product.ID && i.Score == j.Score }) {
			t.Fatalf("similar items of %s: written %v, read %v", id, itemIDs(x), itemIDs(y))
		}
	}
	if ab, aa := a.Len(); true {
		if bb, ba := b.Len(); ab != bb || aa != ba {
			t.Fatalf("read index has %d built and %d added, written %d and %d", bb, ba, ab, aa)
		}
	}
}

func TestSimilarFileRoundTrip(t *testing.T) {
	ps, c, e, counts, s := hybridFixture(t)
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := ReadSimilar(bytes.NewReader(buf.Bytes()), ps, c, e, counts, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, s, r, ps)
	// The read index takes products at index time as the built one does.
	if err := r.Add(textProduct("new-mouse", "wireless mouse optical pro", "Electronics", "Accessories", "Mice")); err != nil {
		t.Fatal(err)
	}
	if _, added := r.Len(); added != 2 {
		t.Errorf("%d added after a second Add, want 2", added)
	}
}

// TestSimilarFileStale: a file built from other inputs is refused with
// ErrStale, whichever input changed.
func TestSimilarFileStale(t *testing.T) {
	ps, c, e, counts, s := hybridFixture(t)
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	retitled := slices.Clone(ps)
	p := *retitled[3]
	p.Title += " refurbished"
	retitled[3] = &p
	for name, read := range map[string]func() error{
		"a product's title": func() error {
			_, err := ReadSimilar(bytes.NewReader(buf.Bytes()), retitled, c, e, counts, s.opts)
			return err
		},
		"a product fewer": func() error {
			_, err := ReadSimilar(bytes.NewReader(buf.Bytes()), ps[1:], c, e, counts, s.opts)
			return err
		},
		"the order counts": func() error {
			_, err := ReadSimilar(bytes.NewReader(buf.Bytes()), ps, c, e, func(id string) int { return counts(id) + 1 }, s.opts)
			return err
		},
		"no embeddings": func() error {
			_, err := ReadSimilar(bytes.NewReader(buf.Bytes()), ps, c, nil, counts, s.opts)
			return err
		},
		"the blend": func() error {
			o := s.opts
			o.Blend = 20
			_, err := ReadSimilar(bytes.NewReader(buf.Bytes()), ps, c, e, counts, o)
			return err
		},
	} {
		if err := read(); !errors.Is(err, ErrStale) {
			t.Errorf("%s changed: %v, want ErrStale", name, err)
		}
	}
}

// TestSimilarFileCorrupt: truncations and flipped bytes are errors
// wrapping ErrCorrupt, never a panic nor a wrong index.
func TestSimilarFileCorrupt(t *testing.T) {
	ps, c, e, counts, s := hybridFixture(t)
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	cases := map[string][]byte{
		"empty":       nil,
		"header only": good[:12],
		"truncated":   good[:len(good)-100],
		"version 9":   append(append([]byte(similarMagic), 9, 0, 0, 0), good[12:]...),
		"magic":       append([]byte("AISLRECS"), good[8:]...),
	}
	for _, at := range []int{20, len(good) / 2, len(good) - 20} {
		b := slices.Clone(good)
		b[at] ^= 0x40
		cases["byte flipped at "+strconv.Itoa(at)] = b
	}
	for name, b := range cases {
		if _, err := ReadSimilar(bytes.NewReader(b), ps, c, e, counts, s.opts); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

// TestSimilarFileV1 reads the version 1 file kept in testdata: a content
// index of textCatalog with one product added, written by the first
// writer (go test ./recs -run TestSimilarFileV1 -update-similar rewrites
// it, which no later change may need). Content only, so its fingerprint
// depends on the products' text and the options, not on the embeddings'
// code.
func TestSimilarFileV1(t *testing.T) {
	ps := textCatalog()
	c, err := NewContent(ps, ContentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := SimilarOptions{Exhaustive: -1, Workers: 1}
	const path = "testdata/similar-v1.snap"
	if *updateSimilar {
		s, err := BuildSimilar(context.Background(), ps, c, nil, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Add(textProduct("new-toner", "black toner cartridges xl", "Electronics", "Printers", "Toner")); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := s.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ReadSimilar(bytes.NewReader(b), ps, c, nil, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if built, added := r.Len(); built != len(ps) || added != 1 {
		t.Fatalf("v1 file: %d built and %d added, want %d and 1", built, added, len(ps))
	}
	st := store{"new-toner": textProduct("new-toner", "black toner cartridges xl", "Electronics", "Printers", "Toner")}
	for _, p := range ps {
		st[p.ID] = p
	}
	// Every product's 5 nearest are of its kind (ten of each), and the
	// added toner is among the toners'.
	for _, p := range ps {
		kind := p.ID[:3]
		items := r.Similar(nil, p.ID, 5, st)
		if len(items) != 5 {
			t.Fatalf("v1 file: %d similar items of %s", len(items), p.ID)
		}
		for _, it := range items {
			if !strings.HasPrefix(it.Product.ID, kind) && !(kind == "k0-" && it.Product.ID == "new-toner") {
				t.Errorf("v1 file: %s among the similar items of %s", it.Product.ID, p.ID)
			}
		}
	}
	if got := r.Similar(nil, "new-toner", 3, st); len(got) != 3 || !strings.HasPrefix(got[0].Product.ID, "k0-") {
		t.Errorf("v1 file: the added toner's similar items %v", itemIDs(got))
	}
}

func FuzzReadSimilar(f *testing.F) {
	ps, c, e, counts, s := hybridFixture(f)
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(similarMagic + "\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadSimilar(bytes.NewReader(b), ps, c, e, counts, s.opts)
		if err != nil {
			return
		}
		st := store{}
		for _, p := range ps {
			st[p.ID] = p
		}
		for _, p := range ps {
			r.Similar(nil, p.ID, 5, st) // must not panic
		}
	})
}
