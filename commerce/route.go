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
// is minimum set cover (with quantities), NP-hard in general. Route
// splits the order into independent components (variants linked by a
// shared candidate warehouse), and solves each by an exact branch and
// bound seeded with a greedy answer, sharing a budget of routeBudget
// search nodes; a component whose search runs out keeps the best answer
// found, never worse than the greedy. In the default data a variant is
// kept in 1 to 4 of 200 warehouses, so components are small: the
// benchmark's orders of up to 20 lines finish exact in a few dozen nodes
// (BenchmarkRoute logs a run that does not).

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
	// maxWant bounds the units of one variant in one order, so sums of
	// quantities cannot overflow.
	maxWant = 1 << 30
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
	stack             []int // warehouses forbidden by the open search nodes
	mark              []int // per warehouse: epoch of the bound's last visit
	epoch             int

	comp      []int // the variants of the component being solved
	compOf    []int // per variant: its component
	cur       int   // the component being solved
	nodes     int
	budget    int
	exhausted bool
	bestSize  int
	bestDist  float64
	best      []int  // the component's best set
	answer    []bool // per warehouse: in the union of the components' best sets
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
		if w.VariantID == "" || strings.IndexByte(w.VariantID, 0) >= 0 || w.Quantity <= 0 || w.Quantity > maxWant {
			return nil, false, fmt.Errorf("%w: wants[%d]: variant %q quantity %d", ErrLine, i, w.VariantID, w.Quantity)
		}
		j, ok := vidx[w.VariantID]
		if !ok {
			j = len(vars)
			vidx[w.VariantID] = j
			vars = append(vars, w.VariantID)
			need = append(need, 0)
		}
		if need[j] += w.Quantity; need[j] > maxWant {
			return nil, false, fmt.Errorf("%w: wants[%d]: variant %q wants %d units in all, more than %d", ErrLine, i, w.VariantID, need[j], maxWant)
		}
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
	r.solve()
	return r.allocate(vars), !r.exhausted, nil
}

// solve answers component by component. Variants that share no
// candidate warehouse, even through others, are independent, and both
// parts of the cost add up over components, so the best answer is the
// union of the components' best answers; a typical order's lines are
// each their own component. The search budget is shared, smallest
// component first; once it runs out the rest keep their greedy answers.
func (r *router) solve() {
	nv, nw := len(r.need), len(r.ids)
	parent := make([]int, nv)
	for j := range parent {
		parent[j] = j
	}
	var find func(int) int
	find = func(j int) int {
		for parent[j] != j {
			parent[j] = parent[parent[j]]
			j = parent[j]
		}
		return j
	}
	for w := range nw {
		for _, s := range r.stock[w][1:] {
			parent[find(s.v)] = find(r.stock[w][0].v)
		}
	}
	r.compOf = make([]int, nv)
	var comps [][]int
	index := map[int]int{}
	for j := range nv {
		root := find(j)
		c, ok := index[root]
		if !ok {
			c = len(comps)
			index[root] = c
			comps = append(comps, nil)
		}
		comps[c] = append(comps[c], j)
		r.compOf[j] = c
	}
	order := make([]int, len(comps))
	for c := range order {
		order[c] = c
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(comps[a]), len(comps[b])) })
	r.answer = make([]bool, nw)
	r.mark = make([]int, nw)
	for _, c := range order {
		r.cur, r.comp = c, comps[c]
		r.greedy()
		r.search(0, 0)
		for _, w := range r.best {
			r.answer[w] = true
		}
	}
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
	for _, j := range r.comp {
		if r.cover[j] < r.need[j] {
			return false
		}
	}
	return true
}

// greedy finds a first answer for the component: repeatedly add the
// warehouse that completes the most still-short variants (then
// contributes the most missing units, then is nearest), then drop,
// farthest first, every chosen warehouse the others can do without. It
// bounds the exact search and is the answer when the budget runs out.
func (r *router) greedy() {
	var set []int
	for !r.covered() {
		bw, bDone, bUnits := -1, 0, 0
		for w := range r.stock {
			if r.chosen[w] || r.compOf[r.stock[w][0].v] != r.cur {
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
	r.best = append(r.best[:0], kept...)
}

// bound returns the short variant with the fewest open candidates (-1
// when none is short) and a lower bound on what the answer still needs:
// short variants whose open candidates are pairwise disjoint each need a
// warehouse of their own, at least as far as their nearest candidate.
func (r *router) bound() (v, size int, dist float64) {
	v, open := -1, math.MaxInt
	r.epoch++
	for _, j := range r.comp {
		if r.cover[j] >= r.need[j] {
			continue
		}
		k, disjoint, nearest := 0, true, -1
		for _, w := range r.cands[j] {
			if r.chosen[w] || r.forbidden[w] {
				continue
			}
			if k++; nearest < 0 {
				nearest = w
			}
			disjoint = disjoint && r.mark[w] != r.epoch
		}
		if k < open {
			v, open = j, k
		}
		if disjoint && nearest >= 0 {
			size++
			dist += r.dist[nearest]
			for _, w := range r.cands[j] {
				r.mark[w] = r.epoch
			}
		}
	}
	return v, size, dist
}

// search is the exact branch and bound over the component: take the
// short variant with the fewest open candidates and branch on which of
// them joins the set, the i-th branch forbidding the candidates before
// it, so that every set is visited once. A branch is cut when its lower
// bound cannot beat the best answer or when forbidding leaves some
// variant unreachable.
func (r *router) search(size int, dist float64) {
	if r.nodes++; r.nodes > r.budget {
		r.exhausted = true
		return
	}
	v, lbSize, lbDist := r.bound()
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
	if !better(size+lbSize, dist+lbDist, r.bestSize, r.bestDist) {
		return
	}
	base := len(r.stack)
branches:
	for _, w := range r.cands[v] {
		if r.chosen[w] || r.forbidden[w] {
			continue
		}
		// Candidates are nearest first: once one cannot beat the best,
		// none after it can.
		if !better(size+1, dist+r.dist[w], r.bestSize, r.bestDist) {
			break
		}
		r.add(w, 1)
		r.search(size+1, dist+r.dist[w])
		r.add(w, -1)
		if r.exhausted {
			break
		}
		r.forbidden[w] = true
		r.stack = append(r.stack, w)
		for _, s := range r.stock[w] {
			r.reach[s.v] -= s.units
		}
		for _, s := range r.stock[w] {
			if r.reach[s.v] < r.need[s.v] {
				break branches
			}
		}
	}
	for _, w := range r.stack[base:] {
		r.forbidden[w] = false
		for _, s := range r.stock[w] {
			r.reach[s.v] += s.units
		}
	}
	r.stack = r.stack[:base]
}

// allocate turns the best set into lines: a variant comes from the
// nearest chosen warehouse holding all of it, or else is filled from the
// chosen warehouses nearest first.
func (r *router) allocate(vars []string) []Line {
	in := r.answer
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
