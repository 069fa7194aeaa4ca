package search

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestAdmission: with every search slot taken, a search waits, and ends
// with its context's error when the context ends first; once a slot is
// free it runs. A cached answer needs no slot.
func TestAdmission(t *testing.T) {
	e := newEngine(t, 2, fixture(200, 4))
	r := &Request{Query: "the", PageSize: 5}
	if _, err := e.Search(context.Background(), r); err != nil {
		t.Fatal(err) // now in the response cache
	}
	for range cap(e.slots) {
		e.slots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Search(ctx, &Request{Query: "the", PageSize: 5, NoCache: true})
		done <- err
	}()
	if _, err := e.Search(context.Background(), r); err != nil {
		t.Errorf("a cached answer waited for a slot: %v", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("a search waiting for a slot ended with %v, want context.Canceled", err)
	}
	go func() {
		_, err := e.Search(context.Background(), &Request{Query: "the", PageSize: 5, NoCache: true})
		done <- err
	}()
	e.release()
	if err := <-done; err != nil {
		t.Errorf("admitted search: %v", err)
	}
	if n := len(e.slots); n != cap(e.slots)-1 {
		t.Errorf("%d slots taken after the search, want %d: a slot leaked", n, cap(e.slots)-1)
	}
}

// TestRouterAdmitsNothing: a router's searches wait on its nodes, so they
// take no slot; with every slot of the router taken, it still answers.
func TestRouterAdmitsNothing(t *testing.T) {
	opts := Options{Shards: 2}
	router, err := NewRouter(opts, newNodes(t, opts, fixture(100, 5), [][]int{{0}, {1}}))
	if err != nil {
		t.Fatal(err)
	}
	for range cap(router.slots) {
		router.slots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := router.Search(ctx, &Request{Query: "the", PageSize: 5})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute): // not a timing assertion: a hang
		cancel()
		t.Fatalf("a router's search waited for a slot: %v", <-done)
	}
}
