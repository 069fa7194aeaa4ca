// Package spell owns spelling: a dictionary of the catalog's words in a
// vellum FST, correction through Levenshtein automata scored by edits,
// keyboard, frequency and co-occurrence, and typo-tolerant autocomplete.
//
// It is the spelling side of search: a dictionary of the
// catalog's words with their document frequencies, held in a vellum FST;
// term correction through a Damerau-Levenshtein automaton walked over the
// FST, scored by edit distance, keyboard adjacency, frequency and
// co-occurrence; and Suggester, the typo-tolerant prefix completion behind
// autocomplete.
//
// The package knows nothing of the index or the analyzer: callers feed it
// folded words (lower case, accents removed, unstemmed) as
// iter.Seq2[string, uint64] and answer its two-method Index for what only
// the index knows.
//
// A Dict and a Suggester are immutable once built and safe for concurrent
// use; rebuild and swap them (atomic.Pointer) as the catalog changes. A
// Corrector is safe for concurrent use; its Correct allocates only the
// returned words.
package spell
