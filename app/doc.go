// Package app owns the running application: Options/Validate, Open and
// Close; index generations and their reindex swap, ingest, the commerce
// runtime, recommendations, and every background goroutine and its shutdown.
//
// Open listens first, so /healthz answers 503 while the store loads, and
// returns; the load, ingest, commerce loops and recommendation builds run
// in the background under one group. Close drains the HTTP API, then
// cancels the background work, waits for all of it and closes the stores.
// An App holds no package-level state: several may run in one process
// (the tests do), each on its own data directory.
package app
