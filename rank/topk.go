package rank

import "slices"

// Hit is one scored document of a shard. Key orders hits (larger first);
// Score is the relevance score, kept for explanations and for sponsored
// placement when the order is by another key.
type Hit struct {
	Doc   uint32
	Key   float64
	Score float64
}

// better reports whether a ranks before b: larger key, then larger score,
// then smaller doc number, so the order is total and deterministic.
func better(a, b *Hit) bool {
	if a.Key != b.Key {
		return a.Key > b.Key
	}
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Doc < b.Doc
}

// TopK keeps the k best hits pushed into it, in a min-heap whose root is the
// worst kept hit. Reset reuses its memory.
type TopK struct {
	k    int
	heap []Hit
}

// NewTopK returns a TopK for k hits.
func NewTopK(k int) *TopK {
	t := &TopK{}
	t.Reset(k)
	return t
}

// Reset empties t and sets its size to k, keeping its memory.
func (t *TopK) Reset(k int) {
	t.k = k
	t.heap = t.heap[:0]
}

// Len returns the number of hits kept.
func (t *TopK) Len() int { return len(t.heap) }

// Full reports whether t holds k hits, so a new hit must beat Min to enter.
func (t *TopK) Full() bool { return len(t.heap) >= t.k }

// Min returns the worst hit kept; only valid when Len() > 0.
func (t *TopK) Min() Hit { return t.heap[0] }

// Push offers h and reports whether it was kept.
func (t *TopK) Push(h Hit) bool {
	if t.k <= 0 {
		return false
	}
	if len(t.heap) < t.k {
		t.heap = append(t.heap, h)
		t.up(len(t.heap) - 1)
		return true
	}
	if !better(&h, &t.heap[0]) {
		return false
	}
	t.heap[0] = h
	t.down(0)
	return true
}

// Sorted returns the kept hits best first, appended to dst. t is left empty.
func (t *TopK) Sorted(dst []Hit) []Hit {
	start := len(dst)
	dst = append(dst, t.heap...)
	out := dst[start:]
	slices.SortFunc(out, func(a, b Hit) int {
		if better(&a, &b) {
			return -1
		}
		if better(&b, &a) {
			return 1
		}
		return 0
	})
	t.heap = t.heap[:0]
	return dst
}

// Less orders hits from different shards, as TopK does; ties between
// shards are broken by the caller.
func Less(a, b *Hit) bool { return better(a, b) }

func (t *TopK) up(i int) {
	h := t.heap
	for i > 0 {
		p := (i - 1) / 2
		if !better(&h[p], &h[i]) {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (t *TopK) down(i int) {
	h := t.heap
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && better(&h[l], &h[r]) {
			w = r
		}
		if !better(&h[i], &h[w]) {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}
