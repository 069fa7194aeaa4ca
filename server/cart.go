package server

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/commerce"
	"github.com/valyala/fasthttp"
)

// The cart endpoints of issue 7 (doc/cart.md):
//
//	GET    /api/v1/cart/{user_id}
//	POST   /api/v1/cart/{user_id}/items               {"variant_id","quantity"} -> 201
//	PUT    /api/v1/cart/{user_id}/items/{variant_id}  {"quantity"} (0 removes)
//	DELETE /api/v1/cart/{user_id}/items/{variant_id}
//	POST   /api/v1/cart/{user_id}/merge               {"guest_token"}
//
// Each needs the user token of user_id (403 for another user's cart) and
// answers the cart. POST /api/v1/guest (guest.go) issues guest tokens.
// Every write is durable before it is answered; see commerce.UpdateCart.

const cartPrefix = "/api/v1/cart/"

// CartStore is what the cart endpoints need of the commerce store
// (*commerce.Store).
type CartStore interface {
	CartState(userID string) (*commerce.CartState, error)
	UpdateCart(userID string, limits commerce.CartLimits, fn func(*commerce.Cart) error) (*commerce.CartState, error)
	MergeGuestCart(guestID, userID string, limits commerce.CartLimits) (*commerce.CartState, error)
}

// VariantFinder finds the product of a variant (*search.Engine). The
// cart needs it of the Engine, or of CartOptions.Variants.
type VariantFinder interface {
	ProductOfVariant(variantID string) (*catalog.Product, bool)
}

// TokenSigner issues user tokens (*auth.Tokens); the guest endpoint needs it
// of Options.Tokens.
type TokenSigner interface {
	Sign(userID string, ttl time.Duration) (string, error)
}

// CartOptions configure the cart endpoints; zero fields take defaults.
type CartOptions struct {
	// Limits bound a cart: units per line (default 99) and lines (100).
	Limits commerce.CartLimits
	// Variants finds a variant's product; default the Engine, when it
	// implements VariantFinder.
	Variants VariantFinder
	// GuestRate and GuestBurst are the per-client token bucket of
	// POST /api/v1/guest; defaults 10 a second and 20. Negative: no limit.
	GuestRate  float64
	GuestBurst int
	// GuestTTL is how long a guest token lives; default 30 days.
	GuestTTL time.Duration
}

// MaxVariantIDBytes bounds a variant id in a cart body or path.
const MaxVariantIDBytes = 256

type cartConfig struct {
	store    CartStore
	opts     CartOptions
	variants VariantFinder
	guestLim *limiter
}

// newCartConfig builds the cart endpoints' configuration from svc; nil
// without a cart store (the endpoints answer 501).
func newCartConfig(svc Services) *cartConfig {
	store, opts := svc.Cart, svc.CartOptions
	if store == nil {
		return nil
	}
	if opts.Limits.MaxQuantity <= 0 {
		opts.Limits.MaxQuantity = 99
	}
	if opts.Limits.MaxLines <= 0 {
		opts.Limits.MaxLines = 100
	}
	if opts.GuestRate == 0 {
		opts.GuestRate = 10
	}
	if opts.GuestBurst <= 0 {
		opts.GuestBurst = 20
	}
	if opts.GuestTTL <= 0 {
		opts.GuestTTL = 30 * 24 * time.Hour
	}
	c := &cartConfig{store: store, opts: opts, variants: opts.Variants, guestLim: newLimiter(opts.GuestRate, opts.GuestBurst)}
	if c.variants == nil {
		c.variants = svc.Variants
	}
	return c
}

func (s *Server) cartRoute(ctx *fasthttp.RequestCtx, path string) {
	if path == guestPath {
		s.guest(ctx)
		return
	}
	rest := path[len(cartPrefix):]
	owner, sub, _ := strings.Cut(rest, "/")
	var allow string
	switch {
	case owner == "":
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+path, "")
		return
	case sub == "":
		allow = "GET"
	case sub == "items", sub == "merge":
		allow = "POST"
	case strings.HasPrefix(sub, "items/") && len(sub) > len("items/"):
		allow = "PUT, DELETE"
	default:
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+path, "")
		return
	}
	m := string(ctx.Method())
	if !slices.Contains(strings.Split(allow, ", "), m) {
		ctx.Response.Header.Set("Allow", allow)
		writeError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+m+" not allowed; use "+allow, "")
		return
	}
	s.RequireUser(func(ctx *fasthttp.RequestCtx, user string) {
		if user != owner {
			writeError(ctx, fasthttp.StatusForbidden, CodeForbidden, "the cart of another user", "user_id")
			return
		}
		c := s.cart
		if c == nil {
			notBuilt(ctx, "the cart")
			return
		}
		switch {
		case sub == "":
			st, err := c.store.CartState(user)
			s.answerCart(ctx, c, user, st, err, fasthttp.StatusOK)
		case sub == "items":
			s.addItem(ctx, c, user)
		case sub == "merge":
			s.mergeGuest(ctx, c, user)
		default:
			s.setItem(ctx, c, user, sub[len("items/"):], m == "DELETE")
		}
	})(ctx)
}

// cartItemBody is the body of POST items ({"variant_id","quantity"}) and
// PUT items/{variant_id} ({"quantity"}).
type cartItemBody struct {
	VariantID *string `json:"variant_id"`
	Quantity  *int    `json:"quantity"`
}

// decodeCartItem decodes a cart item body strictly. With add, variant_id
// is required and quantity defaults to 1 and must be positive; without,
// variant_id is refused (it is in the path) and quantity is required, 0
// removing the line. Quantities above maxQty are refused.
func decodeCartItem(body []byte, add bool, maxQty int) (variant string, qty int, err error) {
	var b cartItemBody
	if err := decodeStrict(body, &b); err != nil {
		return "", 0, err
	}
	if add {
		if b.VariantID == nil || *b.VariantID == "" {
			return "", 0, &bodyError{"variant_id", "is required"}
		}
		if err := checkVariantID(*b.VariantID); err != nil {
			return "", 0, &bodyError{"variant_id", err.Error()}
		}
		variant, qty = *b.VariantID, 1
	} else {
		if b.VariantID != nil {
			return "", 0, &bodyError{"variant_id", "is in the path; leave it out of the body"}
		}
		if b.Quantity == nil {
			return "", 0, &bodyError{"quantity", "is required (0 removes the item)"}
		}
	}
	if b.Quantity != nil {
		qty = *b.Quantity
	}
	switch {
	case qty < 0 || (add && qty == 0):
		return "", 0, &bodyError{"quantity", fmt.Sprintf("is %d; want at least 1", qty)}
	case qty > maxQty:
		return "", 0, &bodyError{"quantity", fmt.Sprintf("is %d; at most %d of one item", qty, maxQty)}
	}
	return variant, qty, nil
}

// checkVariantID refuses an id that is too long or holds control bytes.
func checkVariantID(id string) error {
	if len(id) > MaxVariantIDBytes {
		return fmt.Errorf("has %d bytes; at most %d", len(id), MaxVariantIDBytes)
	}
	if !utf8.ValidString(id) {
		return errors.New("is not valid UTF-8")
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] == 0x7f {
			return fmt.Errorf("holds the control byte %#02x", id[i])
		}
	}
	return nil
}

func (s *Server) cartBody(ctx *fasthttp.RequestCtx) bool {
	if err := checkJSONShape(ctx.PostBody(), s.opts.MaxJSONDepth, s.opts.MaxJSONStringBytes); err != nil {
		writeBodyError(ctx, err)
		return false
	}
	return true
}

// knownVariant answers 404 and returns false when the catalog lacks the
// variant.
func (c *cartConfig) knownVariant(ctx *fasthttp.RequestCtx, variant string) bool {
	if c.variants != nil {
		if _, ok := c.variants.ProductOfVariant(variant); ok {
			return true
		}
	}
	writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no variant "+strconv.Quote(variant)+" in the catalog", "variant_id")
	return false
}

func (s *Server) addItem(ctx *fasthttp.RequestCtx, c *cartConfig, user string) {
	if !s.cartBody(ctx) {
		return
	}
	variant, qty, err := decodeCartItem(ctx.PostBody(), true, c.opts.Limits.MaxQuantity)
	if err != nil {
		writeBodyError(ctx, err)
		return
	}
	if !c.knownVariant(ctx, variant) {
		return
	}
	st, err := c.store.UpdateCart(user, c.opts.Limits, func(cart *commerce.Cart) error { return cart.Add(variant, qty) })
	s.answerCart(ctx, c, user, st, err, fasthttp.StatusCreated)
}

func (s *Server) setItem(ctx *fasthttp.RequestCtx, c *cartConfig, user, variant string, del bool) {
	if err := checkVariantID(variant); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidParameter, "variant_id "+err.Error(), "variant_id")
		return
	}
	qty := 0
	if !del {
		if !s.cartBody(ctx) {
			return
		}
		var err error
		if _, qty, err = decodeCartItem(ctx.PostBody(), false, c.opts.Limits.MaxQuantity); err != nil {
			writeBodyError(ctx, err)
			return
		}
		// Raising a line needs the variant in the catalog; lowering or
		// removing one does not (its product may be gone).
		if qty > 0 && !c.knownVariant(ctx, variant) {
			return
		}
	}
	st, err := c.store.UpdateCart(user, c.opts.Limits, func(cart *commerce.Cart) error { return cart.SetQuantity(variant, qty) })
	s.answerCart(ctx, c, user, st, err, fasthttp.StatusOK)
}

type mergeBody struct {
	GuestToken *string `json:"guest_token"`
}

// decodeMerge decodes the sign-in merge body strictly.
func decodeMerge(body []byte) (string, error) {
	var b mergeBody
	if err := decodeStrict(body, &b); err != nil {
		return "", err
	}
	if b.GuestToken == nil || *b.GuestToken == "" {
		return "", &bodyError{"guest_token", "is required"}
	}
	return *b.GuestToken, nil
}

func (s *Server) mergeGuest(ctx *fasthttp.RequestCtx, c *cartConfig, user string) {
	if !s.cartBody(ctx) {
		return
	}
	tok, err := decodeMerge(ctx.PostBody())
	if err != nil {
		writeBodyError(ctx, err)
		return
	}
	guest, err := s.opts.Tokens.Verify(tok) // RequireUser checked Tokens is set
	if err != nil || !strings.HasPrefix(guest, guestPrefix) {
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidBody, "guest_token is not a valid, unexpired guest token", "guest_token")
		return
	}
	if guest == user {
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidBody, "guest_token is this user's own token; sign in first", "guest_token")
		return
	}
	st, err := c.store.MergeGuestCart(guest, user, c.opts.Limits)
	s.answerCart(ctx, c, user, st, err, fasthttp.StatusOK)
}

// answerCart answers st, or the error of the store.
func (s *Server) answerCart(ctx *fasthttp.RequestCtx, c *cartConfig, user string, st *commerce.CartState, err error, status int) {
	switch {
	case err == nil:
	case errors.Is(err, commerce.ErrCartLines):
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidParameter, strings.TrimPrefix(err.Error(), "commerce: "), "variant_id")
	case errors.Is(err, commerce.ErrCartLimit):
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidParameter, strings.TrimPrefix(err.Error(), "commerce: "), "quantity")
		return
	case errors.Is(err, commerce.ErrClosed):
		writeError(ctx, fasthttp.StatusServiceUnavailable, CodeUnavailable, "the cart store is closed", "")
		return
	default:
		s.logf("server: cart of %q: %v", user, err)
		writeError(ctx, fasthttp.StatusInternalServerError, CodeInternal, "internal error", "")
		return
	}
	buf := getBuf()
	*buf = s.appendCart(*buf, c, user, st)
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(*buf)
	putBuf(buf)
}

// appendCart appends {"user_id","items":[{"variant_id","product_id",
// "title","image","quantity","price","in_stock","available"}],"subtotal","count"}.
// Prices are the catalog's current ones; the subtotal sums the lines in
// the store currency; count is the number of units.
func (s *Server) appendCart(dst []byte, c *cartConfig, user string, st *commerce.CartState) []byte {
	dst = append(dst, `{"user_id":`...)
	dst = appendString(dst, user)
	dst = append(dst, `,"items":[`...)
	var subtotal int64
	count := 0
	for i, it := range st.Cart.Items() {
		if i > 0 {
			dst = append(dst, ',')
		}
		var p *catalog.Product
		var v *catalog.Variant
		if c.variants != nil {
			if q, ok := c.variants.ProductOfVariant(it.VariantID); ok {
				p = q
				for j := range q.Variants {
					if q.Variants[j].ID == it.VariantID {
						v = &q.Variants[j]
					}
				}
			}
		}
		price, was := catalog.Money{Currency: s.opts.Currency}, catalog.Money{}
		inStock := false
		if v != nil {
			price, was = v.Price, v.CompareAt
			switch st.Holds[it.VariantID] {
			case commerce.Held:
				inStock = true
			case commerce.Untracked:
				inStock = v.TotalStock() >= it.Quantity
			}
			if price.Currency == s.opts.Currency {
				subtotal += price.Amount * int64(it.Quantity)
			}
		}
		count += it.Quantity
		dst = append(dst, `{"variant_id":`...)
		dst = appendString(dst, it.VariantID)
		dst = append(dst, `,"product_id":`...)
		title, image, pid := "", "", ""
		if p != nil {
			title, image, pid = p.Title, productImage(p), p.ID
		}
		dst = appendString(dst, pid)
		dst = append(dst, `,"title":`...)
		dst = appendString(dst, title)
		dst = append(dst, `,"image":`...)
		dst = appendString(dst, image)
		dst = append(dst, `,"quantity":`...)
		dst = strconv.AppendInt(dst, int64(it.Quantity), 10)
		dst = append(dst, `,"price":`...)
		dst = appendPrice(dst, price, was)
		dst = append(dst, `,"in_stock":`...)
		dst = appendBool(dst, inStock)
		// available is false once the product is deleted (or its
		// variant removed): the line stays, shown as unavailable, and
		// checkout refuses it.
		dst = append(dst, `,"available":`...)
		dst = appendBool(dst, v != nil)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"subtotal":`...)
	dst = appendPrice(dst, catalog.Money{Amount: subtotal, Currency: s.opts.Currency}, catalog.Money{})
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, int64(count), 10)
	return append(dst, '}')
}
