package spell

import (
	"cmp"
	"iter"
	"slices"
	"sort"
	"strings"
)

// MaxSuggestions bounds the limit of Suggest.
const MaxSuggestions = 20

// scanLimit is the widest key range Suggest scans; wider ranges have their
// best keys precomputed at build.
const scanLimit = 512

// Phrase is one completion a Suggester can offer.
type Phrase struct {
	// Text is folded words separated by single spaces.
	Text string
	// Weight is its popularity: the number of products or searches.
	Weight uint64
	// Category is the category slug to search it in; may be empty.
	Category string
}

// Suggestion is one answer of Suggest.
type Suggestion struct {
	Text     string
	Category string
	Weight   uint64
	// Fuzzy is set when the prefix matched with one edit.
	Fuzzy bool
}

// Suggester completes prefixes to the most popular phrases that start with
// them, tolerating one typo. It is immutable and safe for concurrent use.
//
// Phrases are kept sorted; the phrases with a prefix are a range found by
// binary search. A range of up to scanLimit phrases is scanned for its best;
// for the few prefixes with wider ranges the best MaxSuggestions were
// computed at build, so no query scans more than scanLimit phrases per
// prefix tried.
type Suggester struct {
	keys   []string
	weight []uint64
	cat    []uint32
	cats   []string
	top    map[string][]int32
}

// NewSuggester builds a Suggester of phrases. Repeated texts add their
// weights and keep the category of the heaviest. Empty texts are skipped.
func NewSuggester(phrases iter.Seq[Phrase]) *Suggester {
	type agg struct {
		w, catW uint64
		cat     string
	}
	m := map[string]*agg{}
	for p := range phrases {
		if p.Text == "" {
			continue
		}
		a := m[p.Text]
		if a == nil {
			a = &agg{}
			m[strings.Clone(p.Text)] = a
		}
		a.w += p.Weight
		if p.Category != "" && p.Weight >= a.catW {
			a.cat, a.catW = p.Category, p.Weight
		}
	}
	s := &Suggester{keys: make([]string, 0, len(m)), top: map[string][]int32{}}
	for k := range m {
		s.keys = append(s.keys, k)
	}
	slices.Sort(s.keys)
	catID := map[string]uint32{"": 0}
	s.cats = []string{""}
	s.weight = make([]uint64, len(s.keys))
	s.cat = make([]uint32, len(s.keys))
	for i, k := range s.keys {
		a := m[k]
		s.weight[i] = a.w
		id, ok := catID[a.cat]
		if !ok {
			id = uint32(len(s.cats))
			catID[a.cat] = id
			s.cats = append(s.cats, a.cat)
		}
		s.cat[i] = id
	}
	s.precompute("", 0, len(s.keys))
	return s
}

// Len returns the number of phrases.
func (s *Suggester) Len() int { return len(s.keys) }

// Weight returns the weight of the phrase text, zero when it is not one.
func (s *Suggester) Weight(text string) uint64 {
	if i, ok := slices.BinarySearch(s.keys, text); ok {
		return s.weight[i]
	}
	return 0
}

// precompute stores the best keys of every prefix whose range [lo, hi) is
// wider than scanLimit, depth first.
func (s *Suggester) precompute(prefix string, lo, hi int) {
	if hi-lo <= scanLimit {
		return
	}
	s.top[prefix] = s.scan(lo, hi, MaxSuggestions, nil)
	n := len(prefix)
	i := lo
	for i < hi && len(s.keys[i]) == n {
		i++ // the prefix itself
	}
	for i < hi {
		c := s.keys[i][n]
		j := i + sort.Search(hi-i, func(k int) bool { return s.keys[i+k][n] > c })
		s.precompute(s.keys[i][:n+1], i, j)
		i = j
	}
}

// better orders key indexes by weight, then text.
func (s *Suggester) better(a, b int32) int {
	if s.weight[a] != s.weight[b] {
		return cmp.Compare(s.weight[b], s.weight[a])
	}
	return strings.Compare(s.keys[a], s.keys[b])
}

// scan appends to dst the best k keys of [lo, hi), best first.
func (s *Suggester) scan(lo, hi, k int, dst []int32) []int32 {
	start := len(dst)
	for i := lo; i < hi; i++ {
		top := dst[start:]
		if len(top) == k && s.better(int32(i), top[k-1]) >= 0 {
			continue
		}
		if len(top) == k {
			dst = dst[:len(dst)-1]
		}
		dst = append(dst, int32(i))
		// insertion into the sorted tail
		for j := len(dst) - 1; j > start && s.better(dst[j], dst[j-1]) < 0; j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
		}
	}
	return dst
}

// span returns the range of keys starting with prefix.
func (s *Suggester) span(prefix string) (lo, hi int) {
	lo = sort.SearchStrings(s.keys, prefix)
	hi = lo + sort.Search(len(s.keys)-lo, func(k int) bool { return !strings.HasPrefix(s.keys[lo+k], prefix) })
	return lo, hi
}

// best appends to dst the best k keys starting with prefix.
func (s *Suggester) best(prefix string, k int, dst []int32) []int32 {
	lo, hi := s.span(prefix)
	if hi-lo > scanLimit {
		t := s.top[prefix]
		return append(dst, t[:min(k, len(t))]...)
	}
	return s.scan(lo, hi, k, dst)
}

// Suggest appends to dst up to limit phrases starting with prefix, most
// popular first, and returns the extended slice. prefix must be folded as
// the phrases are, with single spaces. When fewer than limit phrases match
// exactly and the prefix's last word has at least four letters, phrases within one
// edit (substitution, insertion, deletion or transposition) of the prefix
// follow, also most popular first. limit is capped at MaxSuggestions.
func (s *Suggester) Suggest(prefix string, limit int, dst []Suggestion) []Suggestion {
	limit = min(limit, MaxSuggestions)
	if limit <= 0 || prefix == "" || len(s.keys) == 0 {
		return dst
	}
	var idxArr [4 * MaxSuggestions]int32
	exact := s.best(prefix, limit, idxArr[:0])
	for _, i := range exact {
		dst = append(dst, s.suggestion(i, false))
	}
	if len(exact) >= limit || len(prefix)-strings.LastIndexByte(prefix, ' ')-1 < 4 || len(prefix) > MaxWordLen {
		return dst
	}
	fuzzy := s.fuzzy(prefix, limit, idxArr[len(exact):len(exact)], exact)
	for _, i := range fuzzy[:min(len(fuzzy), limit-len(exact))] {
		dst = append(dst, s.suggestion(i, true))
	}
	return dst
}

func (s *Suggester) suggestion(i int32, fuzzy bool) Suggestion {
	return Suggestion{Text: s.keys[i], Category: s.cats[s.cat[i]], Weight: s.weight[i], Fuzzy: fuzzy}
}

// fuzzy appends to dst the best k keys, not in seen, that start with a
// one-edit variant of prefix. The edits are confined to the last word of
// the prefix, where typing is still going on; variants are made only with
// the letters that actually follow the unchanged part in some phrase.
func (s *Suggester) fuzzy(prefix string, k int, dst []int32, seen []int32) []int32 {
	wordStart := strings.LastIndexByte(prefix, ' ') + 1
	var buf [MaxWordLen + 2]byte
	var cand []int32
	var candArr [8 * MaxSuggestions]int32
	cand = candArr[:0]
	add := func(v []byte) {
		before := len(cand)
		cand = s.best(string(v), k, cand)
		// keep only new keys
		out := cand[:before]
		for _, i := range cand[before:] {
			if !slices.Contains(seen, i) && !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
		cand = out
		if len(cand) > cap(candArr)-MaxSuggestions {
			slices.SortFunc(cand, s.better)
			cand = cand[:k]
		}
	}
	n := len(prefix)
	for p := wordStart; p < n; p++ {
		// deletion of prefix[p]
		add(append(append(buf[:0], prefix[:p]...), prefix[p+1:]...))
		// transposition of p and p+1
		if p+1 < n && prefix[p] != prefix[p+1] {
			v := append(buf[:0], prefix...)
			v[p], v[p+1] = v[p+1], v[p]
			add(v)
		}
	}
	for p := wordStart; p <= n; p++ {
		// the letters that follow prefix[:p] in some phrase
		lo, hi := s.span(prefix[:p])
		for lo < hi {
			if len(s.keys[lo]) <= p {
				lo++
				continue
			}
			c := s.keys[lo][p]
			if c == ' ' {
				lo++
				continue
			}
			// insertion of c at p
			add(append(append(append(buf[:0], prefix[:p]...), c), prefix[p:]...))
			// substitution of prefix[p] by c
			if p < n && c != prefix[p] {
				add(append(append(append(buf[:0], prefix[:p]...), c), prefix[p+1:]...))
			}
			lo += sort.Search(hi-lo, func(j int) bool { return s.keys[lo+j][p] > c })
		}
	}
	slices.SortFunc(cand, s.better)
	return append(dst, cand[:min(k, len(cand))]...)
}
