package index

import (
	"hash/maphash"
	"strings"
)

// termTable numbers the distinct terms of a segment build densely, in the
// order first met. It is an open-addressing table of hashes, which finds a
// term a little faster than a map[string]uint32 does; build turns it into
// the segment's map once all documents are in.
type termTable struct {
	seed  maphash.Seed
	slots []termSlot // a power of two, at most half full
	terms []string   // by number, cloned
}

type termSlot struct {
	hash uint64 // 0 for an empty slot; the hash of a term is never 0
	num  uint32
}

func newTermTable(hint int) *termTable {
	size := 64
	for size < 2*hint {
		size *= 2
	}
	return &termTable{seed: maphash.MakeSeed(), slots: make([]termSlot, size)}
}

// num returns the number of term t, numbering it if it is new.
func (tt *termTable) num(t string) uint32 {
	h := maphash.String(tt.seed, t) | 1
	mask := uint64(len(tt.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &tt.slots[i]
		if s.hash == h && tt.terms[s.num] == t {
			return s.num
		}
		if s.hash == 0 {
			n := uint32(len(tt.terms))
			*s = termSlot{hash: h, num: n}
			tt.terms = append(tt.terms, strings.Clone(t))
			if 2*len(tt.terms) > len(tt.slots) {
				tt.grow()
			}
			return n
		}
	}
}

func (tt *termTable) grow() {
	old := tt.slots
	tt.slots = make([]termSlot, 2*len(old))
	mask := uint64(len(tt.slots) - 1)
	for _, s := range old {
		if s.hash == 0 {
			continue
		}
		i := s.hash & mask
		for tt.slots[i].hash != 0 {
			i = (i + 1) & mask
		}
		tt.slots[i] = s
	}
}

// fill puts every term with its number in m.
func (tt *termTable) fill(m map[string]uint32) {
	for n, t := range tt.terms {
		m[t] = uint32(n)
	}
}
