package commerce

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aisle/aisle/catalog"
)

// testWarehouses are five real US cities, the worked example of
// doc/fulfillment.md.
var testWarehouses = []catalog.Warehouse{
	{ID: "nyc", Name: "New York NY", Lat: 40.71, Lon: -74.01},
	{ID: "phl", Name: "Philadelphia PA", Lat: 39.95, Lon: -75.17},
	{ID: "chi", Name: "Chicago IL", Lat: 41.88, Lon: -87.63},
	{ID: "den", Name: "Denver CO", Lat: 39.74, Lon: -104.99},
	{ID: "lax", Name: "Los Angeles CA", Lat: 34.05, Lon: -118.24},
}

var boston = Point{42.36, -71.06}

func availOf(m map[string]map[string]int) func(string) map[string]int {
	return func(v string) map[string]int { return m[v] }
}

func TestDistanceKm(t *testing.T) {
	for _, c := range []struct {
		a, b Point
		km   float64
	}{
		{Point{40.71, -74.01}, Point{34.05, -118.24}, 3936}, // New York - Los Angeles
		{boston, Point{40.71, -74.01}, 306},                 // Boston - New York
		{Point{0, 0}, Point{0, 180}, math.Pi * earthRadiusKm},
		{boston, boston, 0},
	} {
		if got := DistanceKm(c.a, c.b); math.Abs(got-c.km) > 0.01*c.km+1 {
			t.Errorf("DistanceKm(%v, %v) = %.1f, want %.1f", c.a, c.b, got, c.km)
		}
	}
}

func TestRouteTable(t *testing.T) {
	ws := NewWarehouses(testWarehouses)
	for _, c := range []struct {
		name  string
		wants []Want
		stock map[string]map[string]int
		want  []Line
	}{
		{"nearest holder", []Want{{"a", "p", 2}},
			map[string]map[string]int{"a": {"lax": 5, "phl": 2, "chi": 9}},
			[]Line{{"a", "phl", 2}}},
		{"one warehouse beats two nearer ones", []Want{{"a", "p", 1}, {"b", "p", 1}},
			map[string]map[string]int{"a": {"nyc": 1, "den": 1}, "b": {"phl": 1, "den": 1}},
			[]Line{{"a", "den", 1}, {"b", "den", 1}}},
		{"split when nobody has it all", []Want{{"a", "p", 5}},
			map[string]map[string]int{"a": {"nyc": 3, "chi": 3, "lax": 9}},
			[]Line{{"a", "lax", 5}}},
		{"split over two", []Want{{"a", "p", 5}},
			map[string]map[string]int{"a": {"nyc": 3, "chi": 3, "lax": 1}},
			[]Line{{"a", "nyc", 3}, {"a", "chi", 2}}},
		{"duplicate wants are summed", []Want{{"a", "p", 1}, {"a", "p", 2}},
			map[string]map[string]int{"a": {"nyc": 2, "chi": 3}},
			[]Line{{"a", "chi", 3}}},
		{"unknown warehouse only when needed", []Want{{"a", "p", 2}},
			map[string]map[string]int{"a": {"moon": 2, "nyc": 1, "lax": 2, "chi": -4}},
			[]Line{{"a", "lax", 2}}},
		{"unknown warehouse used", []Want{{"a", "p", 2}},
			map[string]map[string]int{"a": {"moon": 2, "nyc": 1}},
			[]Line{{"a", "moon", 2}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ws.Route(boston, c.wants, availOf(c.stock))
			if err != nil || !slices.Equal(got, c.want) {
				t.Fatalf("Route = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestRouteErrors(t *testing.T) {
	ws := NewWarehouses(testWarehouses)
	stock := availOf(map[string]map[string]int{"a": {"nyc": 1}, "b": {"nyc": 1, "chi": 1}})
	_, err := ws.Route(boston, []Want{{"a", "p", 1}, {"b", "p", 3}, {"c", "p", 1}}, stock)
	var short *ShortError
	if !errors.As(err, &short) || !errors.Is(err, ErrOutOfStock) || short.VariantID != "b" || short.Wanted != 3 || short.Available != 2 {
		t.Fatalf("Route short = %v, want b short (3 wanted, 2 available)", err)
	}
	for _, wants := range [][]Want{nil, {{"", "p", 1}}, {{"a", "p", 0}}, {{"a\x00x", "p", 1}}} {
		if _, err := ws.Route(boston, wants, stock); !errors.Is(err, ErrLine) {
			t.Errorf("Route(%v) = %v, want ErrLine", wants, err)
		}
	}
}

// bruteRoute tries every subset of the warehouses holding stock and
// returns the best (size, distance).
func bruteRoute(ws *Warehouses, dest Point, wants []Want, stock map[string]map[string]int) (int, float64, bool) {
	need := map[string]int{}
	for _, w := range wants {
		need[w.VariantID] += w.Quantity
	}
	var whs []string
	seen := map[string]bool{}
	for _, m := range stock {
		for wh, u := range m {
			if u > 0 && !seen[wh] {
				seen[wh] = true
				whs = append(whs, wh)
			}
		}
	}
	bestSize, bestDist, ok := math.MaxInt, math.Inf(1), false
	for mask := 0; mask < 1<<len(whs); mask++ {
		feasible := true
		for v, n := range need {
			have := 0
			for i, wh := range whs {
				if mask&(1<<i) != 0 && stock[v][wh] > 0 {
					have += stock[v][wh]
				}
			}
			if have < n {
				feasible = false
				break
			}
		}
		if !feasible {
			continue
		}
		size, dist := 0, 0.0
		for i, wh := range whs {
			if mask&(1<<i) != 0 {
				size++
				dist += ws.Distance(wh, dest)
			}
		}
		if better(size, dist, bestSize, bestDist) {
			bestSize, bestDist, ok = size, dist, true
		}
	}
	return bestSize, bestDist, ok
}

// checkLines verifies that lines ship exactly the wants from stock and
// returns their warehouse count and total distance.
func checkLines(ws *Warehouses, dest Point, wants []Want, stock map[string]map[string]int, lines []Line) (int, float64, error) {
	need := map[string]int{}
	for _, w := range wants {
		need[w.VariantID] += w.Quantity
	}
	got := map[string]int{}
	used := map[string]bool{}
	dist := 0.0
	for _, l := range lines {
		if l.Quantity <= 0 || l.Quantity > stock[l.VariantID][l.WarehouseID] {
			return 0, 0, fmt.Errorf("line %+v exceeds stock %d", l, stock[l.VariantID][l.WarehouseID])
		}
		got[l.VariantID] += l.Quantity
		if !used[l.WarehouseID] {
			used[l.WarehouseID] = true
			dist += ws.Distance(l.WarehouseID, dest)
		}
	}
	for v, n := range need {
		if got[v] != n {
			return 0, 0, fmt.Errorf("variant %q: shipped %d, wanted %d", v, got[v], n)
		}
	}
	if len(got) != len(need) {
		return 0, 0, fmt.Errorf("shipped variants %v, wanted %v", got, need)
	}
	return len(used), dist, nil
}

func randomWarehouses(r *rand.Rand, n int) []catalog.Warehouse {
	out := make([]catalog.Warehouse, n)
	for i := range out {
		out[i] = catalog.Warehouse{ID: fmt.Sprintf("w%02d", i), Lat: 25 + 24*r.Float64(), Lon: -124 + 57*r.Float64()}
	}
	return out
}

func TestRouteMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	greedyWorse := 0
	for trial := range 2000 {
		nw := 2 + r.IntN(11) // up to 12 warehouses: 4096 subsets
		ws := NewWarehouses(randomWarehouses(r, nw))
		dest := Point{25 + 24*r.Float64(), -124 + 57*r.Float64()}
		nv := 1 + r.IntN(8)
		stock := map[string]map[string]int{}
		var wants []Want
		for v := range nv {
			id := fmt.Sprintf("v%d", v)
			stock[id] = map[string]int{}
			for range 1 + r.IntN(4) {
				stock[id][fmt.Sprintf("w%02d", r.IntN(nw))] += r.IntN(4) // zero entries are allowed
			}
			wants = append(wants, Want{id, "p", 1 + r.IntN(4)})
		}
		lines, exact, err := ws.route(dest, wants, availOf(stock), routeBudget)
		bSize, bDist, ok := bruteRoute(ws, dest, wants, stock)
		if !ok {
			if !errors.Is(err, ErrOutOfStock) {
				t.Fatalf("trial %d: infeasible order routed: %v, %v", trial, lines, err)
			}
			continue
		}
		if err != nil || !exact {
			t.Fatalf("trial %d: Route = %v, exact %v, %v", trial, lines, exact, err)
		}
		size, dist, err := checkLines(ws, dest, wants, stock, lines)
		if err != nil {
			t.Fatalf("trial %d: %v (lines %v)", trial, err, lines)
		}
		if size != bSize || math.Abs(dist-bDist) > 1e-6 {
			t.Fatalf("trial %d: Route uses %d warehouses, %.3f km; brute force %d, %.3f km\nstock %v\nwants %v\nlines %v",
				trial, size, dist, bSize, bDist, stock, wants, lines)
		}
		// The greedy alone (no search), or a search cut short, is
		// feasible, sometimes worse, never better.
		for _, budget := range []int{0, 2} {
			g, _, _ := ws.route(dest, wants, availOf(stock), budget)
			gSize, gDist, err := checkLines(ws, dest, wants, stock, g)
			if err != nil {
				t.Fatalf("trial %d: budget %d: %v", trial, budget, err)
			}
			if better(gSize, gDist, bSize, bDist) {
				t.Fatalf("trial %d: budget %d beats brute force", trial, budget)
			}
			if budget == 0 && better(bSize, bDist, gSize, gDist) {
				greedyWorse++
			}
		}
	}
	t.Logf("greedy alone was worse than exact in %d of 2000 orders", greedyWorse)
}
