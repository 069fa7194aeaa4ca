package search

import (
	"context"
	"errors"
	"testing"
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
