package index

import (
	"errors"
	"fmt"
	"slices"
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
	// SyncMergeDocs is the most documents a merge copies inside Apply;
	// a larger merge runs in the background while Applies go on, so an
	// update never waits for the shard to be copied whole. Default
	// 32,768; negative makes every merge synchronous.
	SyncMergeDocs int
	// MergeSlots, when set, is shared by the shards of an engine: a
	// background merge holds a slot while it copies, so merges never
	// take more cores than the slots.
	MergeSlots chan struct{}
	// Now returns the time used for recency; nil means time.Now.
	Now func() time.Time
	// Filters, when set, caches combinations of filter bitmaps per
	// segment; the shards of an engine share one.
	Filters *FilterCache
}

// Shard is one partition of the index. See the package comment for its
// concurrency rules.
type Shard struct {
	opts Options
	mu   sync.Mutex // serialises Apply
	snap atomic.Pointer[snapshot]
	// mergeFrom and mergeTo are the segments a background merge is
	// copying (mergeTo 0: none), under mu; merges waits for it.
	mergeFrom, mergeTo int
	merges             sync.WaitGroup
	// mergeHook, for tests, runs in a background merge before it takes
	// the lock to swap its result in.
	mergeHook func()
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
	if opts.SyncMergeDocs == 0 {
		opts.SyncMergeDocs = 32 << 10
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
// starts at the first segment no larger than half of all later ones
// together, which makes merges logarithmic (a document is copied O(log n)
// times however small the batches it arrives in) and leaves two large
// segments of similar size apart until the newer ones outgrow them, rather
// than copying a whole shard for the sake of a few small segments. A merge
// of more than SyncMergeDocs
// documents runs in the background (one at a time); meanwhile only the
// segments after it are considered.
func (s *Shard) merge(n *snapshot) {
	lo := s.mergeTo // segments before lo are being merged, or precede them
	if len(n.segs)-lo < 2 {
		return
	}
	live := func(i int) int {
		c := n.segs[i].len()
		if n.dels[i] != nil {
			c -= int(n.dels[i].GetCardinality())
		}
		return c
	}
	suffix := make([]int, len(n.segs)+1)
	for i := len(n.segs) - 1; i >= lo; i-- {
		suffix[i] = suffix[i+1] + live(i)
	}
	from := len(n.segs) - 2
	for j := lo; j < len(n.segs)-1; j++ {
		if 2*live(j) <= suffix[j+1] {
			from = j
			break
		}
	}
	docs := 0
	for _, seg := range n.segs[from:] {
		docs += seg.len()
	}
	if docs > s.opts.SyncMergeDocs && s.opts.SyncMergeDocs >= 0 {
		if s.mergeTo == 0 {
			segs := slices.Clone(n.segs[from:])
			dels := slices.Clone(n.dels[from:])
			s.mergeFrom, s.mergeTo = from, len(n.segs)
			s.merges.Go(func() { s.mergeBehind(from, segs, dels) })
			return
		}
		if len(n.segs) <= 2*s.opts.MaxSegments {
			return // wait for the background merge rather than copy as much again
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

// mergeBehind merges segs (n.segs[from:...] when the merge began, with the
// deletions then) outside the lock, then swaps the result in for them,
// deleting in it what Applies deleted from them meanwhile. If the shard
// was replaced meanwhile (LoadSnapshot), the result is dropped.
func (s *Shard) mergeBehind(from int, segs []*segment, dels []*roaring.Bitmap) {
	if s.opts.MergeSlots != nil {
		s.opts.MergeSlots <- struct{}{}
	}
	m := mergeSegments(segs, dels, &s.opts, s.opts.Now())
	if s.opts.MergeSlots != nil {
		<-s.opts.MergeSlots
	}
	if s.mergeHook != nil {
		s.mergeHook()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mergeFrom, s.mergeTo = 0, 0
	cur := s.snap.Load()
	to := from + len(segs)
	if len(cur.segs) < to || !slices.Equal(cur.segs[from:to], segs) {
		return
	}
	// The merged segment numbers the documents live at the start in
	// order; a document deleted since keeps its number less the earlier
	// ones deleted at the start.
	var extra *roaring.Bitmap
	base := 0
	for i, seg := range segs {
		was, now := dels[i], cur.dels[from+i]
		if now != nil && now != was {
			it := now.Iterator()
			for it.HasNext() {
				d := it.Next()
				if was != nil && was.Contains(d) {
					continue
				}
				nd := base + int(d)
				if was != nil {
					nd -= int(was.Rank(d))
				}
				if extra == nil {
					extra = roaring.New()
				}
				extra.Add(uint32(nd))
			}
		}
		base += seg.len()
		if was != nil {
			base -= int(was.GetCardinality())
		}
	}
	next := &snapshot{segs: slices.Clone(cur.segs[:from]), dels: slices.Clone(cur.dels[:from])}
	if m.len() > 0 {
		next.segs = append(next.segs, m)
		next.dels = append(next.dels, extra)
	}
	next.segs = append(next.segs, cur.segs[to:]...)
	next.dels = append(next.dels, cur.dels[to:]...)
	next.stats()
	s.snap.Store(next)
}

// WaitMerges waits for the background merge, if one runs.
func (s *Shard) WaitMerges() { s.merges.Wait() }

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
