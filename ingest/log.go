package ingest

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/aisle/aisle/internal/atomicfile"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// A partition log is a sequence of frames:
//
//	uint32 little-endian  payload length
//	uint32 little-endian  CRC-32C of the payload
//	payload               s2-compressed entry (codec.go; klauspost/compress/s2's block format)
//
// Each entry holds full records (the latest of each changed product) and
// the next offset of every topic of the partition after the batch. Replay
// keeps the last record of each id and the last offsets. A frame that is
// short or fails its checksum ends the log: it is a write torn by a crash,
// never acknowledged, and is truncated away.
//
// Entries may also carry Sales, the units sold by the partition's orders
// (absolute counts of the products the batch changed, so replaying an
// entry twice is harmless) and Orders, the order ids the batch applied,
// remembered again on replay to drop redelivered orders.
//
// The log holds what happened since the partition's snapshot
// (snapshot.go): once a snapshot is durable the log is emptied, and an
// entry whose offsets the snapshot already covers (a crash between the
// two) is skipped on replay.
//
// logFormat is the version in the file name; bump it with a changelog line.
// 1: JSON entries.
// 2: records may carry rating_v and rating (catalog.ratings); entries may
// carry sales and orders (the orders topic).
// 3: binary entries (codec.go) instead of JSON; snapshots replace
// compaction. A version 1 or 2 log is read once and rewritten as a version
// 3 log of one entry holding its whole state.
// 4: frames compressed with s2 instead of zstd (a record's compression
// took 1.9 µs of CPU instead of 4.4 on the store's products). A version 3
// log, and the version 3 old log of an interrupted snapshot, are read once
// (with zstd) and rewritten as a version 4 log of one entry holding the
// partition's whole state; older versions as before.
const logFormat = 4

// zstdFormat is the last log format whose frames are zstd-compressed.
const zstdFormat = 3

// oldLogPath names the log of a partition in an older format.
func oldLogPath(dir string, partition int32, format int) string {
	return filepath.Join(dir, fmt.Sprintf("partition-%04d.v%d.log", partition, format))
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type entry struct {
	Offsets map[string]int64 `json:"offsets"`
	Records []*record        `json:"records"`
	Sales   map[string]int64 `json:"sales,omitempty"`
	Orders  []string         `json:"orders,omitempty"`
}

// covered reports whether every offset of e is at or below the one in
// base: the entry is older than the snapshot base was taken at.
func (e *entry) covered(base map[string]int64) bool {
	if len(base) == 0 {
		return false
	}
	for t, o := range e.Offsets {
		if o > base[t] {
			return false
		}
	}
	return true
}

// apply replays e into st and offsets, and adds the ids of its records to
// changed.
func (e *entry) apply(st *state, offsets map[string]int64, changed map[string]bool) {
	for _, rec := range e.Records {
		st.recs[rec.ID] = rec
		if changed != nil {
			changed[rec.ID] = true
		}
	}
	for id, n := range e.Sales {
		st.sales[id] = n
	}
	for _, id := range e.Orders {
		if _, dup := st.orderIDs[id]; !dup {
			st.rememberOrder(id)
		}
	}
	for t, o := range e.Offsets {
		offsets[t] = o
	}
}

type plog struct {
	path string
	// leftover is set when openLog found the old log of an interrupted
	// snapshot (snapshot.go).
	leftover bool
	f        *os.File
	size     int64
	// format is the log format of the file, which says how its frames
	// are compressed: logFormat, or zstdFormat (or older) while it is
	// read for an upgrade.
	format  int
	raw     []byte
	scratch []byte
}

func logPath(dir string, partition int32) string {
	return filepath.Join(dir, fmt.Sprintf("partition-%04d.v%d.log", partition, logFormat))
}

// openLog opens the log of a partition and replays the entries that base
// (the offsets of the partition's snapshot, empty for none) does not cover
// into st. It returns the offsets after the last entry and the ids of the
// records it replayed. A torn tail is truncated. An older log format is
// read and rewritten in the current one.
func openLog(dir string, partition int32, st *state, base map[string]int64) (*plog, map[string]int64, map[string]bool, error) {
	if err := atomicfile.MkdirAll(dir); err != nil {
		return nil, nil, nil, fmt.Errorf("ingest: %w", err)
	}
	l := &plog{path: logPath(dir, partition), format: logFormat}
	offsets := map[string]int64{}
	for t, o := range base {
		offsets[t] = o
	}
	changed := map[string]bool{}
	replay := func(l *plog) (int64, error) {
		return l.replay(func(raw []byte, pos int64) error {
			e, err := decodeEntry(raw)
			if err != nil {
				return fmt.Errorf("ingest: log %s at %d: %w", l.path, pos, err)
			}
			if !e.covered(base) {
				e.apply(st, offsets, changed)
			}
			return nil
		})
	}
	if _, err := os.Stat(l.path); errors.Is(err, os.ErrNotExist) {
		if err := l.upgrade(dir, partition, st, offsets, changed, replay); err != nil {
			return nil, nil, nil, err
		}
	}
	// A log set aside for a snapshot that a crash interrupted comes
	// first; the partition is snapshotted again once restored.
	if f, err := os.Open(oldLogPath3(dir, partition)); err == nil {
		_, err := replay(&plog{path: f.Name(), f: f, format: logFormat})
		f.Close()
		if err != nil {
			return nil, nil, nil, err
		}
		l.leftover = true
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("ingest: %w", err)
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, atomicfile.FileMode)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("ingest: cannot open log: %w", err)
	}
	l.f = f
	good, err := replay(l)
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("ingest: cannot truncate the torn tail of %s at %d: %w", l.path, good, err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	l.size = good
	return l, offsets, changed, nil
}

// upgrade reads the newest log of an older format, if any, into st and
// writes it as a current log of one entry; then removes the old file. A
// version 3 log is replayed as a current one (replay), after the old log
// of a snapshot it interrupted, if any.
func (l *plog) upgrade(dir string, partition int32, st *state, offsets map[string]int64, changed map[string]bool,
	replay func(*plog) (int64, error)) error {
	for v := logFormat - 1; v >= 1; v-- {
		old := oldLogPath(dir, partition, v)
		f, err := os.Open(old)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("ingest: cannot upgrade the version %d log of partition %d: %w", v, partition, err)
		}
		var interrupted string
		if v == zstdFormat {
			interrupted = oldLogPathOf(dir, partition, v)
			if of, err := os.Open(interrupted); err == nil {
				_, err := replay(&plog{path: interrupted, f: of, format: v})
				of.Close()
				if err != nil {
					f.Close()
					return err
				}
			} else if !errors.Is(err, os.ErrNotExist) {
				f.Close()
				return fmt.Errorf("ingest: %w", err)
			}
			_, err = replay(&plog{path: old, f: f, format: v})
		} else {
			ol := &plog{path: old, f: f, format: v}
			_, err = ol.replay(func(raw []byte, pos int64) error {
				var e entry
				if err := json.Unmarshal(raw, &e); err != nil {
					return fmt.Errorf("ingest: log %s at %d: %w", old, pos, err)
				}
				e.apply(st, offsets, changed)
				return nil
			})
		}
		f.Close()
		if err != nil {
			return err
		}
		// A version 3 log follows a snapshot: the new log holds what it
		// held after it (the records it changed, the offsets, sales and
		// order ids); the older ones hold the whole state.
		e := stateEntry(st, offsets)
		if v == zstdFormat {
			e.Records = e.Records[:0]
			for id := range changed {
				if r := st.recs[id]; r != nil {
					e.Records = append(e.Records, r)
				}
			}
		}
		if err := l.rewriteEntry(e); err != nil {
			return err
		}
		if interrupted != "" {
			if err := os.Remove(interrupted); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("ingest: %w", err)
			}
		}
		return os.Remove(old)
	}
	return nil
}

// replay calls fn with the decompressed payload of every whole frame and
// returns where the last one ends.
func (l *plog) replay(fn func(raw []byte, pos int64) error) (int64, error) {
	r := bufio.NewReaderSize(l.f, 1<<20)
	var pos int64
	var hdr [8]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return pos, nil // end, or a torn header
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		if n > 1<<30 {
			return pos, nil
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return pos, nil
		}
		if crc32.Checksum(buf, crcTable) != binary.LittleEndian.Uint32(hdr[4:]) {
			return pos, nil
		}
		raw, err := l.decompress(buf)
		if err != nil {
			return 0, fmt.Errorf("ingest: log %s at %d: checksum ok but cannot decompress: %w", l.path, pos, err)
		}
		l.raw = raw
		if err := fn(raw, pos); err != nil {
			return 0, err
		}
		pos += 8 + int64(n)
	}
}

// append writes an entry and fsyncs it.
func (l *plog) append(e *entry) error {
	l.raw = appendEntry(l.raw[:0], e)
	frame := l.frame(l.raw)
	if _, err := l.f.Write(frame); err != nil {
		return fmt.Errorf("ingest: writing %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("ingest: fsync %s: %w", l.path, err)
	}
	l.size += int64(len(frame))
	return nil
}

// decompress returns the entry of a frame's payload, in l.raw's memory.
func (l *plog) decompress(payload []byte) ([]byte, error) {
	if l.format > zstdFormat {
		n, err := s2.DecodedLen(payload)
		if err != nil {
			return nil, err
		}
		if cap(l.raw) < n {
			l.raw = make([]byte, n)
		}
		return s2.Decode(l.raw[:cap(l.raw)], payload)
	}
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.DecodeAll(payload, l.raw[:0])
}

func (l *plog) frame(raw []byte) []byte {
	n := 8 + s2.MaxEncodedLen(len(raw))
	if cap(l.scratch) < n {
		l.scratch = make([]byte, n)
	}
	l.scratch = l.scratch[:n]
	enc := s2.Encode(l.scratch[8:], raw)
	l.scratch = l.scratch[:8+len(enc)]
	payload := l.scratch[8:]
	binary.LittleEndian.PutUint32(l.scratch[:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(l.scratch[4:8], crc32.Checksum(payload, crcTable))
	return l.scratch
}

// stateEntry is an entry holding the whole of st: every record, every
// sales count and the remembered order ids, oldest first. The sales map is
// read while encoding, by the partition's goroutine.
func stateEntry(st *state, offsets map[string]int64) *entry {
	e := &entry{Offsets: offsets, Records: make([]*record, 0, len(st.recs)), Orders: st.orderIDsOldestFirst()}
	for _, r := range st.recs {
		e.Records = append(e.Records, r)
	}
	if len(st.sales) > 0 {
		e.Sales = st.sales
	}
	return e
}

// rewrite replaces the log with one entry holding every record of st,
// through a temporary file and a rename.
func (l *plog) rewrite(st *state, offsets map[string]int64) error {
	return l.rewriteEntry(stateEntry(st, offsets))
}

// rewriteEntry replaces the log with the one entry e, through a temporary
// file and a rename.
func (l *plog) rewriteEntry(e *entry) error {
	raw := appendEntry(nil, e)
	frame := l.frame(raw)
	if err := atomicfile.Write(l.path, frame); err != nil {
		return err
	}
	if l.f != nil {
		l.f.Close()
		f, err := os.OpenFile(l.path, os.O_RDWR, atomicfile.FileMode)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			f.Close()
			return fmt.Errorf("ingest: %w", err)
		}
		l.f = f
	}
	l.size = int64(len(frame))
	return nil
}

// rotate sets the log aside as old (every entry is fsynced already) and
// starts an empty one, for a snapshot written beside ingest.
func (l *plog) rotate(old string) error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if err := os.Rename(l.path, old); err != nil {
		return fmt.Errorf("ingest: setting %s aside: %w", l.path, err)
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, atomicfile.FileMode)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(l.path)); err != nil {
		f.Close()
		return fmt.Errorf("ingest: %w", err)
	}
	l.f, l.size = f, 0
	return nil
}

// reset empties the log once a snapshot holds everything in it.
func (l *plog) reset() error {
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("ingest: emptying %s: %w", l.path, err)
	}
	if _, err := l.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("ingest: fsync %s: %w", l.path, err)
	}
	l.size = 0
	return nil
}

func (l *plog) close() error {
	if l == nil || l.f == nil {
		return nil
	}
	return errors.Join(l.f.Sync(), l.f.Close())
}
