package app

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/search"
)

// load reads the shipped store into eng, in one upsert so each shard builds
// one segment, and reports the time and heap it took.
func load(eng *search.Engine, stderr io.Writer) error {
	start := time.Now()
	ps, err := corpora.DefaultStore()
	if err != nil {
		return fmt.Errorf("serve: loading the store: %w", err)
	}
	decoded := time.Now()
	if err := eng.Upsert(ps...); err != nil {
		return fmt.Errorf("serve: indexing %d products: %w", len(ps), err)
	}
	built := time.Now()
	if err := eng.RebuildSpelling(); err != nil {
		return fmt.Errorf("serve: building the spelling data: %w", err)
	}
	ss := eng.SpellingStats()
	fmt.Fprintf(stderr, "aisle: spelling data: %d words, %d autocomplete phrases, %d brands, %d colours in %.1f s\n",
		ss.Words, ss.Phrases, ss.Brands, ss.Colors, ss.Took.Seconds())
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(stderr, "aisle: loaded %d products in %.1f s (decode %.1f s, index %.1f s; heap %d MiB)\n",
		len(ps), built.Sub(start).Seconds(), decoded.Sub(start).Seconds(), built.Sub(decoded).Seconds(), ms.HeapAlloc>>20)
	return nil
}

// popularQueries are the judged Icecat queries, offered by autocomplete as
// the store's popular searches; none when they cannot be read.
func popularQueries() []string {
	js, err := corpora.IcecatJudgments()
	if err != nil {
		return nil
	}
	var qs []string
	seen := map[string]bool{}
	for _, j := range js {
		if !seen[j.Query] {
			seen[j.Query] = true
			qs = append(qs, j.Query)
		}
	}
	return qs
}
