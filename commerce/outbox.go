package commerce

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The transactional outbox. A service that must tell the rest of the
// system about a write (a cart to the carts topic, stock to the inventory
// topic, a placed order to the orders topic) enqueues the event in the
// same bbolt transaction as the write. The write and its event are then
// durable together: a crash after the acknowledgement cannot lose the
// event, and a broker that is down does not stop writes. Relay publishes
// the outbox in order and deletes what the broker acknowledged, so every
// event is published at least once; consumers apply them idempotently.

var bucketOutbox = []byte("outbox")

// Record is one event in the outbox.
type Record struct {
	Seq   uint64 // position in the outbox, increasing
	Topic string
	Key   []byte
	Value []byte
}

// Publisher publishes records to the broker. It returns nil only when
// every record is acknowledged; records of one key must keep their order.
type Publisher interface {
	Publish(ctx context.Context, recs []Record) error
}

// enqueue adds an event to the outbox inside tx; it is published after tx
// commits. With group commit tx may be retried, and the event with it.
func enqueue(tx kvTx, topic string, key, value []byte) error {
	b := tx.Bucket(bucketOutbox)
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("commerce: outbox sequence: %w", err)
	}
	v := make([]byte, 0, 2*binary.MaxVarintLen64+len(topic)+len(key)+len(value))
	v = binary.AppendUvarint(v, uint64(len(topic)))
	v = append(v, topic...)
	v = binary.AppendUvarint(v, uint64(len(key)))
	v = append(v, key...)
	v = append(v, value...)
	return b.Put(binary.BigEndian.AppendUint64(nil, seq), v)
}

func decodeRecord(k, v []byte) (Record, error) {
	if len(k) != 8 {
		return Record{}, fmt.Errorf("commerce: outbox key of %d bytes", len(k))
	}
	r := Record{Seq: binary.BigEndian.Uint64(k)}
	n, w := binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n {
		return r, fmt.Errorf("commerce: outbox record %d: bad topic length", r.Seq)
	}
	r.Topic, v = string(v[w:w+int(n)]), v[w+int(n):]
	n, w = binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n {
		return r, fmt.Errorf("commerce: outbox record %d: bad key length", r.Seq)
	}
	r.Key = append([]byte(nil), v[w:w+int(n)]...)
	r.Value = append([]byte(nil), v[w+int(n):]...)
	return r, nil
}

// Pending returns up to max records of the outbox, oldest first.
func (s *Store) Pending(max int) ([]Record, error) {
	var out []Record
	err := s.db.view(func(tx kvTx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.First(); k != nil && len(out) < max; k, v = c.Next() {
			r, err := decodeRecord(k, v)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if errors.Is(err, ErrClosed) {
		return nil, ErrClosed
	}
	return out, err
}

// OutboxLen returns the number of records not yet published.
func (s *Store) OutboxLen() (int, error) {
	return s.db.count(bucketOutbox)
}

// Published deletes the records recs, which the broker acknowledged, from
// the outbox. It deletes exactly those: on PostgreSQL a transaction that
// took a lower sequence number may commit after recs were read.
func (s *Store) Published(recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	err := s.db.update(func(tx kvTx) error {
		b := tx.Bucket(bucketOutbox)
		for _, r := range recs {
			if err := b.Delete(binary.BigEndian.AppendUint64(nil, r.Seq)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commerce: deleting %d published outbox records (%d to %d): %w", len(recs), recs[0].Seq, recs[len(recs)-1].Seq, err)
	}
	return nil
}

// RelayOptions configure Relay.
type RelayOptions struct {
	// Batch bounds the records of one Publish; default 500.
	Batch int
	// Poll is how often an idle relay looks at the outbox when no write
	// wakes it; default 1 s.
	Poll time.Duration
	// MaxBackoff bounds the wait between failed publishes, which starts
	// at 50 ms and doubles; default 5 s.
	MaxBackoff time.Duration
	// Logf, when set, receives one line per failed publish.
	Logf func(format string, args ...any)
}

// Relay publishes the outbox through pub until ctx ends, waking on every
// committed write. A failed publish is retried with backoff; records stay
// in the outbox until pub acknowledges them, so a broker outage delays
// events and loses none. It returns ctx's error.
func (s *Store) Relay(ctx context.Context, pub Publisher, o RelayOptions) error {
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	backoff := time.Duration(0)
	t := time.NewTimer(0)
	defer t.Stop()
	leader, _ := s.db.(relayLeader)
	if leader != nil {
		defer leader.releaseRelay()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
		case <-t.C:
		}
		if leader != nil {
			if err := leader.holdRelay(ctx); err != nil {
				if !errors.Is(err, errNotRelayLeader) && o.Logf != nil && ctx.Err() == nil {
					o.Logf("commerce: outbox relay lock: %v", err)
				}
				if errors.Is(err, ErrClosed) {
					return err
				}
				resetTimer(t, o.Poll)
				continue
			}
		}
		recs, err := s.Pending(o.Batch)
		if err == nil && len(recs) > 0 {
			if err = pub.Publish(ctx, recs); err == nil {
				err = s.Published(recs)
			}
		}
		if err != nil {
			if errors.Is(err, ErrClosed) {
				return err
			}
			if o.Logf != nil && ctx.Err() == nil {
				o.Logf("commerce: outbox relay: %v", err)
			}
			backoff = min(max(2*backoff, 50*time.Millisecond), o.MaxBackoff)
			resetTimer(t, backoff)
			continue
		}
		backoff = 0
		if len(recs) == o.Batch {
			resetTimer(t, 0) // more to send
		} else {
			resetTimer(t, o.Poll)
		}
	}
}

func resetTimer(t *time.Timer, d time.Duration) {
	t.Stop()
	select {
	case <-t.C:
	default:
	}
	t.Reset(d)
}

// relayLeader is a backend shared by several processes, of which one at a
// time relays the outbox (PostgreSQL).
type relayLeader interface {
	holdRelay(ctx context.Context) error
	releaseRelay()
}

// notify wakes the relay after a commit.
func (s *Store) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
