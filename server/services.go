package server

// Services are what a Server serves from, given once to New: the engine
// and every optional service, each as the small interface the server needs
// (nil turns its endpoints off, as each field says). A service that comes
// and goes while the server runs (the ingest of the index generation
// serving, recommendations still building) is a func returning the current
// one; its owner (package app) swaps what it returns. The server holds no
// setters and asserts no types.
type Services struct {
	// Engine answers search and the product page; required.
	Engine Engine
	// Suggester answers autocomplete; nil: /api/v1/suggest answers 404.
	Suggester Suggester
	// Caches reports the engine's caches in /metrics; nil: none.
	Caches CacheReporter
	// Variants finds the product of a variant, for the cart and checkout
	// (CartOptions.Variants and CheckoutOptions.Variants win when set).
	Variants VariantFinder
	// Ready reports whether the engine holds the whole store; /healthz
	// answers 503 until it does. nil: always ready.
	Ready func() bool
	// Ingest returns the write path of the generation serving: the
	// catalog writer and the consumer. Either may be nil (no broker, or
	// none yet): writes then answer 503, and min_offset answers at once
	// with Aisle-Stale: true. nil: always (nil, nil).
	Ingest func() (Catalog, Feed)
	// Recs and Similar return the current recommendation lists and
	// similar items, nil while they load (their endpoints answer 503).
	Recs    func() Recommender
	Similar func() SimilarItems
	// Home serves the home page rows; nil: the endpoint answers 503.
	Home HomeRows
	// Cart serves the cart endpoints; nil turns them off (501).
	Cart        CartStore
	CartOptions CartOptions
	// Checkout serves checkout and orders (with CheckoutOptions.Carts);
	// nil turns them off (501).
	Checkout        Checkouts
	CheckoutOptions CheckoutOptions
	// Reviews serves the review endpoints, Moderator the moderation
	// queue (admin key); nil turns them off (501).
	Reviews   Reviewer
	Moderator Moderator
	// Guests signs guest tokens for POST /api/v1/guest (with Cart); nil
	// turns it off (501).
	Guests TokenSigner
	// DemoUserID and DemoUserToken are the demo user that
	// POST /api/v1/session/demo answers to loopback clients (the
	// storefront page's dev sign-in); empty turns it off (404).
	DemoUserID, DemoUserToken string
}
