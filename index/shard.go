package index

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/rank"
)

// ErrClosed is returned by Apply on a closed shard.
var ErrClosed = errors.New("index: shard closed")

// Options configure a Shard.
type Options struct {
	Rank  rank.Options
	Dicts *Dicts
	// FacetAttrs are the attribute names counted as facets; each gets a
	// column of value numbers per segment.
	FacetAttrs []string
	// MaxSegments is how many segments a shard keeps before it merges the
	// small ones.
	MaxSegments int
	// Now returns the time used for recency; nil means time.Now.
	Now func() time.Time
}

// Shard is one partition of the index. See the package comment for its
// concurrency rules.
type Shard struct {
	opts Options
	mu   sync.Mutex // serialises Apply
	snap atomic.Pointer[snapshot]
}

// snapshot is what a search sees: segments and their deletions, never
// modified once published.
type snapshot struct {
	segs   []*segment
	dels   []*roaring.Bitmap // per segment; nil when none deleted
	live   int
	lenSum [rank.NumFields]uint64
	docs   int // documents in all segments, deleted ones included
}

// NewShard returns an empty shard.
func NewShard(opts Options) (*Shard, error) {
	if opts.Dicts == nil {
		return nil, errors.New("index: Options.Dicts is nil")
	}
	if err := opts.Rank.Validate(); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	for i, n := range opts.FacetAttrs {
		opts.FacetAttrs[i] = AttrName(n)
	}
	if opts.MaxSegments <= 0 {
		opts.MaxSegments = 8
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Shard{opts: opts}
	s.snap.Store(&snapshot{})
	return s, nil
}

// Apply upserts ps and deletes the products with ids in del, as one atomic
// change: a concurrent search sees all of it or none. A product id present in
// both is upserted. Apply keeps the product pointers.
func (s *Shard) Apply(ps []*catalog.Product, del []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	next := &snapshot{
		segs: append([]*segment(nil), old.segs...),
		dels: append([]*roaring.Bitmap(nil), old.dels...),
	}
	cloned := make([]bool, len(next.segs))
	remove := func(id string) {
		for i := len(next.segs) - 1; i >= 0; i-- {
			seg := next.segs[i]
			d, ok := seg.ids[id]
			if !ok {
				continue
			}
			if next.dels[i] != nil && next.dels[i].Contains(d) {
				continue
			}
			if !cloned[i] {
				if next.dels[i] == nil {
					next.dels[i] = roaring.New()
				} else {
					next.dels[i] = next.dels[i].Clone()
				}
				cloned[i] = true
			}
			next.dels[i].Add(d)
			return
		}
	}
	for _, id := range del {
		remove(id)
	}
	// Of the same id upserted twice in one batch, the last wins.
	seen := make(map[string]int, len(ps))
	for i, p := range ps {
		seen[p.ID] = i
	}
	var add []*catalog.Product
	for i, p := range ps {
		if seen[p.ID] != i {
			continue
		}
		remove(p.ID)
		add = append(add, p)
	}
	if len(add) > 0 {
		next.segs = append(next.segs, build(add, &s.opts, s.opts.Now()))
		next.dels = append(next.dels, nil)
	}
	if len(next.segs) > s.opts.MaxSegments {
		s.merge(next)
	}
	next.stats()
	s.snap.Store(next)
}

// merge merges a tail of n's segments into one, copying what they hold
// without re-analysing a product (mergeSegments). Segments are kept in the
// order they were made, so sizes mostly fall toward the tail; the tail merged
// starts at the first segment no larger than all later ones together, which
// makes merges logarithmic: a document is copied O(log n) times however
// small the batches it arrives in.
func (s *Shard) merge(n *snapshot) {
	live := func(i int) int {
		c := n.segs[i].len()
		if n.dels[i] != nil {
			c -= int(n.dels[i].GetCardinality())
		}
		return c
	}
	suffix := make([]int, len(n.segs)+1)
	for i := len(n.segs) - 1; i >= 0; i-- {
		suffix[i] = suffix[i+1] + live(i)
	}
	from := len(n.segs) - 2
	for j := range n.segs[:len(n.segs)-1] {
		if live(j) <= suffix[j+1] {
			from = j
			break
		}
	}
	m := mergeSegments(n.segs[from:], n.dels[from:], &s.opts, s.opts.Now())
	n.segs = n.segs[:from]
	n.dels = n.dels[:from]
	if m.len() > 0 {
		n.segs = append(n.segs, m)
		n.dels = append(n.dels, nil)
	}
}

func (n *snapshot) stats() {
	n.live, n.docs = 0, 0
	n.lenSum = [rank.NumFields]uint64{}
	for i, seg := range n.segs {
		n.docs += seg.len()
		n.live += seg.len()
		if n.dels[i] != nil {
			n.live -= int(n.dels[i].GetCardinality())
		}
		for f := range n.lenSum {
			n.lenSum[f] += seg.lenSum[f]
		}
	}
}

// Product returns the live product with id.
func (s *Shard) Product(id string) (*catalog.Product, bool) {
	snap := s.snap.Load()
	for i := len(snap.segs) - 1; i >= 0; i-- {
		seg := snap.segs[i]
		if d, ok := seg.ids[id]; ok {
			if del := snap.dels[i]; del != nil && del.Contains(d) {
				continue
			}
			return seg.docs[d], true
		}
	}
	return nil, false
}

// Stats describes the shard.
type Stats struct {
	Docs, Deleted, Segments, Terms int
	Bytes                          int64
}

// Stats returns the shard's current figures.
func (s *Shard) Stats() Stats {
	snap := s.snap.Load()
	st := Stats{Docs: snap.live, Deleted: snap.docs - snap.live, Segments: len(snap.segs)}
	for _, seg := range snap.segs {
		st.Terms += len(seg.terms)
		st.Bytes += seg.bytes
	}
	return st
}

// Each calls fn for every live product until fn returns false.
func (s *Shard) Each(fn func(*catalog.Product) bool) {
	snap := s.snap.Load()
	for i, seg := range snap.segs {
		for d, p := range seg.docs {
			if del := snap.dels[i]; del != nil && del.Contains(uint32(d)) {
				continue
			}
			if !fn(p) {
				return
			}
		}
	}
}
