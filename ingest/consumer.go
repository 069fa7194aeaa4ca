package ingest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/aisle/aisle/catalog"
)

// Sink receives the products that changed in a batch: the products to put
// in the index, whole and immutable, and the ids to take out. cmd/ wires it
// to the search engine.
type Sink interface {
	Apply(upserts []*catalog.Product, deletes []string) error
}

// Options configure a Consumer.
type Options struct {
	Brokers []string
	// Group and InstanceID are the consumer group and this member's
	// static id: a restarted member gets its partitions back at once
	// instead of after the session timeout.
	Group      string
	InstanceID string
	// ClientOpts are added to the consumer's client options: an index
	// node of a cluster sets its group balancer (doc/cluster.md).
	ClientOpts []kgo.Opt
	// Dir holds the partition logs.
	Dir string
	// Partitions is the partition count of the catalog topics, which is
	// the engine's shard count.
	Partitions int
	Sink       Sink
	// MaxPoll bounds the records handled per poll.
	MaxPoll int
	// SnapshotBytes is the log size past which a partition is
	// snapshotted (when its log is also past half its last snapshot);
	// default 8 MiB. A partition is also snapshotted when Run stops.
	SnapshotBytes  int64
	FetchMaxWait   time.Duration
	SessionTimeout time.Duration
	// LagInterval is how often the end offsets are listed for the lag
	// gauges; default 1 s.
	LagInterval time.Duration
	// MaxOrderIDs bounds the order ids each partition remembers to count
	// a redelivered order once; default DefaultMaxOrderIDs. A copy of an
	// order arriving after that many newer orders on its partition would
	// count twice.
	MaxOrderIDs int
	// OnOrder, when set, is called with every order applied (not a
	// duplicate), once the batch holding it is durable and in the Sink,
	// from the partition's goroutine: it must be quick and safe for
	// concurrent use. cmd/ wires it to the home page recommendations.
	OnOrder func(catalog.OrderEvent)
	Logf    func(format string, args ...any)
}

func (o *Options) ensureDefaults() {
	if o.Group == "" {
		o.Group = "aisle-indexer"
	}
	if o.InstanceID == "" {
		o.InstanceID = "aisle-indexer-0"
	}
	if o.MaxPoll == 0 {
		o.MaxPoll = 20000
	}
	if o.SnapshotBytes == 0 {
		o.SnapshotBytes = 8 << 20
	}
	if o.FetchMaxWait == 0 {
		o.FetchMaxWait = 100 * time.Millisecond
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 10 * time.Second
	}
	if o.LagInterval == 0 {
		o.LagInterval = time.Second
	}
	if o.MaxOrderIDs == 0 {
		o.MaxOrderIDs = DefaultMaxOrderIDs
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Validate lists every problem with o.
func (o *Options) Validate() error {
	var errs []error
	if len(o.Brokers) == 0 {
		errs = append(errs, errors.New("ingest: no brokers"))
	}
	if o.Dir == "" {
		errs = append(errs, errors.New("ingest: Dir is empty"))
	}
	if o.Partitions < 1 {
		errs = append(errs, fmt.Errorf("ingest: Partitions is %d; want at least 1", o.Partitions))
	}
	if o.Sink == nil {
		errs = append(errs, errors.New("ingest: Sink is nil"))
	}
	if o.MaxOrderIDs < 0 {
		errs = append(errs, fmt.Errorf("ingest: MaxOrderIDs is %d; want at least 0", o.MaxOrderIDs))
	}
	return errors.Join(errs...)
}

// Stats are the consumer's counters since it started.
type Stats struct {
	Applied, Stale, Duplicates, DeadLettered, Batches int64
	// Snapshots counts the partition snapshots written.
	Snapshots int64
	// Offsets are the next offsets applied, by topic and partition.
	Offsets map[string]map[int32]int64
}

// Consumer applies catalog events to the Sink. Run it once.
type Consumer struct {
	opts  Options
	parts []*partition

	applied, stale, dups, dead, batches atomic.Int64
	snapshots                           atomic.Int64
	// bg runs the snapshots written beside ingest, one at a time (snapSem).
	bg                sync.WaitGroup
	snapSem           chan struct{}
	bufs              *buffers
	metrics           *vm.Set // applyLat and visible (metrics.go)
	applyLat, visible *vm.PrometheusHistogram
	ends              atomic.Value // map[string]map[int32]int64, from pollEnds

	// waitCh is closed, and replaced, whenever a partition's applied
	// offsets move: WaitApplied sleeps on it instead of polling.
	waitMu sync.Mutex
	waitCh chan struct{}
}

// partition is the state, log and offsets of one partition number. Only
// its worker writes st and touches log; it changes st under smu, so the
// seller writer can read versions with RLock; offsets is read by Stats
// under mu.
type partition struct {
	n        int32
	st       *state
	smu      sync.RWMutex
	log      *plog
	mu       sync.Mutex
	offsets  map[string]int64 // topic -> next offset, as durable in the log
	snapSize int64            // bytes of the last snapshot file
	// snapDone delivers the outcome of the snapshot being written in the
	// background; nil when none is.
	snapDone chan snapResult
	// snapPayload is the uncompressed size of the last snapshot, the
	// first guess at the next one's.
	snapPayload int
	// loaded is the partition's snapshot and changed the ids of the log
	// entries replayed after it, between New's two phases.
	loaded  *snapData
	changed map[string]bool
	// salesDirty are the products whose sales this partition's last
	// batch changed; Run re-applies them once every partition is done.
	salesDirty map[string]bool
}

// New reads the partition snapshots and logs in opts.Dir and brings the
// Sink up to date, so the index is whole before consuming resumes where
// the logs end: with a SnapshotSink, it loads each partition's index from
// its snapshot and applies only what the log holds after it; otherwise it
// hands every product to the Sink.
func New(opts Options) (*Consumer, error) {
	opts.ensureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	c := &Consumer{opts: opts, parts: make([]*partition, opts.Partitions), snapSem: make(chan struct{}, 1), bufs: newBuffers(),
		waitCh: make(chan struct{})}
	c.metrics, c.applyLat, c.visible = newHistograms()
	// Partitions replay in parallel: each owns its log and state. All are
	// read before any product goes to the Sink, since a product's sales
	// add up the orders of every partition.
	start := time.Now()
	errs := make([]error, opts.Partitions)
	var wg sync.WaitGroup
	for p := range int32(opts.Partitions) {
		wg.Go(func() { c.parts[p], errs[p] = replay(&opts, p, c.bufs) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Close()
		return nil, err
	}
	read := time.Since(start)
	var records int
	for _, p := range c.parts {
		records += len(p.st.recs)
	}
	for p := range c.parts {
		wg.Go(func() { errs[p] = c.parts[p].restore(c) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Close()
		return nil, err
	}
	opts.Logf("ingest: %d records read from the snapshots and logs in %v, the index restored in %v",
		records, read.Round(time.Millisecond), (time.Since(start) - read).Round(time.Millisecond))
	var interrupted []*partition
	for _, p := range c.parts {
		if p.log.leftover {
			interrupted = append(interrupted, p)
		}
	}
	if err := c.snapshotNow(interrupted); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// replay reads partition p's snapshot, if any, and the log after it into
// the partition's state.
func replay(opts *Options, p int32, bufs *buffers) (*partition, error) {
	st := newState()
	st.maxIDs = opts.MaxOrderIDs
	sd, err := readSnapshot(opts.Dir, p, st, bufs)
	if err != nil {
		return nil, err
	}
	var base map[string]int64
	if sd != nil {
		base = sd.offsets
	}
	l, offs, changed, err := openLog(opts.Dir, p, st, base)
	if err != nil {
		return nil, err
	}
	pt := &partition{n: p, st: st, log: l, offsets: offs, loaded: sd, changed: changed}
	if sd != nil {
		pt.snapSize = sd.size
	}
	return pt, nil
}

// restore brings the Sink's partition up to date with the state: from the
// snapshot's index and the products changed after it when it can, else
// from every product.
func (p *partition) restore(c *Consumer) error {
	sd, changed := p.loaded, p.changed
	p.loaded, p.changed = nil, nil
	ss, ok := c.opts.Sink.(SnapshotSink)
	if sd == nil || sd.index == nil || !ok {
		return p.toSink(c)
	}
	err := sd.loadIndex(c.bufs, func(b []byte) error {
		return ss.LoadShard(int(p.n), b, func(id string) (*catalog.Product, bool) {
			r := p.st.recs[id]
			if r == nil || r.Content == nil {
				return nil, false
			}
			return r.Content, true
		})
	})
	if err != nil {
		return fmt.Errorf("ingest: loading partition %d's index from its snapshot: %w", p.n, err)
	}
	// Units sold move on every partition's orders; a product whose total
	// differs from the one its indexed copy carried is applied again.
	for id, r := range p.st.recs {
		if r.Content != nil && !r.deleted() && c.salesOf(id) != sd.units[id] {
			changed[id] = true
		}
	}
	var ups []*catalog.Product
	var dels []string
	for id := range changed {
		r := p.st.recs[id]
		if r == nil {
			continue
		}
		if e := r.effective(c.salesOf(id)); e != nil {
			ups = append(ups, e)
		} else {
			dels = append(dels, id)
		}
	}
	if len(ups)+len(dels) == 0 {
		return nil
	}
	if err := c.opts.Sink.Apply(ups, dels); err != nil {
		return fmt.Errorf("ingest: applying partition %d's log after its snapshot: %w", p.n, err)
	}
	return nil
}

// toSink hands every product of the partition's state to the Sink.
func (p *partition) toSink(c *Consumer) error {
	var ups []*catalog.Product
	var dels []string
	for id, r := range p.st.recs {
		if e := r.effective(c.salesOf(id)); e != nil {
			ups = append(ups, e)
		} else {
			dels = append(dels, id)
		}
	}
	if err := c.opts.Sink.Apply(ups, dels); err != nil {
		return fmt.Errorf("ingest: applying partition %d's log to the sink: %w", p.n, err)
	}
	return nil
}

// salesOf returns the units of product id sold by the orders of every
// partition.
func (c *Consumer) salesOf(id string) int64 {
	var n int64
	for _, p := range c.parts {
		p.smu.RLock()
		n += p.st.sales[id]
		p.smu.RUnlock()
	}
	return n
}

// flushSales re-applies the products whose sales the last batches changed,
// with their new totals. Run calls it when no partition is applying, so
// nothing newer can overtake what it hands to the Sink.
func (c *Consumer) flushSales() error {
	dirty := map[string]bool{}
	for _, p := range c.parts {
		for id := range p.salesDirty {
			dirty[id] = true
		}
		p.salesDirty = nil
	}
	if len(dirty) == 0 {
		return nil
	}
	var ups []*catalog.Product
	for id := range dirty {
		for _, p := range c.parts {
			p.smu.RLock()
			r := p.st.recs[id]
			p.smu.RUnlock()
			if r == nil {
				continue
			}
			if e := r.effective(c.salesOf(id)); e != nil {
				ups = append(ups, e)
			}
			break
		}
	}
	if len(ups) == 0 {
		return nil
	}
	if err := c.opts.Sink.Apply(ups, nil); err != nil {
		return fmt.Errorf("ingest: sink (sales of %d products): %w", len(ups), err)
	}
	return nil
}

// Sales returns the units of product id sold by the orders applied so far.
func (c *Consumer) Sales(id string) int64 { return c.salesOf(id) }

// Close waits for the snapshots being written and closes the partition
// logs.
func (c *Consumer) Close() error {
	c.bg.Wait()
	var errs []error
	for _, p := range c.parts {
		if p != nil {
			errs = append(errs, p.log.close())
		}
	}
	return errors.Join(errs...)
}

// Stats returns the counters and applied offsets.
func (c *Consumer) Stats() Stats {
	s := Stats{
		Applied: c.applied.Load(), Stale: c.stale.Load(), Duplicates: c.dups.Load(),
		DeadLettered: c.dead.Load(), Batches: c.batches.Load(), Snapshots: c.snapshots.Load(),
		Offsets: map[string]map[int32]int64{},
	}
	for _, p := range c.parts {
		p.mu.Lock()
		for t, o := range p.offsets {
			if s.Offsets[t] == nil {
				s.Offsets[t] = map[int32]int64{}
			}
			s.Offsets[t][p.n] = o
		}
		p.mu.Unlock()
	}
	return s
}

// CaughtUp reports whether every partition has applied at least the given
// end offsets (from EndOffsets).
func (c *Consumer) CaughtUp(ends map[string]map[int32]int64) bool {
	st := c.Stats()
	for t, ps := range ends {
		for p, end := range ps {
			if end > 0 && st.Offsets[t][p] < end {
				return false
			}
		}
	}
	return true
}

// Run consumes until ctx ends, then snapshots every partition whose log
// holds anything, so the next start loads the index instead of replaying.
func (c *Consumer) Run(ctx context.Context) error {
	o := &c.opts
	kopts := []kgo.Opt{
		kgo.SeedBrokers(o.Brokers...),
		kgo.ConsumerGroup(o.Group),
		kgo.InstanceID(o.InstanceID),
		kgo.ConsumeTopics(IndexedTopics...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AdjustFetchOffsetsFn(c.adjust),
		kgo.FetchMaxWait(o.FetchMaxWait),
		// Large fetches make large batches while catching up (each batch
		// is one index segment per partition, and fewer, larger segments
		// mean fewer merges), and a small share per partition spreads a
		// poll over every partition, so all cores apply it: at 16 MiB a
		// partition a poll held two or three partitions, and ingest of
		// 300k products ran at 23k events/s on 1.3 cores; at 2 MiB, 35k
		// on 1.8.
		kgo.FetchMaxBytes(64 << 20),
		kgo.FetchMaxPartitionBytes(2 << 20),
		kgo.SessionTimeout(o.SessionTimeout),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
	}
	cl, err := kgo.NewClient(append(kopts, o.ClientOpts...)...)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	// Polling blocks rebalances until AllowRebalance; a plain Close, which
	// leaves the group, would wait for one forever.
	defer cl.CloseAllowingRebalance()
	pctx, stopPoll := context.WithCancel(ctx)
	polled := make(chan struct{})
	go func() { defer close(polled); c.pollEnds(pctx, cl, o.LagInterval) }()
	defer func() { stopPoll(); <-polled }()
	pc := Partitions{
		Client:  cl,
		MaxPoll: o.MaxPoll,
		Logf:    o.Logf,
		Handle: func(ctx context.Context, pn int32, recs []*kgo.Record) error {
			if int(pn) >= len(c.parts) {
				o.Logf("ingest: partition %d beyond the %d the index has; skipped", pn, len(c.parts))
				return nil
			}
			// The log holds what was applied; a failed batch is consumed
			// again after a restart.
			return c.parts[pn].apply(ctx, c, cl, recs)
		},
		// Between polls every partition's state, sales and index agree:
		// the moment to snapshot.
		AfterPoll: func(context.Context) error {
			if err := c.flushSales(); err != nil {
				return err
			}
			return c.snapshotDue(false)
		},
		Commit: func(ctx context.Context, next Offsets) error {
			// The logs are authoritative; a failed commit only means a
			// restarted consumer re-reads from the log's offsets, which
			// the adjust function does anyway.
			cl.CommitOffsetsSync(ctx, next, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
				if err != nil && ctx.Err() == nil {
					o.Logf("ingest: commit: %v", err)
				}
			})
			c.batches.Add(1)
			return nil
		},
	}
	if err := pc.Run(ctx); err != nil {
		return err
	}
	return c.snapshotDue(true)
}

// adjust replaces the group's committed offsets with the ones recorded in
// the partition logs: the index state is what they describe.
func (c *Consumer) adjust(_ context.Context, offs map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	for t, ps := range offs {
		for p := range ps {
			if int(p) >= len(c.parts) {
				continue
			}
			pt := c.parts[p]
			pt.mu.Lock()
			next, ok := pt.offsets[t]
			pt.mu.Unlock()
			if ok {
				ps[p] = kgo.NewOffset().At(next).WithEpoch(-1)
			} else {
				ps[p] = kgo.NewOffset().AtStart()
			}
		}
	}
	return offs, nil
}

// apply decodes and applies one partition's records, makes the result
// durable in the log, and hands the changed products to the Sink.
func (p *partition) apply(ctx context.Context, c *Consumer, cl *kgo.Client, recs []*kgo.Record) error {
	start := time.Now()
	changed := map[string]bool{}
	next := map[string]int64{}
	var stamps []time.Time // of the applied records
	var orders []catalog.OrderEvent
	sold := map[string]bool{}
	for _, r := range recs {
		next[r.Topic] = r.Offset + 1
		var (
			id  string
			o   outcome
			err error
		)
		p.smu.Lock()
		if r.Topic == TopicOrders {
			var e catalog.OrderEvent
			var ids []string
			e, ids, o, err = p.order(r)
			for _, id := range ids {
				sold[id] = true
			}
			if err == nil && o == applied {
				orders = append(orders, e)
			}
		} else {
			id, o, err = p.event(r)
		}
		p.smu.Unlock()
		if err != nil {
			if err := deadLetter(ctx, cl, r, err); err != nil {
				return err
			}
			c.dead.Add(1)
			continue
		}
		switch o {
		case applied:
			c.applied.Add(1)
			if id != "" {
				changed[id] = true
			}
			stamps = append(stamps, r.Timestamp)
		case stale:
			c.stale.Add(1)
		case duplicate:
			c.dups.Add(1)
		}
	}
	p.mu.Lock()
	offsets := make(map[string]int64, len(p.offsets)+len(next))
	for t, o := range p.offsets {
		offsets[t] = o
	}
	p.mu.Unlock()
	for t, o := range next {
		offsets[t] = o
	}
	e := entry{Offsets: offsets}
	for _, o := range orders {
		e.Orders = append(e.Orders, o.OrderID)
	}
	if len(sold) > 0 {
		e.Sales = make(map[string]int64, len(sold))
		p.smu.RLock()
		for id := range sold {
			e.Sales[id] = p.st.sales[id]
		}
		p.smu.RUnlock()
	}
	var ups []*catalog.Product
	var dels []string
	for id := range changed {
		r := p.st.recs[id]
		e.Records = append(e.Records, r)
		if eff := r.effective(c.salesOf(id)); eff != nil {
			ups = append(ups, eff)
		} else {
			dels = append(dels, id)
		}
	}
	if err := p.log.append(&e); err != nil {
		return err
	}
	if err := c.opts.Sink.Apply(ups, dels); err != nil {
		return fmt.Errorf("ingest: sink: %w", err)
	}
	p.salesDirty = sold
	if c.opts.OnOrder != nil {
		for _, o := range orders {
			c.opts.OnOrder(o)
		}
	}
	// Only now are the events visible in the Sink: Stats, CaughtUp and
	// Applied report them as applied.
	now := time.Now()
	c.applyLat.Update(now.Sub(start).Seconds())
	for _, ts := range stamps {
		c.visible.Update(max(now.Sub(ts), 0).Seconds())
	}
	p.mu.Lock()
	p.offsets = offsets
	p.mu.Unlock()
	c.wake()
	return nil
}

// event decodes r and applies it to the partition's state.
func (p *partition) event(r *kgo.Record) (string, outcome, error) {
	switch r.Topic {
	case TopicProducts:
		e, err := catalog.DecodeProductEvent(r.Key, r.Value)
		if err != nil {
			return "", 0, err
		}
		return e.ID, p.st.product(&e), nil
	case TopicPrices:
		e, err := catalog.DecodePriceEvent(r.Key, r.Value)
		if err != nil {
			return "", 0, err
		}
		return e.ProductID, p.st.price(&e), nil
	case TopicInventory:
		e, err := catalog.DecodeInventoryEvent(r.Key, r.Value)
		if err != nil {
			return "", 0, err
		}
		return e.ProductID, p.st.inventory(&e), nil
	case TopicRatings:
		e, err := catalog.DecodeRatingEvent(r.Key, r.Value)
		if err != nil {
			return "", 0, err
		}
		return e.ProductID, p.st.rating(&e), nil
	}
	return "", 0, fmt.Errorf("ingest: unexpected topic %q", r.Topic)
}

// order decodes an orders record and adds it to the partition's sales,
// once per order id; it returns the products whose sales changed. The key
// must be the order id: that is what puts every copy of an order on one
// partition, where its id is remembered.
func (p *partition) order(r *kgo.Record) (catalog.OrderEvent, []string, outcome, error) {
	e, err := catalog.DecodeOrderEvent(r.Key, r.Value)
	if err != nil {
		return e, nil, 0, err
	}
	if string(r.Key) != e.OrderID {
		return e, nil, 0, fmt.Errorf("%w: key %q is not order_id %q", catalog.ErrBadEvent, r.Key, e.OrderID)
	}
	ids, o := p.st.order(&e)
	return e, ids, o, nil
}

// deadLetter writes r to its topic's dead-letter topic, synchronously, with
// where it came from and why, before its offset may move on.
func deadLetter(ctx context.Context, cl *kgo.Client, r *kgo.Record, cause error) error {
	dl := &kgo.Record{
		Topic: DLQ(r.Topic),
		Key:   r.Key,
		Value: r.Value,
		Headers: []kgo.RecordHeader{
			{Key: "source_topic", Value: []byte(r.Topic)},
			{Key: "source_partition", Value: []byte(strconv.Itoa(int(r.Partition)))},
			{Key: "source_offset", Value: []byte(strconv.FormatInt(r.Offset, 10))},
			{Key: "error", Value: []byte(cause.Error())},
		},
	}
	if err := cl.ProduceSync(ctx, dl).FirstErr(); err != nil {
		return fmt.Errorf("ingest: dead-lettering %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	return nil
}

// wake wakes every WaitApplied.
func (c *Consumer) wake() {
	c.waitMu.Lock()
	close(c.waitCh)
	c.waitCh = make(chan struct{})
	c.waitMu.Unlock()
}

// Applied returns the next offset of topic's partition that the index has
// applied: every offset below it is searchable (or was stale, a duplicate
// or dead-lettered). It is 0 before anything was applied.
func (c *Consumer) Applied(topic string, partition int32) int64 {
	if partition < 0 || int(partition) >= len(c.parts) {
		return 0
	}
	p := c.parts[partition]
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.offsets[topic]
}

// WaitApplied waits until the record at offset of topic's partition is
// applied, or ctx ends, and reports whether it was. It sleeps until the
// partition's offsets move; it does not poll.
func (c *Consumer) WaitApplied(ctx context.Context, topic string, partition int32, offset int64) bool {
	for {
		c.waitMu.Lock()
		ch := c.waitCh
		c.waitMu.Unlock()
		if c.Applied(topic, partition) > offset {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// ContentVersion returns the content version the durable state holds for
// product id, and whether the product exists (has content and is not
// deleted). deletedV is its tombstone version, if any.
func (c *Consumer) ContentVersion(id string) (v, deletedV uint64, exists bool) {
	for _, p := range c.parts {
		p.smu.RLock()
		r := p.st.recs[id]
		if r != nil {
			v, deletedV, exists = r.ContentV, r.DeletedV, r.Content != nil && !r.deleted()
		}
		p.smu.RUnlock()
		if r != nil {
			return v, deletedV, exists
		}
	}
	return 0, 0, false
}

// Stock returns the units available of a variant in a warehouse as the
// state holds them, with the stock version (0 when they come from the
// product document), and whether the product exists and has the variant.
func (c *Consumer) Stock(productID, variantID, warehouseID string) (available int, version uint64, ok bool) {
	for _, p := range c.parts {
		p.smu.RLock()
		r := p.st.recs[productID]
		if r != nil && r.Content != nil && !r.deleted() {
			for i := range r.Content.Variants {
				if r.Content.Variants[i].ID == variantID {
					ok = true
					available = r.Content.Variants[i].Stock[warehouseID]
				}
			}
			if s, has := r.Stock[variantID+"\x00"+warehouseID]; has && ok {
				available, version = s.Available, s.V
			}
		}
		p.smu.RUnlock()
		if r != nil {
			return available, version, ok
		}
	}
	return 0, 0, false
}
