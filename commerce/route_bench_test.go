package commerce

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkRoute routes orders of n lines over 200 warehouses, each
// variant held in 1 to 4 of them as in the default data; "tight" gives
// every holder too few units for the whole line, so lines split and the
// search has work to do (with 20 lines, all kept in 12 warehouses).
func BenchmarkRoute(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	ws := NewWarehouses(randomWarehouses(r, 200))
	dest := Point{39.1, -94.6}
	for _, tight := range []bool{false, true} {
		for _, n := range []int{1, 5, 20} {
			nw := 200
			if tight && n == 20 {
				nw = 12 // dense: the lines share warehouses
			}
			stock := map[string]map[string]int{}
			var wants []Want
			for v := range n {
				id := fmt.Sprintf("v%d", v)
				stock[id] = map[string]int{}
				for range 1 + r.IntN(4) {
					u := 5 + r.IntN(200)
					if tight {
						u = 1 + r.IntN(2)
					}
					stock[id][fmt.Sprintf("w%02d", r.IntN(nw))] += u
				}
				q := 1 + r.IntN(2)
				if tight {
					q = 2
				}
				wants = append(wants, Want{VariantID: id, Quantity: q})
			}
			avail := availOf(stock)
			if _, err := ws.Route(dest, wants, avail); err != nil {
				// A tight variant held once with 1 unit is short: drop it.
				for i := range wants {
					wants[i].Quantity = 1
				}
			}
			_, exact, _ := ws.route(dest, wants, avail, routeBudget)
			b.Run(fmt.Sprintf("tight=%v/lines=%d", tight, n), func(b *testing.B) {
				b.ReportAllocs()
				if !exact {
					b.Logf("search budget ran out: the greedy answer or better")
				}
				for b.Loop() {
					if _, err := ws.Route(dest, wants, avail); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
