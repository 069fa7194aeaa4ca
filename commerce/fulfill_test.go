package commerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// openClocked opens a store whose clock moves one microsecond per
// reading, so every decision carries a distinct time: a second decision
// of one order would show.
func openClocked(t testing.TB, group bool) *Store {
	t.Helper()
	var tick atomic.Int64
	base := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s, err := openTest(t, Options{Path: filepath.Join(t.TempDir(), "commerce.db"), Replica: "r", GroupCommit: group,
		Now: func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Microsecond) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func orderEvent(id, user string, lines ...catalog.OrderLine) catalog.OrderEvent {
	return catalog.OrderEvent{Schema: catalog.SchemaVersion, OrderID: id, UserID: user,
		PlacedAt: time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC), Lines: lines}
}

func oline(product, variant string, q int) catalog.OrderLine {
	return catalog.OrderLine{ProductID: product, VariantID: variant, Quantity: q, Price: catalog.Money{Amount: 500, Currency: "USD"}}
}

// putCheckoutOrder stores an order as checkout does: placed, its lines
// routed, reserved and deducted.
func putCheckoutOrder(t *testing.T, s *Store, o *Order) {
	t.Helper()
	must(t, s.db.update(func(tx kvTx) error { return putOrder(tx, o) }))
}

func TestFulfillCheckoutOrder(t *testing.T) {
	s := openClocked(t, false)
	ws := NewWarehouses(testWarehouses)
	o := &Order{ID: "ord-1", UserID: "u1", Status: OrderPlaced,
		Lines:   []SessionLine{{VariantID: "a", ProductID: "pa", Quantity: 3}, {VariantID: "b", ProductID: "pb", Quantity: 1}},
		Routed:  []Line{{"a", "lax", 1}, {"a", "phl", 2}, {"b", "lax", 1}},
		Address: Address{City: "Boston", Lat: boston.Lat, Lon: boston.Lon}}
	putCheckoutOrder(t, s, o)
	if _, err := s.Fulfill(ws, "nope"); !errors.Is(err, ErrNoOrder) {
		t.Fatalf("Fulfill of a missing order = %v, want ErrNoOrder", err)
	}
	d, err := s.HandleOrderEvent(ws, orderEvent("ord-1", "u1", oline("pa", "a", 3), oline("pb", "b", 1)))
	must(t, err)
	if d.Status != OrderRouted || d.Reserved || d.Shipments != 2 || d.Destination != boston {
		t.Fatalf("decision %+v", d)
	}
	ships, err := s.Shipments("ord-1")
	must(t, err)
	want := []Shipment{
		{ID: "ord-1/s1", WarehouseID: "phl", WarehouseName: "Philadelphia PA", DistanceKm: 436.9, Status: ShipmentPicking,
			Lines: []ShipmentLine{{"a", "pa", 2}}},
		{ID: "ord-1/s2", WarehouseID: "lax", WarehouseName: "Los Angeles CA", DistanceKm: 4171.9, Status: ShipmentPicking,
			Lines: []ShipmentLine{{"a", "pa", 1}, {"b", "pb", 1}}},
	}
	for i := range want { // distances to 1%: the rounding is not the point
		if i < len(ships) && abs(ships[i].DistanceKm-want[i].DistanceKm) < 0.01*want[i].DistanceKm {
			want[i].DistanceKm = ships[i].DistanceKm
		}
	}
	if !reflect.DeepEqual(ships, want) {
		t.Fatalf("shipments\n%+v\nwant\n%+v", ships, want)
	}
	for _, w := range []string{"phl", "lax"} {
		pl, err := s.PickLists(w)
		must(t, err)
		if len(pl) != 1 || pl[0].OrderID != "ord-1" || pl[0].WarehouseID != w {
			t.Fatalf("pick lists of %s: %+v", w, pl)
		}
	}
	// Redelivered: the same decision, nothing new.
	for range 2 {
		again, err := s.HandleOrderEvent(ws, orderEvent("ord-1", "u1", oline("pa", "a", 3)))
		must(t, err)
		if !reflect.DeepEqual(again, d) {
			t.Fatalf("redelivery decided again: %+v, first %+v", again, d)
		}
	}
	got := getOrderT(t, s, "ord-1")
	if got.Status != OrderRouted {
		t.Fatalf("order status %q", got.Status)
	}
	// Ship, deliver; the verified-purchase record appears with delivery.
	must(t, s.MarkShipped("ord-1"))
	must(t, s.MarkShipped("ord-1"))
	if pl, _ := s.PickLists("phl"); len(pl) != 0 {
		t.Fatalf("pick list still open after shipping: %+v", pl)
	}
	if p, _ := s.Purchased("u1", "pa"); p != "" {
		t.Fatalf("purchase recorded before delivery: %q", p)
	}
	must(t, s.MarkDelivered("ord-1"))
	must(t, s.MarkDelivered("ord-1"))
	must(t, s.MarkShipped("ord-1")) // after delivery: nothing
	for _, p := range []string{"pa", "pb"} {
		if id, _ := s.Purchased("u1", p); id != "ord-1" {
			t.Fatalf("purchase of %s = %q", p, id)
		}
	}
	ships, _ = s.Shipments("ord-1")
	for _, sh := range ships {
		if sh.Status != ShipmentDelivered {
			t.Fatalf("shipment %+v", sh)
		}
	}
	if o := getOrderT(t, s, "ord-1"); o.Status != OrderDelivered || o.Address.City != "Boston" {
		t.Fatalf("order after delivery %+v", o)
	}
}

func abs(x float64) float64 { return max(x, -x) }

func getOrderT(t *testing.T, s *Store, id string) *Order {
	t.Helper()
	var o *Order
	must(t, s.db.view(func(tx kvTx) error {
		var err error
		o, err = getOrder(tx, id)
		return err
	}))
	if o == nil {
		t.Fatalf("no order %q", id)
	}
	return o
}

// TestFulfillEventWithoutRecord routes an order that came only as an
// event: reserved at routing, deducted at shipping, or cancelled.
func TestFulfillEventWithoutRecord(t *testing.T) {
	s := openClocked(t, false)
	ws := NewWarehouses(testWarehouses)
	_, err := s.SetStock("pa", "a", "chi", 2)
	must(t, err)
	_, err = s.SetStock("pa", "a", "den", 5)
	must(t, err)
	_, err = s.SetStock("pb", "b", "nyc", 1)
	must(t, err)

	d, err := s.HandleOrderEvent(ws, orderEvent("x-1", "u2", oline("pa", "a", 4)))
	must(t, err)
	if d.Status != OrderRouted || !d.Reserved || d.Destination != DefaultDestination ||
		!reflect.DeepEqual(d.Lines, []Line{{"a", "den", 4}}) {
		t.Fatalf("decision %+v", d)
	}
	st, _ := s.Stock("a", "den")
	if st.Available != 1 || st.Reserved != 4 {
		t.Fatalf("after routing: %+v", st)
	}
	if o := getOrderT(t, s, "x-1"); o.Status != OrderRouted || o.UserID != "u2" || len(o.Routed) != 1 || o.Total.Amount != 2000 {
		t.Fatalf("created order %+v", o)
	}
	must(t, s.MarkDelivered("x-1")) // ships first
	st, _ = s.Stock("a", "den")
	if st.Available != 1 || st.Reserved != 0 {
		t.Fatalf("after delivery: %+v", st)
	}
	if id, _ := s.Purchased("u2", "pa"); id != "x-1" {
		t.Fatalf("purchase %q", id)
	}

	// Out of stock: cancelled, nothing reserved, and for good.
	d, err = s.HandleOrderEvent(ws, orderEvent("x-2", "u2", oline("pa", "a", 1), oline("pb", "b", 2)))
	must(t, err)
	if d.Status != OrderCancelled || d.Reason != ReasonOutOfStock || d.Param != "b" || d.Shipments != 0 {
		t.Fatalf("decision %+v", d)
	}
	for _, c := range []struct {
		v, w   string
		avail  int
		reserv int
	}{{"a", "chi", 2, 0}, {"a", "den", 1, 0}, {"b", "nyc", 1, 0}} {
		if st, _ := s.Stock(c.v, c.w); st.Available != c.avail || st.Reserved != c.reserv {
			t.Fatalf("refused order moved stock: %+v", st)
		}
	}
	if o := getOrderT(t, s, "x-2"); o.Status != OrderCancelled {
		t.Fatalf("order %+v", o)
	}
	_, err = s.SetStock("pb", "b", "nyc", 10) // restocked: the decision stands
	must(t, err)
	if d2, _ := s.HandleOrderEvent(ws, orderEvent("x-2", "u2", oline("pb", "b", 2))); !reflect.DeepEqual(d2, d) {
		t.Fatalf("cancelled order decided again: %+v", d2)
	}
	if err := s.MarkShipped("x-2"); !errors.Is(err, ErrState) {
		t.Fatalf("shipping a cancelled order = %v, want ErrState", err)
	}
	if err := s.MarkDelivered("x-9"); !errors.Is(err, ErrNoOrder) {
		t.Fatalf("delivering an unrouted order = %v, want ErrNoOrder", err)
	}

	// A line without a variant cannot be picked.
	d, err = s.HandleOrderEvent(ws, orderEvent("x-3", "", oline("pa", "", 1)))
	must(t, err)
	if d.Status != OrderCancelled || d.Reason != ReasonUnknownVariant || d.Param != "pa" {
		t.Fatalf("decision %+v", d)
	}
	if _, err := s.HandleOrderEvent(ws, orderEvent("", "", oline("pa", "a", 1))); !errors.Is(err, ErrLine) {
		t.Fatalf("empty order id = %v", err)
	}
}

func TestSimulateCarrier(t *testing.T) {
	s := openStore(t, "r", false)
	ws := NewWarehouses(testWarehouses)
	_, err := s.SetStock("pa", "a", "chi", 3)
	must(t, err)
	for i := range 3 {
		_, err := s.HandleOrderEvent(ws, orderEvent(fmt.Sprintf("c-%d", i), "u", oline("pa", "a", 1)))
		must(t, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.SimulateCarrier(ctx, 20*time.Millisecond) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		for i := range 3 {
			if d, _ := s.Decision(fmt.Sprintf("c-%d", i)); d != nil && d.Status == OrderDelivered {
				n++
				if d.ShippedAt.IsZero() || d.DeliveredAt.Before(d.ShippedAt.Add(20*time.Millisecond)) {
					t.Fatalf("delivered too soon: %+v", d)
				}
			}
		}
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 orders delivered after 10 s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("SimulateCarrier = %v", err)
	}
	if st, _ := s.Stock("a", "chi"); st.Available != 0 || st.Reserved != 0 {
		t.Fatalf("stock after delivery %+v", st)
	}
}

// TestOrdersEventsKfake delivers every orders event three times through
// a real (kfake) broker to two consumers sharing one store, as two
// replicas would, while the orders race for the last units of variants
// kept in two warehouses and a checker reads every stock cell.
func TestOrdersEventsKfake(t *testing.T) {
	for _, group := range []bool{false, true} {
		t.Run(fmt.Sprintf("group=%v", group), func(t *testing.T) {
			testOrdersEventsKfake(t, group)
		})
	}
}

func testOrdersEventsKfake(t *testing.T, group bool) {
	s := openClocked(t, group)
	ws := NewWarehouses(testWarehouses)
	// "last": one unit in nyc and one in lax; "pair": one in chi, one in den.
	initial := map[string]int{"last": 2, "pair": 2}
	for _, c := range []struct{ v, w string }{{"last", "nyc"}, {"last", "lax"}, {"pair", "chi"}, {"pair", "den"}} {
		_, err := s.SetStock("p-"+c.v, c.v, c.w, 1)
		must(t, err)
	}
	// Three orders of one "last" (two can win); an order of both "pair"
	// units (split over two warehouses) against one of a single unit.
	events := []catalog.OrderEvent{
		orderEvent("o-1", "u1", oline("p-last", "last", 1)),
		orderEvent("o-2", "u2", oline("p-last", "last", 1)),
		orderEvent("o-3", "u3", oline("p-last", "last", 1)),
		orderEvent("o-4", "u4", oline("p-pair", "pair", 2)),
		orderEvent("o-5", "u5", oline("p-pair", "pair", 1)),
	}

	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, TopicOrders))
	must(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(TopicOrders))
	must(t, err)
	defer prod.Close()
	var recs []*kgo.Record
	for round := range 3 {
		for _, e := range events {
			v, err := json.Marshal(e)
			must(t, err)
			recs = append(recs, &kgo.Record{Key: []byte(e.OrderID), Value: v, Headers: []kgo.RecordHeader{{Key: "round", Value: []byte{byte(round)}}}})
		}
	}
	must(t, prod.ProduceSync(ctx, recs...).FirstErr())

	stop := make(chan struct{})
	checked := make(chan error, 1)
	var reads atomic.Int64
	go func() {
		defer close(checked)
		for {
			select {
			case <-stop:
				return
			default:
			}
			cells, err := s.Stocks()
			if err != nil {
				checked <- err
				return
			}
			sum := map[string]int{}
			for _, c := range cells {
				if c.Available < 0 || c.Reserved < 0 {
					checked <- fmt.Errorf("negative cell %+v", c)
					return
				}
				sum[c.VariantID] += c.Available + c.Reserved
			}
			for v, n := range sum {
				if n != initial[v] {
					checked <- fmt.Errorf("variant %s holds %d units, want %d", v, n, initial[v])
					return
				}
			}
			reads.Add(1)
		}
	}()

	var mu sync.Mutex
	seen := map[string][]*Decision{}
	consume := func() error {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(TopicOrders),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
		if err != nil {
			return err
		}
		defer cl.Close()
		for n := 0; n < len(recs); {
			fs := cl.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("consumed %d of %d records: %w", n, len(recs), err)
			}
			var herr error
			fs.EachRecord(func(r *kgo.Record) {
				n++
				e, err := catalog.DecodeOrderEvent(r.Key, r.Value)
				if err != nil {
					herr = err
					return
				}
				d, err := s.HandleOrderEvent(ws, e)
				if err != nil {
					herr = err
					return
				}
				mu.Lock()
				seen[e.OrderID] = append(seen[e.OrderID], d)
				mu.Unlock()
			})
			if herr != nil {
				return herr
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() { errs <- consume() })
	}
	wg.Wait()
	close(stop)
	for range 2 {
		must(t, <-errs)
	}
	if err := <-checked; err != nil {
		t.Fatal(err)
	}

	routedUnits := map[string]int{}
	won := map[string]int{}
	for _, e := range events {
		ds := seen[e.OrderID]
		if len(ds) != 6 {
			t.Fatalf("order %s handled %d times, want 6 (3 deliveries x 2 consumers)", e.OrderID, len(ds))
		}
		stored, err := s.Decision(e.OrderID)
		must(t, err)
		for _, d := range ds {
			if !reflect.DeepEqual(d, stored) {
				t.Fatalf("order %s: a handling answered decision %+v, the stored one is %+v", e.OrderID, d, stored)
			}
		}
		switch stored.Status {
		case OrderRouted:
			won[e.Lines[0].VariantID]++
			for _, l := range stored.Lines {
				routedUnits[l.VariantID] += l.Quantity
			}
			ships, err := s.Shipments(e.OrderID)
			must(t, err)
			if len(ships) != stored.Shipments || len(ships) != len(stored.Lines) {
				t.Fatalf("order %s: %d shipments for %+v", e.OrderID, len(ships), stored)
			}
		case OrderCancelled:
			if stored.Reason != ReasonOutOfStock {
				t.Fatalf("order %s cancelled for %q", e.OrderID, stored.Reason)
			}
		default:
			t.Fatalf("order %s: decision %+v", e.OrderID, stored)
		}
	}
	if won["last"] != 2 || routedUnits["last"] != 2 || won["pair"] != 1 || routedUnits["pair"] > 2 {
		t.Fatalf("winners %v, routed units %v; want 2 orders of last, 1 of pair", won, routedUnits)
	}
	cells, err := s.Stocks()
	must(t, err)
	reserved := map[string]int{}
	for _, c := range cells {
		reserved[c.VariantID] += c.Reserved
	}
	if !reflect.DeepEqual(reserved, routedUnits) {
		t.Fatalf("reserved %v, routed %v", reserved, routedUnits)
	}
	t.Logf("winners %v, routed units %v, %d stock snapshots checked", won, routedUnits, reads.Load())
}

// FuzzHandleOrderEvent feeds decoded orders events to one store: a
// handling never panics, answers the stored decision when repeated, and
// no stock cell goes negative or gains units.
func FuzzHandleOrderEvent(f *testing.F) {
	for _, seed := range []string{
		`{"schema":1,"order_id":"o1","user_id":"u","placed_at":"2026-11-23T10:00:00Z","lines":[{"product_id":"pa","variant_id":"a","quantity":2,"price":{"amount":100,"currency":"USD"}}]}`,
		`{"schema":1,"order_id":"o2","lines":[{"product_id":"pa","variant_id":"a","quantity":9},{"product_id":"pb","variant_id":"b","quantity":1}]}`,
		`{"schema":1,"order_id":"o3","lines":[{"product_id":"pa","quantity":1}]}`,
		`{"schema":1,"order_id":"o4","lines":[{"product_id":"pa","variant_id":"a\u0000x","quantity":1}]}`,
		`{"schema":1,"order_id":"o5","lines":[{"product_id":"pa","variant_id":"a","quantity":1073741824},{"product_id":"pa","variant_id":"a","quantity":1073741824}]}`,
		`{"schema":1,"order_id":"o\u0000","lines":[{"product_id":"pa","variant_id":"a","quantity":1}]}`,
	} {
		f.Add([]byte(seed))
	}
	s := openStore(f, "r", false)
	ws := NewWarehouses(testWarehouses)
	for _, c := range []struct{ p, v, w string }{{"pa", "a", "nyc"}, {"pa", "a", "lax"}, {"pb", "b", "chi"}} {
		_, err := s.SetStock(c.p, c.v, c.w, 3)
		must(f, err)
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		e, err := catalog.DecodeOrderEvent(nil, value)
		if err != nil {
			return
		}
		d, err := s.HandleOrderEvent(ws, e)
		if err != nil {
			if !errors.Is(err, ErrLine) {
				t.Fatalf("HandleOrderEvent(%s) = %v", value, err)
			}
			return
		}
		again, err := s.HandleOrderEvent(ws, e)
		if err != nil || !reflect.DeepEqual(again, d) {
			t.Fatalf("second handling = %+v, %v; first %+v", again, err, d)
		}
		cells, err := s.Stocks()
		must(t, err)
		for _, c := range cells {
			if c.Available < 0 || c.Reserved < 0 || c.Available+c.Reserved > 3 {
				t.Fatalf("cell %+v after %s", c, value)
			}
		}
	})
}

func TestEachOrder(t *testing.T) {
	s := openClocked(t, false)
	for i, st := range []string{OrderPlaced, OrderCancelled, OrderDelivered} {
		putCheckoutOrder(t, s, &Order{ID: fmt.Sprintf("ord-%d", i), UserID: "u1", Status: st,
			Lines: []SessionLine{{VariantID: "a", ProductID: "pa", Quantity: 1}}})
	}
	var got []string
	must(t, s.EachOrder(func(e catalog.OrderEvent) bool {
		got = append(got, e.OrderID+":"+e.UserID+":"+e.Lines[0].ProductID)
		return true
	}))
	if strings.Join(got, ",") != "ord-0:u1:pa,ord-2:u1:pa" {
		t.Errorf("EachOrder = %v, want the placed and the delivered order, not the cancelled one", got)
	}
}
