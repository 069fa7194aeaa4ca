// Package auth owns the credentials: seller and admin API keys stored as
// argon2id hashes in one key file (KeyStore), and user tokens signed with
// HMAC-SHA256 (Tokens). Storage and verification only; no HTTP.
//
// A KeyStore and a Tokens are safe for concurrent use. A KeyStore rereads
// its file, at most once a second, when another process (aisle seller)
// changed it; verified keys are cached for the store's TTL. Files are
// written through internal/atomicfile with mode 0600.
package auth
