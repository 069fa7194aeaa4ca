package ingest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
)

func ratingRecord(id string, v uint64, stars ...int) *kgo.Record {
	e := catalog.RatingEvent{ProductID: id, Version: v}
	sum := 0
	for _, s := range stars {
		e.Distribution[s-1]++
		sum += s
	}
	e.Rating.Count = len(stars)
	if len(stars) > 0 {
		e.Rating.Avg = float64(sum) / float64(len(stars))
	}
	return RatingRecord(e)
}

func orderRecord(id, user string, lines map[string]int) *kgo.Record {
	e := catalog.OrderEvent{OrderID: id, UserID: user, PlacedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for p, q := range lines {
		e.Lines = append(e.Lines, catalog.OrderLine{ProductID: p, VariantID: p + "-v", Quantity: q})
	}
	return OrderRecord(e)
}

// TestRatingsTopic applies versioned review summaries out of order, a
// duplicate and poison, interleaved with content updates.
func TestRatingsTopic(t *testing.T) {
	e := newEnv(t, 2)
	e.produce(rec(t, testProduct("a", 1)),
		ratingRecord("a", 3, 5, 4),
		ratingRecord("a", 2, 1),    // stale
		ratingRecord("a", 3, 5, 4), // duplicate
		ratingRecord("b", 1, 2),    // before b's content
		&kgo.Record{Topic: TopicRatings, Key: []byte("a"), Value: []byte(`{"schema":1,"product_id":"a","version":9,"rating":{"avg":4,"count":2},"distribution":[0,0,0,0,1]}`)},
		&kgo.Record{Topic: TopicRatings, Key: []byte("x"), Value: []byte(`{"schema":1,"product_id":"a","version":9}`)},
		rec(t, testProduct("a", 2)),
		rec(t, testProduct("b", 1)))
	e.start()
	e.waitCaughtUp()
	check := func(what string) {
		t.Helper()
		a, b := e.sink.get("a"), e.sink.get("b")
		if a == nil || a.Version != 2 || a.Rating != (catalog.Rating{Avg: 4.5, Count: 2}) {
			t.Fatalf("%s: a is %+v; want v2 content with the v3 rating 4.5 of 2", what, a)
		}
		if b == nil || b.Rating != (catalog.Rating{Avg: 2, Count: 1}) {
			t.Fatalf("%s: b is %+v; want the rating that came before its content", what, b)
		}
	}
	check("first run")
	st := e.c.Stats()
	if st.DeadLettered != 2 || st.Stale != 1 || st.Duplicates != 1 {
		t.Errorf("stats %+v: want 2 dead-lettered, 1 stale, 1 duplicate", st)
	}
	dlq, err := EndOffsets(e.ctx, e.prod, DLQ(TopicRatings))
	if err != nil {
		t.Fatal(err)
	}
	if n := dlq[DLQ(TopicRatings)][0] + dlq[DLQ(TopicRatings)][1]; n != 2 {
		t.Errorf("%s holds %d records, want 2", DLQ(TopicRatings), n)
	}
	e.stop()
	e.start()
	check("after restart, from the logs")
	e.stop()
}

// TestOrdersSales counts the units of orders into the sales velocity of
// their products, once per order id across redelivery and restarts, and
// dead-letters poison orders.
func TestOrdersSales(t *testing.T) {
	e := newEnv(t, 3)
	var recs []*kgo.Record
	for i := range 8 {
		recs = append(recs, rec(t, testProduct(fmt.Sprint("p", i), 1)))
	}
	// Sales may arrive before the product they sell.
	recs = append(recs, orderRecord("early", "u1", map[string]int{"p7": 3, "late": 2}))
	for i := range 60 {
		id := fmt.Sprint("o", i)
		recs = append(recs, orderRecord(id, "u1", map[string]int{"p0": 1, fmt.Sprint("p", 1+i%3): 2}))
		if i%10 == 0 {
			recs = append(recs, orderRecord(id, "u1", map[string]int{"p0": 1, fmt.Sprint("p", 1+i%3): 2})) // redelivered
		}
	}
	recs = append(recs,
		&kgo.Record{Topic: TopicOrders, Key: []byte("bad"), Value: []byte(`{"schema":1,"order_id":"bad","lines":[]}`)},
		&kgo.Record{Topic: TopicOrders, Key: []byte("other"), Value: []byte(`{"schema":1,"order_id":"o1","lines":[{"product_id":"p0","quantity":1}]}`)})
	hooked := make(chan string, 200)
	e.onOrder = func(o catalog.OrderEvent) { hooked <- o.OrderID }
	e.start()
	e.produce(recs...)
	e.produce(rec(t, testProduct("late", 1)))
	e.waitCaughtUp()
	want := map[string]float64{"p0": 60, "p1": 40, "p2": 40, "p3": 40, "p7": 3, "late": 2, "p4": 0}
	check := func(what string) {
		t.Helper()
		for id, units := range want {
			p := e.sink.get(id)
			if p == nil || math.Abs(p.SalesVelocity-units/SalesWindowDays) > 1e-9 {
				t.Fatalf("%s: %s is %+v; want sales velocity %v/%d", what, id, p, units, SalesWindowDays)
			}
			if got := e.c.Sales(id); got != int64(units) {
				t.Errorf("%s: Sales(%s) = %d, want %v", what, id, got, units)
			}
		}
	}
	check("first run")
	st := e.c.Stats()
	if st.DeadLettered != 2 || st.Duplicates != 6 {
		t.Errorf("stats %+v: want 2 dead-lettered and 6 duplicate orders", st)
	}
	close(hooked)
	n := 0
	for range hooked {
		n++
	}
	if n != 61 {
		t.Errorf("OnOrder called %d times, want 61 (each order once)", n)
	}
	e.stop()
	// Redelivery after a restart: the remembered ids drop it.
	e.onOrder = nil
	e.start()
	check("after restart, from the logs")
	e.produce(orderRecord("o5", "u1", map[string]int{"p0": 1, "p3": 2}), orderRecord("o100", "", map[string]int{"p4": 5}))
	want["p4"] = 5
	e.waitCaughtUp()
	check("after a redelivered and a new order")
	e.stop()
}
