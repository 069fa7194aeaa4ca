package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/internal/progress"
)

// ImportFiles configures Import (`aisle import`).
type ImportFiles struct {
	// Paths are the catalog files (NDJSON or CSV, optionally .gz or
	// .zst; - is stdin), in the Format given or told by each name.
	Paths  []string
	Format catalog.Format
	// Brokers names the cluster to publish to; empty: the embedded
	// broker of the server running on Data.
	Data    string
	Brokers []string
	Options ingest.ImportOptions
	// NoWait returns once published; else Import waits up to WaitFor for
	// the index to apply the import.
	NoWait  bool
	WaitFor time.Duration
	// Stdout gets the summary, Stderr the problems and the progress bar.
	Stdout, Stderr io.Writer
}

// importMemoryLimit is the soft memory limit of an import process.
const importMemoryLimit = 800 << 20

// Import validates the files, publishes them to the catalog topic of a
// running server's broker (ingest.Import does the work), prints a summary
// and waits until they are searchable.
func Import(ctx context.Context, in ImportFiles) error {
	// The importer holds the state of every product on the topic (its
	// version, hash and variant ids): about half a gigabyte of live heap
	// for a re-import of 1M products, which the collector's default
	// target would let grow to twice that (1.13 GB RSS measured). A soft
	// limit, unless GOMEMLIMIT sets one, makes it collect sooner.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(importMemoryLimit)
	}
	opts, stdout, stderr := in.Options, in.Stdout, in.Stderr
	opts.Brokers = in.Brokers
	if len(opts.Brokers) == 0 {
		addrs, err := ingest.EmbeddedBrokerAddrs(filepath.Join(in.Data, "kafka"))
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		opts.Brokers = addrs
	}
	var srcs []ingest.ImportSource
	var size int64
	for _, path := range in.Paths {
		src, c, err := ingest.OpenCatalogFile(path, in.Format)
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
	if in.NoWait || res.Published == 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, in.WaitFor)
	defer cancel()
	if _, err := ingest.WaitIndexed(wctx, opts.Brokers, res.Offsets); err != nil {
		fmt.Fprintf(stderr, "import: published, but the index has not applied it after %s (is a server consuming?)\n", in.WaitFor)
		return nil
	}
	fmt.Fprintf(stdout, "searchable %.2f s after the start\n", time.Since(start).Seconds())
	return nil
}
