package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/search"
	"github.com/aisle/aisle/spell"
	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

// Engine is what the server needs of the search engine. Search must not
// keep r, or anything it points to, after it returns: the server reuses
// the request's buffers for the next one.
type Engine interface {
	Search(ctx context.Context, r *search.Request) (*search.Result, error)
	Product(id string) (*catalog.Product, bool)
	Stats() search.Stats
}

// Suggester is the optional interface of an Engine that answers
// autocomplete; /api/v1/suggest answers 404 for an engine without it.
type Suggester interface {
	Suggest(q string, limit int) []spell.Suggestion
}

// Options configure a Server. The zero value of a field means its default.
type Options struct {
	// ReadTimeout bounds reading one request, headers and body; default 10 s.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response; default 10 s.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request; default 60 s.
	IdleTimeout time.Duration
	// SearchTimeout is the deadline given to each search; default 2 s.
	SearchTimeout time.Duration
	// MaxRequestBodySize bounds a request body in bytes; default 256 KiB,
	// room for a seller's product with the longest description
	// (catalog.MaxDescBytes). Only the write endpoints read bodies.
	MaxRequestBodySize int
	// ReadBufferSize bounds the request line and headers, and so the
	// longest query string; default 16 KiB.
	ReadBufferSize int
	// Concurrency caps the requests served at once; more connections wait
	// and are refused with 503 past it. Default 8192.
	Concurrency int
	// Currency is the store currency; its minor unit sets how price_min and
	// price_max in major units convert to the engine's minor units.
	// Default "USD".
	Currency string
	// Logf, when set, receives one line for each panic and internal error.
	Logf func(format string, args ...any)

	// Keys verifies the seller API keys of the write endpoints; without
	// it every write answers 401.
	Keys KeyVerifier
	// Tokens verifies the user tokens of RequireUser; without it every
	// such request answers 401.
	Tokens UserVerifier
	// TrustProxy takes the client of the per-client rate limits from the
	// last address of X-Forwarded-For instead of the connection; set it
	// only behind a proxy that appends that header.
	TrustProxy bool
	// SearchRate and SearchBurst are the per-client token bucket of
	// search: requests a second and the burst; defaults 50 and 100. A
	// negative rate turns the limit off.
	SearchRate  float64
	SearchBurst int
	// SuggestRate and SuggestBurst are the same for autocomplete, asked
	// once per keystroke; defaults 100 and 200.
	SuggestRate  float64
	SuggestBurst int
	// SellerWritesPerMinute and SellerWriteBurst are the per-seller token
	// bucket of writes; defaults 100 and 200.
	SellerWritesPerMinute float64
	SellerWriteBurst      int
	// KeyCheckRate and KeyCheckBurst are the per-client token bucket of
	// API key checks that need an argon2id hash (a key not seen valid or
	// wrong within the cache TTL), taken before hashing; defaults 2 a
	// second and 10. Negative: no limit.
	KeyCheckRate  float64
	KeyCheckBurst int
	// MaxInFlight caps the requests being handled at once; past it the
	// server answers a JSON 503 with Retry-After at once. Default 512.
	// /healthz and /metrics are not counted.
	MaxInFlight int
	// MaxJSONDepth bounds the nesting of a write body; default 16 (a
	// product nests 5 deep).
	MaxJSONDepth int
	// MaxJSONStringBytes bounds any one string of a write body, as
	// written; default 96 KiB, above catalog.MaxDescBytes so a long
	// description gets its own precise error.
	MaxJSONStringBytes int
	// MaxBulkProducts bounds the products of one bulk import; default
	// 10,000.
	MaxBulkProducts int
	// MaxBulkBodySize bounds the body of a bulk import carrying a valid
	// seller key (others keep MaxRequestBodySize); default 32 MiB.
	MaxBulkBodySize int
	// CompressMinBytes is the smallest search response compressed for a
	// client that accepts zstd or gzip; default 8 KiB, negative for never
	// (compress.go).
	CompressMinBytes int
}

// EnsureDefaults returns o with every zero field set to its default.
func (o Options) EnsureDefaults() Options {
	setDur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setInt := func(n *int, def int) {
		if *n == 0 {
			*n = def
		}
	}
	setDur(&o.ReadTimeout, 10*time.Second)
	setDur(&o.WriteTimeout, 10*time.Second)
	setDur(&o.IdleTimeout, 60*time.Second)
	setDur(&o.SearchTimeout, 2*time.Second)
	setInt(&o.MaxRequestBodySize, 256<<10)
	setInt(&o.ReadBufferSize, 16<<10)
	setInt(&o.Concurrency, 8192)
	setFloat := func(f *float64, def float64) {
		if *f == 0 {
			*f = def
		}
	}
	setFloat(&o.SearchRate, 50)
	setInt(&o.SearchBurst, 100)
	setFloat(&o.SuggestRate, 100)
	setInt(&o.SuggestBurst, 200)
	setFloat(&o.SellerWritesPerMinute, 100)
	setInt(&o.SellerWriteBurst, 200)
	setFloat(&o.KeyCheckRate, 2)
	setInt(&o.KeyCheckBurst, 10)
	setInt(&o.MaxInFlight, 512)
	setInt(&o.MaxJSONDepth, 16)
	setInt(&o.MaxJSONStringBytes, 96<<10)
	setInt(&o.MaxBulkProducts, 10_000)
	setInt(&o.MaxBulkBodySize, 32<<20)
	setInt(&o.CompressMinBytes, 8<<10)
	if o.Currency == "" {
		o.Currency = "USD"
	}
	return o
}

// Validate lists every problem with o, or returns nil. Zero fields are
// fine: they take their defaults.
func (o Options) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ReadTimeout", o.ReadTimeout}, {"WriteTimeout", o.WriteTimeout}, {"IdleTimeout", o.IdleTimeout}, {"SearchTimeout", o.SearchTimeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("server: Options.%s is negative (%v)", d.name, d.v))
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"MaxRequestBodySize", o.MaxRequestBodySize}, {"ReadBufferSize", o.ReadBufferSize}, {"Concurrency", o.Concurrency},
		{"SearchBurst", o.SearchBurst}, {"SuggestBurst", o.SuggestBurst}, {"SellerWriteBurst", o.SellerWriteBurst},
		{"MaxInFlight", o.MaxInFlight}, {"MaxJSONDepth", o.MaxJSONDepth}, {"MaxJSONStringBytes", o.MaxJSONStringBytes},
		{"MaxBulkProducts", o.MaxBulkProducts}, {"MaxBulkBodySize", o.MaxBulkBodySize}} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("server: Options.%s is negative (%d)", n.name, n.v))
		}
	}
	if o.ReadBufferSize > 0 && o.ReadBufferSize < 1024 {
		errs = append(errs, fmt.Errorf("server: Options.ReadBufferSize is %d, less than the minimum of 1024", o.ReadBufferSize))
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"SearchRate", o.SearchRate}, {"SuggestRate", o.SuggestRate}, {"SellerWritesPerMinute", o.SellerWritesPerMinute}} {
		if math.IsNaN(r.v) || math.IsInf(r.v, 0) {
			errs = append(errs, fmt.Errorf("server: Options.%s is %v; want a finite rate, negative for none", r.name, r.v))
		}
	}
	if o.MaxJSONStringBytes > 0 && o.MaxJSONStringBytes < catalog.MaxDescBytes {
		errs = append(errs, fmt.Errorf("server: Options.MaxJSONStringBytes is %d, less than a product description may be (%d)", o.MaxJSONStringBytes, catalog.MaxDescBytes))
	}
	if o.Currency != "" && !catalog.KnownCurrency(o.Currency) {
		errs = append(errs, fmt.Errorf("server: Options.Currency %q is not a known currency", o.Currency))
	}
	return errors.Join(errs...)
}

// Server answers the storefront HTTP API over an Engine.
type Server struct {
	eng         Engine
	opts        Options
	optsErr     error
	priceDigits int
	svc         Services
	router      *router.Router // routes.go
	metrics     metrics
	args        sync.Pool // *searchArgs
	srv         *fasthttp.Server
	owners      owners          // see auth.go
	inflight    atomic.Int64    // requests in the handler, for MaxInFlight
	fresh       freshWaits      // min_offset waits per client
	searchLim   *limiter        // per client
	suggestLim  *limiter        // per client
	writeLim    *limiter        // per seller
	keyLim      *limiter        // per client, uncached API key checks
	bulkLim     *limiter        // per key id, large bulk bodies of uncached keys (bulk.go)
	bulk        bulkJobs        // see bulk.go
	cart        *cartConfig     // see cart.go; nil without Services.Cart
	checkout    *checkoutConfig // see checkout.go; nil without Services.Checkout
}

// New returns a server over svc, built once. Invalid options are reported
// by Serve; the handler runs with the defaults of the fields it uses.
func New(svc Services, opts Options) *Server {
	s := &Server{eng: svc.Engine, svc: svc, optsErr: opts.Validate(), opts: opts.EnsureDefaults(), metrics: newMetrics()}
	if s.optsErr != nil {
		s.opts = Options{Logf: opts.Logf, Keys: opts.Keys, Tokens: opts.Tokens}.EnsureDefaults()
	}
	s.router = s.routes()
	s.cart = newCartConfig(svc)
	s.checkout = newCheckoutConfig(svc)
	s.priceDigits = minorDigits(s.opts.Currency)
	s.args.New = func() any { return &searchArgs{} }
	s.searchLim = newLimiter(s.opts.SearchRate, s.opts.SearchBurst)
	s.suggestLim = newLimiter(s.opts.SuggestRate, s.opts.SuggestBurst)
	s.writeLim = newLimiter(s.opts.SellerWritesPerMinute/60, s.opts.SellerWriteBurst)
	s.keyLim = newLimiter(s.opts.KeyCheckRate, s.opts.KeyCheckBurst)
	s.bulkLim = newLimiter(s.opts.KeyCheckRate, s.opts.KeyCheckBurst)
	s.srv = &fasthttp.Server{
		Handler:               s.Handler(),
		Name:                  "aisle",
		ReadTimeout:           s.opts.ReadTimeout,
		WriteTimeout:          s.opts.WriteTimeout,
		IdleTimeout:           s.opts.IdleTimeout,
		MaxRequestBodySize:    s.opts.MaxRequestBodySize,
		ReadBufferSize:        s.opts.ReadBufferSize,
		Concurrency:           s.opts.Concurrency,
		NoDefaultServerHeader: true,
		CloseOnShutdown:       true,
		Logger:                fasthttpLogger{s.logf},
		HeaderReceived:        s.bulkBodyLimit,
	}
	return s
}

// ready reports Services.Ready.
func (s *Server) ready() bool { return s.svc.Ready == nil || s.svc.Ready() }

// Serve accepts connections on ln until Shutdown; it returns nil after a
// Shutdown and the listener's error otherwise.
func (s *Server) Serve(ln net.Listener) error {
	if s.optsErr != nil {
		return s.optsErr
	}
	return s.srv.Serve(ln)
}

// Shutdown stops accepting connections and waits for the requests in flight
// and the bulk jobs running to finish, or for ctx to end. A bulk job
// publishes each batch under its own write timeout, so it ends by itself.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.ShutdownWithContext(ctx)
	jobs := make(chan struct{})
	go func() { s.bulk.wg.Wait(); close(jobs) }()
	select {
	case <-jobs:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("server: bulk jobs still running: %w", ctx.Err()))
	}
	return err
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

type fasthttpLogger struct{ f func(string, ...any) }

func (l fasthttpLogger) Printf(format string, args ...any) { l.f("server: "+format, args...) }

// The endpoints, as indexes of the metrics arrays.
const (
	epSearch = iota
	epProduct
	epSuggest
	epHealthz
	epMetrics
	epSeller
	epInventory
	epRecs
	epCart
	epCheckout
	epOrders
	epReviews
	epWeb
	epModeration
	epOther
	numEndpoints
)

var endpointNames = [numEndpoints]string{"search", "product", "suggest", "healthz", "metrics", "seller", "inventory", "recs",
	"cart", "checkout", "orders", "reviews", "web", "moderation", "other"}

const (
	searchPath     = "/api/v1/products/search"
	suggestPath    = "/api/v1/suggest"
	productsPrefix = "/api/v1/products/"
)

// Handler returns the request handler, for use with a fasthttp.Server of
// the caller's or directly in tests.
func (s *Server) Handler() fasthttp.RequestHandler {
	return s.router.Handler
}

// serve runs one request of endpoint ep (routes.go): it recovers a panic
// into a 500, counts the request in the metrics, refuses it past
// MaxInFlight, answers 405 to a method other than GET and HEAD when getOnly,
// applies the per-client rate limit of search and autocomplete, and calls h
// with the request's path.
func (s *Server) serve(ctx *fasthttp.RequestCtx, ep int, getOnly bool, h func(*fasthttp.RequestCtx, string)) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			s.metrics.panics.Inc()
			s.logf("server: panic serving %q: %v\n%s", ctx.RequestURI(), p, debug.Stack())
			ctx.Response.ResetBody()
			writeError(ctx, fasthttp.StatusInternalServerError, CodeInternal, "internal error", "")
		}
		s.metrics.observe(ep, ctx.Response.StatusCode(), time.Since(start))
	}()
	if ep != epHealthz && ep != epMetrics {
		n := s.inflight.Add(1)
		defer s.inflight.Add(-1)
		if n > int64(s.opts.MaxInFlight) {
			overloaded(ctx, s.opts.MaxInFlight)
			return
		}
	}
	if getOnly && !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		writeError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+string(ctx.Method())+" not allowed; use GET", "")
		return
	}
	switch ep {
	case epSearch, epSuggest:
		lim, what := s.searchLim, "search"
		if ep == epSuggest {
			lim, what = s.suggestLim, "suggest"
		}
		if ok, wait := lim.allow(s.clientKey(ctx), start); !ok {
			tooMany(ctx, wait, what)
			return
		}
	}
	h(ctx, string(ctx.Path()))
}

func (s *Server) search(ctx *fasthttp.RequestCtx) {
	a := s.args.Get().(*searchArgs)
	defer s.args.Put(a)
	if perr := a.parse(ctx.QueryArgs(), s.priceDigits); perr != nil {
		writeError(ctx, fasthttp.StatusBadRequest, perr.Code, perr.Message, perr.Param)
		return
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.SearchTimeout)
	res, err := s.eng.Search(sctx, &a.req)
	cancel()
	defer a.reset() // drop references to the request's strings before pooling
	if err != nil {
		switch {
		case errors.Is(err, search.ErrInvalidRequest):
			writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidParameter, err.Error(), "")
		case errors.Is(err, context.DeadlineExceeded):
			writeError(ctx, fasthttp.StatusServiceUnavailable, CodeTimeout, "the search took longer than "+s.opts.SearchTimeout.String(), "")
		default:
			s.logf("server: search %q: %v", ctx.QueryArgs().String(), err)
			writeError(ctx, fasthttp.StatusInternalServerError, CodeInternal, "internal error", "")
		}
		return
	}
	buf := getBuf()
	*buf = appendSearchResult(*buf, res, s.priceDigits, a)
	s.writeJSON(ctx, *buf)
	putBuf(buf)
}

func (s *Server) healthz(ctx *fasthttp.RequestCtx) {
	if !s.ready() {
		writeError(ctx, fasthttp.StatusServiceUnavailable, CodeNotReady, "the store is still loading", "")
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"status":"ok"}`)
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param,omitempty"`
	} `json:"error"`
}

func writeError(ctx *fasthttp.RequestCtx, status int, code, msg, param string) {
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Param = code, msg, param
	body, err := json.Marshal(&b)
	if err != nil { // cannot happen for strings
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

// CodeNotBuilt answers an endpoint whose service this server was started
// without.
const CodeNotBuilt = "not_built"

// notBuilt answers 501 for an endpoint whose service is missing.
func notBuilt(ctx *fasthttp.RequestCtx, what string) {
	writeError(ctx, fasthttp.StatusNotImplemented, CodeNotBuilt, what+" is not available on this server", "")
}
