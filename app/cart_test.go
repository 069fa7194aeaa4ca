package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/commerce"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/search"
)

// blockableBroker is a kfake broker on loopback whose produce requests
// the test can refuse (the connection is closed, as by a broker that went
// away), while fetches and group requests go on. (Produce requests name
// topics by id in recent versions, so it refuses them all.)
type blockableBroker struct {
	c       *kfake.Cluster
	blocked atomic.Bool
}

func newBlockableBroker(t *testing.T) *blockableBroker {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(cartsPartitions, ingest.TopicCarts))
	if err != nil {
		t.Fatal(err)
	}
	b := &blockableBroker{c: c}
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if b.blocked.Load() {
			return nil, errors.New("the test refuses produce requests"), true
		}
		return nil, nil, false
	})
	t.Cleanup(c.Close)
	return b
}

func (b *blockableBroker) addrs() []string { return b.c.ListenAddrs() }

// cartsReader reads the carts topic from the start, as another replica
// would, and keeps every record.
type cartsReader struct {
	mu   sync.Mutex
	recs []*kgo.Record
}

func newCartsReader(t *testing.T, brokers []string) *cartsReader {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(ingest.TopicCarts),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r := &cartsReader{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			r.mu.Lock()
			fs.EachRecord(func(rec *kgo.Record) { r.recs = append(r.recs, rec) })
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-done; cl.Close() })
	return r
}

// quantity returns the largest quantity of variant in the carts of user
// read so far, 0 when none holds it.
func (r *cartsReader) quantity(t *testing.T, user, variant string) int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	q := 0
	for _, rec := range r.recs {
		if string(rec.Key) != user {
			continue
		}
		c, err := commerce.DecodeCart(rec.Value, "reader")
		if err != nil {
			t.Fatalf("a carts record of %q: %v", user, err)
		}
		q = max(q, c.Quantity(variant))
	}
	return q
}

func (r *cartsReader) records() []*kgo.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs)
}

// waitFor polls cond every 50 ms until it holds, failing after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCartReplicas: two replicas (each its store, relay and consumer, as
// openCommerce and startCommerce wire them) on one kfake broker. A write on either
// reaches the other; a write taken while the broker refuses produce
// requests is acknowledged, stays in the outbox, and reaches the other
// replica once the broker is back; an observed remove stays removed.
func TestCartReplicas(t *testing.T) {
	eng, err := search.New(search.Options{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ps []*catalog.Product
	for _, id := range []string{"p1", "p2", "p3"} {
		ps = append(ps, &catalog.Product{ID: id, Title: "Product " + id, Version: 1,
			Variants: []catalog.Variant{{ID: id + "-v1", Price: catalog.Money{Amount: 100, Currency: "USD"}}}})
	}
	if err := eng.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	brk := newBlockableBroker(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func(name string) *commerce.Store {
		st, where, err := openCommerce(t.TempDir(), "", name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stop, err := startCommerce(ctx, st, where, brk.addrs(), t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		return st
	}
	a, b := open("A"), open("B")
	write := func(s *commerce.Store, fn func(*commerce.Cart) error) {
		t.Helper()
		if _, err := s.UpdateCart("u", commerce.CartLimits{}, fn); err != nil {
			t.Fatal(err)
		}
	}
	qty := func(s *commerce.Store, v string) int {
		c, err := s.Load("u")
		if err != nil {
			t.Fatal(err)
		}
		return c.Quantity(v)
	}
	start := time.Now()
	write(a, func(c *commerce.Cart) error { return c.Add("p1-v1", 2) })
	waitFor(t, 20*time.Second, "A's add on B", func() bool { return qty(b, "p1-v1") == 2 })
	t.Logf("A -> B in %v", time.Since(start))
	write(b, func(c *commerce.Cart) error { return c.Add("p2-v1", 1) })
	waitFor(t, 20*time.Second, "B's add on A", func() bool { return qty(a, "p2-v1") == 1 })

	brk.blocked.Store(true)
	write(a, func(c *commerce.Cart) error { c.Remove("p1-v1"); return c.Add("p3-v1", 4) })
	time.Sleep(time.Second)
	if qty(b, "p3-v1") != 0 || qty(b, "p1-v1") != 2 {
		t.Fatal("a write reached B while the broker refused produce requests")
	}
	if n, err := a.OutboxLen(); err != nil || n == 0 {
		t.Fatalf("A's outbox holds %d records while the broker refuses (%v)", n, err)
	}
	brk.blocked.Store(false)
	start = time.Now()
	waitFor(t, 30*time.Second, "the queued write on B after the broker came back", func() bool {
		return qty(b, "p3-v1") == 4 && qty(b, "p1-v1") == 0
	})
	t.Logf("the queued write reached B %v after the broker came back", time.Since(start))
	waitFor(t, 10*time.Second, "A's outbox drained", func() bool { n, _ := a.OutboxLen(); return n == 0 })
	ca, _ := a.Load("u")
	cb, _ := b.Load("u")
	if !slices.Equal(ca.Items(), cb.Items()) {
		t.Fatalf("replicas differ: A %v, B %v", ca.Items(), cb.Items())
	}
}

// startAisleProcess runs an App with opts in a child process (this test
// binary, through TestMain), so that the test can kill it, and waits,
// bounded, until /healthz answers 200.
func startAisleProcess(t *testing.T, opts Options) *aisle {
	t.Helper()
	raw, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &aisle{cmd: cmd, log: &syncBuffer{}, exited: make(chan error, 1), data: opts.Data}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			a.log.WriteString(line + "\n")
			if v, ok := strings.CutPrefix(line, "aisle: listening on "); ok {
				addrc <- v
			}
		}
		a.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case a.base = <-addrc:
	case err := <-a.exited:
		t.Fatalf("aisle exited before listening: %v\n%s", err, a.log.String())
	case <-time.After(30 * time.Second):
		t.Fatal("aisle did not print its address within 30 s")
	}
	waitFor(t, 3*time.Minute, "aisle /healthz 200", func() bool {
		code, _ := httpGet(t, a.base+"/healthz")
		return code == 200
	})
	return a
}

// publishCatalog creates the ingest topics with 4 partitions and
// publishes a two-product catalog, so that the child process indexes two
// products (quick) instead of bootstrapping the shipped store.
func publishCatalog(t *testing.T, brokers []string) (tea, coffee string) {
	t.Helper()
	prod, err := ingest.NewProducer(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := ingest.EnsureTopics(ctx, prod, 4); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var ps []*catalog.Product
	for _, n := range []string{"tea", "coffee"} {
		ps = append(ps, &catalog.Product{ID: "kill-" + n, Title: "Kill test " + n, Version: 1, CreatedAt: now, UpdatedAt: now,
			Variants: []catalog.Variant{{ID: "kill-" + n + "-v1", Price: catalog.Money{Amount: 499, Currency: "USD"},
				Stock: map[string]int{"w1": 10}}}})
	}
	if _, err := ingest.PublishProducts(ctx, prod, ps); err != nil {
		t.Fatal(err)
	}
	return "kill-tea-v1", "kill-coffee-v1"
}

// TestCartKill9 is issue 7's kill test on a child process: a cart write
// acknowledged while the broker refuses every produce request, then kill
// -9 before the outbox could publish it. After a restart the item is in
// the cart, and once the broker accepts again the write reaches another
// replica (a reader of the carts topic merging into its own store).
//
//	go test -count=1 -run TestCartKill9 -v ./app
func TestCartKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process twice")
	}
	began := time.Now()
	brk := newBlockableBroker(t)
	first, second := publishCatalog(t, brk.addrs())
	data := t.TempDir()
	opts := testOptions(data)
	opts.NoRecs, opts.Brokers, opts.Replica = true, brk.addrs(), "r1"
	a := startAisleProcess(t, opts)
	t.Logf("started in %.1f s", time.Since(began).Seconds())
	dc := readDevCredentials(t, a)
	cartURL := a.base + "/api/v1/cart/" + dc.UserID
	reader := newCartsReader(t, brk.addrs())

	// The path works: an acknowledged write reaches the topic.
	if code, body := authDo(t, dc.UserToken, "POST", cartURL+"/items", `{"variant_id":"`+first+`","quantity":1}`); code != 201 {
		t.Fatalf("add %s: %d %s", first, code, body)
	}
	waitFor(t, 15*time.Second, "the first write on the carts topic", func() bool { return reader.quantity(t, dc.UserID, first) == 1 })

	// The broker refuses; a write is acknowledged (durable in the
	// outbox), and the process dies before it could publish.
	brk.blocked.Store(true)
	if code, body := authDo(t, dc.UserToken, "POST", cartURL+"/items", `{"variant_id":"`+second+`","quantity":2}`); code != 201 {
		t.Fatalf("add %s while the broker refuses: %d %s", second, code, body)
	}
	time.Sleep(300 * time.Millisecond) // the relay tries and fails
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	killed := time.Now()
	if q := reader.quantity(t, dc.UserID, second); q != 0 {
		t.Fatalf("the write was published before the kill (%d units): the test proves nothing", q)
	}

	// Restarted, with the broker still refusing: the item is in the cart.
	a = startAisleProcess(t, opts)
	t.Logf("restarted in %.1f s", time.Since(killed).Seconds())
	cartURL = a.base + "/api/v1/cart/" + dc.UserID
	code, body := authDo(t, dc.UserToken, "GET", cartURL, "")
	var cart struct {
		Items []struct {
			VariantID string `json:"variant_id"`
			Quantity  int    `json:"quantity"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &cart); code != 200 || err != nil {
		t.Fatalf("cart after the restart: %d %v %s", code, err, body)
	}
	got := map[string]int{}
	for _, it := range cart.Items {
		got[it.VariantID] = it.Quantity
	}
	if got[first] != 1 || got[second] != 2 {
		t.Fatalf("cart after kill -9 and restart: %v; want %s:1 and %s:2", got, first, second)
	}

	// The broker is back: the queued write reaches another replica.
	brk.blocked.Store(false)
	back := time.Now()
	waitFor(t, 30*time.Second, "the queued write on the carts topic", func() bool { return reader.quantity(t, dc.UserID, second) == 2 })
	t.Logf("published %v after the broker came back", time.Since(back).Round(time.Millisecond))
	other, err := commerce.Open(commerce.Options{Path: filepath.Join(t.TempDir(), "other.db"), Replica: "r2"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, rec := range reader.records() {
		if _, err := other.MergeRemote(string(rec.Key), rec.Value); err != nil {
			t.Fatal(err)
		}
	}
	c, err := other.Load(dc.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Quantity(first) != 1 || c.Quantity(second) != 2 {
		t.Fatalf("the other replica's cart: %v", c.Items())
	}
	a.stop(t)
	t.Logf("kill -9 test in %.1f s", time.Since(began).Seconds())
}
