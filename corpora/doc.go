// Package corpora owns the real data sets shipped inside the binary (Icecat,
// Instacart, BigBasket, FIMI retail, spelling lists, warehouses) and their
// loaders into catalog products, orders and judgments.
//
// Three public data sets are embedded with go:embed, compressed with zstd
// (README.md gives their sources, licences, schemas and every change made):
// Icecat (electronics, with graded relevance judgements), BigBasket
// (grocery and household, with a category tree and pack variants) and
// Instacart (grocery, with real orders). Icecat, BigBasket and Instacart
// return one set each, DefaultStore all three; IcecatJudgments returns the
// judgements keyed by the ids of Icecat.
//
// Fields a source lacks (stock, sellers, most ratings, some prices) are
// generated with a fixed seed, keyed by product id, so every load returns
// identical products whatever the order or subset loaded. Each generated
// field is named in catalog.Product.Generated, and no evaluation may use it.
//
// Concurrency and lifetimes: the package has no mutable state. Every call
// decodes afresh and returns new values that the caller owns; callers that
// load more than once should cache. Calls may run concurrently, and
// DefaultStore decodes its three sets in parallel. Category slices are shared
// between products of a set and must not be modified.
package corpora
