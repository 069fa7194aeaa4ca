package app

import (
	"context"
	"sync/atomic"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/search"
	"github.com/aisle/aisle/spell"
)

// liveEngine is the engine the server answers from: the current index
// generation, swapped atomically when a reindex finishes. A request sees
// one generation from start to end.
type liveEngine struct {
	p atomic.Pointer[search.Engine]
}

func newLiveEngine(e *search.Engine) *liveEngine {
	l := &liveEngine{}
	l.p.Store(e)
	return l
}

func (l *liveEngine) get() *search.Engine   { return l.p.Load() }
func (l *liveEngine) swap(e *search.Engine) { l.p.Store(e) }
func (l *liveEngine) Stats() search.Stats   { return l.get().Stats() }
func (l *liveEngine) Suggest(q string, limit int) []spell.Suggestion {
	return l.get().Suggest(q, limit)
}

func (l *liveEngine) Search(ctx context.Context, r *search.Request) (*search.Result, error) {
	return l.get().Search(ctx, r)
}

func (l *liveEngine) Product(id string) (*catalog.Product, bool) { return l.get().Product(id) }

// ResponseCacheStats and FilterCacheStats report the caches of the
// generation serving (server.CacheReporter).
func (l *liveEngine) ResponseCacheStats() search.CacheStats { return l.get().ResponseCacheStats() }
func (l *liveEngine) FilterCacheStats() search.CacheStats   { return l.get().FilterCacheStats() }
