package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/aisle/aisle/app"
	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/ingest"
)

const importUsage = `usage: aisle import [--data DIR | --brokers HOST:PORT,...] [--seller ID] [--skip-invalid] [--delete-missing]
                    [--unknown-fields refuse|attributes] [--currency USD] [--format ndjson|csv] [--no-wait] FILE...
FILE is an NDJSON or CSV catalog file (doc/import.md), optionally .gz or .zst; - is stdin.`

// importCommand is "aisle import": it validates the files, publishes them
// to the catalog topic of a running server's broker, and prints a summary
// (ingest.Import does the work).
func importCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("aisle import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, importUsage); fs.PrintDefaults() }
	data := fs.String("data", "./data", "data `directory` of the running server whose embedded broker to publish to")
	brokers := fs.String("brokers", "", "Kafka `host:port` list (instead of --data's embedded broker)")
	var opts ingest.ImportOptions
	fs.StringVar(&opts.Seller, "seller", "", "seller `id` owning the products; empty: the store's own catalog")
	fs.BoolVar(&opts.SkipInvalid, "skip-invalid", false, "publish the valid products even when some rows are invalid (they are still reported)")
	fs.BoolVar(&opts.DeleteMissing, "delete-missing", false, "delete the seller's products that are not in the files (a full sync)")
	unknown := fs.String("unknown-fields", "refuse", "what to do with fields the format does not define: `refuse` the row, or keep them as attributes")
	fs.StringVar(&opts.File.Currency, "currency", "USD", "`currency` of prices that do not name theirs")
	fs.StringVar(&opts.File.Warehouse, "warehouse", "default", "`warehouse` of a CSV stock column")
	format := fs.String("format", "", "`format` of the files (ndjson or csv); default: from each name")
	noWait := fs.Bool("no-wait", false, "do not wait for the index to apply the import")
	waitFor := fs.Duration("wait-timeout", 2*time.Minute, "how long to wait for the index")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("import: no file given")
	}
	switch *unknown {
	case "refuse":
	case "attributes":
		opts.File.UnknownAsAttributes = true
	default:
		return fmt.Errorf("import: --unknown-fields is %q; want refuse or attributes", *unknown)
	}
	var f catalog.Format
	switch *format {
	case "":
	case "ndjson", "jsonl":
		f = catalog.FileNDJSON
	case "csv":
		f = catalog.FileCSV
	default:
		return fmt.Errorf("import: --format is %q; want ndjson or csv", *format)
	}
	return app.Import(ctx, app.ImportFiles{Paths: fs.Args(), Format: f, Data: *data, Brokers: splitList(*brokers),
		Options: opts, NoWait: *noWait, WaitFor: *waitFor, Stdout: stdout, Stderr: stderr})
}
