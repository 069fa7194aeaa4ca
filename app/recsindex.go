package app

import (
	"fmt"
	"sync"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/internal/atomicfile"
	"github.com/aisle/aisle/recs"
	"github.com/aisle/aisle/search"
)

// productHook gives products applied by the ingest consumers their
// content vector at once (issue 18: similar-searchable within seconds of
// their creation), through the similar-items index once it is built;
// before, it keeps them (at most maxPending) to add when it is.
type productHook struct {
	mu      sync.Mutex
	sim     *recs.SimilarIndex
	pending []*catalog.Product
	dropped int
	path    string // where sim is written (SimilarFile)
	written int    // sim's added products when last written; -1 never
}

// maxPending bounds the products kept while the similar-items graph builds.
const maxPending = 200_000

// observe is called with each batch of products the index applied.
func (h *productHook) observe(ps []*catalog.Product) {
	h.mu.Lock()
	sim := h.sim
	if sim == nil {
		for _, p := range ps {
			if len(h.pending) < maxPending {
				h.pending = append(h.pending, p)
			} else {
				h.dropped++
			}
		}
		h.mu.Unlock()
		return
	}
	h.mu.Unlock()
	for _, p := range ps {
		_ = sim.Add(p) // past MaxAdded, the next build has it
	}
}

// attach makes sim the index products are added to, adds those kept
// meanwhile and returns how many were new to it. save writes sim to path;
// read says sim was read from there.
func (h *productHook) attach(sim *recs.SimilarIndex, path string, read bool) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, before := sim.Len()
	h.path, h.written = path, -1
	if read {
		h.written = before
	}
	for _, p := range h.pending {
		_ = sim.Add(p)
	}
	h.pending = nil
	h.sim = sim
	_, after := sim.Len()
	return after - before
}

// hookedEngine is the engine as the ingest consumers' Sink: every batch
// applied goes on to the product hook. Embedding keeps the engine's
// snapshot methods (ingest.SnapshotSink).
type hookedEngine struct {
	*search.Engine
	hook *productHook
}

func (e hookedEngine) Apply(upserts []*catalog.Product, deletes []string) error {
	if err := e.Engine.Apply(upserts, deletes); err != nil {
		return err
	}
	if e.hook != nil && len(upserts) > 0 {
		e.hook.observe(upserts)
	}
	return nil
}

// sink is eng as the ingest consumers' Sink: hooked to the similar items
// when they are built (the recommendations on).
func (a *App) sink(eng *search.Engine) ingest.Sink {
	if a.opts.NoRecs {
		return eng
	}
	return hookedEngine{eng, &a.products}
}

// save writes the attached index to its file atomically, unless nothing
// was added to it since it was last written (or none is attached).
func (h *productHook) save() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sim == nil {
		return nil
	}
	_, added := h.sim.Len()
	if added == h.written {
		return nil
	}
	if _, err := atomicfile.WriteFunc(h.path, h.sim.WriteTo); err != nil {
		return fmt.Errorf("recs: writing %s: %w", h.path, err)
	}
	h.written = added
	return nil
}
