package recs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/aisle/aisle/catalog"
)

// synthetic returns orders over n items in groups of four: a basket picks
// one group and buys two or three of its items, plus noise from the whole
// catalog weighted to the first items (popular).
func synthetic(n, orders int, seed uint64) Orders {
	rng := rand.New(rand.NewPCG(seed, 1))
	o := Orders{Items: make([]string, n)}
	for i := range o.Items {
		o.Items[i] = fmt.Sprintf("p%d", i)
	}
	for range orders {
		g := rng.IntN(n/4) * 4
		var b []int32
		for _, k := range rng.Perm(4)[:2+rng.IntN(2)] {
			b = append(b, int32(g+k))
		}
		for range rng.IntN(3) {
			b = append(b, int32(rng.IntN(1+rng.IntN(n)))) // skewed to low ids
		}
		o.Baskets = append(o.Baskets, b)
	}
	return o
}

type store map[string]*catalog.Product

func (s store) Product(id string) (*catalog.Product, bool) {
	p, ok := s[id]
	return p, ok
}

func newStore(items []string) store {
	s := store{}
	for _, id := range items {
		s[id] = &catalog.Product{ID: id, Title: id, Variants: []catalog.Variant{{
			ID: id + "-v", Price: catalog.Money{Amount: 100, Currency: "USD"}, Stock: map[string]int{"w": 3},
		}}}
	}
	return s
}

func TestBuildFindsGroups(t *testing.T) {
	o := synthetic(200, 20000, 1)
	for _, sc := range []Scorer{Cosine, SmithLinden} {
		l, err := Build(context.Background(), o, Options{Scorer: sc, TopN: 5})
		if err != nil {
			t.Fatal(err)
		}
		// The best three neighbours of every item are its group.
		bad := 0
		for x := range int32(200) {
			nb := l.Neighbors(x)
			if len(nb) < 3 {
				t.Fatalf("%v: item %d has %d neighbours", sc, x, len(nb))
			}
			for _, n := range nb[:3] {
				if n.Item/4 != x/4 {
					bad++
				}
			}
		}
		if bad > 10 {
			t.Errorf("%v: %d of 600 top-3 neighbours outside the group", sc, bad)
		}
		st := l.Stats()
		if st.Pairs == 0 || st.Triples == 0 {
			t.Errorf("%v: stats %+v: want pairs and triples", sc, st)
		}
	}
}

func TestServingFilters(t *testing.T) {
	o := synthetic(40, 5000, 2)
	l, err := Build(context.Background(), o, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(o.Items)
	got := l.AlsoBought(nil, "p0", 3, s)
	if len(got) != 3 {
		t.Fatalf("AlsoBought(p0): %d items, want 3", len(got))
	}
	// Out of stock and deleted neighbours disappear.
	s[got[0].Product.ID].Variants[0].Stock = nil
	delete(s, got[1].Product.ID)
	again := l.AlsoBought(nil, "p0", 3, s)
	for _, it := range again {
		if it.Product.ID == got[0].Product.ID || it.Product.ID == got[1].Product.ID {
			t.Errorf("AlsoBought returned %s, which is out of stock or deleted", it.Product.ID)
		}
	}
	if len(l.AlsoBought(nil, "nope", 3, s)) != 0 {
		t.Error("AlsoBought of an unknown item is not empty")
	}
	bs := l.BoughtTogether(nil, "p4", 5, s)
	if len(bs) == 0 {
		t.Fatal("BoughtTogether(p4): no bundles")
	}
	for _, b := range bs {
		if b.Products[0].ID != "p4" || len(b.Products) < 2 || len(b.Products) > 3 {
			t.Errorf("bundle %v: want p4 first and 2 or 3 products", b.Products)
		}
		if b.Price.Amount != int64(100*len(b.Products)) || b.Price.Currency != "USD" {
			t.Errorf("bundle price %+v for %d products", b.Price, len(b.Products))
		}
		if b.Lift < 1.5 || b.Confidence < 0.02 {
			t.Errorf("bundle below the thresholds: %+v", b)
		}
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	l, err := Build(context.Background(), synthetic(100, 3000, 3), Options{Scorer: SmithLinden})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := l.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	r, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l, r) {
		t.Errorf("read lists differ from written ones: stats %+v vs %+v", l.Stats(), r.Stats())
	}
	for _, cut := range []int{0, 5, headerSize, len(b) / 2, len(b) - 1} {
		if _, err := Read(bytes.NewReader(b[:cut])); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated at %d: err %v, want ErrCorrupt", cut, err)
		}
	}
	bad := bytes.Clone(b)
	bad[8] = 99 // version
	if _, err := Read(bytes.NewReader(bad)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("version 99: err %v, want ErrCorrupt", err)
	}
	bad = bytes.Clone(b)
	bad[12] ^= 1 // checksum
	if _, err := Read(bytes.NewReader(bad)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("bad checksum: err %v, want ErrCorrupt", err)
	}
}

func FuzzRead(f *testing.F) {
	l, err := Build(context.Background(), synthetic(20, 300, 4), Options{})
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	l.WriteTo(&buf)
	f.Add(buf.Bytes())
	o := synthetic(20, 600, 4)
	e, _, err := Embed(context.Background(), o, EmbedOptions{Dim: 4, Seed: 1, MinOrders: 3, Workers: 1})
	if err != nil {
		f.Fatal(err)
	}
	buf.Reset()
	WriteSnapshot(&buf, l, e)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		l, e, err := ReadSnapshot(bytes.NewReader(b))
		if err != nil {
			return
		}
		s := newStore(l.items)
		for _, id := range l.items {
			l.AlsoBought(nil, id, 10, s)
			l.BoughtTogether(nil, id, 10, s)
			if e != nil {
				e.Similar(nil, id, 10, s)
			}
		}
	})
}

func TestEvaluateBeatsPopularity(t *testing.T) {
	train := synthetic(400, 20000, 5)
	test := synthetic(400, 2000, 6).Baskets
	l, err := Build(context.Background(), train, Options{})
	if err != nil {
		t.Fatal(err)
	}
	learned, pop := Evaluate(l, test, EvalOptions{Seed: 1})
	t.Logf("%v\n%v", learned, pop)
	if learned.HitRate < 2*pop.HitRate || learned.HitRate < 0.5 {
		t.Errorf("learned HR@10 %.3f, popularity %.3f: want the learned at least 0.5 and twice popularity", learned.HitRate, pop.HitRate)
	}
}

func TestOptionsValidate(t *testing.T) {
	err := Options{Scorer: 9, TopN: -1, MaxBasket: 1, BundlePairs: 99, BundleMinLift: -1}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"Scorer", "TopN", "MaxBasket", "BundlePairs", "BundleMinLift"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := Build(context.Background(), Orders{Items: []string{"a"}, Baskets: [][]int32{{0, 1}}}, Options{}); err == nil {
		t.Error("basket outside the items: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, synthetic(100, 100, 1), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled build: err %v", err)
	}
}
