package commerce

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// flakyPublisher fails while down and records what it acknowledged.
type flakyPublisher struct {
	mu   sync.Mutex
	down bool
	got  []Record
}

func (p *flakyPublisher) Publish(_ context.Context, recs []Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return errors.New("broker down")
	}
	p.got = append(p.got, recs...)
	return nil
}

func (p *flakyPublisher) snapshot() []Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Record(nil), p.got...)
}

func TestOutboxRelaySurvivesBrokerOutageAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := openTest(t, Options{Path: path, Replica: "a"})
	if err != nil {
		t.Fatal(err)
	}
	put := func(s *Store, i int) {
		t.Helper()
		err := s.txn(func(tx kvTx) (error, error) {
			return nil, enqueue(tx, "carts", []byte("u"), []byte{byte(i)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		put(s, i)
	}
	// Reopen: the outbox is on disk.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = openTest(t, Options{Path: path, Replica: "a"}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, _ := s.OutboxLen(); n != 3 {
		t.Fatalf("outbox after reopen holds %d records, want 3", n)
	}
	pub := &flakyPublisher{down: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- s.Relay(ctx, pub, RelayOptions{Poll: 20 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	}()
	put(s, 3) // accepted while the broker is down
	time.Sleep(100 * time.Millisecond)
	if got := pub.snapshot(); len(got) != 0 {
		t.Fatalf("published %d records while down", len(got))
	}
	pub.mu.Lock()
	pub.down = false
	pub.mu.Unlock()
	for {
		if n, _ := s.OutboxLen(); n == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("outbox not drained after the broker came back")
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := pub.snapshot()
	if len(got) != 4 {
		t.Fatalf("published %d records, want 4", len(got))
	}
	for i, r := range got {
		if r.Topic != "carts" || string(r.Key) != "u" || len(r.Value) != 1 || int(r.Value[0]) != i {
			t.Errorf("record %d = %+v, want carts/u/[%d] in order", i, r, i)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Relay returned %v", err)
	}
}
