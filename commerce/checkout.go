package commerce

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aisle/aisle/catalog"
	"golang.org/x/text/language"
)

// Checkout sessions (doc/checkout.md): a session is made from the cart,
// its lines priced once at creation, then goes through the steps
// address -> shipping -> payment -> confirm. Confirm is in order.go.
// Every step may carry an idempotency key: its answer is stored with the
// write, in the same transaction, and a retry with the key answers it
// again without new effects.

var (
	bucketCheckout = []byte("checkout")
	bucketIdem     = []byte("idem")
)

// Errors of checkout callers branch on. Validation errors are
// *FieldError values naming the field.
var (
	ErrNoSession    = errors.New("commerce: no such checkout session")
	ErrNotYours     = errors.New("commerce: the checkout session or order is another user's")
	ErrWrongStep    = errors.New("commerce: checkout step out of order")
	ErrIdemReused   = errors.New("commerce: idempotency key reused for another request")
	ErrEmptyCart    = errors.New("commerce: the cart is empty")
	ErrInvalid      = errors.New("commerce: invalid checkout request")
	ErrPaymentRetry = errors.New("commerce: the payment provider did not answer; retry with the same idempotency key")
)

// Step is where a session is: the step it waits for, or its end.
type Step string

const (
	StepAddress  Step = "address"  // waits for the shipping address
	StepShipping Step = "shipping" // waits for the shipping option
	StepPayment  Step = "payment"  // waits for a card (again after a decline)
	StepConfirm  Step = "confirm"  // every step done: may be confirmed
	// StepConfirming: stock reserved, the charge under way. A retried
	// confirm, or Recover, finishes it.
	StepConfirming Step = "confirming"
	StepPlaced     Step = "placed" // the order is placed and paid
)

var stepRank = map[Step]int{StepAddress: 0, StepShipping: 1, StepPayment: 2, StepConfirm: 3}

// SessionLine is one cart line, priced when the session was made.
type SessionLine struct {
	VariantID string        `json:"variant_id"`
	ProductID string        `json:"product_id"`
	Title     string        `json:"title"`
	Quantity  int           `json:"quantity"`
	Price     catalog.Money `json:"price"` // unit price
}

// Address is where an order ships. Lat and Lon place it for routing.
type Address struct {
	Name       string  `json:"name"`
	Line1      string  `json:"line1"`
	City       string  `json:"city"`
	PostalCode string  `json:"postal_code"`
	Country    string  `json:"country"`
	Lat        float64 `json:"lat"`
	Lon        float64 `json:"lon"`
}

// ShippingOption is a way to ship, priced for a subtotal.
type ShippingOption struct {
	Option string        `json:"option"`
	Price  catalog.Money `json:"price"`
	Days   int           `json:"days"`
}

// Shipping prices, in minor units of the session's currency.
const (
	FreeShippingOver = 5000 // standard shipping is free from this subtotal
	StandardPrice    = 599
	ExpressPrice     = 1499
	StandardDays     = 5
	ExpressDays      = 2
)

// ShippingOptions returns the options offered for subtotal: standard (5
// days, free from $50.00, else $5.99) and express (2 days, $14.99).
func ShippingOptions(subtotal catalog.Money) []ShippingOption {
	std := int64(StandardPrice)
	if subtotal.Amount >= FreeShippingOver {
		std = 0
	}
	cur := subtotal.Currency
	return []ShippingOption{
		{Option: "standard", Price: catalog.Money{Amount: std, Currency: cur}, Days: StandardDays},
		{Option: "express", Price: catalog.Money{Amount: ExpressPrice, Currency: cur}, Days: ExpressDays},
	}
}

// Session is one checkout.
type Session struct {
	ID       string          `json:"checkout_id"`
	UserID   string          `json:"user_id"`
	Status   Step            `json:"status"`
	Lines    []SessionLine   `json:"lines"`
	Subtotal catalog.Money   `json:"subtotal"`
	Address  *Address        `json:"address,omitempty"`
	Shipping *ShippingOption `json:"shipping,omitempty"`
	Payment  *Card           `json:"payment,omitempty"` // tokenized: never the card number
	OrderID  string          `json:"order_id,omitempty"`
	// Declined is the decline code of the last confirm, until a new card
	// is given.
	Declined string `json:"declined,omitempty"`
	// Attempt counts confirms that reserved stock; each has its own order
	// id, reservation and charge key.
	Attempt   int       `json:"attempt"`
	Pending   *Pending  `json:"pending,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Pending is a confirm between its reservation and its charge's outcome.
type Pending struct {
	OrderID string    `json:"order_id"` // also the reservation id and the charge key
	Lines   []Line    `json:"lines"`    // routed: variant, warehouse, quantity
	Since   time.Time `json:"since"`
	Key     string    `json:"key"` // the idempotency key of the confirm that reserved
}

// Total is the subtotal plus the chosen shipping.
func (s *Session) Total() catalog.Money {
	t := s.Subtotal
	if s.Shipping != nil {
		t.Amount += s.Shipping.Price.Amount
	}
	return t
}

// Options returns the shipping options offered to s.
func (s *Session) Options() []ShippingOption { return ShippingOptions(s.Subtotal) }

// CheckoutOptions configure a Checkout.
type CheckoutOptions struct {
	// Now is the clock of sessions and orders; default time.Now.
	Now func() time.Time
	// MaxLines bounds a session's lines; default 100.
	MaxLines int
}

// Checkout runs checkout sessions and places orders over a Store. Safe
// for concurrent use.
type Checkout struct {
	st   *Store
	ws   *Warehouses
	pay  Payments
	opts CheckoutOptions
}

// NewCheckout returns the checkout over st, routing orders to ws and
// charging through pay.
func NewCheckout(st *Store, ws *Warehouses, pay Payments, opts CheckoutOptions) *Checkout {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxLines <= 0 {
		opts.MaxLines = 100
	}
	if ws == nil {
		ws = NewWarehouses(nil)
	}
	return &Checkout{st: st, ws: ws, pay: pay, opts: opts}
}

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}

// idemRecord is the stored answer of a request made with an idempotency
// key.
type idemRecord struct {
	Fingerprint string   `json:"fp"`
	Session     *Session `json:"session,omitempty"`
	OrderID     string   `json:"order_id,omitempty"`
	Declined    string   `json:"declined,omitempty"` // a confirm answered payment_declined
}

func idemKey(userID, key string) []byte { return []byte(userID + "\x00" + key) }

func fingerprint(op, sessionID string, input any) string {
	b, _ := json.Marshal(input)
	h := sha256.Sum256(append([]byte(op+"\x00"+sessionID+"\x00"), b...))
	return hex.EncodeToString(h[:16])
}

func getIdem(tx kvTx, userID, key string) (*idemRecord, error) {
	if key == "" {
		return nil, nil
	}
	v := tx.Bucket(bucketIdem).Get(idemKey(userID, key))
	if v == nil {
		return nil, nil
	}
	r := new(idemRecord)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("commerce: corrupt idempotency record %q: %w", key, err)
	}
	return r, nil
}

func putIdem(tx kvTx, userID, key string, r *idemRecord) error {
	if key == "" {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketIdem).Put(idemKey(userID, key), b)
}

func getSession(tx kvTx, id string) (*Session, error) {
	v := tx.Bucket(bucketCheckout).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	s := new(Session)
	if err := json.Unmarshal(v, s); err != nil {
		return nil, fmt.Errorf("commerce: corrupt checkout session %q: %w", id, err)
	}
	return s, nil
}

func putSession(tx kvTx, s *Session) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketCheckout).Put([]byte(s.ID), b)
}

// ownSession loads session id of userID; a refusal when it is missing or
// another user's.
func ownSession(tx kvTx, userID, id string) (*Session, error, error) {
	s, err := getSession(tx, id)
	if err != nil {
		return nil, nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoSession, id), nil
	}
	if s.UserID != userID {
		return nil, fmt.Errorf("%w: checkout %q", ErrNotYours, id), nil
	}
	return s, nil, nil
}

// checkKey validates an idempotency key.
func checkKey(key string) error {
	if len(key) > 255 || !utf8.ValidString(key) || strings.ContainsAny(key, "\x00") {
		return invalid("Idempotency-Key", "must be at most 255 bytes of UTF-8 without NUL")
	}
	return nil
}

// newSessionID returns "chk_" and 28 hex digits: the time in ns, then
// 6 random bytes. Ids made together sort together, so the sessions (and
// orders, named after them) a group commit writes share B+tree pages:
// fewer pages to write per fsync than with random ids.
func newSessionID(now time.Time) string {
	var b [14]byte
	binary.BigEndian.PutUint64(b[:], uint64(now.UnixNano()))
	rand.Read(b[8:])
	return "chk_" + hex.EncodeToString(b[:])
}

// Create makes a session of userID from lines (the cart, priced by the
// caller from the catalog). With a key, a retry answers the same
// session.
func (c *Checkout) Create(userID, key string, lines []SessionLine) (*Session, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if userID == "" || strings.IndexByte(userID, 0) >= 0 {
		return nil, invalid("user_id", "is empty or holds a NUL byte")
	}
	if len(lines) == 0 {
		return nil, ErrEmptyCart
	}
	if len(lines) > c.opts.MaxLines {
		return nil, invalid("lines", "are %d, past the limit of %d", len(lines), c.opts.MaxLines)
	}
	sub := catalog.Money{Currency: lines[0].Price.Currency}
	for i, l := range lines {
		f := fmt.Sprintf("lines[%d]", i)
		switch {
		case l.VariantID == "" || l.ProductID == "" || strings.IndexByte(l.VariantID, 0) >= 0:
			return nil, invalid(f+".variant_id", "and product_id are required")
		case l.Quantity <= 0 || l.Quantity > 1000:
			return nil, invalid(f+".quantity", "is %d; want 1 to 1000", l.Quantity)
		case l.Price.Amount < 0 || l.Price.Currency != sub.Currency:
			return nil, invalid(f+".price", "%d %s is negative or not in %s like the first line", l.Price.Amount, l.Price.Currency, sub.Currency)
		}
		if l.Price.Amount > math.MaxInt64/2/int64(l.Quantity) || sub.Amount > math.MaxInt64/2 {
			return nil, invalid(f+".price", "overflows the subtotal")
		}
		sub.Amount += l.Price.Amount * int64(l.Quantity)
	}
	now := c.opts.Now().UTC()
	id := newSessionID(now)
	fp := fingerprint("create", "", lines)
	var out *Session
	err := c.st.txn(func(tx kvTx) (error, error) {
		if prev, refusal, err := replayedSession(tx, userID, key, fp); prev != nil || refusal != nil || err != nil {
			out = prev
			return refusal, err
		}
		s := &Session{ID: id, UserID: userID, Status: StepAddress, Lines: lines, Subtotal: sub, CreatedAt: now, UpdatedAt: now}
		if err := putSession(tx, s); err != nil {
			return nil, err
		}
		out = s
		return nil, putIdem(tx, userID, key, &idemRecord{Fingerprint: fp, Session: s})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// replayedSession returns the session stored under key when the same
// request (fingerprint fp) came with it before, or a refusal when key
// came with another request; nil, nil, nil for a key not seen yet.
func replayedSession(tx kvTx, userID, key, fp string) (*Session, error, error) {
	rec, err := getIdem(tx, userID, key)
	if err != nil || rec == nil {
		return nil, nil, err
	}
	if rec.Fingerprint != fp || rec.Session == nil {
		return nil, fmt.Errorf("%w: %q", ErrIdemReused, key), nil
	}
	return rec.Session, nil, nil
}

// Session returns session id of userID.
func (c *Checkout) Session(userID, id string) (*Session, error) {
	var out *Session
	err := c.st.db.view(func(tx kvTx) error {
		s, refusal, err := ownSession(tx, userID, id)
		if err != nil {
			return err
		}
		out = s
		return refusal
	})
	if errors.Is(err, ErrClosed) {
		return nil, ErrClosed
	}
	return out, err
}

// step runs one session step: replays the answer stored under key, or
// loads the session, checks that it has reached step and is not past
// confirm, applies fn and stores the session and the answer.
func (c *Checkout) step(userID, id, key string, step Step, input any, fn func(*Session) error) (*Session, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	fp := fingerprint(string(step), id, input)
	now := c.opts.Now().UTC()
	var out *Session
	err := c.st.txn(func(tx kvTx) (error, error) {
		if prev, refusal, err := replayedSession(tx, userID, key, fp); prev != nil || refusal != nil || err != nil {
			out = prev
			return refusal, err
		}
		s, refusal, err := ownSession(tx, userID, id)
		if refusal != nil || err != nil {
			return refusal, err
		}
		rank, open := stepRank[s.Status]
		switch {
		case !open:
			return fmt.Errorf("%w: checkout %q is %s; the %s step can no longer change", ErrWrongStep, id, s.Status, step), nil
		case rank < stepRank[step]:
			return fmt.Errorf("%w: checkout %q waits for the %s step before %s", ErrWrongStep, id, s.Status, step), nil
		}
		if err := fn(s); err != nil {
			return err, nil
		}
		// Done: the session waits for the first step still missing.
		switch {
		case s.Address == nil:
			s.Status = StepAddress
		case s.Shipping == nil:
			s.Status = StepShipping
		case s.Payment == nil || s.Declined != "":
			s.Status = StepPayment
		default:
			s.Status = StepConfirm
		}
		s.UpdatedAt = now
		if err := putSession(tx, s); err != nil {
			return nil, err
		}
		out = s
		return nil, putIdem(tx, userID, key, &idemRecord{Fingerprint: fp, Session: s})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ValidateAddress names the first field of a at fault.
func ValidateAddress(a Address) error {
	for _, f := range []struct{ name, v string }{{"name", a.Name}, {"line1", a.Line1}, {"city", a.City}, {"postal_code", a.PostalCode}, {"country", a.Country}} {
		v := strings.TrimSpace(f.v)
		switch {
		case v == "":
			return invalid(f.name, "is required")
		case len(v) > 200:
			return invalid(f.name, "is %d bytes, past the limit of 200", len(v))
		case !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n"):
			return invalid(f.name, "holds invalid characters")
		}
	}
	if len(a.Country) != 2 || strings.ToUpper(a.Country) != a.Country || strings.Trim(a.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return invalid("country", "%q is not a two-letter ISO 3166 code such as \"US\"", a.Country)
	}
	if r, err := language.ParseRegion(a.Country); err != nil || !r.IsCountry() {
		return invalid("country", "%q is not an ISO 3166 country code", a.Country)
	}
	if math.IsNaN(a.Lat) || a.Lat < -90 || a.Lat > 90 {
		return invalid("lat", "%v is outside [-90, 90]", a.Lat)
	}
	if math.IsNaN(a.Lon) || a.Lon < -180 || a.Lon > 180 {
		return invalid("lon", "%v is outside [-180, 180]", a.Lon)
	}
	return nil
}

// SetAddress sets the shipping address.
func (c *Checkout) SetAddress(userID, id, key string, a Address) (*Session, error) {
	if err := ValidateAddress(a); err != nil {
		return nil, err
	}
	return c.step(userID, id, key, StepAddress, a, func(s *Session) error {
		s.Address = &a
		return nil
	})
}

// SetShipping chooses a shipping option by name.
func (c *Checkout) SetShipping(userID, id, key, option string) (*Session, error) {
	return c.step(userID, id, key, StepShipping, option, func(s *Session) error {
		for _, o := range s.Options() {
			if o.Option == option {
				s.Shipping = &o
				return nil
			}
		}
		return invalid("option", "%q is not a shipping option; want \"standard\" or \"express\"", option)
	})
}

// SetPayment tokenizes the card through the provider and keeps the token
// and last four digits; the number itself is never stored.
func (c *Checkout) SetPayment(ctx context.Context, userID, id, key string, d CardDetails) (*Session, error) {
	card, err := c.pay.Tokenize(ctx, d)
	if err != nil {
		return nil, err
	}
	return c.step(userID, id, key, StepPayment, card, func(s *Session) error {
		s.Payment = &card
		s.Declined = ""
		return nil
	})
}
