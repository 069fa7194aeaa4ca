package app

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/commerce"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/internal/pgtest"
)

// TestCommercePGReplicas is issue 21's race over HTTP: two App processes
// (this test binary started twice, each with its own data directory and
// --replica) share one PostgreSQL database (--commerce-db) and one
// broker. 200 guests, 100 on each process, add the last S units of one
// variant to their carts and check out at once. Exactly S orders are
// placed across both, and the shared store ends with no unit available or
// reserved.
//
//	go test -count=1 -run TestCommercePGReplicas -v ./app
func TestCommercePGReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and two App processes")
	}
	cl, err := pgtest.Start(pgtest.Options{})
	pgtest.Require(t, err)
	t.Cleanup(func() { cl.Stop() })
	db, err := cl.NewDatabase()
	if err != nil {
		t.Fatal(err)
	}
	const S, perProcess = 37, 100
	brk := newBlockableBroker(t)
	publishShared(t, brk.addrs(), S)
	var envs []*integrityEnv
	for _, replica := range []string{"a", "b"} {
		opts := testOptions(t.TempDir())
		opts.NoRecs, opts.Brokers, opts.Replica, opts.CommerceDB = true, brk.addrs(), replica, db
		a := startAisleProcess(t, opts)
		envs = append(envs, &integrityEnv{a: a, dc: readDevCredentials(t, a)})
	}
	for _, e := range envs {
		e.waitProduct(t, "pg-shared", func(p map[string]any) bool { return p["stock_status"] != nil })
	}
	// Both processes seed the cells from the catalog (idempotently, into
	// the one database): wait until they hold S units.
	st, err := commerce.Open(commerce.Options{DB: db, Replica: "checker"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	units := func() (avail, reserved int) {
		cells, err := st.Stocks()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cells {
			if c.VariantID == "pg-shared-v1" {
				avail += c.Available
				reserved += c.Reserved
			}
		}
		return avail, reserved
	}
	waitFor(t, time.Minute, "the shared cells seeded", func() bool { a, _ := units(); return a == S })

	var placed, refused, refusedAtAdd atomic.Int64
	var placedBy [2]atomic.Int64
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for p, e := range envs {
		for i := range perProcess {
			gid, tok := newGuest(t, e)
			wg.Go(func() {
				<-start
				key := fmt.Sprintf("p%d-%d", p, i)
				code, m, err := e.do(tok, "POST", "/api/v1/cart/"+gid+"/items", `{"variant_id":"pg-shared-v1","quantity":1}`)
				switch {
				case err != nil:
					fail("add: %v", err)
					return
				case code == 409:
					refused.Add(1)
					refusedAtAdd.Add(1)
					return
				case code != 201:
					fail("add: %d %v", code, m)
					return
				}
				code, m, err = e.do(tok, "POST", "/api/v1/checkout", "{}", "Idempotency-Key", key+"-c")
				if err != nil || code != 201 {
					fail("create: %d %v %v", code, m, err)
					return
				}
				path := "/api/v1/checkout/" + m["checkout_id"].(string)
				for _, s := range []struct{ step, body string }{
					{"address", `{"name":"Ada Lovelace","line1":"1 Main St","city":"Boston","postal_code":"02101","country":"US","lat":42.36,"lon":-71.06}`},
					{"shipping", `{"option":"standard"}`},
					{"payment", `{"card_number":"4242 4242 4242 4242","exp_month":12,"exp_year":2035,"cvc":"123"}`},
				} {
					if code, m, err := e.do(tok, "PUT", path+"/"+s.step, s.body, "Idempotency-Key", key+"-"+s.step); err != nil || code != 200 {
						fail("%s: %d %v %v", s.step, code, m, err)
						return
					}
				}
				code, m, err = e.do(tok, "POST", path+"/confirm", "", "Idempotency-Key", key+"-k")
				switch {
				case err != nil:
					fail("confirm: %v", err)
				case code == 201:
					placed.Add(1)
					placedBy[p].Add(1)
				case code == 409:
					refused.Add(1)
				default:
					fail("confirm: %d %v", code, m)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d shoppers failed, first: %s", len(failures), failures[0])
	}
	orders := 0
	if err := st.EachOrder(func(e catalog.OrderEvent) bool {
		for _, l := range e.Lines {
			if l.VariantID == "pg-shared-v1" {
				orders++
			}
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	avail, reserved := units()
	t.Logf("%d placed (%d by process a, %d by b), %d refused (%d at the cart's hold, %d at confirm), %d orders stored, %d available, %d reserved",
		placed.Load(), placedBy[0].Load(), placedBy[1].Load(), refused.Load(), refusedAtAdd.Load(), refused.Load()-refusedAtAdd.Load(), orders, avail, reserved)
	if placed.Load() != S || orders != S || refused.Load() != 2*perProcess-S || avail != 0 || reserved != 0 {
		t.Fatalf("want exactly %d orders and the stock empty", S)
	}
}

// publishShared publishes one product whose variant pg-shared-v1 has S
// units over two warehouses, on topics of 4 partitions.
func publishShared(t *testing.T, brokers []string, S int) {
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
	p := &catalog.Product{ID: "pg-shared", Title: "Shared stock kettle", Version: 1, CreatedAt: now, UpdatedAt: now,
		Variants: []catalog.Variant{{ID: "pg-shared-v1", Price: catalog.Money{Amount: 999, Currency: "USD"},
			Stock: map[string]int{"wh-001": S / 2, "wh-002": S - S/2}}}}
	if _, err := ingest.PublishProducts(ctx, prod, []*catalog.Product{p}); err != nil {
		t.Fatal(err)
	}
}

// newGuest creates a guest, waiting out the per-client guest rate limit
// (10 a second).
func newGuest(t *testing.T, e *integrityEnv) (id, token string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		code, m, err := e.do("", "POST", "/api/v1/guest", "")
		if err == nil && code == 201 {
			return m["user_id"].(string), m["user_token"].(string)
		}
		if err != nil || code != 429 || time.Now().After(deadline) {
			t.Fatalf("POST /api/v1/guest: %d %v %v", code, m, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
