package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/internal/atomicfile"
)

// A SnapshotSink is a Sink that can also save the index of one partition
// into the partition's snapshot and load it back, so that a restart loads
// the index instead of rebuilding it from every product. search.Engine is
// one.
type SnapshotSink interface {
	Sink
	// CaptureShard returns a writer of the index of partition p as it is
	// at the call, however it changes afterwards; the writer may run in
	// another goroutine. Its byRef argument reports the products the
	// snapshot holds anyway (the content of an ingest record), which it
	// may write as their id only.
	CaptureShard(p int) func(dst []byte, byRef func(*catalog.Product) bool) []byte
	// LoadShard replaces the index of partition p with what a captured
	// writer wrote; resolve returns a product written by reference.
	LoadShard(p int, b []byte, resolve func(id string) (*catalog.Product, bool)) error
}

// A partition snapshot is one file, partition-NNNN.snap, replaced whole
// (temporary file, fsync, rename, directory fsync):
//
//	[8]byte  "AISLSNAP"
//	uint32   little-endian format version (snapFormat)
//	uint32   little-endian CRC-32C (Castagnoli) of the body
//	uint64   little-endian length of the state, uncompressed
//	uint64   little-endian length of the state's zstd frame
//	uint64   little-endian length of the index, uncompressed (0: none)
//	body     the state, one zstd frame; then the index, one zstd frame
//
//	state := entry   the whole partition state in the log's entry form
//	                 (codec.go): the next offset of every topic, every
//	                 record, every sales count, the remembered order ids
//	         units   uvarint n, n × (string product id, varint units):
//	                 the units sold each indexed product of the partition
//	                 carried when the snapshot was taken
//	index := what the Sink's captured writer wrote (index/snapfile.go)
//
// The two frames are decoded apart, each into a buffer reused from one
// partition to the next: the state of every partition is read before any
// index is loaded, and fresh memory is costly.
//
// After the snapshot is durable the partition log is emptied. On restart
// the snapshot is read, the log's entries after it are replayed, the
// index is loaded, and only the products those entries changed (and those
// whose units sold moved since, on any partition) go to the Sink.
//
// snapFormat is the version in the header; bump it with a changelog line.
// 1: the format above.
const snapFormat = 1

var snapMagic = [8]byte{'A', 'I', 'S', 'L', 'S', 'N', 'A', 'P'}

const snapHeader = 40

func snapPath(dir string, partition int32) string {
	return filepath.Join(dir, fmt.Sprintf("partition-%04d.snap", partition))
}

// snapData is what a snapshot held, beyond the records read into state.
type snapData struct {
	path    string
	offsets map[string]int64
	units   map[string]int64
	index   []byte // the index's zstd frame; nil when none
	indexN  uint64 // its length uncompressed
	size    int64  // of the file
}

// buffers are byte buffers reused by the snapshots of a Consumer, and a
// bound on how many are in use at once.
type buffers struct {
	free chan []byte
	use  chan struct{}
}

// newBuffers keeps three free buffers, what one snapshot writer uses (state,
// index, file): at 1M products that is about 225 MB kept between snapshots.
func newBuffers() *buffers {
	return &buffers{free: make(chan []byte, 3), use: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// get returns an empty buffer, reused if one is free, of at least n bytes'
// capacity when it has to make one.
func (b *buffers) get(n int) []byte {
	select {
	case buf := <-b.free:
		return buf[:0]
	default:
		return make([]byte, 0, n)
	}
}

// put keeps buf for later, unless enough are kept.
func (b *buffers) put(buf []byte) {
	select {
	case b.free <- buf:
	default:
	}
}

// decode decompresses one zstd frame of n bytes into a reused buffer and
// calls fn with it; fn must not keep it. At most GOMAXPROCS run at once.
func (b *buffers) decode(frame []byte, n uint64, fn func([]byte) error) error {
	b.use <- struct{}{}
	defer func() { <-b.use }()
	dec := snapDecoders.Get().(*zstd.Decoder)
	defer snapDecoders.Put(dec)
	buf := b.get(int(n))
	if uint64(cap(buf)) < n {
		buf = make([]byte, 0, n)
	}
	out, err := dec.DecodeAll(frame, buf)
	if err == nil && uint64(len(out)) != n {
		err = fmt.Errorf("%d bytes decoded, the header says %d", len(out), n)
	}
	if err != nil {
		b.put(buf)
		return fmt.Errorf("%w: %w", catalog.ErrCorrupt, err)
	}
	err = fn(out)
	b.put(out)
	return err
}

var snapDecoders = sync.Pool{New: func() any {
	d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(8<<30))
	return d
}}

// readSnapshot reads partition p's snapshot into st; it returns nil when
// there is none. The index stays compressed until loadIndex. A snapshot
// that fails its checksum is an error: unlike a torn log tail it was
// acknowledged, and the log after it is not enough to rebuild the
// partition.
func readSnapshot(dir string, p int32, st *state, bufs *buffers) (*snapData, error) {
	path := snapPath(dir, p)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if len(b) < snapHeader || [8]byte(b[:8]) != snapMagic {
		return nil, fmt.Errorf("ingest: %s is not a partition snapshot (no AISLSNAP header)", path)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != snapFormat {
		return nil, fmt.Errorf("ingest: %s has snapshot format %d; this build reads %d", path, v, snapFormat)
	}
	body := b[snapHeader:]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(b[12:]) {
		return nil, fmt.Errorf("ingest: %s: %w: checksum mismatch (delete the ingest directory and reindex)", path, catalog.ErrCorrupt)
	}
	stateN, frameN, indexN := binary.LittleEndian.Uint64(b[16:]), binary.LittleEndian.Uint64(b[24:]), binary.LittleEndian.Uint64(b[32:])
	if stateN > 1<<40 || indexN > 1<<40 || frameN > uint64(len(body)) {
		return nil, fmt.Errorf("ingest: %s: %w: lengths %d, %d, %d in a body of %d bytes", path, catalog.ErrCorrupt, stateN, frameN, indexN, len(body))
	}
	sd := &snapData{path: path, offsets: map[string]int64{}, size: int64(len(b))}
	if indexN > 0 {
		sd.index, sd.indexN = body[frameN:], indexN
	}
	err = bufs.decode(body[:frameN], stateN, func(state []byte) error {
		d := newDecoder(state)
		e := d.entry()
		sd.units = d.counts("units")
		if d.Err() == nil && d.Len() != 0 {
			d.What = "state"
			d.Failf("%d bytes of trailing data", d.Len())
		}
		if err := d.Err(); err != nil {
			return err
		}
		if len(st.recs) == 0 {
			st.recs = make(map[string]*record, len(e.Records)+len(e.Records)/8)
		}
		e.apply(st, sd.offsets, nil)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: %s: %w", path, err)
	}
	return sd, nil
}

// loadIndex decompresses the snapshot's index and hands it to load.
func (sd *snapData) loadIndex(bufs *buffers, load func([]byte) error) error {
	if err := bufs.decode(sd.index, sd.indexN, load); err != nil {
		return fmt.Errorf("ingest: %s: %w", sd.path, err)
	}
	sd.index = nil
	return nil
}

var snapEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
})

// oldLogPath3 names the log set aside while a snapshot is written.
func oldLogPath3(dir string, partition int32) string { return oldLogPathOf(dir, partition, logFormat) }

func oldLogPathOf(dir string, partition int32, format int) string {
	return filepath.Join(dir, fmt.Sprintf("partition-%04d.v%d.old.log", partition, format))
}

// snapCapture is a partition as it was between two polls, when every
// partition's state, sales and index agreed: what its snapshot holds. The
// records are never changed once stored (state.edit copies them), so
// holding them while ingest goes on is enough.
type snapCapture struct {
	n     int32
	entry *entry
	units map[string]int64
	refs  map[*catalog.Product]struct{} // contents of the records, written once
	index func([]byte, func(*catalog.Product) bool) []byte
	hint  int // the last state's size
}

// snapResult is what writing a capture gave.
type snapResult struct {
	size    int64
	payload int
	err     error
}

// capture takes partition p as it is. With rotate, the log is set aside
// as the old log (the snapshot will cover it) and a new one started, so
// ingest goes on while the snapshot is written; without, the snapshot
// covers the whole log, which is emptied once it is written.
func (c *Consumer) capture(p *partition, rotate bool) (*snapCapture, error) {
	p.mu.Lock()
	offsets := maps.Clone(p.offsets)
	p.mu.Unlock()
	sc := &snapCapture{n: p.n, hint: p.snapPayload, units: map[string]int64{},
		refs: make(map[*catalog.Product]struct{}, len(p.st.recs))}
	e := &entry{Offsets: offsets, Records: make([]*record, 0, len(p.st.recs)), Orders: p.st.orderIDsOldestFirst()}
	p.smu.RLock()
	e.Sales = maps.Clone(p.st.sales)
	for _, r := range p.st.recs {
		e.Records = append(e.Records, r)
		if r.Content != nil {
			sc.refs[r.Content] = struct{}{}
		}
	}
	p.smu.RUnlock()
	sc.entry = e
	// The units sold each indexed product of p carries: the sum over
	// every partition's orders.
	for _, q := range c.parts {
		q.smu.RLock()
		for id, n := range q.st.sales {
			if r := p.st.recs[id]; r != nil && r.Content != nil && !r.deleted() {
				sc.units[id] += n
			}
		}
		q.smu.RUnlock()
	}
	if ss, ok := c.opts.Sink.(SnapshotSink); ok {
		sc.index = ss.CaptureShard(int(p.n))
	}
	if rotate {
		if err := p.log.rotate(oldLogPath3(c.opts.Dir, p.n)); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

// write writes the captured partition's snapshot, then removes the log
// set aside for it, if any. It reads only the capture, so it may run
// beside ingest.
func (c *Consumer) write(sc *snapCapture) snapResult {
	start := time.Now()
	enc, err := snapEncoder()
	if err != nil {
		return snapResult{err: fmt.Errorf("ingest: %w", err)}
	}
	// Buffers are reused from one snapshot to the next: fresh memory of
	// hundreds of megabytes costs more in page faults than the encoding.
	state := c.bufs.get(sc.hint)
	defer func() { c.bufs.put(state) }()
	state = appendEntry(state, sc.entry)
	state = appendCounts(state, sc.units)
	var index []byte
	if sc.index != nil {
		index = c.bufs.get(len(state))
		defer func() { c.bufs.put(index) }()
		index = sc.index(index, func(pr *catalog.Product) bool {
			_, ok := sc.refs[pr]
			return ok
		})
	}
	file := c.bufs.get(snapHeader + (len(state)+len(index))/3)[:snapHeader]
	defer func() { c.bufs.put(file) }()
	copy(file, snapMagic[:])
	binary.LittleEndian.PutUint32(file[8:], snapFormat)
	binary.LittleEndian.PutUint64(file[16:], uint64(len(state)))
	file = enc.EncodeAll(state, file)
	binary.LittleEndian.PutUint64(file[24:], uint64(len(file)-snapHeader))
	binary.LittleEndian.PutUint64(file[32:], uint64(len(index)))
	if len(index) > 0 {
		file = enc.EncodeAll(index, file)
	}
	binary.LittleEndian.PutUint32(file[12:], crc32.Checksum(file[snapHeader:], crcTable))
	payload := len(state) + len(index)
	if err := atomicfile.Write(snapPath(c.opts.Dir, sc.n), file); err != nil {
		return snapResult{err: err}
	}
	if err := atomicfile.Remove(oldLogPath3(c.opts.Dir, sc.n)); err != nil {
		return snapResult{err: err}
	}
	c.snapshots.Add(1)
	c.opts.Logf("ingest: partition %d snapshot: %d records, %d MB (%d MB uncompressed) in %v",
		sc.n, len(sc.entry.Records), len(file)>>20, payload>>20, time.Since(start).Round(time.Millisecond))
	return snapResult{size: int64(len(file)), payload: len(state)}
}

// snapshotNow snapshots partitions synchronously, in parallel, each
// covering its whole log, which is then emptied. It runs when nothing is
// applying: at the end of Run, or in New for a partition whose snapshot a
// crash interrupted.
func (c *Consumer) snapshotNow(parts []*partition) error {
	errs := make([]error, len(parts))
	res := make([]snapResult, len(parts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, p := range parts {
		sc, err := c.capture(p, false)
		if err != nil {
			errs[i] = err
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			res[i] = c.write(sc)
		})
	}
	wg.Wait()
	for i, p := range parts {
		if errs[i] != nil {
			continue
		}
		if errs[i] = res[i].err; errs[i] == nil {
			p.snapSize, p.snapPayload = res[i].size, res[i].payload
			errs[i] = p.log.reset()
		}
	}
	return errors.Join(errs...)
}

// snapshotDue runs between polls. It collects the snapshots written in
// the background since, and starts one for each partition whose log has
// passed Options.SnapshotBytes and half its last snapshot, at most one
// written at a time so ingest keeps a core. With final (Run stopping) it
// waits for those in flight and snapshots every partition whose log holds
// anything.
func (c *Consumer) snapshotDue(final bool) error {
	var errs []error
	for _, p := range c.parts {
		if p.snapDone == nil {
			continue
		}
		if final {
			errs = append(errs, p.collect(<-p.snapDone))
			continue
		}
		select {
		case r := <-p.snapDone:
			errs = append(errs, p.collect(r))
		default:
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if final {
		var due []*partition
		for _, p := range c.parts {
			if p.log.size > 0 {
				due = append(due, p)
			}
		}
		return c.snapshotNow(due)
	}
	for _, p := range c.parts {
		if p.snapDone != nil || p.log.size <= max(c.opts.SnapshotBytes, p.snapSize/2) {
			continue
		}
		sc, err := c.capture(p, true)
		if err != nil {
			return err
		}
		done := make(chan snapResult, 1)
		p.snapDone = done
		c.bg.Go(func() {
			c.snapSem <- struct{}{}
			defer func() { <-c.snapSem }()
			done <- c.write(sc)
		})
	}
	return nil
}

// collect records the outcome of a background snapshot.
func (p *partition) collect(r snapResult) error {
	p.snapDone = nil
	if r.err != nil {
		return fmt.Errorf("ingest: partition %d snapshot: %w", p.n, r.err)
	}
	p.snapSize, p.snapPayload = r.size, r.payload
	return nil
}
