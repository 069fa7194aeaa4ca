// Package index owns one shard of the inverted index, in memory: segments,
// term dictionary, postings, roaring facets and filters, numeric columns,
// deletes, merges, per-shard evaluation calling rank, and the snapshot format.
//
// A Shard is a list of immutable segments plus a deleted-documents bitmap per
// segment, published together as a snapshot behind an atomic pointer. Each
// segment has a term dictionary, postings with the per-field term frequencies
// and field lengths BM25F needs, roaring bitmaps for every filter and facet
// value, and numeric columns (price, rating, sales, created) for range
// filters and sorting.
//
// Concurrency: any number of goroutines may Search a Shard while one Apply
// runs; Apply calls are serialised by the shard. A search loads the snapshot
// once and sees either all of an Apply's changes or none of them, so a query
// never sees half an update. Products handed to Apply must not be modified
// afterwards: the index keeps the pointers and returns them in hits.
//
// Facet values (brands, category nodes, attribute values) are numbered in a
// Dicts shared by all shards of an engine, so shards count facets into arrays
// indexed by those numbers and the engine adds the arrays up without strings.
package index
