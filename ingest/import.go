package ingest

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
)

// Import publishes catalog files to the products topic (doc/import.md).
//
// It reads the files once. Every row is decoded, validated and compared
// with the topic's current state (ReadCatalogState) by workers in
// parallel; the events to publish are encoded there and written to a
// spool file (s2-compressed, in SpoolDir), so nothing is published until
// every row has been checked. With an invalid row and no SkipInvalid,
// Import returns ErrInvalidRows with every problem and publishes nothing.
// Then it produces the spooled events asynchronously through an idempotent
// producer, the tombstones of DeleteMissing after them, and flushes once.
//
// Versions: a product whose content hash equals the one on the topic is
// unchanged and not published; a changed one is published at one above
// the version on the topic (or at the file's own version, which must then
// be above it); a new one at 1 (or the file's version). Import is one more
// writer beside the seller API's: two writers changing the same product at
// the same moment may publish the same version, and the indexer keeps the
// first (doc/import.md).

// ImportSource is one catalog file.
type ImportSource struct {
	// Name names the file in messages ("-" for standard input).
	Name   string
	Format catalog.Format
	// R is the file's text, already decompressed; it is read once.
	R io.Reader
}

// ImportOptions configure Import.
type ImportOptions struct {
	// Brokers are the Kafka brokers of the catalog topics.
	Brokers []string
	// Seller owns the imported products; empty: the store's own catalog.
	// A product of the file that belongs to another seller is an error.
	Seller string
	File   catalog.FileOptions
	// SkipInvalid publishes the valid products of a file with invalid rows
	// (which are still reported).
	SkipInvalid bool
	// DeleteMissing tombstones the products of Seller that are on the
	// topic and not in the files: the files are the whole catalog.
	DeleteMissing bool
	// MaxErrors bounds the row errors kept in the result (all are
	// counted); default 1000.
	MaxErrors int
	// Workers decode and encode in parallel; default GOMAXPROCS.
	Workers int
	// SpoolDir holds the spool file while the import runs; default the
	// system's temporary directory.
	SpoolDir string
	// Progress, when set, is called about every 200 ms from another
	// goroutine.
	Progress func(ImportProgress)
	// ProducerOpts are added to NewProducer's.
	ProducerOpts []kgo.Opt
}

// ImportProgress is where an import is.
type ImportProgress struct {
	Phase     string // "reading", then "publishing"
	Products  int    // rows read, or events acknowledged
	Total     int    // events to publish (publishing)
	Bytes     int64  // bytes read
	Elapsed   time.Duration
	Published bool // the last call: every event is acknowledged
}

// FileError is one problem of one row of one file.
type FileError struct {
	Source string
	catalog.RowError
}

func (e FileError) Error() string { return e.Source + ": " + e.RowError.Error() }

// ImportResult says what an import did.
type ImportResult struct {
	// Products and Variants are the valid products read and their
	// variants; Bytes the text read (decompressed).
	Products, Variants int
	Bytes              int64
	// What happened to the valid products.
	Created, Updated, Unchanged int
	// Older counts products whose file version is not above the one on
	// the topic; they are not published.
	Older int
	// Deleted counts the tombstones published (DeleteMissing).
	Deleted int
	// Invalid counts the rows refused; Errors holds the first MaxErrors of
	// their problems, in file and line order; ErrorCount counts them all.
	Invalid    int
	Errors     []FileError
	ErrorCount int
	// Published counts the events acknowledged by the broker.
	Published int
	// Read is the time to read the topic's state and the files; Publish
	// the time from the first produce to the flush.
	Read, Publish time.Duration
	// Offsets are the offset of the last event published to each
	// partition: once the indexer has applied these, the import is
	// searchable.
	Offsets map[int32]int64
}

// ErrInvalidRows is returned when a file has invalid rows and
// SkipInvalid is off: nothing was published.
var ErrInvalidRows = errors.New("ingest: the catalog has invalid rows; nothing was published")

// Import imports srcs; see the comment at the top of this file.
func Import(ctx context.Context, srcs []ImportSource, opts ImportOptions) (*ImportResult, error) {
	if opts.MaxErrors == 0 {
		opts.MaxErrors = 1000
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	state, err := ReadCatalogState(ctx, opts.Brokers)
	if err != nil {
		return nil, err
	}
	spool, err := os.CreateTemp(opts.SpoolDir, "aisle-import-*.spool")
	if err != nil {
		return nil, fmt.Errorf("ingest: import spool: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	im := &importer{opts: opts, state: state, now: time.Now().UTC(), res: &ImportResult{Offsets: map[int32]int64{}}}
	stopProgress := im.progressLoop(start)
	defer stopProgress()
	toPublish, seen, err := im.read(ctx, srcs, spool)
	if err != nil {
		return im.res, err
	}
	im.res.Read = time.Since(start)
	res := im.res
	if res.ErrorCount > 0 && !opts.SkipInvalid {
		return res, fmt.Errorf("%w (%d problems in %d rows)", ErrInvalidRows, res.ErrorCount, res.Invalid)
	}
	var tombs []*kgo.Record
	if opts.DeleteMissing {
		for id, st := range state {
			if _, inFile := seen[id]; st.Seller == opts.Seller && !st.Deleted && !inFile {
				v := st.Version + 1
				tombs = append(tombs, SellerTombstoneRecord(id, v, opts.Seller))
			}
		}
	}
	if err := im.publish(ctx, spool, toPublish, tombs); err != nil {
		return res, err
	}
	return res, nil
}

type importer struct {
	opts  ImportOptions
	state CatalogState
	now   time.Time
	res   *ImportResult

	phase     atomic.Value // string
	bytes     atomic.Int64
	rows      atomic.Int64
	acked     atomic.Int64
	total     atomic.Int64
	published atomic.Bool
}

func (im *importer) progressLoop(start time.Time) func() {
	if im.opts.Progress == nil {
		return func() {}
	}
	im.phase.Store("reading")
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	report := func() {
		im.opts.Progress(ImportProgress{Phase: im.phase.Load().(string), Bytes: im.bytes.Load(),
			Products: int(im.rows.Load() + im.acked.Load()), Total: int(im.total.Load()),
			Elapsed: time.Since(start), Published: im.published.Load()})
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				report()
				return
			case <-t.C:
				report()
			}
		}
	}()
	return sync.OnceFunc(func() { close(done); wg.Wait() })
}

// Actions on a valid product.
const (
	actCreate = iota + 1
	actUpdate
	actUnchanged
	actOlder
)

// importItem is one row's outcome, from a worker to the collector.
type importItem struct {
	line       int
	id         string
	variants   int
	vids       []string // the variant ids
	action     int
	errs       []catalog.RowError
	start, end int // the spool entry in the batch's buffer
}

// variantOwner is the product a variant id belongs to, and whether a
// product of the files claimed it (else it is only on the topic).
type variantOwner struct {
	id     string
	inFile bool
}

type importBatch struct {
	src    int
	dec    *catalog.FileDecoder
	chunks []catalog.Chunk
	items  []importItem
	buf    []byte
	val    []byte // scratch for one event
	done   chan struct{}
}

// read reads every source, spooling the events to publish, and returns
// their count and the ids seen.
func (im *importer) read(ctx context.Context, srcs []ImportSource, spool *os.File) (int, map[string]int64, error) {
	const batchRows = 256
	// owners maps each variant id to its product: on the topic (deleted
	// products too) and in the files. One map, and the state's lists
	// dropped once in it: a re-import of 1M products holds each id once.
	// Built before the workers start: they read the state.
	owners := map[string]variantOwner{}
	for id, st := range im.state {
		for _, v := range st.Variants {
			owners[v] = variantOwner{id: id}
		}
		if st.Variants != nil {
			st.Variants = nil
			im.state[id] = st
		}
	}
	work := make(chan *importBatch, im.opts.Workers*2)
	ordered := make(chan *importBatch, im.opts.Workers*4)
	var wg sync.WaitGroup
	for range im.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch []byte
			for b := range work {
				scratch = im.encodeBatch(b, scratch)
				close(b.done)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(ordered)
		defer close(work)
		for i, src := range srcs {
			dec, err := catalog.NewFileDecoder(countingReader{src.R, &im.bytes}, src.Format, im.opts.File)
			if err != nil {
				readErr <- fmt.Errorf("%s: %w", src.Name, err)
				return
			}
			b := &importBatch{src: i, dec: dec, done: make(chan struct{})}
			for {
				c, ok := dec.NextChunk()
				if ok {
					b.chunks = append(b.chunks, c)
				}
				if len(b.chunks) == batchRows || (!ok && len(b.chunks) > 0) {
					select {
					case work <- b:
					case <-ctx.Done():
						readErr <- ctx.Err()
						return
					}
					ordered <- b
					b = &importBatch{src: i, dec: dec, done: make(chan struct{})}
				}
				if !ok {
					break
				}
			}
			if err := dec.Err(); err != nil {
				readErr <- fmt.Errorf("%s: %w", src.Name, err)
				return
			}
		}
		readErr <- nil
	}()

	zw := s2.NewWriter(spool, s2.WriterConcurrency(1))
	seen := map[string]int64{} // id -> source<<32 | line, for duplicates and DeleteMissing
	toPublish := 0
	res := im.res
	addErr := func(src int, e catalog.RowError) {
		res.ErrorCount++
		if len(res.Errors) < im.opts.MaxErrors {
			res.Errors = append(res.Errors, FileError{Source: srcs[src].Name, RowError: e})
		}
	}
	var werr error
	for b := range ordered {
		<-b.done
		for i := range b.items {
			it := &b.items[i]
			im.rows.Add(1)
			if it.id != "" {
				if w, dup := seen[it.id]; dup {
					src, line := int(w>>32), int(int32(w))
					msg := fmt.Sprintf("repeats the product of line %d", line)
					if src != b.src {
						msg += " of " + srcs[src].Name
					}
					if srcs[b.src].Format == catalog.FileCSV {
						msg += " (a product's CSV rows must be consecutive)"
					}
					it.errs = append([]catalog.RowError{{Line: it.line, Field: "id", Reason: msg}}, it.errs...)
				} else {
					seen[it.id] = int64(b.src)<<32 | int64(int32(it.line))
				}
			}
			// A variant id names one variant of one product, for good:
			// carts, orders and stock cells find the product by it, and a
			// deleted product keeps its variant ids (issue 14).
			for i, v := range it.vids {
				o, taken := owners[v]
				switch {
				case !taken || o.id == it.id:
				case o.inFile:
					line := int(int32(seen[o.id]))
					it.errs = append(it.errs, catalog.RowError{Line: it.line, Field: fmt.Sprintf("variants[%d].variant_id", i),
						Reason: fmt.Sprintf("%q is a variant of product %q (line %d) too", v, o.id, line)})
				default:
					what := "product"
					if im.state[o.id].Deleted {
						what = "deleted product"
					}
					it.errs = append(it.errs, catalog.RowError{Line: it.line, Field: fmt.Sprintf("variants[%d].variant_id", i),
						Reason: fmt.Sprintf("%q is a variant of %s %q on the catalog topic", v, what, o.id)})
				}
			}
			if len(it.errs) == 0 {
				for _, v := range it.vids {
					if o, taken := owners[v]; !taken || !o.inFile {
						owners[v] = variantOwner{id: it.id, inFile: true}
					}
				}
			}
			if len(it.errs) > 0 {
				res.Invalid++
				for _, e := range it.errs {
					addErr(b.src, e)
				}
				continue
			}
			res.Products++
			res.Variants += it.variants
			switch it.action {
			case actCreate:
				res.Created++
			case actUpdate:
				res.Updated++
			case actUnchanged:
				res.Unchanged++
			case actOlder:
				res.Older++
			}
			if it.end > it.start && werr == nil {
				_, werr = zw.Write(b.buf[it.start:it.end])
				toPublish++
			}
		}
	}
	wg.Wait()
	res.Bytes = im.bytes.Load()
	if err := <-readErr; err != nil {
		return 0, nil, err
	}
	if err := errors.Join(werr, zw.Close()); err != nil {
		return 0, nil, fmt.Errorf("ingest: writing the import spool: %w", err)
	}
	sortFileErrors(res.Errors, srcs)
	return toPublish, seen, nil
}

func sortFileErrors(es []FileError, srcs []ImportSource) {
	order := map[string]int{}
	for i, s := range srcs {
		order[s.Name] = i
	}
	// Stable: a row's errors keep their order.
	slices.SortStableFunc(es, func(a, b FileError) int {
		if d := order[a.Source] - order[b.Source]; d != 0 {
			return d
		}
		return a.Line - b.Line
	})
}

// encodeBatch decodes a batch's chunks, decides what to do with each
// product, and appends the spool entries of those to publish to b.buf.
func (im *importer) encodeBatch(b *importBatch, scratch []byte) []byte {
	b.items = make([]importItem, 0, len(b.chunks))
	for _, c := range b.chunks {
		row := b.dec.Decode(c)
		// The ids outlive the row (the collector keeps every product and
		// variant id of the files): they are copied, since a decoded row's
		// strings share one allocation with all its text.
		it := importItem{line: row.Line, id: strings.Clone(row.ID), errs: row.Errors}
		if p := row.Product; p != nil {
			it.variants = len(p.Variants)
			it.vids = make([]string, len(p.Variants))
			for i := range p.Variants {
				it.vids[i] = strings.Clone(p.Variants[i].ID)
			}
			var h [16]byte
			h, scratch = catalog.ContentHash(withSeller(p, im.opts.Seller), scratch)
			st, had := im.state[p.ID]
			switch {
			case had && st.Seller != im.opts.Seller && !st.Deleted:
				who := "the store's own catalog"
				if st.Seller != "" {
					who = "seller " + st.Seller
				}
				it.errs = append(it.errs, catalog.RowError{Line: row.Line, Field: "id", Reason: fmt.Sprintf("%q belongs to %s", p.ID, who)})
			case p.Version > 0 && had && p.Version <= st.Version:
				it.action = actOlder
			case p.Version == 0 && had && !st.Deleted && st.HasHash && st.Hash == h:
				it.action = actUnchanged
			default:
				it.action = actCreate
				if had && !st.Deleted {
					it.action = actUpdate
				}
				if p.Version == 0 {
					p.Version = st.Version + 1
				}
				p.SellerID = im.opts.Seller
				p.UpdatedAt = im.now
				if p.CreatedAt.IsZero() {
					p.CreatedAt = im.now
					if it.action == actUpdate && st.Created != 0 {
						p.CreatedAt = st.CreatedAt()
					}
				}
				var err error
				b.val, err = catalog.AppendProductEvent(b.val[:0], &catalog.ProductEvent{Schema: catalog.SchemaVersion, ID: p.ID, Version: p.Version, Product: p})
				v := b.val
				if err != nil {
					it.errs = append(it.errs, catalog.RowError{Line: row.Line, Reason: "cannot encode the event: " + err.Error()})
					break
				}
				it.start = len(b.buf)
				b.buf = appendSpoolEntry(b.buf, p, v, h)
				it.end = len(b.buf)
			}
		}
		b.items = append(b.items, it)
	}
	b.chunks = nil
	return scratch
}

// withSeller returns p with its seller set, for hashing as published.
func withSeller(p *catalog.Product, seller string) *catalog.Product {
	if p.SellerID == seller {
		return p
	}
	q := *p
	q.SellerID = seller
	return &q
}

// A spool entry: uvarint key length, key, uvarint value length, value,
// uvarint version, 16 bytes of content hash, varint created_at in Unix
// nanoseconds, uvarint length and the variant ids (HeaderVariants).
func appendSpoolEntry(dst []byte, p *catalog.Product, value []byte, h [16]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(p.ID)))
	dst = append(dst, p.ID...)
	dst = binary.AppendUvarint(dst, uint64(len(value)))
	dst = append(dst, value...)
	dst = binary.AppendUvarint(dst, p.Version)
	dst = append(dst, h[:]...)
	dst = binary.AppendVarint(dst, p.CreatedAt.UnixNano())
	n := 0
	for i := range p.Variants {
		l := len(p.Variants[i].ID)
		n += l + len(binary.AppendUvarint(nil, uint64(l)))
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	return appendVariantIDs(dst, p)
}

func readSpoolEntry(r *bufio.Reader, seller string) (*kgo.Record, error) {
	kl, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err // io.EOF at the end
	}
	key := make([]byte, kl)
	if _, err := io.ReadFull(r, key); err != nil {
		return nil, err
	}
	vl, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	val := make([]byte, vl)
	if _, err := io.ReadFull(r, val); err != nil {
		return nil, err
	}
	ver, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	var h [16]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	created, err := binary.ReadVarint(r)
	if err != nil {
		return nil, err
	}
	nl, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	vids := make([]byte, nl)
	if _, err := io.ReadFull(r, vids); err != nil {
		return nil, err
	}
	return &kgo.Record{Topic: TopicProducts, Key: key, Value: val,
		Headers: productHeaders(ver, seller, h[:], time.Unix(0, created).UTC(), vids)}, nil
}

// publish produces the spooled events and the tombstones asynchronously
// and flushes once.
func (im *importer) publish(ctx context.Context, spool *os.File, n int, tombs []*kgo.Record) error {
	res := im.res
	if n+len(tombs) == 0 {
		im.published.Store(true)
		return nil
	}
	im.total.Store(int64(n + len(tombs)))
	im.rows.Store(0)
	im.phase.Store("publishing")
	cl, err := NewProducer(im.opts.Brokers, append([]kgo.Opt{kgo.MaxBufferedRecords(20000)}, im.opts.ProducerOpts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("ingest: import spool: %w", err)
	}
	start := time.Now()
	var mu sync.Mutex
	var firstErr error
	done := func(r *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("ingest: producing %s: %w", r.Key, err)
			}
			mu.Unlock()
			return
		}
		mu.Lock()
		if o, ok := res.Offsets[r.Partition]; !ok || r.Offset > o {
			res.Offsets[r.Partition] = r.Offset
		}
		mu.Unlock()
		im.acked.Add(1)
	}
	br := bufio.NewReaderSize(s2.NewReader(spool), 1<<20)
	for i := 0; i < n; i++ {
		r, err := readSpoolEntry(br, im.opts.Seller)
		if err != nil {
			return fmt.Errorf("ingest: reading the import spool (entry %d of %d): %w", i+1, n, err)
		}
		cl.Produce(ctx, r, done)
	}
	for _, r := range tombs {
		cl.Produce(ctx, r, done)
	}
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("ingest: flushing the import: %w", err)
	}
	res.Publish = time.Since(start)
	res.Published = int(im.acked.Load())
	res.Deleted = len(tombs)
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil {
		return fmt.Errorf("%w (%d of %d events acknowledged; a re-run publishes the rest)", firstErr, res.Published, n+len(tombs))
	}
	im.published.Store(true)
	return nil
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
