package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/search"
)

// ImportConfig is the import workload: a catalog file (NDJSON, doc/import.md)
// of the shipped store grown with Grow to each size is imported into Aisle
// through the embedded broker while the indexer consumes it, and the same
// file is loaded into the peers (Bleve's batch API, PostgreSQL's COPY).
type ImportConfig struct {
	// Sizes are the catalog sizes; nil means 1,000,000.
	Sizes []int
	// Peers are measured at the sizes up to PeerMax products.
	Peers   []string
	PeerMax int
	// Shards is the partition and shard count; zero means 8.
	Shards int
	// Seed fixes the grown catalog; zero means 1.
	Seed uint64
	// TempDir holds the files, the broker and the ingest logs; empty
	// means os.TempDir().
	TempDir     string
	PostgresBin string
	Logf        func(format string, args ...any)
}

// ImportPoint is the import workload at one size.
type ImportPoint struct {
	Products  int   `json:"products"`
	FileBytes int64 `json:"file_bytes"`
	// Aisle: Validated is the time to read and check the file (and the
	// topic's state); Published the time from the start to the last
	// acknowledgement; Searchable the time from the start until the
	// indexer has applied every event; Spelling the rebuild of the
	// spelling and autocomplete data after that.
	Validated  time.Duration `json:"validated_ns"`
	Published  time.Duration `json:"published_ns"`
	Searchable time.Duration `json:"searchable_ns"`
	Spelling   time.Duration `json:"spelling_ns"`
	// PublishCPU and SearchableCPU are the process's CPU time (user and
	// system) from the start to published and to searchable: the
	// importer, the broker and the indexer together. Unlike the wall
	// times they hardly depend on what else runs on the machine.
	PublishCPU    time.Duration `json:"publish_cpu_ns"`
	SearchableCPU time.Duration `json:"searchable_cpu_ns"`
	// PeakHeap is the Go heap's peak over the import and indexing, above
	// the heap before it: the importer, the broker and the indexer with
	// the index it builds, together (one process).
	PeakHeap int64        `json:"peak_heap_bytes"`
	Peers    []PeerImport `json:"peers,omitempty"`
}

// PublishRate and SearchableRate are products a second from the start.
func (p ImportPoint) PublishRate() float64 { return rate(p.Products, p.Published) }

// SearchableRate is products a second from the start to searchable.
func (p ImportPoint) SearchableRate() float64 { return rate(p.Products, p.Searchable) }

// PeerImport is one peer loading the file: decoding it with the catalog
// decoder, then loading the products (Bleve: batches of 20,000;
// PostgreSQL: COPY, then the indexes and ANALYZE).
type PeerImport struct {
	Name   string        `json:"name"`
	Decode time.Duration `json:"decode_ns"`
	Load   time.Duration `json:"load_ns"`
	Skip   string        `json:"skip,omitempty"`
}

// Rate is products a second over decode and load.
func (p PeerImport) Rate(n int) float64 { return rate(n, p.Decode+p.Load) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// RunImport runs the import workload.
func RunImport(ctx context.Context, c ImportConfig) ([]ImportPoint, error) {
	if c.Sizes == nil {
		c.Sizes = []int{1_000_000}
	}
	if c.Shards == 0 {
		c.Shards = 8
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	store, err := corpora.DefaultStore()
	if err != nil {
		return nil, fmt.Errorf("bench: import: %w", err)
	}
	var pts []ImportPoint
	for _, n := range c.Sizes {
		dir, err := os.MkdirTemp(c.TempDir, "aisle-import-bench-*")
		if err != nil {
			return pts, fmt.Errorf("bench: import: %w", err)
		}
		pt, err := c.runSize(ctx, dir, Grow(store, n, c.Seed))
		os.RemoveAll(dir)
		if err != nil {
			return pts, err
		}
		pts = append(pts, pt)
	}
	return pts, nil
}

// WriteCatalogFile writes ps as an NDJSON catalog file.
func WriteCatalogFile(path string, ps []*catalog.Product) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var line []byte
	var n int64
	for _, p := range ps {
		if line, err = catalog.AppendNDJSON(line[:0], p); err != nil {
			f.Close()
			return n, err
		}
		w.Write(line)
		n += int64(len(line))
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return n, err
	}
	return n, nil
}

func (c *ImportConfig) runSize(ctx context.Context, dir string, ps []*catalog.Product) (ImportPoint, error) {
	pt := ImportPoint{Products: len(ps)}
	path := filepath.Join(dir, "catalog.ndjson")
	var err error
	if pt.FileBytes, err = WriteCatalogFile(path, ps); err != nil {
		return pt, fmt.Errorf("bench: import: writing the file: %w", err)
	}
	ps = nil // the generated products are garbage now; only the file counts
	runtime.GC()
	c.Logf("import: %d products, %.0f MB file", pt.Products, float64(pt.FileBytes)/1e6)
	if err := c.importAisle(ctx, dir, path, &pt); err != nil {
		return pt, err
	}
	c.Logf("import: aisle published %d products in %.2f s (%.0f/s, %.1f s of CPU), searchable after %.2f s (%.0f/s, %.1f s of CPU), spelling %.2f s, peak heap %d MiB",
		pt.Products, pt.Published.Seconds(), pt.PublishRate(), pt.PublishCPU.Seconds(), pt.Searchable.Seconds(), pt.SearchableRate(),
		pt.SearchableCPU.Seconds(), pt.Spelling.Seconds(), pt.PeakHeap>>20)
	if pt.Products > c.PeerMax {
		return pt, nil
	}
	// PostgreSQL's cluster directory must be reachable by the postgres
	// user: the parent temporary directory, not the private one.
	cfg := Config{Peers: c.Peers, PostgresBin: c.PostgresBin, TempDir: c.TempDir}
	for _, p := range cfg.peers() {
		if p.name == "aisle" {
			continue
		}
		pi := PeerImport{Name: p.name, Skip: p.skip}
		if p.skip == "" {
			runtime.GC()
			start := time.Now()
			ps, err := decodeFile(path)
			if err != nil {
				return pt, err
			}
			pi.Decode = time.Since(start)
			start = time.Now()
			e, err := p.build(ctx, ps)
			if err != nil {
				return pt, err
			}
			pi.Load = time.Since(start)
			if e.loaded > 0 {
				pi.Load = e.loaded
			}
			if e.close != nil {
				e.close()
			}
			c.Logf("import: %s decoded in %.2f s, loaded in %.2f s (%.0f/s)", p.name, pi.Decode.Seconds(), pi.Load.Seconds(), pi.Rate(pt.Products))
		}
		pt.Peers = append(pt.Peers, pi)
	}
	return pt, nil
}

// decodeFile reads an NDJSON catalog file into products.
func decodeFile(path string) ([]*catalog.Product, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := catalog.NewFileDecoder(f, catalog.FileNDJSON, catalog.FileOptions{})
	if err != nil {
		return nil, err
	}
	var ps []*catalog.Product
	for r := d.Next(); r != nil; r = d.Next() {
		if r.Product == nil {
			return nil, fmt.Errorf("bench: import: %s: %v", path, r.Errors)
		}
		ps = append(ps, r.Product)
	}
	return ps, d.Err()
}

// importAisle imports the file into a fresh broker with the indexer
// consuming, as `aisle serve --store none` and `aisle import` do.
func (c *ImportConfig) importAisle(ctx context.Context, dir, path string, pt *ImportPoint) error {
	b, err := ingest.StartBroker(filepath.Join(dir, "kafka"), 0)
	if err != nil {
		return err
	}
	defer b.Close()
	prod, err := ingest.NewProducer(b.Addrs())
	if err != nil {
		return err
	}
	defer prod.Close()
	if _, err := ingest.EnsureTopics(ctx, prod, int32(c.Shards)); err != nil {
		return err
	}
	eng, err := search.New(search.Options{Shards: c.Shards})
	if err != nil {
		return err
	}
	cons, err := ingest.New(ingest.Options{Brokers: b.Addrs(), Dir: filepath.Join(dir, "ingest"), Partitions: c.Shards, Sink: eng})
	if err != nil {
		return err
	}
	defer cons.Close()
	cctx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- cons.Run(cctx) }()
	defer func() { stop(); <-ran }()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := int64(ms.HeapAlloc)
	peak := sampleHeap()
	defer peak.stop()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	start, cpu0 := time.Now(), cpuTime()
	res, err := ingest.Import(ctx, []ingest.ImportSource{{Name: path, Format: catalog.FileNDJSON, R: f}},
		ingest.ImportOptions{Brokers: b.Addrs(), SpoolDir: dir})
	if err != nil {
		return fmt.Errorf("bench: import: %w", err)
	}
	pt.Validated, pt.Published, pt.PublishCPU = res.Read, time.Since(start), cpuTime()-cpu0
	if res.Published != pt.Products {
		return fmt.Errorf("bench: import: published %d of %d", res.Published, pt.Products)
	}
	for !indexed(cons, res.Offsets) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-ran:
			return fmt.Errorf("bench: import: the indexer stopped: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	pt.Searchable, pt.SearchableCPU = time.Since(start), cpuTime()-cpu0
	pt.PeakHeap = peak.stop() - base
	if n := eng.Len(); n != pt.Products {
		return fmt.Errorf("bench: import: the index holds %d of %d products", n, pt.Products)
	}
	s := time.Now()
	if err := eng.RebuildSpelling(); err != nil {
		return err
	}
	pt.Spelling = time.Since(s)
	return nil
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func indexed(c *ingest.Consumer, offs map[int32]int64) bool {
	for p, o := range offs {
		if c.Applied(ingest.TopicProducts, p) <= o {
			return false
		}
	}
	return true
}

// heapSampler records the peak of the Go heap's live and unswept objects.
type heapSampler struct {
	peak atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func sampleHeap() *heapSampler {
	h := &heapSampler{done: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := int64(s[0].Value.Uint64()); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.done:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) stop() int64 {
	h.once.Do(func() { close(h.done); h.wg.Wait() })
	return h.peak.Load()
}

// WriteImportMarkdown writes the import workload's table, with the ratios
// of Aisle's rates to each peer's.
func WriteImportMarkdown(w io.Writer, pts []ImportPoint) error {
	var b strings.Builder
	b.WriteString("| products | file | aisle: validated | published | **products/s published** | CPU to published | searchable | **products/s searchable** | CPU to searchable | spelling rebuild | peak heap |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range pts {
		fmt.Fprintf(&b, "| %d | %.0f MB | %.2f s | %.2f s | **%.0f** | %.1f s | %.2f s | **%.0f** | %.1f s | %.2f s | %.0f MiB |\n",
			p.Products, float64(p.FileBytes)/1e6, p.Validated.Seconds(), p.Published.Seconds(), p.PublishRate(), p.PublishCPU.Seconds(),
			p.Searchable.Seconds(), p.SearchableRate(), p.SearchableCPU.Seconds(), p.Spelling.Seconds(), mib(p.PeakHeap))
	}
	peers := false
	for _, p := range pts {
		peers = peers || len(p.Peers) > 0
	}
	if peers {
		b.WriteString("\n| products | peer | decode | load | products/s | aisle published / peer | aisle searchable / peer |\n")
		b.WriteString("|---:|---|---:|---:|---:|---:|---:|\n")
		for _, p := range pts {
			for _, pi := range p.Peers {
				if pi.Skip != "" {
					fmt.Fprintf(&b, "| %d | %s | %s | | | | |\n", p.Products, pi.Name, pi.Skip)
					continue
				}
				r := pi.Rate(p.Products)
				fmt.Fprintf(&b, "| %d | %s | %.2f s | %.2f s | %.0f | %s | %s |\n", p.Products, pi.Name,
					pi.Decode.Seconds(), pi.Load.Seconds(), r, ratio(p.PublishRate(), r), ratio(p.SearchableRate(), r))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DescribeMachine says in one line what the figures were measured on: CPU,
// cores, Go, and the load average at the moment (other processes share
// the machine).
func DescribeMachine() string {
	m := machine()
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	return fmt.Sprintf("%s, %d cores, %s, load average %s", m.CPU, m.Cores, m.GoVersion, load)
}
