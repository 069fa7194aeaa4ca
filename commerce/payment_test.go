package commerce

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
)

func TestLuhn(t *testing.T) {
	for _, c := range []struct {
		n  string
		ok bool
	}{
		{CardApprove, true}, {CardDecline, true}, {CardInsufficientFunds, true},
		{"4242424242424241", false}, {"378282246310005", true}, {"5555555555554444", true},
		{"", false}, {"42424242424", false}, {"424242424242424x", false}, {"00000000000000000000", false},
	} {
		if got := Luhn(c.n); got != c.ok {
			t.Errorf("Luhn(%q) = %v, want %v", c.n, got, c.ok)
		}
	}
}

func TestSandboxTokenize(t *testing.T) {
	sb := NewSandbox()
	sb.Now = func() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }
	ctx := context.Background()
	for _, c := range []struct {
		d     CardDetails
		field string // "" = valid
	}{
		{CardDetails{CardApprove, 12, 2030, "123"}, ""},
		{CardDetails{"4242 4242 4242 4242", 11, 26, "1234"}, ""},
		{CardDetails{"", 12, 2030, "123"}, "card_number"},
		{CardDetails{"4242424242424241", 12, 2030, "123"}, "card_number"},
		{CardDetails{CardApprove, 13, 2030, "123"}, "exp_month"},
		{CardDetails{CardApprove, 10, 2026, "123"}, "exp_year"},
		{CardDetails{CardApprove, 1, 2099, "123"}, "exp_year"},
		{CardDetails{CardApprove, 12, 2030, "12"}, "cvc"},
		{CardDetails{CardApprove, 12, 2030, "12a"}, "cvc"},
	} {
		card, err := sb.Tokenize(ctx, c.d)
		var fe *FieldError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%+v: %v", c.d, err)
		case c.field == "" && (card.Last4 != "4242" || card.Token == "" || card.Brand != "visa"):
			t.Errorf("%+v: card %+v", c.d, card)
		case c.field != "" && (!errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, ErrCard)):
			t.Errorf("%+v: error %v, want one naming %s", c.d, err, c.field)
		}
	}
}

func TestSandboxChargeIdempotent(t *testing.T) {
	sb := NewSandbox()
	ctx := context.Background()
	usd := catalog.Money{Amount: 1000, Currency: "USD"}
	ok, err := sb.Tokenize(ctx, CardDetails{CardApprove, 12, 2099 - 70, "123"})
	must(t, err)
	bad, err := sb.Tokenize(ctx, CardDetails{CardDecline, 12, 2099 - 70, "123"})
	must(t, err)
	c1, err := sb.Charge(ctx, "k1", usd, ok)
	must(t, err)
	c2, err := sb.Charge(ctx, "k1", usd, ok)
	if err != nil || c2 != c1 || !c1.Approved {
		t.Fatalf("repeated key: %+v, %v; first %+v", c2, err, c1)
	}
	if _, err := sb.Charge(ctx, "k1", catalog.Money{Amount: 1, Currency: "USD"}, ok); !errors.Is(err, ErrChargeKey) {
		t.Fatalf("key reused for another amount: %v", err)
	}
	d, err := sb.Charge(ctx, "k2", usd, bad)
	if !errors.Is(err, ErrDeclined) || d.Approved || d.DeclineCode != "card_declined" {
		t.Fatalf("decline: %+v, %v", d, err)
	}
	if _, err := sb.Charge(ctx, "k2", usd, ok); !errors.Is(err, ErrDeclined) {
		t.Fatalf("a declined key charged another card: %v", err)
	}
	if sb.Calls() != 2 {
		t.Fatalf("%d charges made, want 2", sb.Calls())
	}
	r, err := sb.Refund(ctx, c1.ID)
	if err != nil || !r.Refunded {
		t.Fatalf("refund: %+v, %v", r, err)
	}
	if _, err := sb.Refund(ctx, d.ID); err == nil {
		t.Fatal("refunded a declined charge")
	}
}
