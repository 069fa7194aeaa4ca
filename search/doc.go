// Package search is the engine a storefront calls: it fans a Request out over
// the index shards, merges their hits and facet counts, relaxes queries and
// filters that find nothing, places sponsored products, and paginates.
//
// An Engine is safe for concurrent use: searches run while products are
// upserted and deleted, and each search sees every shard at one consistent
// snapshot.
package search
