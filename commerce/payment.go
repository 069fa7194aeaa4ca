package commerce

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aisle/aisle/catalog"
)

// Payments: the provider interface checkout charges through, and Sandbox,
// the built-in provider that behaves like a payment processor's test mode
// (doc/checkout.md). No real money moves through the sandbox and it keeps
// no card number: it approves or declines by the test card number.

// Errors of payment providers.
var (
	// ErrDeclined is a charge the issuer refused; the shopper may try
	// another card.
	ErrDeclined = errors.New("commerce: payment declined")
	// ErrCard is card details that cannot be charged (bad number, expired,
	// bad CVC): the shopper must correct them. It wraps a *FieldError.
	ErrCard = errors.New("commerce: invalid card")
	// ErrChargeKey is an idempotency key reused for another amount.
	ErrChargeKey = errors.New("commerce: charge key reused with another amount")
)

// CardDetails is what a shopper types. It lives only for the request that
// carries it: Tokenize turns it into a Card and it is never stored.
type CardDetails struct {
	Number   string
	ExpMonth int
	ExpYear  int
	CVC      string
}

// Card is a tokenized card: what a session keeps. Token is the
// provider's handle (it is not the card number); Last4 is shown to the
// shopper.
type Card struct {
	Token    string `json:"token"`
	Brand    string `json:"brand,omitempty"`
	Last4    string `json:"last4"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
}

// Charge is the provider's record of one charge.
type Charge struct {
	ID       string        `json:"id"`
	Key      string        `json:"key"`
	Amount   catalog.Money `json:"amount"`
	Last4    string        `json:"last4"`
	Approved bool          `json:"approved"`
	Refunded bool          `json:"refunded,omitempty"`
	// DeclineCode says why a charge was declined ("card_declined",
	// "insufficient_funds").
	DeclineCode string `json:"decline_code,omitempty"`
}

// Payments is a payment provider. Charge is idempotent by key: the same
// key answers the same charge, approved or declined, without charging
// again; a declined charge returns the Charge and an error wrapping
// ErrDeclined. Refund is idempotent by charge.
type Payments interface {
	Tokenize(ctx context.Context, d CardDetails) (Card, error)
	Charge(ctx context.Context, key string, amount catalog.Money, card Card) (Charge, error)
	Refund(ctx context.Context, chargeID string) (Charge, error)
}

// FieldError is a request value at fault: Field names it as the API
// spells it.
type FieldError struct {
	Field string
	Msg   string
	Err   error // the sentinel it wraps
}

func (e *FieldError) Error() string { return e.Field + " " + e.Msg }
func (e *FieldError) Unwrap() error { return e.Err }

func cardErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrCard}
}

// The sandbox's test cards.
const (
	CardApprove           = "4242424242424242" // approved
	CardDecline           = "4000000000000002" // declined: card_declined
	CardInsufficientFunds = "4000000000009995" // declined: insufficient_funds
)

// Luhn reports whether number (digits only) passes the Luhn checksum.
func Luhn(number string) bool {
	if len(number) < 12 || len(number) > 19 {
		return false
	}
	sum := 0
	for i := range len(number) {
		c := number[len(number)-1-i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// Sandbox is the built-in provider, a processor's test mode: a Luhn-valid
// number is tokenized; CardDecline and CardInsufficientFunds decline,
// every other valid number approves. Charges are kept in memory by key,
// so a repeated key answers the first charge. Safe for concurrent use.
type Sandbox struct {
	// Now is the clock for card expiry; default time.Now.
	Now func() time.Time

	mu      sync.Mutex
	charges map[string]*Charge // by key
	byID    map[string]*Charge
	calls   int // charges actually made, for tests
}

// NewSandbox returns an empty sandbox.
func NewSandbox() *Sandbox {
	return &Sandbox{charges: map[string]*Charge{}, byID: map[string]*Charge{}}
}

// Tokenize validates d and returns its token. The token names the test
// outcome and the last four digits ("tok_sandbox_approve_4242"), never the
// number.
func (sb *Sandbox) Tokenize(_ context.Context, d CardDetails) (Card, error) {
	n := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, d.Number)
	if n == "" {
		return Card{}, cardErr("card_number", "is required")
	}
	if !Luhn(n) {
		return Card{}, cardErr("card_number", "is not a valid card number (12 to 19 digits passing the Luhn check)")
	}
	if d.ExpMonth < 1 || d.ExpMonth > 12 {
		return Card{}, cardErr("exp_month", "is %d; want 1 to 12", d.ExpMonth)
	}
	now := time.Now
	if sb.Now != nil {
		now = sb.Now
	}
	y, m, _ := now().UTC().Date()
	if d.ExpYear < 100 {
		d.ExpYear += 2000
	}
	if d.ExpYear < y || d.ExpYear == y && d.ExpMonth < int(m) {
		return Card{}, cardErr("exp_year", "%02d/%d has passed: the card expired", d.ExpMonth, d.ExpYear)
	}
	if d.ExpYear > y+20 {
		return Card{}, cardErr("exp_year", "is %d, more than 20 years ahead", d.ExpYear)
	}
	if len(d.CVC) < 3 || len(d.CVC) > 4 || strings.Trim(d.CVC, "0123456789") != "" {
		return Card{}, cardErr("cvc", "must be 3 or 4 digits")
	}
	outcome := "approve"
	switch n {
	case CardDecline:
		outcome = "decline"
	case CardInsufficientFunds:
		outcome = "funds"
	}
	last4 := n[len(n)-4:]
	brand := "card"
	switch n[0] {
	case '4':
		brand = "visa"
	case '5':
		brand = "mastercard"
	case '3':
		brand = "amex"
	}
	return Card{Token: "tok_sandbox_" + outcome + "_" + last4, Brand: brand, Last4: last4, ExpMonth: d.ExpMonth, ExpYear: d.ExpYear}, nil
}

// Charge charges card by its token; the first charge under key decides,
// later calls with the key answer it.
func (sb *Sandbox) Charge(ctx context.Context, key string, amount catalog.Money, card Card) (Charge, error) {
	if err := ctx.Err(); err != nil {
		return Charge{}, err
	}
	if key == "" {
		return Charge{}, errors.New("commerce: sandbox charge without an idempotency key")
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if c, ok := sb.charges[key]; ok {
		if c.Amount != amount {
			return Charge{}, fmt.Errorf("%w: %q charged %d %s, now asked %d %s", ErrChargeKey, key, c.Amount.Amount, c.Amount.Currency, amount.Amount, amount.Currency)
		}
		return *c, c.err()
	}
	if amount.Amount <= 0 {
		return Charge{}, fmt.Errorf("%w: amount %d %s is not positive", ErrCard, amount.Amount, amount.Currency)
	}
	rest, ok := strings.CutPrefix(card.Token, "tok_sandbox_")
	outcome, last4, _ := strings.Cut(rest, "_")
	if !ok || len(last4) != 4 {
		return Charge{}, cardErr("card", "token %q is not a sandbox token", card.Token)
	}
	sb.calls++
	c := &Charge{ID: fmt.Sprintf("ch_sandbox_%d", sb.calls), Key: key, Amount: amount, Last4: last4, Approved: outcome == "approve"}
	switch outcome {
	case "decline":
		c.DeclineCode = "card_declined"
	case "funds":
		c.DeclineCode = "insufficient_funds"
	}
	sb.charges[key] = c
	sb.byID[c.ID] = c
	return *c, c.err()
}

func (c *Charge) err() error {
	if c.Approved {
		return nil
	}
	return fmt.Errorf("%w: %s (card ending %s)", ErrDeclined, c.DeclineCode, c.Last4)
}

// Refund refunds an approved charge; refunding it again changes nothing.
func (sb *Sandbox) Refund(_ context.Context, chargeID string) (Charge, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	c, ok := sb.byID[chargeID]
	if !ok {
		return Charge{}, fmt.Errorf("commerce: sandbox refund: no charge %q", chargeID)
	}
	if !c.Approved {
		return *c, fmt.Errorf("commerce: sandbox refund: charge %q was declined", chargeID)
	}
	c.Refunded = true
	return *c, nil
}

// Calls returns how many charges the sandbox made (repeated keys not
// counted).
func (sb *Sandbox) Calls() int {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.calls
}
