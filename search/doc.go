// Package search owns the engine a storefront calls: the fan-out of a
// typed Request over the index shards, merging hits and facets, relaxation,
// spelling fallback, sponsored slots and pagination.
//
// An Engine is safe for concurrent use: searches run while products are
// upserted and deleted, and each search sees every shard at one consistent
// snapshot.
package search
