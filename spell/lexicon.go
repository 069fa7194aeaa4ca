package spell

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// english is Debian's wamerican word list (SCOWL size 50), folded; see
// lexicon/README.md for its source and licence.
//
//go:embed lexicon/english.txt.zst
var english []byte

// Lexicon is a set of real words of a language, beside the catalog's own:
// a word in it is spelt right even when the catalog does not hold it, so
// the corrector leaves it alone ("garden hose" in a store without hoses
// is not "garden home"). It is immutable and safe for concurrent use.
type Lexicon struct {
	words []string // sorted
}

// English returns the lexicon of 73,603 American English words embedded in
// the package. Each call decompresses a new copy (about 10 ms, 2 MB):
// make one per engine and share it.
func English() (*Lexicon, error) {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("spell: english word list: %w", err)
	}
	defer d.Close()
	raw, err := d.DecodeAll(english, nil)
	if err != nil {
		return nil, fmt.Errorf("spell: english word list of %d compressed bytes: %w", len(english), err)
	}
	return NewLexicon(strings.Split(string(bytes.TrimSpace(raw)), "\n")), nil
}

// NewLexicon returns the lexicon of words (folded, in any order).
func NewLexicon(words []string) *Lexicon {
	ws := slices.Clone(words)
	slices.Sort(ws)
	return &Lexicon{words: slices.Compact(ws)}
}

// Has reports whether word is in the lexicon; a nil Lexicon has no word.
func (l *Lexicon) Has(word string) bool {
	if l == nil {
		return false
	}
	_, ok := slices.BinarySearch(l.words, word)
	return ok
}

// Len returns the number of words.
func (l *Lexicon) Len() int {
	if l == nil {
		return 0
	}
	return len(l.words)
}
