// Command corpora converts the public data sets under -from (the layout of
// /work/shared/corpora) into the compressed files that package corpora
// embeds under -to. It is a one-off tool kept for provenance: running it
// again on the same input writes byte-identical output.
//
//	go run ./cmd/corpora -from ../shared/corpora -to corpora
//
// Conversions:
//   - icecat: the JSON arrays in icecat_products_part{1..4}.json.zip become
//     one products.jsonl.zst, one compacted JSON object per line, in source
//     order, every field kept byte for byte (json.Compact only removes
//     insignificant white space). judgments*.csv and the licence are copied.
//   - bigbasket, instacart, retail: each *.gz is decompressed and re-compressed
//     with zstd; the CSV bytes are unchanged.
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"

	"github.com/klauspost/compress/zstd"
)

func main() {
	from := flag.String("from", "../shared/corpora", "directory holding the downloaded data sets")
	to := flag.String("to", "corpora", "directory of package corpora to write into")
	flag.Parse()
	if err := run(*from, *to); err != nil {
		log.Fatal(err)
	}
}

func run(from, to string) error {
	steps := []struct {
		name string
		do   func() error
	}{
		{"icecat products", func() error {
			return icecatProducts(filepath.Join(from, "icecat"), filepath.Join(to, "icecat", "products.jsonl.zst"))
		}},
		{"icecat judgments", func() error {
			for _, f := range []string{"judgments.csv", "judgments_individual_ratings.csv", "LICENSE-chorus-Apache-2.0"} {
				if err := copyFile(filepath.Join(from, "icecat", f), filepath.Join(to, "icecat", f)); err != nil {
					return err
				}
			}
			return nil
		}},
		{"bigbasket", func() error {
			return gzipToZstd(filepath.Join(from, "bigbasket", "products.csv.gz"), filepath.Join(to, "bigbasket", "products.csv.zst"))
		}},
		{"instacart products", func() error {
			return gzipToZstd(filepath.Join(from, "instacart", "products.csv.gz"), filepath.Join(to, "instacart", "products.csv.zst"))
		}},
		{"instacart orders", func() error {
			return gzipToZstd(filepath.Join(from, "instacart", "order_products.csv.gz"), filepath.Join(to, "instacart", "order_products.csv.zst"))
		}},
		{"retail baskets", func() error {
			return gzipToZstd(filepath.Join(from, "retail", "retail.dat.gz"), filepath.Join(to, "retail", "baskets.dat.zst"))
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("corpora: %s: %w", s.name, err)
		}
		log.Printf("%s: done", s.name)
	}
	return nil
}

// icecatProducts reads every icecat_products_part*.json.zip in dir, in name
// order, and writes their array elements as JSON lines to out.
func icecatProducts(dir, out string) error {
	parts, err := filepath.Glob(filepath.Join(dir, "icecat_products_part*.json.zip"))
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return fmt.Errorf("no icecat_products_part*.json.zip in %s", dir)
	}
	sort.Strings(parts)
	var buf bytes.Buffer
	n := 0
	for _, part := range parts {
		k, err := appendZipArray(&buf, part)
		if err != nil {
			return fmt.Errorf("reading %s: %w", part, err)
		}
		log.Printf("%s: %d products", filepath.Base(part), k)
		n += k
	}
	log.Printf("icecat: %d products, %d bytes of JSON lines", n, buf.Len())
	return writeZstd(out, buf.Bytes())
}

// appendZipArray decodes the JSON array in every file of the zip archive at
// path and appends each element to buf as one compacted line.
func appendZipArray(buf *bytes.Buffer, path string) (int, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return 0, err
	}
	defer zr.Close()
	n := 0
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return n, err
		}
		dec := json.NewDecoder(bufio.NewReader(rc))
		if _, err := dec.Token(); err != nil { // '['
			rc.Close()
			return n, fmt.Errorf("%s: %w", f.Name, err)
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				rc.Close()
				return n, fmt.Errorf("%s: element %d: %w", f.Name, n, err)
			}
			if err := json.Compact(buf, raw); err != nil {
				rc.Close()
				return n, fmt.Errorf("%s: element %d: %w", f.Name, n, err)
			}
			buf.WriteByte('\n')
			n++
		}
		rc.Close()
	}
	return n, nil
}

func gzipToZstd(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", in, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("reading %s: %w", in, err)
	}
	return writeZstd(out, data)
}

// writeZstd compresses data in one frame with a single-threaded encoder, so
// the output depends on the input only.
func writeZstd(out string, data []byte) error {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedBestCompression),
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(true))
	if err != nil {
		return err
	}
	defer enc.Close()
	comp := enc.EncodeAll(data, make([]byte, 0, len(data)/4))
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, comp, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	log.Printf("%s: %d bytes -> %d bytes", out, len(data), len(comp))
	return nil
}

func copyFile(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return nil
}
