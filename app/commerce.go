package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/commerce"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/internal/atomicfile"
)

// The cart service's wiring (doc/cart.md): the commerce store in
// DATA/commerce.db with group commit, the outbox relay publishing to
// Kafka, the consumer merging the carts other replicas publish, and the
// sweeper releasing expired soft holds.

// commerceDBFile is the commerce store's file in the data directory.
const commerceDBFile = "commerce.db"

// cartsPartitions is the partition count of the carts topic when this
// process creates it.
const cartsPartitions = 4

// sweepEvery is how often the sweeper releases expired soft holds.
const sweepEvery = 5 * time.Second

// replicaHeader names the replica that published a record, so a replica
// skips its own carts.
const replicaHeader = "replica"

// replicaFile keeps the generated replica id in the data directory, so a
// restarted process is the same replica (its consumer group resumes).
const replicaFile = "replica.id"

// replicaID returns flag when set, else the id in dataDir/replicaFile,
// else a new "<host>-<8 hex>" written there.
func replicaID(dataDir, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	path := filepath.Join(dataDir, replicaFile)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "r"
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	id := host + "-" + hex.EncodeToString(rnd[:])
	if err := atomicfile.Write(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("commerce: writing the replica id: %w", err)
	}
	return id, nil
}

// stderrLogf logs lines prefixed "aisle: " to w.
func stderrLogf(w io.Writer) func(string, ...any) {
	return func(format string, args ...any) { fmt.Fprintf(w, "aisle: "+format+"\n", args...) }
}

// liveVariants finds variants in the live engine's current generation.
type liveVariants struct{ l *liveEngine }

func (v liveVariants) ProductOfVariant(id string) (*catalog.Product, bool) {
	return v.l.get().ProductOfVariant(id)
}

// openCommerce opens the commerce store (in dataDir, or the PostgreSQL
// database db when set) as replica (replicaID), the one store of the
// cart, checkout, orders and reviews (one bbolt file is open in one
// process at a time). It says where in what it returns.
func openCommerce(dataDir, db, replica string) (store *commerce.Store, where string, err error) {
	replica, err = replicaID(dataDir, replica)
	if err != nil {
		return nil, "", err
	}
	where = filepath.Join(dataDir, commerceDBFile)
	o := commerce.Options{Path: where, Replica: replica, GroupCommit: true}
	if db != "" {
		o.Path, o.DB, where = "", db, "PostgreSQL"
	}
	store, err = commerce.Open(o)
	return store, where, err
}

// startCommerce runs the cart's background work over store: the sweeper
// of expired soft holds and, with brokers, the relay of the store's outbox
// to them and the consumer merging the carts other replicas publish;
// without brokers, writes queue in the outbox until a start with them.
// stop ends the loops and waits for them; the store stays open.
func startCommerce(ctx context.Context, store *commerce.Store, where string, brokers []string, logf func(string, ...any)) (stop func(), err error) {
	replica := store.Replica()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { sweep(ctx, store, logf) })
	var prod *kgo.Client
	if len(brokers) > 0 {
		// A publish that cannot be delivered in 10 s fails; the relay
		// keeps the records and retries with backoff.
		prod, err = ingest.NewProducer(brokers, kgo.ProducerLinger(0), kgo.RecordDeliveryTimeout(10*time.Second))
		if err != nil {
			cancel()
			return nil, err
		}
		wg.Go(func() {
			if !ensureCartsTopic(ctx, prod, logf) {
				return
			}
			wg.Go(func() {
				if err := consumeCarts(ctx, prod, brokers, replica, store, logf); err != nil && ctx.Err() == nil {
					logf("commerce: the carts consumer stopped: %v", err)
				}
			})
			if err := store.Relay(ctx, outboxPublisher{prod, replica}, commerce.RelayOptions{Logf: logf}); err != nil && ctx.Err() == nil {
				logf("commerce: the outbox relay stopped: %v", err)
			}
		})
	}
	logf("commerce: cart store %s, replica %s, publishing to %d brokers", where, replica, len(brokers))
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			if prod != nil {
				prod.Close()
			}
		})
	}, nil
}

// sweep releases expired soft holds every sweepEvery until ctx ends.
func sweep(ctx context.Context, store *commerce.Store, logf func(string, ...any)) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, _, err := store.Sweep(time.Now(), 500)
			if err != nil {
				if !errors.Is(err, commerce.ErrClosed) {
					logf("commerce: sweeping soft holds: %v", err)
				}
				break
			}
			if n < 500 {
				break
			}
		}
	}
}

// ensureCartsTopic creates the carts topic, retrying while the broker is
// unreachable; false when ctx ended first.
func ensureCartsTopic(ctx context.Context, cl *kgo.Client, logf func(string, ...any)) bool {
	adm := kadm.NewClient(cl)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		resp, err := adm.CreateTopics(ctx, cartsPartitions, 1, nil, ingest.TopicCarts)
		if err == nil {
			err = resp.Error()
		}
		if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		logf("commerce: creating the %s topic: %v", ingest.TopicCarts, err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
	}
}

// outboxPublisher is the Kafka commerce.Publisher: every record of a
// batch is produced, keyed as enqueued and headed by the replica, and
// Publish returns once all are acknowledged, or the first error.
type outboxPublisher struct {
	cl      *kgo.Client
	replica string
}

func (p outboxPublisher) Publish(ctx context.Context, recs []commerce.Record) error {
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krs[i] = &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value,
			Headers: []kgo.RecordHeader{{Key: replicaHeader, Value: []byte(p.replica)}}}
	}
	return p.cl.ProduceSync(ctx, krs...).FirstErr()
}

// consumeCarts merges the carts other replicas publish into store until
// ctx ends (consumeTopic).
func consumeCarts(ctx context.Context, admin *kgo.Client, brokers []string, replica string, store *commerce.Store, logf func(string, ...any)) error {
	return consumeTopic(ctx, admin, brokers, ingest.TopicCarts, store, logf, kgo.NewOffset().AtStart(), eachRecord(func(r *kgo.Record) error {
		if fromReplica(r, replica) {
			return nil
		}
		if _, err := store.MergeRemote(string(r.Key), r.Value); err != nil {
			if !errors.Is(err, commerce.ErrCorrupt) {
				return err
			}
			logf("commerce: skipping the cart at %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err)
		}
		return nil
	}))
}

// eachRecord is a partition handler calling handle on each record in
// turn, stopping at the first error.
func eachRecord(handle func(*kgo.Record) error) func(context.Context, int32, []*kgo.Record) error {
	return func(_ context.Context, _ int32, recs []*kgo.Record) error {
		for _, r := range recs {
			if err := handle(r); err != nil {
				return fmt.Errorf("%s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
			}
		}
		return nil
	}
}

// consumeTopic hands the records of topic to handle, a partition at a
// time (ingest.Partitions), until ctx ends. It reads every partition
// directly (no consumer group: a group would hold a killed replica's
// partitions until its session expired), from the offsets recorded in the
// store (first for a partition it has none of), and records a poll's next
// offsets in the store only after every handler of the poll returned
// without error: handle must return only once its effects are committed
// to the store, and must be idempotent (a crash between the two
// redelivers). An error from handle stops the consumer, with nothing of
// that poll recorded.
func consumeTopic(ctx context.Context, admin *kgo.Client, brokers []string, topic string, store *commerce.Store,
	logf func(string, ...any), first kgo.Offset, handle func(context.Context, int32, []*kgo.Record) error) error {
	var parts int32
	for wait := 100 * time.Millisecond; parts == 0; wait = min(2*wait, 5*time.Second) {
		td, err := kadm.NewClient(admin).ListTopics(ctx, topic)
		if err == nil {
			err = td.Error()
		}
		if err == nil {
			parts = int32(len(td[topic].Partitions))
			break
		}
		logf("commerce: reading the partitions of %s: %v", topic, err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	next, err := store.ConsumedOffsets(topic, parts)
	if err != nil {
		return err
	}
	offsets := make(map[int32]kgo.Offset, parts)
	for p, off := range next {
		offsets[p] = first
		if off >= 0 {
			offsets[p] = kgo.NewOffset().At(off)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		return fmt.Errorf("commerce: %s consumer: %w", topic, err)
	}
	defer cl.Close()
	pc := ingest.Partitions{
		Client: cl,
		Handle: handle,
		Logf:   logf,
		Commit: func(_ context.Context, next ingest.Offsets) error {
			done := make(map[int32]int64, len(next[topic]))
			for p, o := range next[topic] {
				done[p] = o.Offset
			}
			return store.MarkConsumed(topic, done)
		},
	}
	return pc.Run(ctx)
}

// replicaOf returns the commerce replica that published r, and whether
// one did.
func replicaOf(r *kgo.Record) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == replicaHeader {
			return string(h.Value), true
		}
	}
	return "", false
}

func fromReplica(r *kgo.Record, replica string) bool {
	got, ok := replicaOf(r)
	return ok && got == replica
}
