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

	"github.com/klauspost/compress/zstd"
)

// A partition log is a sequence of frames:
//
//	uint32 little-endian  payload length
//	uint32 little-endian  CRC-32C of the payload
//	payload               zstd-compressed JSON of an entry
//
// Each entry holds full records (the latest of each changed product) and
// the next offset of every topic of the partition after the batch. Replay
// keeps the last record of each id and the last offsets. A frame that is
// short or fails its checksum ends the log: it is a write torn by a crash,
// never acknowledged, and is truncated away. Compaction rewrites the log as
// one entry of all records, through a temporary file and a rename.
//
// Entries of version 2 may also carry Sales, the units sold by the
// partition's orders (absolute counts of the products the batch changed,
// so replaying an entry twice is harmless) and Orders, the order ids the
// batch applied, remembered again on replay to drop redelivered orders. A
// compaction snapshot holds every count and the remembered ids, oldest
// first.
//
// logFormat is the version in the file name; bump it with a changelog line.
// 1: the format above.
// 2: records may carry rating_v and rating (catalog.ratings); entries may
// carry sales and orders (the orders topic). A version 1 log is read as
// version 2 (it has none of them) and renamed on open.
const logFormat = 2

// oldLogPath names the log of a partition in an older format, which
// openLog renames to the current name: every older format is readable.
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

type plog struct {
	path    string
	f       *os.File
	size    int64
	enc     *zstd.Encoder
	dec     *zstd.Decoder
	scratch []byte
}

func logPath(dir string, partition int32) string {
	return filepath.Join(dir, fmt.Sprintf("partition-%04d.v%d.log", partition, logFormat))
}

// openLog opens the log of a partition, replays it into st and returns the
// offsets it recorded. A torn tail is truncated.
func openLog(dir string, partition int32, st *state) (*plog, map[string]int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("ingest: %w", err)
	}
	l := &plog{path: logPath(dir, partition)}
	if _, err := os.Stat(l.path); errors.Is(err, os.ErrNotExist) {
		for v := logFormat - 1; v >= 1; v-- {
			if err := os.Rename(oldLogPath(dir, partition, v), l.path); err == nil {
				break
			} else if !errors.Is(err, os.ErrNotExist) {
				return nil, nil, fmt.Errorf("ingest: cannot upgrade the version %d log of partition %d: %w", v, partition, err)
			}
		}
	}
	var err error
	if l.enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest)); err != nil {
		return nil, nil, err
	}
	if l.dec, err = zstd.NewReader(nil); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: cannot open log: %w", err)
	}
	l.f = f
	offsets := map[string]int64{}
	good, err := l.replay(st, offsets)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("ingest: cannot truncate the torn tail of %s at %d: %w", l.path, good, err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, err
	}
	l.size = good
	return l, offsets, nil
}

// replay reads every whole frame and returns where the last one ends.
func (l *plog) replay(st *state, offsets map[string]int64) (int64, error) {
	r := bufio.NewReaderSize(l.f, 1<<20)
	var pos int64
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return pos, nil // end, or a torn header
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		if n > 1<<30 {
			return pos, nil
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return pos, nil
		}
		if crc32.Checksum(buf, crcTable) != binary.LittleEndian.Uint32(hdr[4:]) {
			return pos, nil
		}
		raw, err := l.dec.DecodeAll(buf, nil)
		if err != nil {
			return 0, fmt.Errorf("ingest: log %s at %d: checksum ok but cannot decompress: %w", l.path, pos, err)
		}
		var e entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return 0, fmt.Errorf("ingest: log %s at %d: %w", l.path, pos, err)
		}
		for _, rec := range e.Records {
			st.recs[rec.ID] = rec
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
		pos += 8 + int64(n)
	}
}

// append writes an entry and fsyncs it.
func (l *plog) append(e *entry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("ingest: encoding a log entry: %w", err)
	}
	frame := l.frame(raw)
	if _, err := l.f.Write(frame); err != nil {
		return fmt.Errorf("ingest: writing %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("ingest: fsync %s: %w", l.path, err)
	}
	l.size += int64(len(frame))
	return nil
}

func (l *plog) frame(raw []byte) []byte {
	l.scratch = append(l.scratch[:0], make([]byte, 8)...)
	l.scratch = l.enc.EncodeAll(raw, l.scratch)
	payload := l.scratch[8:]
	binary.LittleEndian.PutUint32(l.scratch[:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(l.scratch[4:8], crc32.Checksum(payload, crcTable))
	return l.scratch
}

// compact rewrites the log as one entry holding every record of st.
func (l *plog) compact(st *state, offsets map[string]int64) error {
	e := entry{Offsets: offsets, Records: make([]*record, 0, len(st.recs)), Orders: st.orderIDsOldestFirst()}
	for _, r := range st.recs {
		e.Records = append(e.Records, r)
	}
	if len(st.sales) > 0 {
		e.Sales = st.sales // read-only while encoding, by the partition's goroutine
	}
	raw, err := json.Marshal(&e)
	if err != nil {
		return fmt.Errorf("ingest: encoding a log snapshot: %w", err)
	}
	tmp := l.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	frame := l.frame(raw)
	if _, err := f.Write(frame); err != nil {
		f.Close()
		return fmt.Errorf("ingest: writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("ingest: fsync %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, l.path); err != nil {
		f.Close()
		return fmt.Errorf("ingest: %w", err)
	}
	if d, err := os.Open(filepath.Dir(l.path)); err == nil {
		d.Sync()
		d.Close()
	}
	l.f.Close()
	l.f = f
	l.size = int64(len(frame))
	return nil
}

func (l *plog) close() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.enc.Close()
	l.dec.Close()
	return errors.Join(l.f.Sync(), l.f.Close())
}
