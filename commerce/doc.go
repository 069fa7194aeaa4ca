// Package commerce owns the thin commerce services behind search: cart,
// inventory reservations, checkout and payments (sandbox), orders and their
// routing and fulfilment, reviews; one store (bbolt or PostgreSQL) and its outbox.
//
// It holds the thin commerce services behind the search
// engine, all kept in one embedded bbolt file: a cart that never loses an
// item, inventory reservations that never oversell, checkout with a
// sandbox payment provider and idempotency keys (checkout.go, order.go,
// payment.go), routing of orders to warehouses and their fulfillment
// (route.go, warehouse.go, fulfill.go), and reviews with abuse rules
// (review.go, abuse.go). Whatever the rest of the system must hear of is
// enqueued in a transactional outbox in the same transaction as the write
// and published by Store.Relay through a Publisher the caller provides
// (outbox.go): this layer imports no Kafka client.
//
// # Cart
//
// A Cart is an add-wins observed-remove map (an OR-Map, as Riak's data
// types build it) from variant id to quantity. Every local write takes a
// new causal dot (replica, counter) from the cart's version vector; an
// entry keeps the dots of the writes that set it and no others. A remove
// forgets only the dots it has observed, so a write made concurrently on
// another replica survives the merge (add wins), and a write it did
// observe never comes back (no resurfacing deletes). Merge is
// commutative, associative and idempotent; Encode is deterministic.
//
// # Store
//
// The logic speaks to its database through a small transactional
// key-value interface shaped like bbolt's (kv.go): buckets of sorted keys
// read and written inside one transaction that may run more than once.
// bbolt implements it as the embedded default; PostgreSQL (Options.DB,
// postgres.go and pgbatch.go) lets several processes share one store,
// with SERIALIZABLE transactions retried on conflicts.
//
// A Store keeps carts and stock in one bbolt file. Every committed
// transaction is fsynced before the call returns, so an acknowledged
// write survives a crash. Update runs a function on one cart inside one
// read-write transaction; inventory operations check every line and write
// every cell inside one transaction, so available never goes negative and
// a multi-line reservation is all or nothing. With Options.GroupCommit,
// concurrent writes share a transaction and its fsync (bbolt's Batch).
//
// # Concurrency and lifetimes
//
// A Cart is a value owned by one goroutine; it is not safe for concurrent
// use. A Store, a Checkout, a Reviews and a Warehouses are safe for
// concurrent use; a Store must be closed, after the loops running over it
// (Relay, SimulateCarrier) have returned. Carts passed to an Update
// function are valid only during the call.
package commerce
