package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
)

// OpenCatalogFile opens a catalog file for Import: path "-" is stdin
// (NDJSON unless format says CSV); a name ending in .gz or .zst is
// decompressed (gzip or zstd, also recognised by their magic bytes); the
// format comes from the name (.csv is CSV; .ndjson, .jsonl and .json are
// NDJSON) unless format is set. The closer closes the file.
func OpenCatalogFile(path string, format catalog.Format) (ImportSource, io.Closer, error) {
	var f io.ReadCloser = os.Stdin
	if path != "-" {
		o, err := os.Open(path)
		if err != nil {
			return ImportSource{}, nil, fmt.Errorf("ingest: %w", err)
		}
		f = o
	}
	br := bufio.NewReaderSize(f, 1<<20)
	magic, _ := br.Peek(4)
	name := strings.ToLower(path)
	var r io.Reader = br
	closers := closers{f}
	switch {
	case strings.HasSuffix(name, ".gz") || (len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b):
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return ImportSource{}, nil, fmt.Errorf("ingest: %s: %w", path, err)
		}
		r, closers = zr, append(closers, zr)
		name = strings.TrimSuffix(name, ".gz")
	case strings.HasSuffix(name, ".zst") || (len(magic) == 4 && string(magic) == "\x28\xb5\x2f\xfd"):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			f.Close()
			return ImportSource{}, nil, fmt.Errorf("ingest: %s: %w", path, err)
		}
		r, closers = zr, append(closers, closeFunc(func() error { zr.Close(); return nil }))
		name = strings.TrimSuffix(name, ".zst")
	}
	if format == 0 {
		switch filepath.Ext(name) {
		case ".csv":
			format = catalog.FileCSV
		case ".ndjson", ".jsonl", ".json", "-", "":
			format = catalog.FileNDJSON
		default:
			f.Close()
			return ImportSource{}, nil, fmt.Errorf("ingest: %s: cannot tell the format from the name; name it .ndjson or .csv (optionally .gz or .zst), or give --format", path)
		}
	}
	return ImportSource{Name: path, Format: format, R: r}, closers, nil
}

type closeFunc func() error

func (f closeFunc) Close() error { return f() }

type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		errs = append(errs, cs[i].Close())
	}
	return errors.Join(errs...)
}

// BrokerAddrFile is the file, in the embedded broker's data directory,
// where a running broker writes its address; Import finds a running
// server's embedded broker through it.
const BrokerAddrFile = "broker.addr"

// EmbeddedBrokerAddrs returns the address of the embedded broker running on
// dir (a server's DATA/kafka).
func EmbeddedBrokerAddrs(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, BrokerAddrFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ingest: no embedded broker is running on %s (start aisle serve on its data directory, or give --brokers)", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	addrs := strings.Fields(string(b))
	if len(addrs) == 0 {
		return nil, fmt.Errorf("ingest: %s is empty", filepath.Join(dir, BrokerAddrFile))
	}
	return addrs, nil
}

// IndexerGroupPrefix starts the consumer group names of the indexer's
// generations (aisle-indexer-g1, ...).
const IndexerGroupPrefix = "aisle-indexer"

// WaitIndexed waits until an indexer group has committed, on the products
// topic, past every offset of offs (ImportResult.Offsets): the import is
// then searchable. The indexer commits after applying, so this is a
// moment or so after the index has the products. It returns the group.
func WaitIndexed(ctx context.Context, brokers []string, offs map[int32]int64) (string, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return "", fmt.Errorf("ingest: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for {
		groups, err := adm.ListGroups(ctx)
		if err != nil {
			return "", fmt.Errorf("ingest: listing the indexer groups: %w", err)
		}
		for _, g := range groups.Groups() {
			if !strings.HasPrefix(g, IndexerGroupPrefix) {
				continue
			}
			co, err := adm.FetchOffsets(ctx, g)
			if err != nil {
				continue
			}
			done := true
			for p, o := range offs {
				c, ok := co.Lookup(TopicProducts, p)
				if !ok || c.Err != nil || c.At <= o {
					done = false
					break
				}
			}
			if done {
				return g, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("ingest: waiting for the index: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
