package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/recs"
	"github.com/aisle/aisle/server"
)

// orderSinks are what live orders update, the users' histories of the home
// page and the co-purchases layered on the lists (recs.Fresh), and what
// the served recommender is made of: the lists, those live counts, the
// similar items and the products of the fallbacks. Every change publishes
// a new recommender through set, so a reader sees one whole state: a batch
// that folds the live orders in replaces the lists and the live counts in
// one step (refold).
type orderSinks struct {
	home *recs.Home
	set  func(server.Recommender)

	mu       sync.RWMutex // observe reads it; the swaps write it
	live     *recs.Live
	lists    *recs.Lists
	sim      *recs.SimilarIndex
	ps       []*catalog.Product
	building bool // the start's build runs: no refold meanwhile
	folding  bool // a refold runs
}

// observe hands e to both sinks.
func (s *orderSinks) observe(e catalog.OrderEvent) {
	s.home.Observe(e)
	s.mu.RLock()
	s.live.Observe(e)
	s.mu.RUnlock()
}

// publish serves the current state. Called with s.mu held.
func (s *orderSinks) publish() {
	f := recs.Fresh{Lists: s.lists, Live: s.live}
	if s.sim != nil {
		s.set(recs.NewRecs(f, s.sim, s.ps, recs.CategoryOptions{}))
	} else {
		s.set(f)
	}
	s.home.SetLists(s.lists)
}

// setLists serves lists l with the live counts.
func (s *orderSinks) setLists(l *recs.Lists) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists = l
	s.publish()
}

// setSimilar serves the fallbacks of the similar items sim over the
// products ps.
func (s *orderSinks) setSimilar(sim *recs.SimilarIndex, ps []*catalog.Product) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sim, s.ps = sim, ps
	s.publish()
}

// built says the start's build has returned.
func (s *orderSinks) built() {
	s.mu.Lock()
	s.building = false
	s.mu.Unlock()
}

// errRefoldBusy is returned by refold while the start's build or another
// refold runs.
var errRefoldBusy = errors.New("recs: the recommendations are being built")

// refoldStats describe a refold.
type refoldStats struct {
	Orders      int64   `json:"orders"`      // baskets counted by the batch (two items or more)
	Folded      int     `json:"folded"`      // commerce orders in the batch
	LiveBefore  int     `json:"live_before"` // orders the live counts remembered
	LiveAfter   int     `json:"live_after"`  // of which not in the batch: counted live still
	Scorer      string  `json:"scorer"`      // the served lists' scorer
	BuildSecond float64 `json:"build_seconds"`
}

// refold is the batch build that folds the live orders in: lists from the
// shipped orders (none for a store's own catalog) and every paid order of
// the commerce store, EASE over them for the shipped store as at start;
// then, in one step, those lists served with live counts of only the
// orders the batch did not see (orderSinks.refold). The new lists are not
// written: a restart serves recs.snap with the commerce orders replayed as
// live counts, the same orders counted.
func (a *App) refold(ctx context.Context) (refoldStats, error) {
	if a.orders == nil || a.shop == nil {
		return refoldStats{}, errors.New("recs: the recommendations are off")
	}
	var base recs.Orders
	if a.opts.Store != StoreNone {
		var err error
		if base, err = instacartOrders(nil); err != nil {
			return refoldStats{}, err
		}
	}
	st, err := a.orders.refold(ctx, base, a.shop.store.EachOrder, a.opts.Store != StoreNone)
	if err == nil {
		a.logf("recs: rebuilt from %d orders with %d commerce orders folded in, in %.1f s; %d of %d live orders still counted live",
			st.Orders, st.Folded, st.BuildSecond, st.LiveAfter, st.LiveBefore)
	}
	return st, err
}

// refold builds lists from base and the orders each gives (EASE over them
// when ease), then, under s.mu, serves them with the live orders of s.live
// but those (recs.Live.Carry): a reader sees the old lists with the old counts or the new with
// the new, never an order counted twice or not at all. It refuses
// (errRefoldBusy) while the start's build or another refold runs.
func (s *orderSinks) refold(ctx context.Context, base recs.Orders, each func(func(catalog.OrderEvent) bool) error, ease bool) (refoldStats, error) {
	var st refoldStats
	s.mu.Lock()
	if s.building || s.folding {
		s.mu.Unlock()
		return st, errRefoldBusy
	}
	s.folding = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.folding = false
		s.mu.Unlock()
	}()
	start := time.Now()
	o := recs.Orders{Items: slices.Clone(base.Items), Baskets: slices.Clone(base.Baskets)}
	dense := make(map[string]int32, len(o.Items))
	for i, id := range o.Items {
		dense[id] = int32(i)
	}
	folded := map[string]bool{}
	err := each(func(e catalog.OrderEvent) bool {
		var b []int32
		for _, ln := range e.Lines {
			x, ok := dense[ln.ProductID]
			if !ok {
				x = int32(len(o.Items))
				dense[ln.ProductID] = x
				o.Items = append(o.Items, ln.ProductID)
			}
			b = append(b, x)
		}
		o.Baskets = append(o.Baskets, b)
		folded[e.OrderID] = true
		return true
	})
	if err != nil {
		return st, fmt.Errorf("recs: reading the orders to fold in: %w", err)
	}
	l, err := recs.Build(ctx, o, recs.Options{Workers: 1})
	if err != nil {
		return st, err
	}
	if ease {
		if l, err = recs.EASE(ctx, o, l, ServedEASE); err != nil {
			return st, err
		}
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	// The recommender over the new lists and an empty Live first (the
	// fallbacks' tables take a while); then, with the orders stopped, the
	// live orders the batch did not see carried into it, and both served.
	live := recs.NewLive(recs.LiveOptions{})
	s.mu.RLock()
	sim, ps := s.sim, s.ps // set by the start's build, which has returned
	s.mu.RUnlock()
	var r server.Recommender = recs.Fresh{Lists: l, Live: live}
	if sim != nil {
		r = recs.NewRecs(recs.Fresh{Lists: l, Live: live}, sim, ps, recs.CategoryOptions{})
	}
	s.mu.Lock()
	st.LiveBefore = s.live.Orders()
	s.live.Carry(live, func(id string) bool {
		if !folded[id] {
			st.LiveAfter++
		}
		return folded[id]
	})
	s.live, s.lists = live, l
	s.set(r)
	s.home.SetLists(l)
	s.mu.Unlock()
	st.Orders, st.Folded, st.Scorer = l.Stats().Orders, len(folded), l.Stats().Scorer.String()
	st.BuildSecond = time.Since(start).Seconds()
	return st, nil
}

// recsAdmin adds the recommendations' route to the admin API:
//
//	POST /admin/recs/rebuild  the batch build folding the live orders in
//	                          (refold), answered when it is served: 200
//	                          with its figures, 409 while the start's
//	                          build or another rebuild runs, 503 when the
//	                          recommendations are off
func (a *App) recsAdmin(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/recs/rebuild", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fail := func(code int, errCode string, err error) {
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": errCode, "message": err.Error()}})
		}
		if a.orders == nil || a.shop == nil {
			fail(http.StatusServiceUnavailable, "recs_off", errors.New("the recommendations are off"))
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(a.ctx, cancel) // Close stops it too
		defer stop()
		st, err := a.refold(ctx)
		switch {
		case errors.Is(err, errRefoldBusy):
			fail(http.StatusConflict, "recs_building", err)
		case err != nil:
			fail(http.StatusInternalServerError, "recs_rebuild_failed", err)
		default:
			json.NewEncoder(w).Encode(st)
		}
	})
}
