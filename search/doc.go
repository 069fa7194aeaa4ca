// Package search owns the engine a storefront calls: the fan-out of a
// typed Request over the index shards, merging hits and facets, relaxation,
// spelling fallback, sponsored slots and pagination.
//
// An Engine is safe for concurrent use: searches run while products are
// upserted and deleted, and each search sees every shard at one consistent
// snapshot.
//
// The same merge serves a router over remote shards (NewRouter): shard.go
// is the contract an engine answers for some of its shards (global BM25F
// statistics, per-shard top K with facet counts by name), remote.go the
// router's side. A router over any split of the shards gives the answer of
// one engine holding them all (TestRouterEquivalence).
package search
