// Package ingest owns Kafka consumption of the catalog: the one partition
// consumer, versioned idempotent apply, partition logs and snapshots, dead
// letters, the seller writer, imports, and the one-method Sink it feeds.
//
// It keeps the search index fresh from Kafka: it consumes the
// catalog topics (products, prices, inventory), applies every event
// idempotently by its per-aspect version, and hands the resulting products
// to a one-method Sink that package app wires to the index.
//
// Work is split by partition number: the topics have as many partitions as
// the index has shards, and a product's events are keyed by its id, so
// partition p of every topic holds the events of the products of shard p.
// One goroutine per partition number owns that shard's state, so no state is
// shared between goroutines.
//
// Durability follows doc/ingest.md: a batch is applied to the partition's
// state, the changed product records and the next offsets are appended to
// the partition's log and fsynced, the Sink is called, and only then are the
// offsets committed to Kafka. On restart the logs are replayed and each
// partition resumes from the offsets recorded there, not from the group
// commit. Events that cannot be decoded go to <topic>.dlq with ProduceSync
// before their offset moves on.
package ingest
