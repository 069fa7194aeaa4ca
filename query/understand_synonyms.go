package query

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Synonyms are query-time word alternatives read from a plain-text file:
//
//	# a comment
//	tv, television          two-way: each word matches the others
//	laptop => notebook      one-way: "laptop" also matches "notebook"
//
// Words are folded and stemmed as the analyzer does, so "Televisions" in a query
// finds "tv". Only single words are alternatives: a phrase on
// either side ("notebook computer") is refused, since a word of the query
// matches one index term. The zero value has none. Synonyms are immutable
// once parsed and safe for concurrent use.
type Synonyms struct {
	alts map[string][]string // stemmed term -> stemmed alternatives
}

// ParseSynonyms reads a synonyms file. Errors name the line.
func ParseSynonyms(r io.Reader) (*Synonyms, error) {
	s := &Synonyms{alts: map[string][]string{}}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		from, to, oneWay := strings.Cut(line, "=>")
		lhs, err := synonymTerms(from)
		if err != nil {
			return nil, fmt.Errorf("query: synonyms line %d: %w", n, err)
		}
		if !oneWay {
			if len(lhs) < 2 {
				return nil, fmt.Errorf("query: synonyms line %d: %q lists fewer than two words", n, line)
			}
			for _, a := range lhs {
				for _, b := range lhs {
					s.add(a, b)
				}
			}
			continue
		}
		rhs, err := synonymTerms(to)
		if err != nil {
			return nil, fmt.Errorf("query: synonyms line %d: %w", n, err)
		}
		if len(lhs) == 0 || len(rhs) == 0 {
			return nil, fmt.Errorf("query: synonyms line %d: %q needs words on both sides of =>", n, line)
		}
		for _, a := range lhs {
			for _, b := range rhs {
				s.add(a, b)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("query: reading synonyms: %w", err)
	}
	return s, nil
}

// synonymTerms returns the terms of a comma-separated list of single words.
func synonymTerms(list string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		ws := Words(item)
		if len(ws) != 1 {
			return nil, fmt.Errorf("%q is not one word", item)
		}
		out = append(out, ws[0].Terms[0])
	}
	return out, nil
}

func (s *Synonyms) add(a, b string) {
	if a == b {
		return
	}
	for _, x := range s.alts[a] {
		if x == b {
			return
		}
	}
	s.alts[a] = append(s.alts[a], b)
}

// Len returns the number of terms with alternatives.
func (s *Synonyms) Len() int {
	if s == nil {
		return 0
	}
	return len(s.alts)
}

// Expand returns ws with the alternatives of each word's terms added to
// its Terms, after the primary form. Words without synonyms are shared with
// ws; the others are copied, so ws is never modified.
func (s *Synonyms) Expand(ws []Word) []Word {
	if s == nil || len(s.alts) == 0 {
		return ws
	}
	var out []Word
	for i, w := range ws {
		var add []string
		for _, t := range w.Terms {
			add = append(add, s.alts[t]...)
		}
		if len(add) == 0 {
			continue
		}
		if out == nil {
			out = append([]Word(nil), ws...)
		}
		terms := append([]string(nil), w.Terms...)
		for _, a := range add {
			dup := false
			for _, t := range terms {
				dup = dup || t == a
			}
			if !dup {
				terms = append(terms, a)
			}
		}
		out[i].Terms = terms
	}
	if out == nil {
		return ws
	}
	return out
}
