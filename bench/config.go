package bench

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/corpora"
)

// Peer names accepted in Config.Peers. Aisle itself is always measured.
const (
	PeerBleve    = "bleve"
	PeerPostgres = "postgres"
)

// Config says what a Run measures. The zero value, after EnsureDefaults, is
// the full run on the shipped default store.
type Config struct {
	// Products is the catalog to index; nil means corpora.DefaultStore().
	Products []*catalog.Product
	// Judgments are the graded queries for relevance; nil means
	// corpora.IcecatJudgments().
	Judgments []corpora.Judgment
	// Peers names the engines measured beside Aisle: PeerBleve,
	// PeerPostgres.
	Peers []string
	// Shards is the number of Aisle shards; zero means 8, as served.
	Shards int
	// Concurrency lists the numbers of concurrent clients of the load
	// workload; nil means 1, 2, 8 and 64.
	Concurrency []int
	// Duration is how long each concurrency level runs; zero means 10 s.
	Duration time.Duration
	// LogSize is the number of generated queries mixed with the judged
	// ones in the load workload; zero means 10,000.
	LogSize int
	// Seed fixes the generated query log and the scale catalogs; zero
	// means 1.
	Seed uint64
	// NoRelevance skips the relevance workload; NoLoad skips throughput.
	NoRelevance, NoLoad bool
	// Scale lists catalog sizes to grow the catalog to and measure Aisle
	// at (build time, memory, latency); nil skips the scale workload.
	Scale []int
	// ScalePeers also measures the peers at each scale size up to
	// ScalePeerMax products.
	ScalePeerMax int
	// ScaleDuration is how long each scale size is loaded; zero means 3 s.
	ScaleDuration time.Duration
	// HTTP, when set, is run after the other workloads: it replays the log
	// against a running server and returns its figures.
	HTTP func(log []Query) (*HTTPReport, error)
	// PostgresBin is the directory of initdb and pg_ctl; empty means the
	// newest /usr/lib/postgresql/*/bin.
	PostgresBin string
	// TempDir is where peers put their files; empty means os.TempDir().
	TempDir string
	// Progress, when set, is told how far a long phase is, from 0 to 1.
	Progress func(phase string, done float64)
	// Logf, when set, receives a line per finished step.
	Logf func(format string, args ...any)
}

// EnsureDefaults fills unset fields with defaults; it does not load the
// corpora (Run does, so that errors surface there).
func (c *Config) EnsureDefaults() {
	if c.Shards == 0 {
		c.Shards = 8
	}
	if c.Concurrency == nil {
		c.Concurrency = []int{1, 2, 8, 64}
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.LogSize == 0 {
		c.LogSize = 10000
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.ScaleDuration == 0 {
		c.ScaleDuration = 3 * time.Second
	}
	if c.Progress == nil {
		c.Progress = func(string, float64) {}
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Validate lists every problem with c.
func (c *Config) Validate() error {
	var errs []error
	for _, p := range c.Peers {
		if p != PeerBleve && p != PeerPostgres {
			errs = append(errs, fmt.Errorf("bench: unknown peer %q; want %q or %q", p, PeerBleve, PeerPostgres))
		}
	}
	if c.Shards < 1 || c.Shards > 1024 {
		errs = append(errs, fmt.Errorf("bench: Shards is %d; want 1 to 1024", c.Shards))
	}
	for _, n := range c.Concurrency {
		if n < 1 || n > 4096 {
			errs = append(errs, fmt.Errorf("bench: concurrency %d; want 1 to 4096", n))
		}
	}
	if c.Duration < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("bench: Duration is %v; want at least 10ms", c.Duration))
	}
	if c.LogSize < 0 {
		errs = append(errs, fmt.Errorf("bench: LogSize is %d; want at least 0", c.LogSize))
	}
	for _, n := range c.Scale {
		if n < 1 || n > 20_000_000 {
			errs = append(errs, fmt.Errorf("bench: scale size %d; want 1 to 20,000,000", n))
		}
	}
	if len(c.Products) == 0 && c.Products != nil {
		errs = append(errs, errors.New("bench: Products is empty"))
	}
	return errors.Join(errs...)
}

func (c *Config) hasPeer(name string) bool { return slices.Contains(c.Peers, name) }
