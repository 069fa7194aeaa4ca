package spell

// damerau is a vellum.Automaton that accepts the keys within max
// optimal-string-alignment edits of q (insertions, deletions,
// substitutions and transpositions of adjacent bytes each cost one),
// comparing bytes. It is the classic dynamic-programming row carried
// through the FST walk: a state is one row, created when the walk first
// asks for it and kept in flat buffers that reset reuses, so a lookup
// allocates nothing once the buffers have grown. vellum's own Levenshtein
// DFA costs a 10,000-state table per query word (about 400 kB), which is
// most of a correction's time.
//
// State 0 is dead; state 1 is the start. A damerau is not safe for
// concurrent use; Corrector pools them.
type damerau struct {
	q    []byte
	max  uint8
	w    int     // len(q)+1, the row width
	rows []uint8 // row of state s at rows[s*w : (s+1)*w], values capped at max+1
	prev []int32 // the state s was reached from
	last []byte  // the byte that reached s
	dep  []int32 // the key bytes read to reach s
}

func (a *damerau) reset(q string, max int) {
	a.q = append(a.q[:0], q...)
	a.max = uint8(max)
	a.w = len(q) + 1
	a.rows = a.rows[:0]
	a.prev = a.prev[:0]
	a.last = a.last[:0]
	a.dep = a.dep[:0]
	// state 0: dead (its row is never read)
	a.rows = append(a.rows, make([]uint8, a.w)...)
	a.prev = append(a.prev, 0)
	a.last = append(a.last, 0)
	a.dep = append(a.dep, 0)
	// state 1: the start row 0, 1, 2, ...
	for j := range a.w {
		a.rows = append(a.rows, uint8(min(j, max+1)))
	}
	a.prev = append(a.prev, 0)
	a.last = append(a.last, 0)
	a.dep = append(a.dep, 0)
}

func (a *damerau) Start() int               { return 1 }
func (a *damerau) CanMatch(s int) bool      { return s > 0 }
func (a *damerau) WillAlwaysMatch(int) bool { return false }
func (a *damerau) IsMatch(s int) bool       { return s > 0 && a.rows[(s+1)*a.w-1] <= a.max }
func (a *damerau) row(s int) []uint8        { return a.rows[s*a.w : (s+1)*a.w] }
func (a *damerau) EditDistance(s int) uint8 { return a.rows[(s+1)*a.w-1] }

func (a *damerau) Accept(s int, b byte) int {
	if s <= 0 {
		return 0
	}
	w, capV := a.w, a.max+1
	n := len(a.rows) / w
	a.rows = append(a.rows, make([]uint8, w)...)
	cur := a.rows[n*w : (n+1)*w]
	row := a.rows[s*w : (s+1)*w]
	var gp []uint8 // the row before row, for transpositions
	if s > 1 {
		gp = a.rows[int(a.prev[s])*w : (int(a.prev[s])+1)*w]
	}
	lastB := a.last[s]
	// Only cells within max of the diagonal can hold max or less.
	i := int(a.dep[s]) + 1
	lo, hi := max(1, i-int(a.max)), min(w-1, i+int(a.max))
	if i <= int(a.max) {
		cur[0] = uint8(i)
	} else {
		cur[0] = capV
	}
	best := cur[0]
	for j := 1; j < lo; j++ {
		cur[j] = capV
	}
	for j := lo; j <= hi; j++ {
		cost := uint8(1)
		if a.q[j-1] == b {
			cost = 0
		}
		v := min(row[j-1]+cost, row[j]+1, cur[j-1]+1)
		if gp != nil && j > 1 && a.q[j-1] == lastB && a.q[j-2] == b && a.q[j-1] != b {
			v = min(v, gp[j-2]+1)
		}
		v = min(v, capV)
		cur[j] = v
		best = min(best, v)
	}
	for j := hi + 1; j < w; j++ {
		cur[j] = capV
	}
	if best > a.max {
		a.rows = a.rows[:n*w]
		return 0
	}
	a.prev = append(a.prev, int32(s))
	a.last = append(a.last, b)
	a.dep = append(a.dep, int32(i))
	return n
}
