package server

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOwnersBounded: the ownership map keeps at most maxOwners products,
// forgetting the oldest first, and forgets a product once the index holds
// it.
func TestOwnersBounded(t *testing.T) {
	s := New(testSvc(newTestEngine(t)), Options{})
	for i := range maxOwners + 10 {
		s.owners.store("new-"+strconv.Itoa(i), "sel-a")
	}
	if n := s.owners.len(); n != maxOwners {
		t.Fatalf("%d owners remembered; want %d", n, maxOwners)
	}
	if _, ok := s.ownerOf("new-0"); ok {
		t.Error("the oldest product is still remembered")
	}
	if seller, ok := s.ownerOf("new-" + strconv.Itoa(maxOwners+9)); !ok || seller != "sel-a" {
		t.Errorf("the newest product: %q %v", seller, ok)
	}
	for i := range 3 * maxOwners { // store and delete: order stays bounded
		s.owners.store("gone-"+strconv.Itoa(i), "sel-b")
		s.owners.delete("gone-" + strconv.Itoa(i))
	}
	if len(s.owners.order) > 2*maxOwners+1 {
		t.Errorf("order holds %d ids", len(s.owners.order))
	}
	// p1 is in the index (seller-1): remembered, it is answered by the
	// index and forgotten.
	s.owners.store("p1", "seller-1")
	before := s.owners.len()
	if seller, ok := s.ownerOf("p1"); !ok || seller != "seller-1" {
		t.Errorf("p1: %q %v", seller, ok)
	}
	if s.owners.len() != before-1 {
		t.Error("a product the index holds is still remembered")
	}
}

// TestShutdownAwaitsBulk: Shutdown returns only once a running bulk job
// has published everything; with a deadline that ends first, it says the
// jobs still run.
func TestShutdownAwaitsBulk(t *testing.T) {
	for _, expire := range []bool{false, true} {
		k := newTestKeys(t)
		cat := &countCatalog{block: make(chan struct{})}
		s := New(withIngest(testSvc(newTestEngine(t)), cat), Options{Keys: k.store})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- s.Serve(ln) }()
		code, _, m := doAs(t, k.seller, "POST", "http://"+ln.Addr().String()+bulkPath, bulkBody(3, "awaited"))
		if code != 202 {
			t.Fatalf("POST bulk: %d %v", code, m)
		}
		j := s.bulkJob(m["job_id"].(string))
		ctx, cancel := context.WithCancel(context.Background())
		if expire {
			cancel()
		} else {
			go func() { time.Sleep(100 * time.Millisecond); close(cat.block) }()
		}
		err = s.Shutdown(ctx)
		cancel()
		if expire {
			if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "bulk jobs still running") {
				t.Errorf("Shutdown with a job blocked and no time left: %v", err)
			}
			close(cat.block)
			s.bulk.wg.Wait()
		} else if err != nil || j.status().State != "done" || cat.n.Load() != 3 {
			t.Errorf("Shutdown returned %v with the job %s and %d products published", err, j.status().State, cat.n.Load())
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
}
