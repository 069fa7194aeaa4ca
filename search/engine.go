package search

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/aisle/aisle/catalog"
)

// ErrInvalidRequest is wrapped by every error Search returns for a request
// that breaks a limit; the server validates first, so this is a backstop.
var ErrInvalidRequest = errors.New("search: invalid request")

// Options configure an Engine.
type Options struct {
	// Shards is the number of index shards; a product's shard is
	// murmur2(id) mod Shards, as Kafka's default partitioner places it.
	Shards int
}

// Engine is the search engine over a set of shards.
// TEMPORARY: a brute-force placeholder with the final API, replaced by the
// sharded index.
type Engine struct {
	mu    sync.RWMutex
	byID  map[string]*catalog.Product
	order []string
}

// New returns an empty engine.
func New(opts Options) (*Engine, error) {
	return &Engine{byID: map[string]*catalog.Product{}}, nil
}

// Upsert adds or replaces products by id.
func (e *Engine) Upsert(ps ...*catalog.Product) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range ps {
		if _, ok := e.byID[p.ID]; !ok {
			e.order = append(e.order, p.ID)
		}
		e.byID[p.ID] = p
	}
	return nil
}

// Delete removes products by id; unknown ids are ignored.
func (e *Engine) Delete(ids ...string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range ids {
		delete(e.byID, id)
	}
	return nil
}

// Product returns the product with id.
func (e *Engine) Product(id string) (*catalog.Product, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p, ok := e.byID[id]
	return p, ok
}

// Len returns the number of live products.
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.byID)
}

// Stats describes the shards.
func (e *Engine) Stats() Stats {
	return Stats{Shards: []ShardStats{{Docs: e.Len()}}}
}

// Search runs r.
func (e *Engine) Search(ctx context.Context, r *Request) (*Result, error) {
	start := time.Now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	q := strings.ToLower(r.Query)
	res := &Result{Page: r.Page, PageSize: r.PageSize}
	for _, id := range e.order {
		p, ok := e.byID[id]
		if !ok || !strings.Contains(strings.ToLower(p.Title), q) {
			continue
		}
		res.Total++
		if len(res.Hits) < r.PageSize {
			res.Hits = append(res.Hits, Hit{Product: p, Score: 1})
		}
	}
	if r.Facets {
		res.Facets = &Facets{}
	}
	res.Took = time.Since(start)
	return res, nil
}
