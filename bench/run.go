package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/aisle/aisle/corpora"
)

// Report is everything a Run measured. It is plain data, written as JSON by
// WriteJSON and as a markdown table by WriteMarkdown.
type Report struct {
	Machine  Machine        `json:"machine"`
	Commit   string         `json:"commit,omitempty"`
	Started  time.Time      `json:"started"`
	Products int            `json:"products"`
	Judged   int            `json:"judged_queries"`
	LogSize  int            `json:"log_queries"`
	Duration float64        `json:"seconds_per_level"`
	Engines  []EngineReport `json:"engines"`
	Scale    []ScalePoint   `json:"scale,omitempty"`
	HTTP     *HTTPReport    `json:"http,omitempty"`
	// Skipped says why a requested workload or peer was not measured.
	Skipped []string `json:"skipped,omitempty"`
}

// EngineReport is one engine's figures.
type EngineReport struct {
	Name      string     `json:"name"`
	Notes     string     `json:"notes,omitempty"`
	Build     Build      `json:"build"`
	Relevance *Relevance `json:"relevance,omitempty"`
	Load      []Load     `json:"load,omitempty"`
}

// HTTPReport is the load seen by a client in another process against the
// running server over loopback.
type HTTPReport struct {
	Addr string `json:"addr"`
	// Requests is the number of distinct request paths replayed.
	Requests int `json:"requests"`
	// Rate is the open load's requests a second; 0 for a closed loop.
	Rate float64 `json:"rate,omitempty"`
	// LoadAvg is the machine's one-minute load average before and after.
	LoadAvg [2]float64 `json:"load_avg"`
	Loads   []Load     `json:"loads"`
}

// Machine describes where a run ran.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go"`
	OS         string `json:"os"`
}

// Run measures Aisle and the peers of c on the same products and queries,
// one engine at a time so they do not compete for the cores, and returns
// the report. Only one engine is alive at a time: each is closed before
// the next is built, so their memory figures do not mix.
func Run(ctx context.Context, c Config) (*Report, error) {
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := c.load(); err != nil {
		return nil, err
	}
	judged := JudgedQueries(c.Judgments)
	log := QueryLog(c.Products, judged, c.LogSize, c.Seed)
	rep := &Report{Machine: machine(), Started: time.Now().UTC(), Products: len(c.Products),
		Judged: len(judged), LogSize: len(log), Duration: c.Duration.Seconds()}

	for _, p := range c.peers() {
		if p.skip != "" {
			rep.Skipped = append(rep.Skipped, p.skip)
			c.Logf("%s", p.skip)
			continue
		}
		er, err := c.measure(ctx, p, log)
		if err != nil {
			return rep, err
		}
		rep.Engines = append(rep.Engines, *er)
	}
	if len(c.Scale) > 0 {
		pts, err := c.scale(ctx, log)
		rep.Scale = pts
		if err != nil {
			return rep, err
		}
	}
	if c.HTTP != nil {
		h, err := c.HTTP(log)
		if err != nil {
			return rep, fmt.Errorf("bench: http workload: %w", err)
		}
		rep.HTTP = h
	}
	return rep, nil
}

func (c *Config) load() error {
	if c.Products == nil {
		ps, err := corpora.DefaultStore()
		if err != nil {
			return fmt.Errorf("bench: loading the default store: %w", err)
		}
		c.Products = ps
	}
	if c.Judgments == nil {
		js, err := corpora.IcecatJudgments()
		if err != nil {
			return fmt.Errorf("bench: loading the judgments: %w", err)
		}
		c.Judgments = js
	}
	return nil
}

// peer is an engine to measure, or the reason it cannot be.
type peer struct {
	name  string
	build builder
	skip  string
}

func (c *Config) peers() []peer {
	ps := []peer{{name: "aisle", build: buildAisle(c.Shards)}}
	if c.hasPeer(PeerBleve) {
		ps = append(ps, peer{name: PeerBleve, build: buildBleve})
	}
	if c.hasPeer(PeerPostgres) {
		ps = append(ps, c.postgresPeer())
	}
	return ps
}

// measure builds one engine and runs the relevance and load workloads on it.
func (c *Config) measure(ctx context.Context, p peer, log []Query) (er *EngineReport, err error) {
	c.Progress(p.name+" build", 0)
	e, st, err := measureBuild(ctx, p.build, c.Products)
	if err != nil {
		return nil, fmt.Errorf("bench: building %s over %d products: %w", p.name, len(c.Products), err)
	}
	defer func() {
		if e.close != nil {
			err = errors.Join(err, e.close())
		}
		runtime.GC()
	}()
	c.Progress(p.name+" build", 1)
	c.Logf("%s: built %d products in %.2fs (%.0f docs/s), index %.0f bytes/product, peak heap %d MiB",
		p.name, st.Docs, st.Seconds, st.DocsPerSec, st.BytesPerProduct, st.PeakHeap>>20)
	er = &EngineReport{Name: e.name, Build: st}
	if n, ok := e.s.(interface{ Notes() string }); ok {
		er.Notes = n.Notes()
	}
	if !c.NoRelevance {
		rel, err := evaluate(ctx, e.s, c.Judgments)
		if err != nil {
			return nil, fmt.Errorf("bench: relevance of %s: %w", p.name, err)
		}
		er.Relevance = &rel
		c.Logf("%s: ndcg@10=%.4f recall@100=%.4f mrr=%.4f zero=%.4f", p.name, rel.NDCG10, rel.Recall100, rel.MRR, rel.ZeroRate)
	}
	if !c.NoLoad {
		for _, conc := range c.Concurrency {
			phase := fmt.Sprintf("%s c=%d", p.name, conc)
			l, err := runLoad(ctx, e.s, log, conc, c.Duration, func(f float64) { c.Progress(phase, f) })
			if err != nil {
				return nil, fmt.Errorf("bench: load of %s: %w", p.name, err)
			}
			er.Load = append(er.Load, l)
			c.Logf("%s c=%d: %.0f q/s p50=%.0fµs p99=%.0fµs p99.9=%.0fµs allocs/q=%.0f cpu/1000q=%.3fs errors=%d",
				p.name, conc, l.QPS, l.P50, l.P99, l.P999, l.AllocsPerQuery, l.CPUPer1000, l.Errors)
			if l.FirstError != "" {
				c.Logf("%s c=%d: first error: %s", p.name, conc, l.FirstError)
			}
		}
	}
	return er, nil
}
