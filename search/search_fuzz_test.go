package search

import (
	"context"
	"errors"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/aisle/aisle/query"
)

var fuzzEngine struct {
	once sync.Once
	e    *Engine
}

// FuzzSearch sends arbitrary query text, with spelling correction and query
// understanding on, through an engine over the fixture: a search either
// fails with ErrInvalidRequest or answers with hits that are real products,
// a page no larger than asked for (plus sponsored slots) and a total no
// smaller than the organic hits.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"", "wireless headphones", "wirelss hedphones under $200 4+ stars", "sony bose",
		"a b c d e f g h i j k l m n o p q r s", "\xff\xfe", "$20-$50 black", "between 20 and 50 dollars", "usb-c", "0", "--"} {
		f.Add(s, uint8(0), true)
	}
	f.Fuzz(func(t *testing.T, q string, sort uint8, facets bool) {
		fuzzEngine.once.Do(func() {
			fuzzEngine.e = newEngine(t, 3, fixture(400, 11))
			if err := fuzzEngine.e.RebuildSpelling(); err != nil {
				t.Fatal(err)
			}
		})
		e := fuzzEngine.e
		r := &Request{Query: q, Sort: query.Sort(sort % 5), Facets: facets, PageSize: 10}
		res, err := e.Search(context.Background(), r)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("%q: %v", q, err)
			}
			if len(q) <= MaxQueryBytes && utf8.ValidString(q) {
				t.Fatalf("%q: a valid query was refused: %v", q, err)
			}
			return
		}
		organic := 0
		for _, h := range res.Hits {
			if _, ok := e.Product(h.Product.ID); !ok {
				t.Fatalf("%q: hit %s is not a live product", q, h.Product.ID)
			}
			if !h.Sponsored {
				organic++
			}
		}
		if organic > 10 || res.Total < organic {
			t.Fatalf("%q: %d organic hits, total %d", q, organic, res.Total)
		}
	})
}
