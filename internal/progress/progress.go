// Package progress draws a one-line progress bar on a terminal, redrawn in
// place, for the command-line tools (aisle import, recs build, aisle-bench).
// A Bar is safe for concurrent use; it owns no state beyond its writer.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Bar draws one line on W, redrawn in place at most every 100 ms.
type Bar struct {
	W io.Writer

	mu    sync.Mutex
	shown bool
	last  time.Time
}

// Set draws phase and done (0 to 1).
func (p *Bar) Set(phase string, done float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done < 1 && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 30
	n := int(min(max(done, 0), 1) * width)
	fmt.Fprintf(p.W, "\r%-24s [%s%s] %3.0f%%", phase, strings.Repeat("#", n), strings.Repeat(".", width-n), done*100)
	p.shown = true
}

// Clear erases the line if one is drawn.
func (p *Bar) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprintf(p.W, "\r%s\r", strings.Repeat(" ", 64))
		p.shown = false
	}
}

// Counts returns a func(done, total int) drawing what on p, clearing the
// bar when done reaches total (the shape of recs.Options.Progress).
func (p *Bar) Counts(what string) func(done, total int) {
	finished := false
	return func(done, total int) {
		if finished {
			return
		}
		finished = done == total
		p.Set(what, float64(done)/float64(max(total, 1)))
		if done == total {
			p.Clear()
		}
	}
}
