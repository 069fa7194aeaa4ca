package commerce

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/aisle/aisle/catalog"
)

// Routing: which warehouses ship an order (doc/fulfillment.md).
//
// The rule is lexicographic: the fewest shipments (distinct warehouses)
// first, then the shortest total great-circle distance from the
// destination to the warehouses used; a line is split across warehouses
// when no chosen warehouse has all of it. Choosing the fewest warehouses
// is minimum set cover (with quantities), NP-hard in general, so Route
// runs an exact branch and bound seeded with a greedy answer and stops
// after routeBudget search nodes, keeping the best answer found. Orders
// whose relevant warehouses number a dozen or so finish well inside the
// budget and are exact; bigger ones are at least as good as the greedy.

// Point is a place on Earth, in degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Want asks for Quantity units of a variant from any warehouse.
type Want struct {
	VariantID string `json:"variant_id"`
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

// ShortError is the out-of-stock refusal of Route: the first wanted
// variant (in the order of the wants) whose units across all warehouses
// fall short. It wraps ErrOutOfStock.
type ShortError struct {
	VariantID string
	Wanted    int
	Available int
}

func (e *ShortError) Error() string {
	return fmt.Sprintf("%v: %d of %q wanted, %d available in all warehouses", ErrOutOfStock, e.Wanted, e.VariantID, e.Available)
}

// Unwrap makes errors.Is(err, ErrOutOfStock) hold.
func (e *ShortError) Unwrap() error { return ErrOutOfStock }

const (
	earthRadiusKm = 6371.0088
	// UnknownKm is the distance charged to a warehouse without valid
	// coordinates: half the Earth's circumference, as far as any place
	// can be, so such a warehouse is used only when needed.
	UnknownKm = math.Pi * earthRadiusKm
	// routeBudget bounds the nodes of Route's exact search.
	routeBudget = 20000
)

// DistanceKm is the great-circle (haversine) distance between a and b.
func DistanceKm(a, b Point) float64 {
	const rad = math.Pi / 180
	dlat := (b.Lat - a.Lat) * rad
	dlon := (b.Lon - a.Lon) * rad
	s := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(min(1, s)))
}

func validPoint(p Point) bool {
	return p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180 // false for NaN
}

// Warehouses is the set of known warehouses and their coordinates. It is
// immutable after NewWarehouses and safe for concurrent use.
type Warehouses struct {
	list []catalog.Warehouse
	byID map[string]int
}

// NewWarehouses indexes list by id; of two entries with one id the first
// is kept. A warehouse with invalid coordinates is kept and charged
// UnknownKm.
func NewWarehouses(list []catalog.Warehouse) *Warehouses {
	ws := &Warehouses{byID: make(map[string]int, len(list))}
	for _, w := range list {
		if _, dup := ws.byID[w.ID]; dup {
			continue
		}
		ws.byID[w.ID] = len(ws.list)
		ws.list = append(ws.list, w)
	}
	return ws
}

// Len returns the number of warehouses.
func (ws *Warehouses) Len() int { return len(ws.list) }

// All returns the warehouses in the order given to NewWarehouses. The
// slice is shared: do not modify it.
func (ws *Warehouses) All() []catalog.Warehouse { return ws.list }

// Get returns the warehouse with id.
func (ws *Warehouses) Get(id string) (catalog.Warehouse, bool) {
	i, ok := ws.byID[id]
	if !ok {
		return catalog.Warehouse{}, false
	}
	return ws.list[i], true
}

// Distance returns the distance from warehouse id to p; UnknownKm when
// the warehouse or p has no valid coordinates.
func (ws *Warehouses) Distance(id string, p Point) float64 {
	w, ok := ws.Get(id)
	wp := Point{w.Lat, w.Lon}
	if !ok || !validPoint(wp) || !validPoint(p) {
		return UnknownKm
	}
	return DistanceKm(wp, p)
}

// Route chooses the warehouses that ship wants to dest and returns one
// line per (variant, warehouse) used: in the order of the wants, nearest
// warehouse first within a variant. avail returns the units available
// per warehouse id for a variant (entries <= 0 are ignored; a warehouse
// unknown to ws is usable and charged UnknownKm). Wants naming one
// variant twice are summed. When a variant falls short across all
// warehouses Route returns a *ShortError wrapping ErrOutOfStock.
func (ws *Warehouses) Route(dest Point, wants []Want, avail func(variantID string) map[string]int) ([]Line, error) {
	lines, _, err := ws.route(dest, wants, avail, routeBudget)
	return lines, err
}

// router is the search state of one Route call. Warehouses are the
// candidates (those holding any wanted variant), indexed by distance.
type router struct {
	need  []int     // per variant: units wanted
	cands [][]int   // per variant: candidate warehouses stocking it, nearest first
	units [][]int   // per variant, parallel to cands: units there
	stock [][]vu    // per warehouse: the variants it stocks
	dist  []float64 // per warehouse
	ids   []string  // per warehouse

	chosen, forbidden []bool
	cover, reach      []int // per variant: units in chosen, in not forbidden

	nodes     int
	budget    int
	exhausted bool
	bestSize  int
	bestDist  float64
	best      []int
}

type vu struct{ v, units int }

func (ws *Warehouses) route(dest Point, wants []Want, avail func(string) map[string]int, budget int) ([]Line, bool, error) {
	if len(wants) == 0 {
		return nil, false, fmt.Errorf("%w: no wants to route", ErrLine)
	}
	// Merge the wants by variant, keeping the first order.
	vidx := map[string]int{}
	var vars []string
	var need []int
	for i, w := range wants {
		if w.VariantID == "" || strings.IndexByte(w.VariantID, 0) >= 0 || w.Quantity <= 0 {
			return nil, false, fmt.Errorf("%w: wants[%d]: variant %q quantity %d", ErrLine, i, w.VariantID, w.Quantity)
		}
		j, ok := vidx[w.VariantID]
		if !ok {
			j = len(vars)
			vidx[w.VariantID] = j
			vars = append(vars, w.VariantID)
			need = append(need, 0)
		}
		need[j] += w.Quantity
	}
	// Candidates, and the out-of-stock check in the order of the wants.
	type hold struct {
		wh    string
		units int
	}
	holds := make([][]hold, len(vars))
	widx := map[string]int{}
	var whs []string
	for j, v := range vars {
		total := 0
		for wh, u := range avail(v) {
			if u <= 0 {
				continue
			}
			holds[j] = append(holds[j], hold{wh, u})
			total += u
			if _, ok := widx[wh]; !ok {
				widx[wh] = len(whs)
				whs = append(whs, wh)
			}
		}
		if total < need[j] {
			return nil, false, &ShortError{VariantID: v, Wanted: need[j], Available: total}
		}
	}
	// Index the warehouses nearest first (ties by id) for a
	// deterministic search.
	d := make(map[string]float64, len(whs))
	for _, wh := range whs {
		d[wh] = ws.Distance(wh, dest)
	}
	slices.SortFunc(whs, func(a, b string) int { return cmp.Or(cmp.Compare(d[a], d[b]), strings.Compare(a, b)) })
	r := &router{need: need, budget: budget, ids: whs,
		cands: make([][]int, len(vars)), units: make([][]int, len(vars)), stock: make([][]vu, len(whs)),
		dist: make([]float64, len(whs)), chosen: make([]bool, len(whs)), forbidden: make([]bool, len(whs)),
		cover: make([]int, len(vars)), reach: make([]int, len(vars))}
	for i, wh := range whs {
		widx[wh] = i
		r.dist[i] = d[wh]
	}
	for j := range vars {
		slices.SortFunc(holds[j], func(a, b hold) int { return cmp.Compare(widx[a.wh], widx[b.wh]) })
		for _, h := range holds[j] {
			w := widx[h.wh]
			r.cands[j] = append(r.cands[j], w)
			r.units[j] = append(r.units[j], h.units)
			r.stock[w] = append(r.stock[w], vu{j, h.units})
			r.reach[j] += h.units
		}
	}
	r.greedy()
	r.search(0, 0)
	return r.allocate(vars), !r.exhausted, nil
}

// better orders answers: fewer warehouses, then a shorter total distance.
func better(size int, dist float64, bestSize int, bestDist float64) bool {
	return size < bestSize || size == bestSize && dist < bestDist-1e-9
}

func (r *router) add(w int, sign int) {
	r.chosen[w] = sign > 0
	for _, s := range r.stock[w] {
		r.cover[s.v] += sign * s.units
	}
}

func (r *router) covered() bool {
	for j, n := range r.need {
		if r.cover[j] < n {
			return false
		}
	}
	return true
}

// greedy finds a first answer: repeatedly add the warehouse that
// completes the most still-short variants (then contributes the most
// missing units, then is nearest), then drop, farthest first, every
// chosen warehouse the others can do without. It bounds the exact search
// and is the answer when the search budget runs out.
func (r *router) greedy() {
	var set []int
	for !r.covered() {
		bw, bDone, bUnits := -1, 0, 0
		for w := range r.stock {
			if r.chosen[w] {
				continue
			}
			done, units := 0, 0
			for _, s := range r.stock[w] {
				if short := r.need[s.v] - r.cover[s.v]; short > 0 {
					units += min(short, s.units)
					if s.units >= short {
						done++
					}
				}
			}
			// Warehouses are nearest first, so a tie keeps the nearer.
			if done > bDone || done == bDone && units > bUnits {
				bw, bDone, bUnits = w, done, units
			}
		}
		r.add(bw, 1) // the stock check guarantees progress
		set = append(set, bw)
	}
	// Drop farthest first (a higher index is farther).
	slices.SortFunc(set, func(a, b int) int { return cmp.Compare(b, a) })
	kept := set[:0]
	for _, w := range set {
		r.add(w, -1)
		if !r.covered() {
			r.add(w, 1)
			kept = append(kept, w)
		}
	}
	r.bestSize, r.bestDist = len(kept), 0
	for _, w := range kept {
		r.bestDist += r.dist[w]
		r.add(w, -1)
	}
	r.best = slices.Clone(kept)
}

// search is the exact branch and bound: take the short variant with the
// fewest open candidates and branch on which of them joins the set, the
// i-th branch forbidding the candidates before it, so that every set is
// visited once. A branch is cut when it cannot beat the best answer or
// when forbidding leaves some variant unreachable.
func (r *router) search(size int, dist float64) {
	if r.nodes++; r.nodes > r.budget {
		r.exhausted = true
		return
	}
	v, open := -1, math.MaxInt
	for j, n := range r.need {
		if r.cover[j] >= n {
			continue
		}
		k := 0
		for _, w := range r.cands[j] {
			if !r.chosen[w] && !r.forbidden[w] {
				k++
			}
		}
		if k < open {
			v, open = j, k
		}
	}
	if v < 0 {
		if better(size, dist, r.bestSize, r.bestDist) {
			r.bestSize, r.bestDist = size, dist
			r.best = r.best[:0]
			for w, c := range r.chosen {
				if c {
					r.best = append(r.best, w)
				}
			}
		}
		return
	}
	var forbade []int
	defer func() {
		for _, w := range forbade {
			r.forbidden[w] = false
			for _, s := range r.stock[w] {
				r.reach[s.v] += s.units
			}
		}
	}()
	for _, w := range r.cands[v] {
		if r.chosen[w] || r.forbidden[w] {
			continue
		}
		// Candidates are nearest first: once one cannot beat the best,
		// none after it can.
		if !better(size+1, dist+r.dist[w], r.bestSize, r.bestDist) {
			return
		}
		r.add(w, 1)
		r.search(size+1, dist+r.dist[w])
		r.add(w, -1)
		if r.exhausted {
			return
		}
		r.forbidden[w] = true
		forbade = append(forbade, w)
		for _, s := range r.stock[w] {
			r.reach[s.v] -= s.units
		}
		for _, s := range r.stock[w] {
			if r.reach[s.v] < r.need[s.v] {
				return
			}
		}
	}
}

// allocate turns the best set into lines: a variant comes from the
// nearest chosen warehouse holding all of it, or else is filled from the
// chosen warehouses nearest first.
func (r *router) allocate(vars []string) []Line {
	in := make([]bool, len(r.ids))
	for _, w := range r.best {
		in[w] = true
	}
	var out []Line
	for j, v := range vars {
		single := -1
		for i, w := range r.cands[j] {
			if in[w] && r.units[j][i] >= r.need[j] {
				single = w
				break
			}
		}
		if single >= 0 {
			out = append(out, Line{VariantID: v, WarehouseID: r.ids[single], Quantity: r.need[j]})
			continue
		}
		left := r.need[j]
		for i, w := range r.cands[j] {
			if !in[w] || left == 0 {
				continue
			}
			q := min(left, r.units[j][i])
			out = append(out, Line{VariantID: v, WarehouseID: r.ids[w], Quantity: q})
			left -= q
		}
		if left > 0 {
			panic(fmt.Sprintf("commerce: route chose warehouses short of %q by %d", v, left))
		}
	}
	return out
}
