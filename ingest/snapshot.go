package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/aisle/aisle/catalog"
)

// A SnapshotSink is a Sink that can also save the index of one partition
// into the partition's snapshot and load it back, so that a restart loads
// the index instead of rebuilding it from every product. search.Engine is
// one.
type SnapshotSink interface {
	Sink
	// AppendShard appends the index of partition p as it is now. byRef
	// reports the products the snapshot holds anyway (the content of an
	// ingest record), which it may write as their id only.
	AppendShard(dst []byte, p int, byRef func(*catalog.Product) bool) []byte
	// LoadShard replaces the index of partition p with what AppendShard
	// wrote; resolve returns a product written by reference.
	LoadShard(p int, b []byte, resolve func(id string) (*catalog.Product, bool)) error
}

// A partition snapshot is one file, partition-NNNN.snap, replaced whole
// (temporary file, fsync, rename, directory fsync):
//
//	[8]byte  "AISLSNAP"
//	uint32   little-endian format version (snapFormat)
//	uint32   little-endian CRC-32C (Castagnoli) of the body
//	uint64   little-endian length of the payload, uncompressed
//	body     the payload, one zstd frame
//
//	payload := entry   the whole partition state in the log's entry form
//	                   (codec.go): the next offset of every topic, every
//	                   record, every sales count, the remembered order ids
//	           units   uvarint n, n × (string product id, varint units):
//	                   the units sold each indexed product of the
//	                   partition carried when the snapshot was taken
//	           byte    1 when the index follows, 0 when not
//	           index   the rest: the Sink's AppendShard
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

const snapHeader = 24

func snapPath(dir string, partition int32) string {
	return filepath.Join(dir, fmt.Sprintf("partition-%04d.snap", partition))
}

// snapData is what a snapshot held, beyond the records read into state.
type snapData struct {
	offsets map[string]int64
	units   map[string]int64
	index   []byte // nil when none
	size    int64  // of the file
}

var snapDecoders = sync.Pool{New: func() any {
	d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(8<<30))
	return d
}}

// readSnapshot reads partition p's snapshot into st; it returns nil when
// there is none. A snapshot that fails its checksum is an error: unlike a
// torn log tail it was acknowledged, and the log after it is not enough to
// rebuild the partition.
func readSnapshot(dir string, p int32, st *state) (*snapData, error) {
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
	n := binary.LittleEndian.Uint64(b[16:])
	if n > 1<<40 {
		return nil, fmt.Errorf("ingest: %s: %w: payload length %d", path, catalog.ErrCorrupt, n)
	}
	dec := snapDecoders.Get().(*zstd.Decoder)
	payload, err := dec.DecodeAll(body, make([]byte, 0, n))
	snapDecoders.Put(dec)
	if err != nil {
		return nil, fmt.Errorf("ingest: %s: %w: %w", path, catalog.ErrCorrupt, err)
	}
	d := newDecoder(payload)
	e := d.entry()
	sd := &snapData{offsets: map[string]int64{}, units: d.counts("units"), size: int64(len(b))}
	if d.byte1("index flag") == 1 && d.Err() == nil {
		sd.index = d.Rest()
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("ingest: %s: %w", path, err)
	}
	e.apply(st, sd.offsets, nil)
	return sd, nil
}

var snapEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
})

// snapshot writes partition p's snapshot and empties its log. It runs
// when no partition is applying (Run between polls, or after it stops),
// so the state, the sales of every partition and the index agree.
func (c *Consumer) snapshot(p *partition) error {
	start := time.Now()
	enc, err := snapEncoder()
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	p.mu.Lock()
	offsets := p.offsets
	p.mu.Unlock()
	payload := appendEntry(make([]byte, 0, p.snapPayload+p.snapPayload/8), stateEntry(p.st, offsets))
	units := map[string]int64{}
	for id, r := range p.st.recs {
		if r.Content == nil || r.deleted() {
			continue
		}
		if n := c.salesOf(id); n != 0 {
			units[id] = n
		}
	}
	payload = appendCounts(payload, units)
	if ss, ok := c.opts.Sink.(SnapshotSink); ok {
		payload = append(payload, 1)
		if spare := cap(payload) - len(payload); spare < len(payload) {
			payload = slices.Grow(payload, len(payload)) // the index is about as large as the state
		}
		payload = ss.AppendShard(payload, int(p.n), func(pr *catalog.Product) bool {
			r := p.st.recs[pr.ID]
			return r != nil && r.Content == pr
		})
	} else {
		payload = append(payload, 0)
	}
	file := make([]byte, snapHeader, snapHeader+len(payload)/3)
	copy(file, snapMagic[:])
	binary.LittleEndian.PutUint32(file[8:], snapFormat)
	binary.LittleEndian.PutUint64(file[16:], uint64(len(payload)))
	file = enc.EncodeAll(payload, file)
	binary.LittleEndian.PutUint32(file[12:], crc32.Checksum(file[snapHeader:], crcTable))
	if err := writeFileSync(snapPath(c.opts.Dir, p.n), file); err != nil {
		return err
	}
	if err := p.log.reset(); err != nil {
		return err
	}
	p.snapSize, p.snapPayload = int64(len(file)), len(payload)
	c.snapshots.Add(1)
	c.opts.Logf("ingest: partition %d snapshot: %d records, %d MB (%d MB uncompressed) in %v",
		p.n, len(p.st.recs), len(file)>>20, len(payload)>>20, time.Since(start).Round(time.Millisecond))
	return nil
}

// snapshotDue snapshots, in parallel, the partitions whose log has grown
// past Options.SnapshotBytes and half their last snapshot, or, with all,
// every partition whose log holds anything.
func (c *Consumer) snapshotDue(all bool) error {
	var due []*partition
	for _, p := range c.parts {
		if p == nil || p.log.size == 0 {
			continue
		}
		if all || p.log.size > max(c.opts.SnapshotBytes, p.snapSize/2) {
			due = append(due, p)
		}
	}
	errs := make([]error, len(due))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, p := range due {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = c.snapshot(p)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
