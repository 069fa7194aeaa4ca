package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/internal/atomicfile"
)

// SellerCommand is one `aisle seller` command over the key file of a data
// directory.
type SellerCommand struct {
	// Do is create, revoke or list.
	Do   string
	Data string
	// Name is the new seller's display name; Seller, instead, adds a key
	// to that existing seller (create). ID is a seller or key id (revoke).
	Name, Seller, ID string
	// Stdout gets the key (create), shown once, and the listing.
	Stdout, Stderr io.Writer
}

// Sellers manages seller API keys in the key file of a data directory.
// create prints the new key once, on Stdout; only its argon2id hash is
// stored. A running server sees the change within a second plus its key
// cache TTL.
func Sellers(c SellerCommand) error {
	if err := atomicfile.MkdirAll(c.Data); err != nil {
		return fmt.Errorf("seller: %w", err)
	}
	ks, err := auth.OpenKeyStore(c.Data, 0)
	if err != nil {
		return fmt.Errorf("seller: %w", err)
	}
	name, seller, id, stdout, stderr := c.Name, c.Seller, c.ID, c.Stdout, c.Stderr
	switch c.Do {
	case "create":
		if strings.TrimSpace(name) == "" && seller == "" {
			return errors.New("seller create: --name is required")
		}
		if seller == "" {
			seller = newSellerID()
		}
		key, rec, err := ks.Create(auth.RoleSeller, seller, name)
		if err != nil {
			return fmt.Errorf("seller create: %w", err)
		}
		fmt.Fprintf(stderr, "aisle: seller %s, key %s: the key below is shown once; it is stored only hashed\n", rec.SellerID, rec.KeyID)
		fmt.Fprintf(stdout, "seller_id=%s\nkey_id=%s\napi_key=%s\n", rec.SellerID, rec.KeyID, key)
	case "revoke":
		if id == "" {
			return errors.New("seller revoke: --id is required")
		}
		n, err := ks.RevokeSeller(id)
		if err != nil {
			return fmt.Errorf("seller revoke: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("seller revoke: no live key of seller or key %q", id)
		}
		fmt.Fprintf(stdout, "revoked %d key(s) of %s\n", n, id)
	case "list":
		recs := ks.Records()
		slices.SortFunc(recs, func(a, b auth.KeyRecord) int { return a.Created.Compare(b.Created) })
		for _, r := range recs {
			state := "live"
			if !r.Revoked.IsZero() {
				state = "revoked " + r.Revoked.Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%q\t%s\t%s\n", r.KeyID, r.Role, r.SellerID, r.Name, r.Created.Format(time.RFC3339), state)
		}
	default:
		return fmt.Errorf("seller: unknown subcommand %q", c.Do)
	}
	return nil
}

// newSellerID returns a fresh seller id: "sel-" and 12 random hex digits.
func newSellerID() string {
	var b [6]byte
	rand.Read(b[:])
	return "sel-" + hex.EncodeToString(b[:])
}
