package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/recs"
	"github.com/aisle/aisle/server"
)

// TestRefold: a batch build that folds the live orders in replaces the
// lists and the live counts in one step. x and y are bought together in
// five live orders, three of them in the commerce store (folded into the
// batch) and two only on the topic. Readers asking all along see x-y
// counted 5 times, never 3 (the new lists, the old counts dropped first)
// nor 8 (the new lists, the old counts still on); after, 3 are in the
// lists and 2 live, and a replay of the folded orders counts nothing.
func TestRefold(t *testing.T) {
	cat := storeCatalog{}
	for _, id := range []string{"x", "y", "a", "b"} {
		cat[id] = &catalog.Product{ID: id, Title: id, Variants: []catalog.Variant{{ID: id + "-v",
			Price: catalog.Money{Amount: 100, Currency: "USD"}, Stock: map[string]int{"w": 5}}}}
	}
	home, err := recs.NewHome(recs.HomeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var served atomic.Pointer[server.Recommender]
	s := &orderSinks{home: home, live: recs.NewLive(recs.LiveOptions{}),
		set: func(r server.Recommender) { served.Store(&r) }}
	base := recs.Orders{Items: []string{"a", "b"}, Baskets: [][]int32{{0, 1}, {0, 1}, {0, 1}}}
	l0, err := recs.Build(context.Background(), base, recs.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.setLists(l0)
	order := func(id string) catalog.OrderEvent {
		return catalog.OrderEvent{OrderID: id, Lines: []catalog.OrderLine{{ProductID: "x", Quantity: 1}, {ProductID: "y", Quantity: 1}}}
	}
	var store []catalog.OrderEvent
	for i := range 5 {
		e := order(fmt.Sprint("o", i))
		s.observe(e)
		if i < 3 {
			store = append(store, e)
		}
	}
	each := func(fn func(catalog.OrderEvent) bool) error {
		for _, e := range store {
			if !fn(e) {
				break
			}
		}
		return nil
	}
	xy := func() (count int, fromLists bool) {
		for _, it := range (*served.Load()).AlsoBought(nil, "x", 10, cat) {
			if it.Product.ID == "y" {
				return it.Count, it.Score > 0
			}
		}
		return 0, false
	}
	if n, _ := xy(); n != 5 {
		t.Fatalf("before the refold x-y counted %d, want 5", n)
	}
	stop := make(chan struct{})
	var bad atomic.Value
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n, _ := xy(); n != 5 {
				bad.Store(n)
			}
		}
	})
	s.building = true
	if _, err := s.refold(context.Background(), base, each, false); !errors.Is(err, errRefoldBusy) {
		t.Errorf("a refold during the start's build: %v", err)
	}
	s.built()
	st, err := s.refold(context.Background(), base, each, false)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if n := bad.Load(); n != nil {
		t.Errorf("a reader saw x-y counted %v during the refold, want 5", n)
	}
	if st.Folded != 3 || st.LiveBefore != 5 || st.LiveAfter != 2 || st.Orders != 6 {
		t.Errorf("refold figures %+v; want 3 folded, 5 live before, 2 after, 6 orders", st)
	}
	if n, fromLists := xy(); n != 5 || !fromLists {
		t.Errorf("after the refold x-y counted %d (from the lists %v), want 5 from the lists", n, fromLists)
	}
	if got := s.live.Count("x", "y"); got != 2 {
		t.Errorf("live x-y after the refold %d, want 2", got)
	}
	for _, e := range store { // a restart's replay, a redelivery
		s.observe(e)
	}
	if n, _ := xy(); n != 5 {
		t.Errorf("after replaying the folded orders x-y counted %d, want 5", n)
	}
}

// TestRecsAdminRoute: POST /admin/recs/rebuild answers 503 with the
// recommendations off and 409 while they are being built.
func TestRecsAdminRoute(t *testing.T) {
	home, err := recs.NewHome(recs.HomeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	off := &App{ctx: context.Background()}
	building := &App{ctx: context.Background(), shop: &shop{}, opts: Options{Store: StoreNone},
		orders: &orderSinks{home: home, live: recs.NewLive(recs.LiveOptions{}), set: func(server.Recommender) {}, building: true}}
	for _, c := range []struct {
		a    *App
		want int
	}{{off, http.StatusServiceUnavailable}, {building, http.StatusConflict}} {
		mux := http.NewServeMux()
		c.a.recsAdmin(mux)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("POST", "/admin/recs/rebuild", nil))
		if w.Code != c.want || !strings.Contains(w.Body.String(), `"error"`) {
			t.Errorf("POST /admin/recs/rebuild: %d %s, want %d", w.Code, w.Body, c.want)
		}
	}
}
