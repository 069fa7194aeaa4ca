package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/index"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/rank"
	"github.com/aisle/aisle/spell"
)

// ErrInvalidRequest is wrapped by every error Search returns for a request
// that breaks a limit; the server validates first, so this is a backstop.
var ErrInvalidRequest = errors.New("search: invalid request")

// Options configure an Engine.
type Options struct {
	// Shards is the number of index shards; a product's shard is
	// murmur2(id) mod Shards, as Kafka's default partitioner places it.
	Shards int
	// Rank holds the ranking weights; the zero value means
	// rank.DefaultOptions().
	Rank rank.Options
	// FacetAttributes are the attribute names counted as facets.
	FacetAttributes []string
	// MaxFacetValues caps the values returned per facet.
	MaxFacetValues int
	// MaxWords caps the words of a query that are matched.
	MaxWords int
	// Now returns the time used for recency; nil means time.Now.
	Now func() time.Time

	// Spell configures term correction.
	Spell spell.Options
	// NoSpell turns spelling correction off.
	NoSpell bool
	// NoUnderstand turns query understanding off.
	NoUnderstand bool
	// SpellMaxTotal is the result count from which a query is not
	// corrected: one matching at least this many products, every word,
	// matched well. Default 5.
	SpellMaxTotal int
	// SpellRatio is how many times more products the corrected query must
	// find to replace a query that found some; default 10.
	SpellRatio int
	// SpellRebuildDelay is the wait between a catalog change and the
	// background rebuild of the spelling data; default 2 s. The wait is
	// at least four times the last rebuild's duration.
	SpellRebuildDelay time.Duration
	// PopularQueries are offered by autocomplete above most title phrases.
	PopularQueries []string
	// MinBrandProducts is how many products a brand needs for query
	// understanding to recognise it; default 5.
	MinBrandProducts int
	// BrandBoost raises the score of products of a brand the query names
	// by this fraction; default 0.1, negative for none.
	BrandBoost float64
	// AttrBoost raises the score of products of a colour or size the
	// query names, by the factor 1+AttrBoost; default 0.1, negative for
	// none.
	AttrBoost float64
	// CategoryBoost raises the score of products in the category predicted
	// from the query's words, or under it, by this factor (0.05 is 5%);
	// default 0.05, negative for none.
	CategoryBoost float64
	// Synonyms are query-time word alternatives; nil for none. Replace
	// them while serving with SetSynonyms.
	Synonyms *query.Synonyms
	// ResponseCacheBytes bounds the cache of whole first-page results;
	// default 32 MiB, negative for none.
	ResponseCacheBytes int64
	// FilterCacheBytes bounds the shards' cache of filter combinations
	// (see index.FilterCache); default 16 MiB, negative for none.
	FilterCacheBytes int64
	// FacetSampleAbove is the most matches of one index segment whose
	// facets are counted one by one; above it they are counted over the
	// segment's 1-in-8 sample, scaled up, and the result says so
	// (Facets.Sampled, JSON facets_exact false). Default 50,000; negative
	// for exact counts always. See index.Request.FacetSampleAbove.
	FacetSampleAbove int
}

// EnsureDefaults fills unset fields with defaults.
func (o *Options) EnsureDefaults() {
	if o.Shards == 0 {
		o.Shards = 8
	}
	if o.Rank.K1 == 0 {
		o.Rank = rank.DefaultOptions()
	}
	if o.FacetAttributes == nil {
		o.FacetAttributes = []string{"color"}
	}
	if o.MaxFacetValues == 0 {
		o.MaxFacetValues = 20
	}
	if o.MaxWords == 0 {
		o.MaxWords = 16
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Spell.EnsureDefaults()
	if o.SpellMaxTotal == 0 {
		o.SpellMaxTotal = 5
	}
	if o.SpellRatio == 0 {
		o.SpellRatio = 10
	}
	if o.SpellRebuildDelay == 0 {
		o.SpellRebuildDelay = 2 * time.Second
	}
	if o.MinBrandProducts == 0 {
		o.MinBrandProducts = 5
	}
	if o.BrandBoost == 0 {
		o.BrandBoost = 0.1
	}
	if o.AttrBoost == 0 {
		o.AttrBoost = 0.1
	}
	if o.CategoryBoost == 0 {
		o.CategoryBoost = 0.05
	}
	if o.ResponseCacheBytes == 0 {
		o.ResponseCacheBytes = 32 << 20
	}
	if o.FilterCacheBytes == 0 {
		o.FilterCacheBytes = 16 << 20
	}
	if o.FacetSampleAbove == 0 {
		o.FacetSampleAbove = 50_000
	}
}

// Validate lists every problem with o.
func (o *Options) Validate() error {
	var errs []error
	if o.Shards < 1 || o.Shards > 1024 {
		errs = append(errs, fmt.Errorf("search: Shards is %d; want 1 to 1024", o.Shards))
	}
	if o.MaxFacetValues < 1 {
		errs = append(errs, fmt.Errorf("search: MaxFacetValues is %d; want at least 1", o.MaxFacetValues))
	}
	if o.MaxWords < 1 {
		errs = append(errs, fmt.Errorf("search: MaxWords is %d; want at least 1", o.MaxWords))
	}
	if err := o.Rank.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Spell.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.SpellMaxTotal < 1 {
		errs = append(errs, fmt.Errorf("search: SpellMaxTotal is %d; want at least 1", o.SpellMaxTotal))
	}
	if o.SpellRatio < 1 {
		errs = append(errs, fmt.Errorf("search: SpellRatio is %d; want at least 1", o.SpellRatio))
	}
	if o.SpellRebuildDelay < 0 {
		errs = append(errs, fmt.Errorf("search: SpellRebuildDelay is %v; want at least 0", o.SpellRebuildDelay))
	}
	if o.MinBrandProducts < 1 {
		errs = append(errs, fmt.Errorf("search: MinBrandProducts is %d; want at least 1", o.MinBrandProducts))
	}
	if o.BrandBoost > 10 || math.IsNaN(o.BrandBoost) {
		errs = append(errs, fmt.Errorf("search: BrandBoost is %g; want at most 10", o.BrandBoost))
	}
	if o.AttrBoost > 10 || math.IsNaN(o.AttrBoost) {
		errs = append(errs, fmt.Errorf("search: AttrBoost is %g; want at most 10", o.AttrBoost))
	}
	if o.CategoryBoost > 10 || math.IsNaN(o.CategoryBoost) {
		errs = append(errs, fmt.Errorf("search: CategoryBoost is %g; want at most 10", o.CategoryBoost))
	}
	return errors.Join(errs...)
}

// Engine is the search engine over a set of shards.
type Engine struct {
	opts   Options
	plain  rank.Options
	dicts  *index.Dicts
	shards []*index.Shard
	sem    chan struct{}
	slots  chan struct{} // searches running; see admit.go
	states sync.Pool
	panics atomic.Int64

	parentCache atomic.Pointer[[]int32]

	// gen advances with every change to what a search can answer; the
	// response cache keys by it.
	gen       atomic.Uint64
	responses *responseCache     // nil when off
	filters   *index.FilterCache // nil when off

	corrector   *spell.Corrector
	spelling    atomic.Pointer[spelling]
	spellDirty  atomic.Bool
	spellBusy   atomic.Bool
	spellErrors atomic.Int64
	synonyms    atomic.Pointer[query.Synonyms]
	variants    variantIndex // see variant.go

	// remote, for a router, holds the shards (remote.go); nil for an
	// engine over its own.
	remote Remote
}

// New returns an empty engine.
func New(opts Options) (*Engine, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		opts:  opts,
		plain: opts.Rank.Plain(),
		dicts: index.NewDicts(),
		sem:   make(chan struct{}, runtime.GOMAXPROCS(0)),
		slots: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	if opts.BrandBoost < 0 {
		e.opts.BrandBoost = 0
	}
	if opts.AttrBoost < 0 {
		e.opts.AttrBoost = 0
	}
	if opts.CategoryBoost < 0 {
		e.opts.CategoryBoost = 0
	}
	var err error
	if opts.Spell.Stem == nil {
		opts.Spell.Stem = query.Stem
	}
	if opts.Spell.Never == nil {
		opts.Spell.Never = isStopWord
	}
	if opts.Spell.Lexicon == nil {
		// Real English words are never "corrected" to catalog words.
		if opts.Spell.Lexicon, err = spell.English(); err != nil {
			return nil, err
		}
	}
	if e.corrector, err = spell.New(opts.Spell); err != nil {
		return nil, err
	}
	e.synonyms.Store(opts.Synonyms)
	if opts.ResponseCacheBytes > 0 {
		e.responses = newResponseCache(opts.ResponseCacheBytes)
	}
	if opts.FilterCacheBytes > 0 {
		e.filters = index.NewFilterCache(opts.FilterCacheBytes)
	}
	// One background merge at a time across the shards: a catalog
	// streaming in keeps the other cores for ingest and search.
	slots := make(chan struct{}, 1)
	for range opts.Shards {
		s, err := index.NewShard(index.Options{Rank: opts.Rank, Dicts: e.dicts, Now: opts.Now, MergeSlots: slots, Filters: e.filters,
			FacetAttrs: append([]string(nil), opts.FacetAttributes...)})
		if err != nil {
			return nil, err
		}
		e.shards = append(e.shards, s)
	}
	return e, nil
}

// SetSynonyms replaces the query-time synonyms (nil for none); searches
// already running keep the ones they started with.
func (e *Engine) SetSynonyms(s *query.Synonyms) {
	e.synonyms.Store(s)
	e.gen.Add(1)
}

// Shards returns the number of shards.
func (e *Engine) Shards() int { return len(e.shards) }

// Upsert adds or replaces products by id. It validates every product first
// and applies none if any is invalid. The engine keeps the pointers: the
// products must not be modified afterwards.
func (e *Engine) Upsert(ps ...*catalog.Product) error {
	var errs []error
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("search: upsert of %d products: %w", len(ps), errors.Join(errs...))
	}
	by := make([][]*catalog.Product, len(e.shards))
	for _, p := range ps {
		i := index.Partition(p.ID, len(e.shards))
		by[i] = append(by[i], p)
	}
	e.apply(by, nil)
	e.spellChanged()
	return nil
}

// Delete removes products by id; unknown ids are ignored.
func (e *Engine) Delete(ids ...string) error {
	by := make([][]string, len(e.shards))
	for _, id := range ids {
		i := index.Partition(id, len(e.shards))
		by[i] = append(by[i], id)
	}
	e.apply(nil, by)
	e.spellChanged()
	return nil
}

// apply runs one Apply per shard with work, at most GOMAXPROCS at once.
func (e *Engine) apply(ps [][]*catalog.Product, del [][]string) {
	e.variants.update(ps, del, e.Product)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, s := range e.shards {
		var p []*catalog.Product
		var d []string
		if ps != nil {
			p = ps[i]
		}
		if del != nil {
			d = del[i]
		}
		if len(p) == 0 && len(d) == 0 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.Apply(p, d)
		}()
	}
	wg.Wait()
	e.gen.Add(1)
}

// Product returns the live product with id.
func (e *Engine) Product(id string) (*catalog.Product, bool) {
	return e.shards[index.Partition(id, len(e.shards))].Product(id)
}

// Len returns the number of live products.
func (e *Engine) Len() int {
	n := 0
	for _, s := range e.shards {
		n += s.View().Live()
	}
	return n
}

// Stats describes the shards.
func (e *Engine) Stats() Stats {
	st := Stats{Shards: make([]ShardStats, len(e.shards))}
	for i, s := range e.shards {
		ss := s.Stats()
		st.Shards[i] = ShardStats{Docs: ss.Docs, Deleted: ss.Deleted, Bytes: ss.Bytes, Terms: ss.Terms}
	}
	return st
}

// Panics returns how many shard evaluations panicked and were recovered.
func (e *Engine) Panics() int64 { return e.panics.Load() }

// Each calls fn for every live product, shard by shard, until fn returns
// false.
func (e *Engine) Each(fn func(*catalog.Product) bool) {
	for _, s := range e.shards {
		stop := false
		s.Each(func(p *catalog.Product) bool {
			if !fn(p) {
				stop = true
				return false
			}
			return true
		})
		if stop {
			return
		}
	}
}

// fanOut runs r on every view, at most GOMAXPROCS shard evaluations at once
// across all searches; when none is free, the calling goroutine evaluates
// the shard itself. Each evaluation checks ctx every few thousand
// documents (index.View.SearchContext), and no shard starts once ctx has
// ended, so a deadline bounds the work, not just the answer.
func (e *Engine) fanOut(ctx context.Context, views []index.View, r *index.Request, res []index.Result) error {
	var wg sync.WaitGroup
	for i := range views {
		if ctx.Err() != nil {
			break
		}
		select {
		case e.sem <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-e.sem }()
				e.searchShard(ctx, views[i], r, &res[i])
			}()
		default:
			e.searchShard(ctx, views[i], r, &res[i])
		}
	}
	wg.Wait()
	return ctx.Err()
}

func (e *Engine) searchShard(ctx context.Context, v index.View, r *index.Request, res *index.Result) {
	defer func() {
		if p := recover(); p != nil {
			e.panics.Add(1)
			res.Reset()
		}
	}()
	v.SearchContext(ctx, r, res) // its error is ctx's, which fanOut returns
}
