package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/internal/progress"
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
	opts.Brokers = splitList(*brokers)
	if len(opts.Brokers) == 0 {
		addrs, err := ingest.EmbeddedBrokerAddrs(filepath.Join(*data, "kafka"))
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		opts.Brokers = addrs
	}
	var srcs []ingest.ImportSource
	var size int64
	for _, path := range fs.Args() {
		src, c, err := ingest.OpenCatalogFile(path, f)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer c.Close()
		srcs = append(srcs, src)
		if st, err := os.Stat(path); err == nil && path != "-" && size >= 0 && !strings.HasSuffix(path, ".gz") && !strings.HasSuffix(path, ".zst") {
			size += st.Size()
		} else {
			size = -1 // unknown: no fraction while reading
		}
	}
	bar := &progress.Bar{W: stderr}
	if fd, ok := stderr.(*os.File); ok {
		if st, err := fd.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			opts.Progress = func(p ingest.ImportProgress) {
				switch {
				case p.Phase == "reading" && size > 0:
					bar.Set(fmt.Sprintf("reading %d rows", p.Products), float64(p.Bytes)/float64(size))
				case p.Phase == "reading":
					bar.Set(fmt.Sprintf("reading %d rows", p.Products), 0)
				case p.Total > 0:
					bar.Set(fmt.Sprintf("publishing %d/%d", p.Products, p.Total), float64(p.Products)/float64(p.Total))
				}
			}
		}
	}
	start := time.Now()
	res, err := ingest.Import(ctx, srcs, opts)
	bar.Clear()
	if res != nil && res.ErrorCount > 0 {
		for _, e := range res.Errors {
			fmt.Fprintln(stderr, e.Error())
		}
		if res.ErrorCount > len(res.Errors) {
			fmt.Fprintf(stderr, "... and %d more problems\n", res.ErrorCount-len(res.Errors))
		}
	}
	if err != nil {
		if errors.Is(err, ingest.ErrInvalidRows) {
			fmt.Fprintf(stderr, "%d invalid rows (%d problems); nothing was published (--skip-invalid publishes the valid rows)\n", res.Invalid, res.ErrorCount)
		}
		return fmt.Errorf("import: %w", err)
	}
	took := time.Since(start)
	rate := 0.0
	if res.Publish > 0 {
		rate = float64(res.Published) / res.Publish.Seconds()
	}
	amount := fmt.Sprintf("%.1f MB", float64(res.Bytes)/1e6)
	if res.Bytes < 1e6 {
		amount = fmt.Sprintf("%.1f kB", float64(res.Bytes)/1e3)
	}
	fmt.Fprintf(stdout, "imported %d products (%d variants, %s) in %.2f s: %d new, %d updated, %d unchanged, %d deleted",
		res.Products, res.Variants, amount, took.Seconds(), res.Created, res.Updated, res.Unchanged, res.Deleted)
	if res.Older > 0 {
		fmt.Fprintf(stdout, ", %d older than the catalog's version", res.Older)
	}
	if res.Invalid > 0 {
		fmt.Fprintf(stdout, ", %d invalid rows skipped", res.Invalid)
	}
	fmt.Fprintf(stdout, "\npublished %d events in %.2f s (%.0f events/s) after %.2f s of validation\n",
		res.Published, res.Publish.Seconds(), rate, res.Read.Seconds())
	if *noWait || res.Published == 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, *waitFor)
	defer cancel()
	if _, err := ingest.WaitIndexed(wctx, opts.Brokers, res.Offsets); err != nil {
		fmt.Fprintf(stderr, "import: published, but the index has not applied it after %s (is a server consuming?)\n", *waitFor)
		return nil
	}
	fmt.Fprintf(stdout, "searchable %.2f s after the start\n", time.Since(start).Seconds())
	return nil
}
