// Package server owns the storefront HTTP API and nothing else: fasthttp
// handlers, request validation, JSON, auth middleware, limits and metrics,
// built once from a Services struct of the interfaces it needs.
//
// It is Aisle's storefront HTTP API, served with fasthttp:
// product search with facets, the product page, autocomplete and
// recommendations; seller writes with API keys (verified by package auth,
// behind KeyVerifier and UserVerifier); the shopper's cart,
// checkout, orders and reviews with user tokens (cart.go, checkout.go,
// orders.go, review.go, over the commerce services of Services); the
// storefront page embedded at / (web.go);
// a health check and Prometheus metrics. doc/api.md and the documents it
// links describe every endpoint, parameter, limit and error code, and
// doc/security.md who may call which.
//
// The server validates every request before it reaches the engine: a bad
// parameter is answered with 400 and a JSON error naming it, and unknown
// parameters are refused so that typos do not silently widen a search.
// Prices in the API are decimal amounts in major units (19.99); the engine
// works in minor units (1999).
//
// The search path is built for tens of thousands of requests a second: the
// query string is parsed from fasthttp's Args into a pooled search.Request,
// and the response is appended by hand into a pooled buffer. The colder
// product page and error bodies use encoding/json.
//
// A Server is built once by New from Services (what it serves from, each
// the small interface it needs; the services that come and go while it
// runs are funcs whose owner, package app, swaps what they return) and
// Options (limits and timeouts). It has no setters.
//
// A Server is safe for concurrent use. Its Engine must be safe for
// concurrent use and must not keep a *search.Request after Search returns.
// Metrics live on the Server and are exposed only through /metrics; the
// only package-level state is a pool of response buffers.
package server
