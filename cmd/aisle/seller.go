package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/internal/atomicfile"
)

const sellerUsage = `usage: aisle seller create --name NAME [--seller ID] [--data DIR]
       aisle seller revoke --id SELLER_OR_KEY_ID [--data DIR]
       aisle seller list [--data DIR]`

// sellerCommand manages seller API keys in the key file of a data
// directory. create prints the new key once, on stdout; only its argon2id
// hash is stored. A running server sees the change within a second plus
// its key cache TTL.
func sellerCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, sellerUsage)
		return errors.New("seller: no subcommand given")
	}
	fs := flag.NewFlagSet("aisle seller "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data `directory`")
	var name, id, seller string
	switch args[0] {
	case "create":
		fs.StringVar(&name, "name", "", "the seller's display `name`")
		fs.StringVar(&seller, "seller", "", "add a key to the existing seller `id` (key rotation) instead of creating a seller")
	case "revoke":
		fs.StringVar(&id, "id", "", "a seller `id` (revokes all its keys) or one key id")
	case "list":
	default:
		fmt.Fprintln(stderr, sellerUsage)
		return fmt.Errorf("seller: unknown subcommand %q", args[0])
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("seller: unexpected arguments %q", fs.Args())
	}
	if err := atomicfile.MkdirAll(*data); err != nil {
		return fmt.Errorf("seller: %w", err)
	}
	ks, err := auth.OpenKeyStore(*data, 0)
	if err != nil {
		return fmt.Errorf("seller: %w", err)
	}
	switch args[0] {
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
	}
	return nil
}

// newSellerID returns a fresh seller id: "sel-" and 12 random hex digits.
func newSellerID() string {
	var b [6]byte
	rand.Read(b[:])
	return "sel-" + hex.EncodeToString(b[:])
}
