// Command aisle-bench measures Aisle beside its peers (Bleve, PostgreSQL):
// a thin CLI over package bench (bench/README.md). It is its own binary so
// that the serving binary, aisle, links neither peer.
//
//	go run ./cmd/aisle-bench [--short] [--out DIR] [--peers bleve,postgres] [--http] ...
//	go run ./cmd/aisle-bench http --addr 127.0.0.1:8080 [--concurrency 1,2,8,64,256] [--duration 10s] [--cpus 1] [--log FILE]
//	go run ./cmd/aisle-bench import [--sizes 100k,1m] ...
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/app"
	"github.com/aisle/aisle/bench"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/internal/progress"
)

// benchConfig is what the bench flags say.
type benchConfig struct {
	out         string
	short       bool
	peers       string
	duration    time.Duration
	concurrency string
	logSize     int
	seed        uint64
	scale       string
	scalePeers  int
	http        bool
	cpuProfile  string
}

func parseBenchFlags(args []string, stderr io.Writer) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("aisle-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.out, "out", "", "`directory` to write report.md, report.json and the charts to")
	fs.BoolVar(&c.short, "short", false, "the regression-guard size: Icecat catalog only, 2 clients, 2s, 2,000 generated queries")
	fs.StringVar(&c.peers, "peers", "bleve,postgres", "comma-separated `peers` measured beside Aisle: bleve, postgres; empty for none")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long each concurrency level runs")
	fs.StringVar(&c.concurrency, "concurrency", "1,2,8,64", "comma-separated `numbers` of concurrent clients")
	fs.IntVar(&c.logSize, "log", 10000, "generated queries mixed with the judged ones")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated query log and scale catalogs")
	fs.StringVar(&c.scale, "scale", "", "comma-separated catalog `sizes` to grow the catalog to, e.g. 100k,1m")
	fs.IntVar(&c.scalePeers, "scale-peers", 0, "also measure the peers at scale sizes up to this many products")
	fs.BoolVar(&c.http, "http", false, "also load the server (aisle serve --no-kafka --no-recs) over loopback in a child process; the load generator runs in this one")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to `file`")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	return c, nil
}

// toConfig turns the flags into a bench.Config.
func (c benchConfig) toConfig() (bench.Config, error) {
	cfg := bench.Config{Duration: c.duration, LogSize: c.logSize, Seed: c.seed, ScalePeerMax: c.scalePeers}
	if c.peers != "" {
		cfg.Peers = strings.Split(c.peers, ",")
	}
	var err error
	if cfg.Concurrency, err = parseSizes(c.concurrency); err != nil {
		return cfg, fmt.Errorf("bench: --concurrency: %w", err)
	}
	if cfg.Scale, err = parseSizes(c.scale); err != nil {
		return cfg, fmt.Errorf("bench: --scale: %w", err)
	}
	if c.short {
		ps, err := corpora.Icecat()
		if err != nil {
			return cfg, fmt.Errorf("bench: %w", err)
		}
		cfg.Products = ps
		cfg.Concurrency = []int{2}
		cfg.Duration = 2 * time.Second
		cfg.LogSize = 2000
	}
	return cfg, nil
}

// parseSizes parses "1,2,8" or "100k,1m" into numbers.
func parseSizes(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		mul := 1
		switch {
		case strings.HasSuffix(f, "k"):
			mul, f = 1000, strings.TrimSuffix(f, "k")
		case strings.HasSuffix(f, "m"):
			mul, f = 1000000, strings.TrimSuffix(f, "m")
		}
		n, err := strconv.ParseFloat(f, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, int(n*float64(mul)))
	}
	return out, nil
}

// runBench runs the benchmark, prints the markdown table to stdout and
// writes the report files to --out.
func runBench(ctx context.Context, c benchConfig, stdout, stderr io.Writer) error {
	cfg, err := c.toConfig()
	if err != nil {
		return err
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	bar := &progress.Bar{W: stderr}
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			cfg.Progress = bar.Set // a bar only on a terminal, not in logs
		}
	}
	cfg.Logf = func(format string, args ...any) {
		bar.Clear()
		fmt.Fprintf(stderr, "bench: "+format+"\n", args...)
	}
	if c.http {
		cfg.HTTP = httpWorkload(ctx, stderr, c.duration, cfg.Concurrency)
	}
	rep, err := bench.Run(ctx, cfg)
	bar.Clear()
	if err != nil && rep == nil {
		return err
	}
	rep.Commit = gitCommit()
	var md bytes.Buffer
	if werr := rep.WriteMarkdown(&md); werr != nil {
		return werr
	}
	stdout.Write(md.Bytes())
	if c.out != "" {
		if werr := writeReport(c.out, rep, md.Bytes()); werr != nil {
			return werr
		}
		fmt.Fprintf(stderr, "bench: wrote %s\n", c.out)
	}
	return err
}

func writeReport(dir string, rep *bench.Report, md []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), md, 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), js.Bytes(), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return rep.WriteCharts(dir)
}

// gitCommit returns the short commit of the working directory, with
// "-dirty" when it has changes, or "" outside a repository.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += "-dirty"
	}
	return c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if raw := os.Getenv(childEnv); raw != "" {
		err = serveChild(ctx, raw)
	} else if len(os.Args) > 1 && os.Args[1] == "import" {
		err = benchImportCommand(ctx, os.Args[2:], os.Stdout, os.Stderr)
	} else if len(os.Args) > 1 && os.Args[1] == "http" {
		err = benchHTTPCommand(ctx, os.Args[2:], os.Stdout, os.Stderr)
	} else {
		var c benchConfig
		if c, err = parseBenchFlags(os.Args[1:], os.Stderr); err == nil {
			err = runBench(ctx, c, os.Stdout, os.Stderr)
		}
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "aisle-bench:", err)
		}
		stop()
		os.Exit(2)
	}
}

// childEnv, set in the environment of a child of this binary, makes it
// serve (app.Open) with the options JSON the variable holds, until
// SIGTERM: the server process of the --http workload.
const childEnv = "AISLE_BENCH_SERVE"

// serveChild runs the App of the --http workload until ctx ends.
func serveChild(ctx context.Context, raw string) error {
	var opts app.Options
	if err := json.Unmarshal([]byte(raw), &opts); err != nil {
		return fmt.Errorf("%s: %w", childEnv, err)
	}
	opts.Log = os.Stderr
	a, err := app.Open(ctx, opts)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-a.Done():
	}
	return a.Close()
}

// httpWorkload returns the HTTP workload: it starts the server (this
// binary as a child process running app.Open over the shipped store,
// loaded directly) on a loopback port, waits until it is ready, loads it
// with bench.HTTPLoad from this process, and stops it.
func httpWorkload(ctx context.Context, stderr io.Writer, d time.Duration, conc []int) func([]bench.Query) (*bench.HTTPReport, error) {
	return func(log []bench.Query) (*bench.HTTPReport, error) {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "aisle-bench-http-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		opts := app.DefaultOptions()
		opts.Addr, opts.Data, opts.NoKafka, opts.NoRecs, opts.SearchRate, opts.SuggestRate = "127.0.0.1:0", dir, true, true, -1, -1
		raw, err := json.Marshal(opts)
		if err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, self)
		cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
		out, err := cmd.StderrPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("starting the server: %w", err)
		}
		defer func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}()
		addrc := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if a, ok := strings.CutPrefix(sc.Text(), "aisle: listening on http://"); ok {
					addrc <- a
				}
			}
		}()
		var addr string
		select {
		case addr = <-addrc:
		case <-time.After(30 * time.Second):
			return nil, fmt.Errorf("aisle serve printed no address within 30 s")
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			code, _, err := fasthttp.GetTimeout(nil, "http://"+addr+"/healthz", time.Second)
			if err == nil && code == 200 {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("aisle serve at %s not ready within 60 s", addr)
			}
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Fprintf(stderr, "bench: loading the server at %s over HTTP\n", addr)
		return bench.HTTPLoad(ctx, addr, log, conc, d, cmd.Process.Pid)
	}
}
