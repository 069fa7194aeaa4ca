package ingest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
)

// mapSink is an index stand-in that keeps the last product per id. It is
// a SnapshotSink: its shard p is the products of partition p (Kafka's key
// partitioner over parts partitions).
type mapSink struct {
	mu    sync.Mutex
	m     map[string]*catalog.Product
	parts int
	// loaded counts the products LoadShard read; applied those Apply got.
	loaded, applied int
}

func newMapSink(parts int) *mapSink { return &mapSink{parts: parts} }

var keyPartitioner = kgo.StickyKeyPartitioner(nil).ForTopic(TopicProducts)

func (s *mapSink) partition(id string) int {
	return keyPartitioner.Partition(&kgo.Record{Key: []byte(id)}, s.parts)
}

// CaptureShard captures the products of partition p; its writer writes
// them by id order: a 0 and the id for those byRef accepts, a 1 and the
// product for the others.
func (s *mapSink) CaptureShard(p int) func([]byte, func(*catalog.Product) bool) []byte {
	s.mu.Lock()
	var ps []*catalog.Product
	for id, q := range s.m {
		if s.partition(id) == p {
			ps = append(ps, q)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(ps, func(a, b *catalog.Product) int { return strings.Compare(a.ID, b.ID) })
	return func(dst []byte, byRef func(*catalog.Product) bool) []byte {
		dst = binary.AppendUvarint(dst, uint64(len(ps)))
		for _, q := range ps {
			if byRef(q) {
				dst = catalog.AppendString(append(dst, 0), q.ID)
			} else {
				dst = catalog.AppendProduct(append(dst, 1), q)
			}
		}
		return dst
	}
}

func (s *mapSink) LoadShard(p int, b []byte, resolve func(string) (*catalog.Product, bool)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*catalog.Product{}
	}
	for id := range s.m {
		if s.partition(id) == p {
			delete(s.m, id)
		}
	}
	d := newDecoder(b)
	for range d.count("products") {
		var q *catalog.Product
		if d.byte1("kind") == 0 {
			id := d.str("id")
			var ok bool
			if q, ok = resolve(id); !ok && d.Err() == nil {
				return fmt.Errorf("%s written by reference cannot be resolved", id)
			}
		} else {
			d.What = "product"
			q = d.Product()
		}
		if err := d.Err(); err != nil {
			return err
		}
		s.m[q.ID] = q
		s.loaded++
	}
	return d.Err()
}

// plainSink is a mapSink that is only a Sink: restarts hand it every
// product.
type plainSink struct{ s *mapSink }

func (p plainSink) Apply(ups []*catalog.Product, dels []string) error { return p.s.Apply(ups, dels) }

func (s *mapSink) Apply(ups []*catalog.Product, dels []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*catalog.Product{}
	}
	for _, id := range dels {
		delete(s.m, id)
	}
	for _, p := range ups {
		s.m[p.ID] = p
	}
	s.applied += len(ups)
	return nil
}

func (s *mapSink) get(id string) *catalog.Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id]
}

func (s *mapSink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

type env struct {
	t       *testing.T
	broker  *Broker
	prod    *kgo.Client
	dir     string
	parts   int
	ctx     context.Context
	cancel  context.CancelFunc
	running chan error
	c       *Consumer
	sink    *mapSink
	maxPoll int // 0: the default
	// snapshotBytes is Options.SnapshotBytes; 0: the default.
	snapshotBytes int64
	settled       int // products settle produced
	onOrder       func(catalog.OrderEvent)
}

func newEnv(t *testing.T, parts int) *env {
	t.Helper()
	b, err := StartBroker(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	prod, err := NewProducer(b.Addrs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	if _, err := EnsureTopics(ctx, prod, int32(parts)); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, broker: b, prod: prod, dir: t.TempDir(), parts: parts, ctx: ctx}
}

// start opens the consumer on the env's log directory and runs it.
func (e *env) start() {
	e.t.Helper()
	e.sink = newMapSink(e.parts)
	c, err := New(Options{Brokers: e.broker.Addrs(), Dir: e.dir, Partitions: e.parts, Sink: e.sink,
		FetchMaxWait: 50 * time.Millisecond, SessionTimeout: 6 * time.Second, MaxPoll: e.maxPoll, OnOrder: e.onOrder, SnapshotBytes: e.snapshotBytes})
	if err != nil {
		e.t.Fatal(err)
	}
	e.c = c
	ctx, cancel := context.WithCancel(e.ctx)
	e.cancel = cancel
	e.running = make(chan error, 1)
	go func() { e.running <- c.Run(ctx) }()
}

func (e *env) stop() {
	e.cancel()
	if err := <-e.running; err != nil {
		e.t.Fatal(err)
	}
	e.c.Close()
}

// waitCaughtUp waits, bounded, until everything produced so far is applied.
func (e *env) waitCaughtUp() {
	e.t.Helper()
	ends, err := EndOffsets(e.ctx, e.prod, IndexedTopics...)
	if err != nil {
		e.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !e.c.CaughtUp(ends) {
		if time.Now().After(deadline) {
			e.t.Fatalf("not caught up after 30 s: applied %v, ends %v", e.c.Stats().Offsets, ends)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) produce(recs ...*kgo.Record) {
	e.t.Helper()
	if err := e.prod.ProduceSync(e.ctx, recs...).FirstErr(); err != nil {
		e.t.Fatal(err)
	}
}

func testProduct(id string, v uint64) *catalog.Product {
	return &catalog.Product{ID: id, Title: fmt.Sprintf("kettle %s v%d", id, v), Version: v,
		Variants: []catalog.Variant{{ID: id + "-v", Price: catalog.Money{Amount: 1000, Currency: "USD"}, Stock: map[string]int{"w": 5}}}}
}

func rec(t *testing.T, p *catalog.Product) *kgo.Record {
	r, err := ProductRecord(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestIngestVersionsPoisonAndRestart publishes versioned events out of
// order with stale replays and poison records, and checks the final state,
// the dead-letter topic, that every record is accounted for, and that a
// restart resumes from the partition logs without applying anything twice.
func TestIngestVersionsPoisonAndRestart(t *testing.T) {
	e := newEnv(t, 4)
	r := rand.New(rand.NewPCG(1, 2))
	const n = 500
	newest := map[string]uint64{}
	deleted := map[string]bool{}
	var recs []*kgo.Record
	poison := 0
	for i := range n {
		id := fmt.Sprintf("p%03d", i)
		vs := []uint64{1, 2, 3, 4, 5}
		r.Shuffle(len(vs), func(a, b int) { vs[a], vs[b] = vs[b], vs[a] })
		for _, v := range vs {
			recs = append(recs, rec(t, testProduct(id, v)))
		}
		recs = append(recs, rec(t, testProduct(id, 2))) // a stale replay
		newest[id] = 5
		if i%10 == 0 {
			recs = append(recs, TombstoneRecord(id, 6), rec(t, testProduct(id, 4)))
			deleted[id] = true
		}
		if i%25 == 0 {
			recs = append(recs, &kgo.Record{Topic: TopicProducts, Key: []byte(id), Value: []byte(`{"schema":1,"id":`)})
			recs = append(recs, &kgo.Record{Topic: TopicPrices, Key: []byte(id), Value: []byte(`{"schema":1,"product_id":"` + id + `","variant_id":"v","version":1,"price":{"amount":-5,"currency":"USD"}}`)})
			poison += 2
		}
	}
	e.produce(recs...)
	e.start()
	e.waitCaughtUp()
	check := func(what string) {
		t.Helper()
		want := 0
		for id, v := range newest {
			p := e.sink.get(id)
			switch {
			case deleted[id] && p != nil:
				t.Fatalf("%s: %s is deleted at v6 but indexed as v%d", what, id, p.Version)
			case !deleted[id] && (p == nil || p.Version != v):
				t.Fatalf("%s: %s is %v, want v%d", what, id, p, v)
			}
			if !deleted[id] {
				want++
			}
		}
		if e.sink.len() != want {
			t.Fatalf("%s: sink holds %d products, want %d", what, e.sink.len(), want)
		}
	}
	check("first run")
	st := e.c.Stats()
	if total := st.Applied + st.Stale + st.Duplicates + st.DeadLettered; total != int64(len(recs)) {
		t.Errorf("accounted for %d records (applied %d stale %d dup %d dead %d), produced %d",
			total, st.Applied, st.Stale, st.Duplicates, st.DeadLettered, len(recs))
	}
	if st.DeadLettered != int64(poison) {
		t.Errorf("dead-lettered %d, want %d", st.DeadLettered, poison)
	}
	dlq, err := EndOffsets(e.ctx, e.prod, DLQ(TopicProducts), DLQ(TopicPrices))
	if err != nil {
		t.Fatal(err)
	}
	inDLQ := int64(0)
	for _, ps := range dlq {
		for _, o := range ps {
			inDLQ += o
		}
	}
	if inDLQ != int64(poison) {
		t.Errorf("dead-letter topics hold %d records, want %d", inDLQ, poison)
	}

	// Restart: the logs rebuild the sink, and nothing is applied again.
	e.stop()
	e.start()
	check("after restart, from the logs")
	e.produce(rec(t, testProduct("p001", 9)), rec(t, testProduct("p001", 8)))
	newest["p001"] = 9
	e.waitCaughtUp()
	check("after restart and new events")
	st = e.c.Stats()
	if st.Applied != 1 || st.Stale != 1 {
		t.Errorf("after restart applied %d and found %d stale; want 1 and 1 (the log's offsets resume after everything applied)", st.Applied, st.Stale)
	}
	e.stop()
}

// TestPriceAndStockTopics interleaves content, price and stock events of
// one product on their three topics.
func TestPriceAndStockTopics(t *testing.T) {
	e := newEnv(t, 2)
	e.produce(rec(t, testProduct("a", 1)),
		PriceRecord(catalog.PriceEvent{ProductID: "a", VariantID: "a-v", Version: 3, Price: catalog.Money{Amount: 700, Currency: "USD"}}),
		PriceRecord(catalog.PriceEvent{ProductID: "a", VariantID: "a-v", Version: 2, Price: catalog.Money{Amount: 900, Currency: "USD"}}),
		InventoryRecord(catalog.InventoryEvent{ProductID: "a", VariantID: "a-v", WarehouseID: "w", Version: 1, Available: 0}),
		rec(t, testProduct("a", 2)))
	e.start()
	e.waitCaughtUp()
	p := e.sink.get("a")
	if p == nil || p.Version != 2 || p.Variants[0].Price.Amount != 700 || p.InStock() {
		t.Fatalf("got %+v; want v2 content at the v3 price 700, out of stock", p)
	}
	e.stop()
}
