// Package rank owns scoring as pure functions: BM25F over the product
// fields, the blend of text relevance with business signals, explanations
// and a bounded top-k heap. No index, no I/O.
//
// Nothing here knows about indexes or I/O; everything is safe for concurrent
// use, and a TopK belongs to one goroutine at a time.
package rank
