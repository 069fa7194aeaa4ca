package index

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/rank"
)

var (
	snapNow    = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	snapBrands = []string{"", "Acme", "Zenith", "Orbit", "Nova"}
	snapCats   = [][]string{nil, {"Home"}, {"Home", "Kitchen"}, {"Home", "Kitchen", "Kettles"}, {"Garden", "Tools"}}
	snapColors = []string{"Red", "Black", "Steel"}
	snapSizes  = []string{"S", "M", "L"}
)

// snapProduct returns a product using every field an index reads.
func snapProduct(r *rand.Rand, id string) *catalog.Product {
	words := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(mergeWords[int(r.ExpFloat64()*3)%len(mergeWords)])
			b.WriteByte(' ')
		}
		return b.String()
	}
	p := &catalog.Product{
		ID: id, Title: words(1+r.IntN(4)) + fmt.Sprintf("x%d", r.IntN(3000)), Description: words(r.IntN(20)),
		Brand:         snapBrands[r.IntN(len(snapBrands))],
		Category:      snapCats[r.IntN(len(snapCats))],
		Rating:        catalog.Rating{Avg: float64(r.IntN(51)) / 10, Count: r.IntN(300)},
		SalesVelocity: r.ExpFloat64() * 3,
		SellerQuality: r.Float64(),
		CreatedAt:     snapNow.Add(-time.Duration(r.IntN(2000)) * time.Hour),
	}
	if r.IntN(5) == 0 {
		p.Sponsored = 1 + r.Int64N(50)
	}
	if r.IntN(2) == 0 {
		p.Attributes = map[string]string{"Color": snapColors[r.IntN(len(snapColors))], "Material": "steel"}
	}
	for v := range r.IntN(3) {
		p.Variants = append(p.Variants, catalog.Variant{
			ID:         fmt.Sprintf("%s-%d", id, v),
			Attributes: map[string]string{"Size": snapSizes[r.IntN(len(snapSizes))]},
			Price:      catalog.Money{Amount: 100 + r.Int64N(20000), Currency: "USD"},
			Stock:      map[string]int{"w": r.IntN(3)},
		})
	}
	return p
}

func snapShard(tb testing.TB, dicts *Dicts) *Shard {
	tb.Helper()
	s, err := NewShard(Options{
		Rank: rank.DefaultOptions(), Dicts: dicts, FacetAttrs: []string{"Color", "Size"},
		MaxSegments: 100, Now: func() time.Time { return snapNow },
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// snapFixture returns a shard of several segments with deletions, and every
// product it was given by id.
func snapFixture(tb testing.TB, batches, ids int) (*Shard, map[string]*catalog.Product) {
	r := rand.New(rand.NewPCG(5, 6))
	s := snapShard(tb, NewDicts())
	all := map[string]*catalog.Product{}
	for range batches {
		var ps []*catalog.Product
		for _, id := range r.Perm(ids)[:1+r.IntN(ids/3)] {
			p := snapProduct(r, fmt.Sprintf("p%d", id))
			ps = append(ps, p)
			all[p.ID] = p
		}
		var del []string
		for range 1 + r.IntN(5) {
			del = append(del, fmt.Sprintf("p%d", r.IntN(ids)))
		}
		s.Apply(ps, del)
	}
	return s, all
}

// otherDicts returns dictionaries holding other values first, so that the
// values of the fixture get other ords.
func otherDicts() *Dicts {
	d := NewDicts()
	for _, b := range []string{"Zulu", "Nova", "Yankee", "Acme"} {
		d.brand(b)
	}
	for _, c := range [][]string{{"Toys"}, {"Garden", "Tools"}, {"Home", "Bath"}, {"Home", "Kitchen", "Kettles"}} {
		d.category(c)
	}
	for _, a := range [][2]string{{"size", "XL"}, {"color", "Green"}, {"size", "L"}, {"color", "Steel"}, {"weight", "1 kg"}} {
		d.attr(a[0], a[1])
	}
	return d
}

// snapSearches runs requests built from names, resolved in s's Dicts, and
// returns each result as text with facet values by name.
func snapSearches(s *Shard) []string {
	r := rand.New(rand.NewPCG(7, 8))
	d := s.opts.Dicts
	v := s.View()
	var out []string
	var res Result
	for _, q := range randomRequests(r, s, 200) {
		v.Search(q, &res)
		var b strings.Builder
		fmt.Fprintf(&b, "total %d\n", res.Total)
		for _, h := range res.Hits {
			fmt.Fprintf(&b, "hit %s %+v partial %v offer %v\n", h.Product.ID, h.Hit, h.Partial, *h.Offer)
		}
		for _, h := range res.Sponsored {
			fmt.Fprintf(&b, "sponsored %s %+v\n", h.Product.ID, h.Hit)
		}
		fc := &res.Facets
		var facets []string
		for _, o := range fc.BrandSeen {
			facets = append(facets, fmt.Sprintf("brand %s %d", d.Brand(o), fc.Brand[o]))
		}
		for _, o := range fc.LeafSeen {
			facets = append(facets, fmt.Sprintf("leaf %s %d", d.Node(o).Slug, fc.Leaf[o]))
		}
		for k, counts := range fc.Attr {
			for l, c := range counts {
				if c > 0 {
					name := s.opts.FacetAttrs[k]
					facets = append(facets, fmt.Sprintf("attr %s=%s %d", name, d.AttrLocal(name, uint32(l)).Value, c))
				}
			}
		}
		slices.Sort(facets)
		fmt.Fprintf(&b, "%s\nprice %v rating %v\n", strings.Join(facets, "\n"), fc.Price, fc.Rating)
		out = append(out, b.String())
	}
	return out
}

func liveIDs(s *Shard) []string {
	var ids []string
	s.Each(func(p *catalog.Product) bool {
		ids = append(ids, p.ID)
		return true
	})
	return ids
}

// TestSnapshotRoundTrip loads a shard's snapshot into a shard whose Dicts
// number the values differently and checks that it answers the same.
func TestSnapshotRoundTrip(t *testing.T) {
	s, all := snapFixture(t, 10, 400)
	if st := s.Stats(); st.Segments < 5 || st.Deleted == 0 {
		t.Fatalf("fixture: %+v, want several segments and deletions", st)
	}
	asked := 0
	byRef := func(p *catalog.Product) bool { asked++; return len(p.ID)%2 == 0 }
	b := s.AppendSnapshot(nil, byRef)
	if asked != s.Stats().Docs {
		t.Errorf("byRef called for %d documents, want the %d live ones", asked, s.Stats().Docs)
	}
	if !slices.Equal(b, s.AppendSnapshot(nil, byRef)) {
		t.Error("two snapshots of the same shard differ")
	}
	resolved := 0
	resolve := func(id string) (*catalog.Product, bool) {
		resolved++
		p, ok := all[id]
		return p, ok
	}
	l := snapShard(t, otherDicts())
	l.Apply([]*catalog.Product{product("old", "replaced by the load")}, nil)
	if err := l.LoadSnapshot(b, resolve); err != nil {
		t.Fatal(err)
	}
	if resolved == 0 {
		t.Error("no document was resolved by reference")
	}
	if acme, _ := l.opts.Dicts.LookupBrand("Acme"); acme == mustOrd(s.opts.Dicts.LookupBrand("Acme")) {
		t.Fatal("fixture: Acme has the same ord in both Dicts")
	}
	gs, ws := l.Stats(), s.Stats()
	if gs.Bytes <= 0 || gs.Bytes > ws.Bytes {
		t.Errorf("loaded Bytes %d, want in (0, %d]: the estimate counts capacity", gs.Bytes, ws.Bytes)
	}
	gs.Bytes, ws.Bytes = 0, 0
	if gs != ws {
		t.Errorf("Stats = %+v, want %+v", gs, ws)
	}
	if got, want := liveIDs(l), liveIDs(s); !slices.Equal(got, want) {
		t.Errorf("Each: %d ids, want %d, or another order", len(got), len(want))
	}
	for id := range all {
		p, ok := l.Product(id)
		q, wok := s.Product(id)
		if ok != wok || ok && !reflect.DeepEqual(p, q) {
			t.Fatalf("Product(%s) = %v, %v; want %v, %v", id, p, ok, q, wok)
		}
		if ok && byRef(q) && p != q {
			t.Fatalf("Product(%s) by reference is not the resolved pointer", id)
		}
	}
	if _, ok := l.Product("old"); ok {
		t.Error("the product held before the load survived it")
	}
	got, want := snapSearches(l), snapSearches(s)
	hits := 0
	for i := range want {
		hits += strings.Count(want[i], "\nhit ")
		if got[i] != want[i] {
			t.Fatalf("request %d after loading:\n%s\nbefore:\n%s", i, got[i], want[i])
		}
	}
	if hits < 600 {
		t.Fatalf("fixture: %d hits, too few to compare", hits)
	}
}

func mustOrd(o uint32, ok bool) uint32 {
	if !ok {
		panic("no ord")
	}
	return o
}

func TestSnapshotEmptyShard(t *testing.T) {
	b := snapShard(t, NewDicts()).AppendSnapshot(nil, nil)
	l := snapShard(t, NewDicts())
	l.Apply([]*catalog.Product{product("a", "kettle")}, nil)
	if err := l.LoadSnapshot(b, nil); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st != (Stats{}) {
		t.Errorf("Stats = %+v, want none", st)
	}
}

func TestSnapshotErrors(t *testing.T) {
	s, all := snapFixture(t, 3, 30)
	b := s.AppendSnapshot(nil, func(p *catalog.Product) bool { return true })
	resolve := func(id string) (*catalog.Product, bool) { p, ok := all[id]; return p, ok }
	for _, c := range []struct {
		name    string
		b       []byte
		opts    func(*Options)
		resolve func(string) (*catalog.Product, bool)
		want    string
	}{
		{"magic", append([]byte("XSNP"), b[4:]...), nil, resolve, `magic at byte 4: "XSNP" is not "ASNP"`},
		{"version", append([]byte("ASNP\x02"), b[5:]...), nil, resolve, "format version at byte 5: version 2, want 1"},
		{"facet attributes", b, func(o *Options) { o.FacetAttrs = []string{"color"} }, resolve, "2 facet attributes, the shard has 1"},
		{"unresolved", b, nil, func(string) (*catalog.Product, bool) { return nil, false }, "by reference not resolved"},
		{"no resolve", b, nil, nil, "without a resolve function"},
		{"trailing bytes", append(slices.Clip(b), 0), nil, resolve, "1 bytes after the last segment"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := snapShard(t, NewDicts())
			if c.opts != nil {
				c.opts(&l.opts)
			}
			err := l.LoadSnapshot(c.b, c.resolve)
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, catalog.ErrCorrupt) {
				t.Errorf("err = %v, want ErrCorrupt containing %q", err, c.want)
			}
		})
	}
}

// TestSnapshotTruncated loads every prefix of a snapshot: each must fail,
// and leave the shard as it was.
func TestSnapshotTruncated(t *testing.T) {
	s, all := snapFixture(t, 3, 30)
	b := s.AppendSnapshot(nil, func(p *catalog.Product) bool { return p.ID[1] < '5' })
	resolve := func(id string) (*catalog.Product, bool) { p, ok := all[id]; return p, ok }
	l := snapShard(t, NewDicts())
	for n := range len(b) {
		if err := l.LoadSnapshot(b[:n:n], resolve); err == nil {
			t.Fatalf("loaded %d of %d bytes", n, len(b))
		}
	}
	if st := l.Stats(); st != (Stats{}) {
		t.Errorf("failed loads changed the shard: %+v", st)
	}
}

func FuzzLoadSnapshot(f *testing.F) {
	s, all := snapFixture(f, 2, 12)
	f.Add(s.AppendSnapshot(nil, nil))
	f.Add(s.AppendSnapshot(nil, func(p *catalog.Product) bool { return true }))
	f.Add([]byte("ASNP\x01\x02\x05color\x04size\x00\x00\x00\x00"))
	resolve := func(id string) (*catalog.Product, bool) { p, ok := all[id]; return p, ok }
	f.Fuzz(func(t *testing.T, b []byte) {
		l := snapShard(t, NewDicts())
		if err := l.LoadSnapshot(b, resolve); err != nil {
			return
		}
		// What loads must be searchable and snapshot again.
		snapSearches(l)
		if err := snapShard(t, NewDicts()).LoadSnapshot(l.AppendSnapshot(nil, nil), nil); err != nil {
			t.Fatalf("a loaded snapshot does not load again: %v", err)
		}
	})
}

// BenchmarkLoadSnapshot loads a shard of 50k products from a snapshot that
// holds them in full, or by reference.
func BenchmarkLoadSnapshot(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	s := snapShard(b, NewDicts())
	all := map[string]*catalog.Product{}
	const n = 50_000
	for i := 0; i < n; i += 5000 {
		var ps []*catalog.Product
		for j := i; j < i+5000; j++ {
			p := snapProduct(r, fmt.Sprintf("p%d", j))
			ps = append(ps, p)
			all[p.ID] = p
		}
		s.Apply(ps, nil)
	}
	resolve := func(id string) (*catalog.Product, bool) { p, ok := all[id]; return p, ok }
	for _, c := range []struct {
		name  string
		byRef func(*catalog.Product) bool
	}{{"full", nil}, {"byref", func(*catalog.Product) bool { return true }}} {
		snap := s.AppendSnapshot(nil, c.byRef)
		b.Run(c.name, func(b *testing.B) {
			l := snapShard(b, NewDicts())
			b.SetBytes(int64(len(snap)))
			b.ReportAllocs()
			for b.Loop() {
				if err := l.LoadSnapshot(snap, resolve); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/product")
		})
	}
}

var updateSnapshot = flag.Bool("update-snapshot", false, "rewrite testdata/snapshot_v1.bin")

// TestSnapshotFixture loads a snapshot written by format version 1, kept in
// testdata so that a change of the format cannot go unnoticed.
func TestSnapshotFixture(t *testing.T) {
	const path = "testdata/snapshot_v1.bin"
	s, _ := snapFixture(t, 3, 30)
	if *updateSnapshot {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, s.AppendSnapshot(nil, nil), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := snapShard(t, otherDicts())
	if err := l.LoadSnapshot(b, nil); err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	gs, ws := l.Stats(), s.Stats()
	if gs.Docs != ws.Docs || gs.Deleted != ws.Deleted || gs.Segments != ws.Segments {
		t.Errorf("%s: Stats = %+v, want those of the fixture, %+v", path, gs, ws)
	}
	if got, want := liveIDs(l), liveIDs(s); !slices.Equal(got, want) {
		t.Errorf("%s holds %v, want %v", path, got, want)
	}
	for _, id := range liveIDs(s) {
		p, _ := l.Product(id)
		q, _ := s.Product(id)
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("%s: Product(%s) = %+v, want %+v", path, id, p, q)
		}
	}
}
