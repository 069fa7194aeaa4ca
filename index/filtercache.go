package index

import (
	"encoding/binary"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/maypok86/otter/v2"
	"github.com/maypok86/otter/v2/stats"
)

// FilterCache holds, per segment, the intersection of a combination of
// bitmap filters that searches asked for (a category subtree with some
// brands, in stock, attribute values), so that a storefront's common
// combinations are intersected once per segment instead of once per
// search. Segments are immutable, so an entry never goes stale: one of a
// segment merged away is no longer asked for and ages out. The cache is
// bounded by the bytes of its bitmaps. One FilterCache is shared by all
// shards of an engine; it is safe for concurrent use.
type FilterCache struct {
	c     *otter.Cache[filterKey, *roaring.Bitmap]
	stats *stats.Counter
	ids   atomic.Uint64 // the last segment number handed out
}

type filterKey struct {
	seg uint64
	sig string
}

// NewFilterCache returns a cache of at most bytes of bitmaps.
func NewFilterCache(bytes int64) *FilterCache {
	st := stats.NewCounter()
	return &FilterCache{
		stats: st,
		c: otter.Must(&otter.Options[filterKey, *roaring.Bitmap]{
			MaximumWeight: uint64(bytes),
			Weigher: func(k filterKey, bm *roaring.Bitmap) uint32 {
				return uint32(min(len(k.sig)+48+int(bm.GetSizeInBytes()), 1<<31))
			},
			StatsRecorder: st,
		}),
	}
}

// FilterCacheStats are the cache's counters.
type FilterCacheStats struct {
	Hits, Misses, Evictions uint64
	Bytes, Capacity         uint64
}

// Stats returns the cache's counters since it was made.
func (c *FilterCache) Stats() FilterCacheStats {
	s := c.stats.Snapshot()
	return FilterCacheStats{Hits: s.Hits, Misses: s.Misses, Evictions: s.Evictions,
		Bytes: c.c.WeightedSize(), Capacity: c.c.GetMaximum()}
}

// segmentID returns the number the cache knows seg by, handing one out
// the first time.
func (c *FilterCache) segmentID(seg *segment) uint64 {
	if id := seg.cacheID.Load(); id != 0 {
		return id
	}
	id := c.ids.Add(1)
	if seg.cacheID.CompareAndSwap(0, id) {
		return id
	}
	return seg.cacheID.Load()
}

// filterSig appends to b the signature of the bitmap filters of one
// narrowing: the exclusion, then every set's bitmaps by their position in
// the filter.
func filterSig(b []byte, exclude int, f *Filter) []byte {
	b = binary.AppendVarint(b, int64(exclude))
	b = binary.AppendVarint(b, int64(f.Category))
	b = binary.AppendUvarint(b, uint64(len(f.Brands)))
	for _, o := range f.Brands {
		b = binary.AppendUvarint(b, uint64(o))
	}
	if f.InStock {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, vals := range f.Attrs {
		b = binary.AppendUvarint(b, uint64(len(vals)))
		for _, o := range vals {
			b = binary.AppendUvarint(b, uint64(o))
		}
	}
	return b
}

// combined returns the intersection of sets (each a union of bitmaps),
// from the cache when c holds it. The result is shared and read only.
func (c *FilterCache) combined(seg *segment, sig []byte, sets [][]*roaring.Bitmap) *roaring.Bitmap {
	compute := func() *roaring.Bitmap {
		var out *roaring.Bitmap
		for _, set := range sets {
			if out == nil {
				if len(set) == 1 {
					out = set[0].Clone()
				} else {
					out = roaring.FastOr(set...)
				}
				continue
			}
			andAny(out, set)
		}
		out.RunOptimize()
		return out
	}
	if c == nil {
		return compute()
	}
	k := filterKey{seg: c.segmentID(seg), sig: string(sig)}
	if bm, ok := c.c.GetIfPresent(k); ok {
		return bm
	}
	bm := compute()
	c.c.Set(k, bm)
	return bm
}
