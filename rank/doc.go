// Package rank holds Aisle's scoring as pure functions: BM25F over the
// product fields, the blend of text relevance with business signals (sales
// velocity, rating, seller quality, recency, stock), and a bounded top-k heap.
//
// Nothing here knows about indexes or I/O; everything is safe for concurrent
// use, and a TopK belongs to one goroutine at a time.
package rank
