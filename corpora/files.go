package corpora

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"sync"

	"github.com/aisle/aisle/catalog"
	"github.com/klauspost/compress/zstd"
)

// data holds the shipped data sets; see README.md for their provenance.
//
//go:embed icecat/products.jsonl.zst icecat/judgments.csv icecat/judgments_individual_ratings.csv icecat/LICENSE-chorus-Apache-2.0
//go:embed bigbasket/products.csv.zst
//go:embed instacart/products.csv.zst instacart/order_products.csv.zst
//go:embed retail/baskets.dat.zst
var data embed.FS

// File names inside data.
const (
	icecatProducts     = "icecat/products.jsonl.zst"
	icecatJudgments    = "icecat/judgments.csv"
	bigbasketProducts  = "bigbasket/products.csv.zst"
	instacartProducts  = "instacart/products.csv.zst"
	instacartOrderRows = "instacart/order_products.csv.zst"
	retailBaskets      = "retail/baskets.dat.zst"
)

// ReadFile returns the contents of one shipped file, decompressed when its
// name ends in ".zst" (pass the name without the suffix or with it). Names
// are those of README.md, such as "instacart/order_products.csv" or
// "icecat/judgments_individual_ratings.csv". The caller owns the result.
func ReadFile(name string) ([]byte, error) {
	b, err := data.ReadFile(name)
	if err != nil && !strings.HasSuffix(name, ".zst") {
		if bz, errz := data.ReadFile(name + ".zst"); errz == nil {
			name, b, err = name+".zst", bz, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("corpora: reading %s: %w", name, err)
	}
	if !strings.HasSuffix(name, ".zst") {
		return bytes.Clone(b), nil
	}
	return decompress(name, b)
}

// decompress decodes one zstd frame. Each call has its own decoder, so
// concurrent loads share nothing.
func decompress(name string, b []byte) ([]byte, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20))
	if err != nil {
		return nil, fmt.Errorf("corpora: reading %s: %w", name, err)
	}
	defer dec.Close()
	out, err := dec.DecodeAll(b, nil)
	if err != nil {
		return nil, fmt.Errorf("corpora: reading %s: %w", name, err)
	}
	return out, nil
}

// lines calls fn for each non-empty line of b, without its newline, with its
// 1-based line number.
func lines(b []byte, fn func(n int, line []byte) error) error {
	n := 0
	for len(b) > 0 {
		n++
		i := bytes.IndexByte(b, '\n')
		var line []byte
		if i < 0 {
			line, b = b, nil
		} else {
			line, b = b[:i], b[i+1:]
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	return nil
}

// DefaultStore returns the products of Icecat, BigBasket and Instacart
// concatenated in that order: the catalog Aisle serves when no other is
// given. The three sets are decoded concurrently.
func DefaultStore() ([]*catalog.Product, error) {
	loaders := [...]struct {
		name string
		load func() ([]*catalog.Product, error)
	}{
		{"icecat", Icecat},
		{"bigbasket", BigBasket},
		{"instacart", Instacart},
	}
	var (
		wg   sync.WaitGroup
		sets [len(loaders)][]*catalog.Product
		errs [len(loaders)]error
	)
	for i, l := range loaders {
		wg.Go(func() {
			sets[i], errs[i] = l.load()
		})
	}
	wg.Wait()
	n := 0
	for i := range sets {
		if errs[i] != nil {
			return nil, fmt.Errorf("corpora: loading %s: %w", loaders[i].name, errs[i])
		}
		n += len(sets[i])
	}
	out := make([]*catalog.Product, 0, n)
	for _, s := range sets {
		out = append(out, s...)
	}
	return out, nil
}
