// Package bench owns the benchmark workloads (indexing, relevance, load,
// scale, import) as Config and Run, with Bleve and PostgreSQL as peers; it
// has no flags and is never linked into the serving binary.
//
// It measures Aisle against the engines a team would pick
// instead, in one run, on the same machine, data and queries.
//
// A run (Run with a Config) builds every engine over the same products and
// measures four workloads: indexing (documents per second, peak heap, bytes
// of index per product), relevance (NDCG@10, recall@100, MRR and the
// zero-result rate over the judged Icecat queries), throughput and latency
// (a fixed-seed query log replayed at fixed concurrency levels for a fixed
// time) and, optionally, scale (the real catalog grown to larger sizes).
// The peers are Bleve v2 (scorch, BM25, in memory) and PostgreSQL full-text
// search in a cluster the run starts and stops itself.
//
// The package owns no flags and no globals: cmd/aisle-bench wraps Run (and
// is never linked into the serving binary, which would then carry Bleve and
// pgx), and the Go benchmarks and the regression guard in this
// package's tests call the same workload code.
//
// Concurrency and lifetimes: Run is safe to call from one goroutine at a
// time per Config; it owns every engine it builds and closes them, and the
// temporary directories it makes, before it returns. A Report is plain data
// that the caller owns.
package bench
