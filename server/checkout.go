package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/commerce"
	"github.com/valyala/fasthttp"
)

// The checkout endpoints of issue 7 (doc/checkout.md):
//
//	POST /api/v1/checkout                  {}  -> 201 a session from the cart
//	GET  /api/v1/checkout/{id}
//	PUT  /api/v1/checkout/{id}/address     {"name","line1","city","postal_code","country","lat","lon"}
//	PUT  /api/v1/checkout/{id}/shipping    {"option":"standard"|"express"}
//	PUT  /api/v1/checkout/{id}/payment     {"card_number","exp_month","exp_year","cvc"}
//	POST /api/v1/checkout/{id}/confirm     -> 201 the order; 402 payment_declined; 409 insufficient_stock
//
// Each needs a user token and reaches only the token user's sessions.
// Each takes an Idempotency-Key header (required on confirm): a retry with
// the same key and body answers the same, without new effects.

const checkoutPath = "/api/v1/checkout"

// Error codes of checkout.
const (
	CodeWrongStep       = "wrong_step"
	CodeEmptyCart       = "empty_cart"
	CodeItemUnavailable = "item_unavailable"
	CodePaymentDeclined = "payment_declined"
	CodePaymentRetry    = "payment_unavailable"
	CodeIdempotency     = "idempotency_key_reused"
)

// IdempotencyHeader carries a step's idempotency key.
const IdempotencyHeader = "Idempotency-Key"

// Checkouts is what the checkout and order endpoints need of the
// checkout service (*commerce.Checkout).
type Checkouts interface {
	Create(userID, key string, lines []commerce.SessionLine) (*commerce.Session, error)
	Session(userID, id string) (*commerce.Session, error)
	SetAddress(userID, id, key string, a commerce.Address) (*commerce.Session, error)
	SetShipping(userID, id, key, option string) (*commerce.Session, error)
	SetPayment(ctx context.Context, userID, id, key string, d commerce.CardDetails) (*commerce.Session, error)
	Confirm(ctx context.Context, userID, id, key string) (*commerce.Order, error)
	Order(userID, id string) (*commerce.Order, error)
	Orders(userID string, limit int) ([]*commerce.Order, error)
}

// CartReader reads a user's cart (*commerce.Store).
type CartReader interface {
	Load(userID string) (*commerce.Cart, error)
}

// ShipmentReader reads an order's shipments (*commerce.Store).
type ShipmentReader interface {
	Shipments(orderID string) ([]commerce.Shipment, error)
}

// CheckoutOptions are what the checkout endpoints read besides the
// checkout service.
type CheckoutOptions struct {
	// Carts gives the cart a session is made from; required.
	Carts CartReader
	// Variants prices the cart's lines; default the Engine, when it
	// implements VariantFinder.
	Variants VariantFinder
	// Shipments fills an order's shipments; none when nil.
	Shipments ShipmentReader
	// ConfirmTimeout bounds a confirm's charge; default 10 s. A charge
	// that does not answer in time answers 503 payment_unavailable, and a
	// retry with the same key finishes the confirm.
	ConfirmTimeout time.Duration
}

type checkoutConfig struct {
	co   Checkouts
	opts CheckoutOptions
}

// newCheckoutConfig builds the checkout and order endpoints'
// configuration from svc; nil without a checkout and its carts (the
// endpoints answer 501).
func newCheckoutConfig(svc Services) *checkoutConfig {
	co, opts := svc.Checkout, svc.CheckoutOptions
	if co == nil || opts.Carts == nil {
		return nil
	}
	if opts.Variants == nil {
		opts.Variants = svc.Variants
	}
	if opts.ConfirmTimeout <= 0 {
		opts.ConfirmTimeout = 10 * time.Second
	}
	return &checkoutConfig{co: co, opts: opts}
}

func (s *Server) checkoutRoute(ctx *fasthttp.RequestCtx, path string) {
	var id, step, allow string
	if path == checkoutPath {
		allow = "POST"
	} else {
		id, step, _ = strings.Cut(path[len(checkoutPath)+1:], "/")
		switch step {
		case "":
			allow = "GET"
		case "address", "shipping", "payment":
			allow = "PUT"
		case "confirm":
			allow = "POST"
		}
		if id == "" || allow == "" {
			writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+path, "")
			return
		}
	}
	if m := string(ctx.Method()); m != allow {
		ctx.Response.Header.Set("Allow", allow)
		writeError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+m+" not allowed; use "+allow, "")
		return
	}
	s.RequireUser(func(ctx *fasthttp.RequestCtx, user string) {
		c := s.checkout
		if c == nil {
			notBuilt(ctx, "checkout")
			return
		}
		key := string(ctx.Request.Header.Peek(IdempotencyHeader))
		if allow != "GET" {
			if err := checkJSONShape(ctx.PostBody(), s.opts.MaxJSONDepth, s.opts.MaxJSONStringBytes); err != nil {
				writeBodyError(ctx, err)
				return
			}
		}
		body := ctx.PostBody()
		var sess *commerce.Session
		var err error
		switch step {
		case "":
			if path == checkoutPath {
				s.createCheckout(ctx, c, user, key)
				return
			}
			sess, err = c.co.Session(user, id)
		case "address":
			var a commerce.Address
			if a, err = decodeAddress(body); err == nil {
				sess, err = c.co.SetAddress(user, id, key, a)
			}
		case "shipping":
			var opt string
			if opt, err = decodeShipping(body); err == nil {
				sess, err = c.co.SetShipping(user, id, key, opt)
			}
		case "payment":
			var d commerce.CardDetails
			if d, err = decodePayment(body); err == nil {
				sess, err = c.co.SetPayment(context.Background(), user, id, key, d)
			}
		case "confirm":
			if err = decodeEmpty(body); err == nil {
				s.confirm(ctx, c, user, id, key)
				return
			}
		}
		if err != nil {
			s.checkoutError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, sessionJSON(sess))
	})(ctx)
}

// createCheckout makes a session from the user's cart, priced from the
// catalog now (commerce.PriceCart).
func (s *Server) createCheckout(ctx *fasthttp.RequestCtx, c *checkoutConfig, user, key string) {
	if err := decodeEmpty(ctx.PostBody()); err != nil {
		writeBodyError(ctx, err)
		return
	}
	cart, err := c.opts.Carts.Load(user)
	if err != nil {
		s.checkoutError(ctx, err)
		return
	}
	lines, err := commerce.PriceCart(cart.Items(), c.opts.Variants, s.opts.Currency)
	var gone *commerce.ItemUnavailableError
	if errors.As(err, &gone) {
		writeError(ctx, fasthttp.StatusConflict, CodeItemUnavailable, "the cart holds variant "+strconv.Quote(gone.VariantID)+", which is no longer sold; remove it from the cart", gone.VariantID)
		return
	}
	sess, err := c.co.Create(user, key, lines)
	if err != nil {
		s.checkoutError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, sessionJSON(sess))
}

func (s *Server) confirm(ctx *fasthttp.RequestCtx, c *checkoutConfig, user, id, key string) {
	if key == "" {
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidParameter, "confirm needs an Idempotency-Key header, so that a retried confirm never charges twice", IdempotencyHeader)
		return
	}
	cctx, cancel := context.WithTimeout(context.Background(), c.opts.ConfirmTimeout)
	defer cancel()
	o, err := c.co.Confirm(cctx, user, id, key)
	if err != nil {
		s.checkoutError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, s.orderJSON(c, o))
}

// checkoutError answers an error of the checkout service.
func (s *Server) checkoutError(ctx *fasthttp.RequestCtx, err error) {
	var fe *commerce.FieldError
	var short *commerce.ShortError
	var decl *commerce.DeclineError
	var be *bodyError
	switch {
	case errors.As(err, &be):
		writeBodyError(ctx, err)
	case errors.As(err, &fe) && fe.Field == IdempotencyHeader:
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidParameter, fe.Error(), fe.Field)
	case errors.As(err, &fe):
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidBody, fe.Error(), fe.Field)
	case errors.Is(err, commerce.ErrEmptyCart):
		writeError(ctx, fasthttp.StatusBadRequest, CodeEmptyCart, "the cart is empty: add items before checking out", "cart")
	case errors.Is(err, commerce.ErrNoSession), errors.Is(err, commerce.ErrNoOrder):
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, trimPkg(err), "")
	case errors.Is(err, commerce.ErrNotYours):
		writeError(ctx, fasthttp.StatusForbidden, CodeForbidden, trimPkg(err), "")
	case errors.Is(err, commerce.ErrWrongStep):
		writeError(ctx, fasthttp.StatusConflict, CodeWrongStep, trimPkg(err), "")
	case errors.Is(err, commerce.ErrIdemReused):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, CodeIdempotency, trimPkg(err)+"; use a new key for a new request", IdempotencyHeader)
	case errors.As(err, &short):
		writeError(ctx, fasthttp.StatusConflict, CodeInsufficientStock, fmt.Sprintf("only %d of variant %q can be sold now, %d wanted", short.Available, short.VariantID, short.Wanted), short.VariantID)
	case errors.Is(err, commerce.ErrOutOfStock):
		writeError(ctx, fasthttp.StatusConflict, CodeInsufficientStock, trimPkg(err), "")
	case errors.As(err, &decl):
		writeError(ctx, fasthttp.StatusPaymentRequired, CodePaymentDeclined, trimPkg(err), decl.Code)
	case errors.Is(err, commerce.ErrPaymentRetry):
		ctx.Response.Header.Set("Retry-After", "1")
		writeError(ctx, fasthttp.StatusServiceUnavailable, CodePaymentRetry, trimPkg(err), "")
	case errors.Is(err, commerce.ErrClosed):
		writeError(ctx, fasthttp.StatusServiceUnavailable, CodeUnavailable, "the commerce store is closed", "")
	default:
		s.logf("server: checkout: %v", err)
		writeError(ctx, fasthttp.StatusInternalServerError, CodeInternal, "internal error; retry with the same Idempotency-Key", "")
	}
}

func trimPkg(err error) string { return strings.TrimPrefix(err.Error(), "commerce: ") }

// The step bodies, decoded strictly.

type addressBody struct {
	Name       *string  `json:"name"`
	Line1      *string  `json:"line1"`
	City       *string  `json:"city"`
	PostalCode *string  `json:"postal_code"`
	Country    *string  `json:"country"`
	Lat        *float64 `json:"lat"`
	Lon        *float64 `json:"lon"`
}

func decodeAddress(body []byte) (commerce.Address, error) {
	var b addressBody
	if err := decodeStrict(body, &b); err != nil {
		return commerce.Address{}, err
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"name", b.Name != nil}, {"line1", b.Line1 != nil}, {"city", b.City != nil}, {"postal_code", b.PostalCode != nil},
		{"country", b.Country != nil}, {"lat", b.Lat != nil}, {"lon", b.Lon != nil}} {
		if !f.set {
			return commerce.Address{}, &bodyError{f.name, "is required"}
		}
	}
	a := commerce.Address{Name: *b.Name, Line1: *b.Line1, City: *b.City, PostalCode: *b.PostalCode, Country: *b.Country, Lat: *b.Lat, Lon: *b.Lon}
	return a, commerce.ValidateAddress(a)
}

type shippingBody struct {
	Option *string `json:"option"`
}

func decodeShipping(body []byte) (string, error) {
	var b shippingBody
	if err := decodeStrict(body, &b); err != nil {
		return "", err
	}
	if b.Option == nil {
		return "", &bodyError{"option", `is required: "standard" or "express"`}
	}
	return *b.Option, nil
}

type paymentBody struct {
	CardNumber *string `json:"card_number"`
	ExpMonth   *int    `json:"exp_month"`
	ExpYear    *int    `json:"exp_year"`
	CVC        *string `json:"cvc"`
}

func decodePayment(body []byte) (commerce.CardDetails, error) {
	var b paymentBody
	if err := decodeStrict(body, &b); err != nil {
		return commerce.CardDetails{}, err
	}
	switch {
	case b.CardNumber == nil:
		return commerce.CardDetails{}, &bodyError{"card_number", "is required"}
	case b.ExpMonth == nil:
		return commerce.CardDetails{}, &bodyError{"exp_month", "is required"}
	case b.ExpYear == nil:
		return commerce.CardDetails{}, &bodyError{"exp_year", "is required"}
	case b.CVC == nil:
		return commerce.CardDetails{}, &bodyError{"cvc", "is required"}
	}
	return commerce.CardDetails{Number: *b.CardNumber, ExpMonth: *b.ExpMonth, ExpYear: *b.ExpYear, CVC: *b.CVC}, nil
}

// decodeEmpty accepts an empty body or an empty JSON object.
func decodeEmpty(body []byte) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	var b struct{}
	return decodeStrict(body, &b)
}

// decodeCheckoutBody decodes the body of a step ("create", "address",
// "shipping", "payment", "confirm"), for FuzzCheckoutBody.
func decodeCheckoutBody(step string, body []byte) (any, error) {
	switch step {
	case "address":
		return decodeAddress(body)
	case "shipping":
		return decodeShipping(body)
	case "payment":
		return decodePayment(body)
	}
	return nil, decodeEmpty(body)
}

// JSON of sessions and orders. Prices are written as the rest of the API
// writes them (appendPrice).

type priceJSON catalog.Money

func (p priceJSON) MarshalJSON() ([]byte, error) {
	return appendPrice(nil, catalog.Money(p), catalog.Money{}), nil
}

type lineJSON struct {
	VariantID string    `json:"variant_id"`
	ProductID string    `json:"product_id"`
	Title     string    `json:"title"`
	Quantity  int       `json:"quantity"`
	Price     priceJSON `json:"price"`
}

type optionJSON struct {
	Option string    `json:"option"`
	Price  priceJSON `json:"price"`
	Days   int       `json:"days"`
}

type paymentJSON struct {
	Brand string `json:"brand,omitempty"`
	Last4 string `json:"last4"`
}

type sessionView struct {
	CheckoutID      string            `json:"checkout_id"`
	Status          commerce.Step     `json:"status"`
	Lines           []lineJSON        `json:"lines"`
	Subtotal        priceJSON         `json:"subtotal"`
	ShippingOptions []optionJSON      `json:"shipping_options"`
	Shipping        *optionJSON       `json:"shipping"`
	Total           priceJSON         `json:"total"`
	Address         *commerce.Address `json:"address"`
	Payment         *paymentJSON      `json:"payment"`
	Declined        string            `json:"declined,omitempty"`
	OrderID         string            `json:"order_id,omitempty"`
}

func linesJSON(ls []commerce.SessionLine) []lineJSON {
	out := make([]lineJSON, len(ls))
	for i, l := range ls {
		out[i] = lineJSON{l.VariantID, l.ProductID, l.Title, l.Quantity, priceJSON(l.Price)}
	}
	return out
}

func sessionJSON(s *commerce.Session) *sessionView {
	v := &sessionView{CheckoutID: s.ID, Status: s.Status, Lines: linesJSON(s.Lines), Subtotal: priceJSON(s.Subtotal),
		Total: priceJSON(s.Total()), Address: s.Address, Declined: s.Declined, OrderID: s.OrderID}
	for _, o := range s.Options() {
		v.ShippingOptions = append(v.ShippingOptions, optionJSON{o.Option, priceJSON(o.Price), o.Days})
	}
	if s.Shipping != nil {
		v.Shipping = &optionJSON{s.Shipping.Option, priceJSON(s.Shipping.Price), s.Shipping.Days}
	}
	if s.Payment != nil {
		v.Payment = &paymentJSON{s.Payment.Brand, s.Payment.Last4}
	}
	return v
}
