package ingest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The crash tests run the indexer, or the broker, in a child process: the
// test binary re-executed with AISLE_CRASH_CHILD set, killed with SIGKILL.

const childEnv = "AISLE_CRASH_CHILD"

// TestCrashChild is the child process: "indexer" consumes into a mapSink
// until killed; "broker" runs the embedded broker on a fixed port until
// killed. It does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("runs only as the child of a crash test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	switch mode {
	case "indexer":
		c, err := New(Options{Brokers: strings.Split(os.Getenv("AISLE_CRASH_BROKERS"), ","), Dir: os.Getenv("AISLE_CRASH_DIR"),
			Partitions: 4, Sink: newMapSink(4), MaxPoll: 50, SnapshotBytes: 2 << 10, FetchMaxWait: 50 * time.Millisecond, SessionTimeout: 6 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Run(ctx); err != nil {
			t.Fatal(err)
		}
	case "broker":
		port, _ := strconv.Atoi(os.Getenv("AISLE_CRASH_PORT"))
		b, err := StartBroker(os.Getenv("AISLE_CRASH_DIR"), port)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("broker up")
		<-ctx.Done()
		b.Close()
	}
}

// child starts the test binary as a child in mode.
func child(t *testing.T, mode string, env ...string) *exec.Cmd {
	t.Helper()
	cmd, err := startChild(mode, env...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// startChild starts the test binary as a child in mode; it does not touch
// t, so another goroutine than the test's may call it.
func startChild(mode string, env ...string) (*exec.Cmd, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), childEnv+"="+mode), env...)
	return cmd, cmd.Start()
}

func kill9(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// workload is thousands of versioned events: versions 1-5 of each product
// in a random order, stale replays, tombstones followed by older upserts,
// and poison records, with what the final index must be.
type workload struct {
	recs    []*kgo.Record
	newest  map[string]uint64
	deleted map[string]bool
	poison  int
}

func newWorkload(n int, seed uint64) *workload {
	r := rand.New(rand.NewPCG(seed, 7))
	w := &workload{newest: map[string]uint64{}, deleted: map[string]bool{}}
	for i := range n {
		id := fmt.Sprintf("c%04d", i)
		vs := []uint64{1, 2, 3, 4, 5}
		r.Shuffle(len(vs), func(a, b int) { vs[a], vs[b] = vs[b], vs[a] })
		for _, v := range vs {
			p, _ := ProductRecord(testProduct(id, v))
			w.recs = append(w.recs, p)
		}
		p, _ := ProductRecord(testProduct(id, uint64(1+r.IntN(5))))
		w.recs = append(w.recs, p) // a stale or duplicate replay
		w.newest[id] = 5
		if i%9 == 0 {
			p, _ := ProductRecord(testProduct(id, 3))
			w.recs = append(w.recs, TombstoneRecord(id, 6), p)
			w.deleted[id] = true
		}
		if i%20 == 0 {
			w.recs = append(w.recs, &kgo.Record{Topic: TopicProducts, Key: []byte(id), Value: []byte(`{"schema":1,"id":"` + id + `","version":9,"product":{"id":"` + id + `","title":"","variants":[]}}`)})
			w.poison++
		}
	}
	// Interleave products: shuffle in blocks so each product's own order
	// (what the versions test) mostly stays while partitions mix.
	return w
}

// check compares the sink with the newest version of every product.
func (w *workload) check(t *testing.T, s *mapSink) {
	t.Helper()
	want := 0
	for id, v := range w.newest {
		p := s.get(id)
		switch {
		case w.deleted[id] && p != nil:
			t.Fatalf("%s is deleted at v6 but indexed as v%d", id, p.Version)
		case !w.deleted[id] && (p == nil || p.Version != v):
			t.Fatalf("%s is %v, want v%d", id, p, v)
		}
		if !w.deleted[id] {
			want++
		}
	}
	if s.len() != want {
		t.Fatalf("sink holds %d products, want %d", s.len(), want)
	}
}

// dlqSources reads a dead-letter topic and returns the source offsets its
// records name, by "topic/partition/offset".
func dlqSources(t *testing.T, ctx context.Context, brokers []string, topic string) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := EndOffsets(ctx, cl, topic)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for _, o := range ends[topic] {
		total += o
	}
	out := map[string]int{}
	for n := int64(0); n < total; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v", topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			h := map[string]string{}
			for _, x := range r.Headers {
				h[x.Key] = string(x.Value)
			}
			out[h["source_topic"]+"/"+h["source_partition"]+"/"+h["source_offset"]]++
		})
	}
	return out
}

// TestCrashIndexerKill9 kills the indexer process with SIGKILL at random
// points while it ingests (every third time also leaving a torn frame at
// the end of a partition log), restarts it each time, and checks that the
// final index (the logs replayed and consumed to the end) equals the
// newest version of every product, that the DLQ holds every poison record
// and that every partition's applied offset reached its end.
func TestCrashIndexerKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; a few seconds")
	}
	e := newEnv(t, 4)
	w := newWorkload(1200, 3)
	// The events are produced while the indexer runs and is killed, in
	// batches of 20 every 5 ms; poison offsets are known once produced.
	produced := make(chan []string, 1)
	go func() {
		var poison []string
		for i := 0; i < len(w.recs); i += 20 {
			res := e.prod.ProduceSync(e.ctx, w.recs[i:min(i+20, len(w.recs))]...)
			if err := res.FirstErr(); err != nil {
				t.Error(err)
				break
			}
			for _, pr := range res {
				if strings.Contains(string(pr.Record.Value), `"title":""`) {
					poison = append(poison, fmt.Sprintf("%s/%d/%d", pr.Record.Topic, pr.Record.Partition, pr.Record.Offset))
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		produced <- poison
	}()
	r := rand.New(rand.NewPCG(9, 9))
	midway := 0
	var poison []string
	for round := 0; poison == nil || round < 8; round++ {
		select {
		case poison = <-produced:
		default:
		}
		cmd := child(t, "indexer", "AISLE_CRASH_BROKERS="+strings.Join(e.broker.Addrs(), ","), "AISLE_CRASH_DIR="+e.dir)
		time.Sleep(time.Duration(150+r.IntN(500)) * time.Millisecond)
		kill9(t, cmd)
		if round%3 == 1 {
			// A write torn by the crash before its fsync: a frame
			// header promising more than follows it.
			f, err := os.OpenFile(logPath(e.dir, int32(round%4)), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte{0xe8, 0x03, 0, 0, 1, 2, 3, 4, 5, 6, 7})
			f.Close()
		}
		// What survived: the logs, replayed as a restart would.
		c, err := New(Options{Brokers: e.broker.Addrs(), Dir: e.dir, Partitions: 4, Sink: newMapSink(4)})
		if err != nil {
			t.Fatalf("round %d: reopening after kill -9: %v", round, err)
		}
		got := int64(0)
		for _, o := range c.Stats().Offsets[TopicProducts] {
			got += o
		}
		c.Close()
		now, err := EndOffsets(e.ctx, e.prod, TopicProducts)
		if err != nil {
			t.Fatal(err)
		}
		endSum := int64(0)
		for _, o := range now[TopicProducts] {
			endSum += o
		}
		t.Logf("round %d: killed with %d of %d records applied", round, got, endSum)
		if got < endSum {
			midway++
		}
	}
	if midway == 0 {
		t.Error("no kill landed during ingest; the test proves nothing")
	}
	if snaps, _ := filepath.Glob(filepath.Join(e.dir, "partition-*.snap")); len(snaps) == 0 {
		t.Error("the child wrote no snapshot; the kills never landed around one")
	}
	e.start()
	e.waitCaughtUp()
	w.check(t, e.sink)
	ends, err := EndOffsets(e.ctx, e.prod, TopicProducts)
	if err != nil {
		t.Fatal(err)
	}
	for p, end := range ends[TopicProducts] {
		if a := e.c.Applied(TopicProducts, p); a != end {
			t.Errorf("partition %d applied up to %d, end %d", p, a, end)
		}
	}
	got := dlqSources(t, e.ctx, e.broker.Addrs(), DLQ(TopicProducts))
	for _, k := range poison {
		if got[k] == 0 {
			t.Errorf("poison record %s is not in the DLQ", k)
		}
	}
	if len(got) != len(poison) {
		t.Errorf("the DLQ names %d source records, want the %d poison ones", len(got), len(poison))
	}
	e.stop()
}

// TestCommitFaults fails every other offset commit (kfake control on
// OffsetCommit, key 8) while consuming, with a restart halfway: the
// index's applied offsets never move backwards, the restart resumes from
// the logs rather than the (behind) group commit, and the final state is
// the newest version of every product.
func TestCommitFaults(t *testing.T) {
	e := newEnv(t, 4)
	e.maxPoll = 40
	var commits, failed atomic.Int64
	e.broker.c.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		e.broker.c.KeepControl()
		if commits.Add(1)%2 == 1 {
			return nil, nil, false
		}
		failed.Add(1)
		r := req.(*kmsg.OffsetCommitRequest)
		resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range r.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	w := newWorkload(600, 5)
	half := len(w.recs) / 2
	e.produce(w.recs[:half]...)

	// Watch the applied offsets for a step backwards.
	stopWatch := make(chan struct{})
	watched := make(chan string, 1)
	watch := func(c *Consumer) {
		last := map[int32]int64{}
		for {
			select {
			case <-stopWatch:
				watched <- ""
				return
			default:
			}
			for p := range int32(4) {
				a := c.Applied(TopicProducts, p)
				if a < last[p] {
					watched <- fmt.Sprintf("partition %d went back from %d to %d", p, last[p], a)
					return
				}
				last[p] = a
			}
			time.Sleep(time.Millisecond)
		}
	}
	e.start()
	go watch(e.c)
	e.waitCaughtUp()
	close(stopWatch)
	if msg := <-watched; msg != "" {
		t.Fatal(msg)
	}
	before := e.c.Stats()
	e.stop()

	e.produce(w.recs[half:]...)
	stopWatch = make(chan struct{})
	e.start()
	go watch(e.c)
	e.waitCaughtUp()
	close(stopWatch)
	if msg := <-watched; msg != "" {
		t.Fatal(msg)
	}
	w.check(t, e.sink)
	after := e.c.Stats()
	if n := after.Applied + after.Stale + after.Duplicates + after.DeadLettered; n != int64(len(w.recs)-half) {
		t.Errorf("after the restart %d records were consumed, want the %d new ones: the restart did not resume from the logs", n, len(w.recs)-half)
	}
	if failed.Load() == 0 {
		t.Error("no commit failed; the fault was not injected")
	}
	t.Logf("%d commits, %d failed; first run applied %d", commits.Load(), failed.Load(), before.Applied)
	e.stop()
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestCrashBrokerKill9 runs the broker in a child process, kills it with
// SIGKILL mid-stream, restarts it on its data directory after a second,
// and checks that every event whose produce was acknowledged is in the
// index, duplicates absorbed.
func TestCrashBrokerKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; a few seconds")
	}
	dir, port := t.TempDir(), freePort(t)
	addr := []string{fmt.Sprintf("127.0.0.1:%d", port)}
	// startBroker starts the broker child and waits, bounded, until it
	// listens. It does not touch t: the restart runs on another
	// goroutine, and t.Fatal must only be called from the test's.
	var children []*exec.Cmd
	var childrenMu sync.Mutex
	t.Cleanup(func() {
		childrenMu.Lock()
		defer childrenMu.Unlock()
		for _, c := range children {
			c.Process.Kill()
			c.Wait()
		}
	})
	startBroker := func() (*exec.Cmd, error) {
		cmd, err := startChild("broker", "AISLE_CRASH_DIR="+dir, "AISLE_CRASH_PORT="+strconv.Itoa(port))
		if err != nil {
			return nil, err
		}
		childrenMu.Lock()
		children = append(children, cmd)
		childrenMu.Unlock()
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if c, err := net.Dial("tcp", addr[0]); err == nil {
				c.Close()
				return cmd, nil
			}
		}
		return nil, errors.New("the broker child did not listen within 60 s")
	}
	bcmd, err := startBroker()
	if err != nil {
		t.Fatal(err)
	}
	restarted := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	prod, err := NewProducer(addr, kgo.RecordDeliveryTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if _, err := EnsureTopics(ctx, prod, 4); err != nil {
		t.Fatal(err)
	}
	sink := newMapSink(4)
	c, err := New(Options{Brokers: addr, Dir: t.TempDir(), Partitions: 4, Sink: sink, FetchMaxWait: 50 * time.Millisecond, SessionTimeout: 6 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rctx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- c.Run(rctx) }()

	// Produce one product per record, in small synchronous batches; a
	// product counts as acknowledged when its batch returned no error.
	acked := map[string]bool{}
	var killedAt, restartedAt int
	for i := 0; i < 3000; i += 20 {
		if i == 1000 {
			kill9(t, bcmd)
			killedAt = len(acked)
			go func() {
				time.Sleep(time.Second)
				_, err := startBroker()
				restarted <- err
			}()
		}
		if i == 1100 {
			restartedAt = len(acked)
		}
		var recs []*kgo.Record
		for j := i; j < i+20; j++ {
			r, _ := ProductRecord(testProduct(fmt.Sprintf("b%04d", j), 1))
			recs = append(recs, r)
		}
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err == nil {
			for _, r := range recs {
				acked[string(r.Key)] = true
			}
		}
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of 3000 products acknowledged (%d before the kill, %d by 100 after it)", len(acked), killedAt, restartedAt)
	ends, err := EndOffsets(ctx, prod, CatalogTopics...)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !c.CaughtUp(ends) {
		if time.Now().After(deadline) {
			t.Fatalf("not caught up after the broker restart: applied %v, ends %v", c.Stats().Offsets, ends)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for id := range acked {
		if sink.get(id) == nil {
			t.Errorf("acknowledged product %s is not in the index", id)
		}
	}
	st := c.Stats()
	t.Logf("applied %d, duplicates %d, stale %d", st.Applied, st.Duplicates, st.Stale)
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
}
