package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/aisle/aisle/app"
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
	return app.Sellers(app.SellerCommand{Do: args[0], Data: *data, Name: name, Seller: seller, ID: id, Stdout: stdout, Stderr: stderr})
}
