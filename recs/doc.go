// Package recs owns the recommendations: also bought and bought together
// (batch build from orders), similar items (embeddings and an HNSW graph),
// home page rows and live co-purchases, and their snapshot file.
//
// Build counts co-purchases over a set of Orders and keeps, per item, the
// TopN neighbours under one of two scorers: Cosine, the cosine between item
// vectors whose dimensions are orders (Linden, Smith and York 2003), or
// SmithLinden, the popularity-corrected (N_xy - E_xy) / sqrt(E_xy) of Smith
// and Linden 2017. Bundles of two and three items pass support, confidence
// and lift thresholds. Counting is sparse and bounded: one dense counter
// array per worker, baskets capped at Options.MaxBasket items, and only the
// top lists kept. Evaluate measures basket completion on held-out orders.
//
// Similar items come from Embed: item vectors from a randomized truncated
// SVD of an item-item co-purchase matrix (PPMI or cosine), indexed in
// Aisle's own HNSW graph (BuildHNSW, Malkov and Yashunin). EvaluateSimilar
// scores them on the held-out baskets as Evaluate does the lists.
//
// Home builds the home page rows: a personalized row from a user's orders
// (Observe) and the also-bought lists, and a popular row; EvaluateHome
// scores the personalized row on held-out baskets. Live counts the
// co-purchases of orders seen since the snapshot was built, and Fresh
// layers them on a snapshot's lists between builds.
//
// Lists and embeddings (vectors and graph) are written and read as one
// versioned, checksummed, zstd-compressed snapshot (WriteSnapshot,
// ReadSnapshot; the layout is in doc/recs.md).
//
// Concurrency and lifetimes: Build and Evaluate are safe to call
// concurrently on distinct inputs and do not keep Orders after they return.
// A *Lists is immutable once built or read: AlsoBought and BoughtTogether
// may run concurrently from any number of goroutines; so may the read
// methods of an *HNSW and an *Embeddings, immutable once built. Every
// method of a *Home and a *Live is safe for concurrent use. Stock is
// not part of the lists: serving filters through the caller's Products, so
// an item out of stock now disappears at once.
package recs
