package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aisle/aisle/bench"
	"github.com/aisle/aisle/corpora"
)

// benchImportCommand is "aisle-bench import": the import workload
// (bench.RunImport), its table on stdout, and report-import.md and .json
// in --out.
func benchImportCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("aisle-bench import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("sizes", "1m", "comma-separated catalog `sizes` (the store grown with bench.Grow), e.g. 100k,1m")
	peers := fs.String("peers", "bleve,postgres", "comma-separated `peers` loading the same file: bleve, postgres; empty for none")
	peerMax := fs.String("peer-max", "1m", "measure the peers at sizes up to this many `products`")
	shards := fs.Int("shards", 8, "partitions and shards")
	out := fs.String("out", "", "`directory` to write report-import.md and report-import.json to")
	tmp := fs.String("tmp", "", "`directory` for the file, the broker and the logs (default: the system's)")
	writeFile := fs.String("write-file", "", "only write the catalog of the first --sizes size as an NDJSON `file` (for aisle import) and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *writeFile != "" {
		n, err := parseSizes(*sizes)
		if err != nil || len(n) == 0 {
			return fmt.Errorf("bench import: --sizes: %v", err)
		}
		store, err := corpora.DefaultStore()
		if err != nil {
			return err
		}
		bytes, err := bench.WriteCatalogFile(*writeFile, bench.Grow(store, n[0], 1))
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "aisle-bench: wrote %d products, %.0f MB, to %s\n", n[0], float64(bytes)/1e6, *writeFile)
		return nil
	}
	cfg := bench.ImportConfig{Shards: *shards, TempDir: *tmp,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, "aisle-bench: "+format+"\n", args...) }}
	var err error
	if cfg.Sizes, err = parseSizes(*sizes); err != nil {
		return fmt.Errorf("bench import: --sizes: %w", err)
	}
	pm, err := parseSizes(*peerMax)
	if err != nil || len(pm) != 1 {
		return fmt.Errorf("bench import: --peer-max %q: want one size", *peerMax)
	}
	cfg.PeerMax = pm[0]
	for _, p := range strings.Split(*peers, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.Peers = append(cfg.Peers, p)
		}
	}
	pts, err := bench.RunImport(ctx, cfg)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Import of an NDJSON catalog file (`aisle-bench import --sizes %s --peers %s --peer-max %s`), %s\n\n", *sizes, *peers, *peerMax, bench.DescribeMachine())
	if err := bench.WriteImportMarkdown(&b, pts); err != nil {
		return err
	}
	fmt.Fprint(stdout, b.String())
	if *out == "" {
		return nil
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	js, _ := json.MarshalIndent(pts, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "report-import.json"), js, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*out, "report-import.md"), []byte(b.String()), 0o644)
}
