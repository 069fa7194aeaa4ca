package spell

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/blevesearch/vellum"
)

// MaxWordLen is the longest word, in bytes, a Dict holds; longer words are
// skipped at build and never corrected.
const MaxWordLen = 64

// ErrEmpty was returned by Build when no word was given; an empty
// catalog now has an empty dictionary, which corrects nothing.
//
// Deprecated: Build no longer returns it.
var ErrEmpty = errors.New("spell: empty dictionary")

// Dict maps every word of the catalog to its document frequency, in an FST.
// Protected words (brands, and every word with a digit) are never corrected.
type Dict struct {
	fst       *vellum.FST
	protected map[string]struct{}
	maxFreq   uint64
}

// Build returns the dictionary of words, in any order and with repeats,
// whose frequencies are added up. Empty words and words longer than
// MaxWordLen are skipped; no words at all give an empty dictionary (an
// empty catalog's), which knows and corrects nothing. protected lists the words (folded, one word each)
// that must never be corrected, such as brand names; it may be nil.
func Build(words iter.Seq2[string, uint64], protected iter.Seq[string]) (*Dict, error) {
	freq := make(map[string]uint64)
	for w, f := range words {
		if w == "" || len(w) > MaxWordLen || f == 0 {
			continue
		}
		freq[w] += f
	}
	keys := make([]string, 0, len(freq))
	for w := range freq {
		keys = append(keys, w)
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	b, err := vellum.New(&buf, nil)
	if err != nil {
		return nil, fmt.Errorf("spell: building the dictionary: %w", err)
	}
	d := &Dict{protected: map[string]struct{}{}}
	for _, k := range keys {
		f := freq[k]
		d.maxFreq = max(d.maxFreq, f)
		if err := b.Insert([]byte(k), f); err != nil {
			return nil, fmt.Errorf("spell: building the dictionary at %q: %w", k, err)
		}
	}
	if err := b.Close(); err != nil {
		return nil, fmt.Errorf("spell: building the dictionary of %d words: %w", len(keys), err)
	}
	if d.fst, err = vellum.Load(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("spell: loading the dictionary of %d words: %w", len(keys), err)
	}
	if protected != nil {
		for w := range protected {
			if w != "" {
				d.protected[strings.Clone(w)] = struct{}{}
			}
		}
	}
	return d, nil
}

// Len returns the number of words.
func (d *Dict) Len() int { return d.fst.Len() }

// Freq returns the document frequency of word, zero when absent.
func (d *Dict) Freq(word string) uint64 {
	if len(word) == 0 || len(word) > MaxWordLen {
		return 0
	}
	var a [MaxWordLen]byte
	v, ok, err := d.fst.Get(append(a[:0], word...))
	if err != nil || !ok {
		return 0
	}
	return v
}

// Protected reports whether word must never be corrected: it is in the
// protected list, or it holds a digit (a model number such as "ps4" or
// "tn2110").
func (d *Dict) Protected(word string) bool {
	if hasDigit(word) {
		return true
	}
	_, ok := d.protected[word]
	return ok
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			return true
		}
	}
	return false
}

// All yields every word with its frequency in byte order.
func (d *Dict) All() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		it, err := d.fst.Iterator(nil, nil)
		for err == nil {
			k, v := it.Current()
			if !yield(string(k), v) {
				return
			}
			err = it.Next()
		}
	}
}
