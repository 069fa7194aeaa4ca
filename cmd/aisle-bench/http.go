package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aisle/aisle/bench"
	"github.com/aisle/aisle/corpora"
)

// benchHTTPCommand is "aisle-bench http": bench.RunHTTPLoad against a
// running server on this machine, its table on stdout.
func benchHTTPCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("aisle-bench http", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "the server, `host:port` or http://host:port, on a loopback address (required unless --write-log)")
	conc := fs.String("concurrency", "1,2,8,64,256", "comma-separated `numbers` of keep-alive connections, one request in flight each")
	dur := fs.Duration("duration", 10*time.Second, "how long each concurrency level runs (at most 10m)")
	rate := fs.Float64("rate", 0, "open load: `requests` a second over all connections on a fixed schedule, latency counted from each scheduled start (0: each connection sends when its last answer arrives)")
	maxReq := fs.Int64("max-requests", 0, "also end a level after this many `requests` (0: no bound)")
	logFile := fs.String("log", "", "`file` of request paths to replay, one a line (default: the mixed log of the shipped store, as the in-process bench replays it)")
	logSize := fs.Int("log-size", 10000, "generated queries mixed with the judged ones, without --log")
	seed := fs.Uint64("seed", 1, "seed of the generated log, without --log")
	writeLog := fs.String("write-log", "", "only write the request paths of the mixed log to `file` (for --log, wrk or curl) and exit")
	cpus := fs.String("cpus", "", "pin this load generator to these `CPUs` (\"1\", \"0,1\", \"2-3\"), GOMAXPROCS their number; pin the server with taskset -c")
	serverPID := fs.Int("server-pid", 0, "the server's process `id`: its CPU time per request is read from /proc (default: found from --addr's port when this user can see it)")
	enc := fs.String("accept-encoding", "", "send this Accept-Encoding `header` (gzip, zstd) so the server may compress; the body size is then as sent")
	out := fs.String("out", "", "also write the report as JSON to `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench http: unexpected arguments %q", fs.Args())
	}
	if *cpus != "" {
		list, err := bench.ParseCPUList(*cpus)
		if err != nil {
			return err
		}
		if err := bench.PinCPUs(list); err != nil {
			return err
		}
	}
	var paths []string
	if *logFile != "" {
		f, err := os.Open(*logFile)
		if err != nil {
			return fmt.Errorf("bench http: %w", err)
		}
		paths, err = bench.ReadLog(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("bench http: %s: %w", *logFile, err)
		}
	} else {
		ps, err := corpora.DefaultStore()
		if err != nil {
			return fmt.Errorf("bench http: %w", err)
		}
		js, err := corpora.IcecatJudgments()
		if err != nil {
			return fmt.Errorf("bench http: %w", err)
		}
		paths = bench.LogPaths(bench.QueryLog(ps, bench.JudgedQueries(js), *logSize, *seed), 10)
	}
	if *writeLog != "" {
		var b bytes.Buffer
		if err := bench.WriteLog(&b, paths); err != nil {
			return err
		}
		if err := os.WriteFile(*writeLog, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("bench http: %w", err)
		}
		fmt.Fprintf(stderr, "aisle-bench: wrote %d request paths to %s\n", len(paths), *writeLog)
		return nil
	}
	cfg := bench.HTTPLoadConfig{Addr: *addr, Paths: paths, Duration: *dur, MaxRequests: *maxReq, Rate: *rate, ServerPID: *serverPID, AcceptEncoding: *enc}
	var err error
	if cfg.Concurrency, err = parseSizes(*conc); err != nil {
		return fmt.Errorf("bench http: --concurrency: %w", err)
	}
	if cfg.ServerPID == 0 {
		cfg.ServerPID = bench.ListenerPID(*addr)
	}
	fmt.Fprintf(stderr, "aisle-bench: replaying %d request paths against %s at %s connections, %v each (server pid %d)\n",
		len(paths), *addr, *conc, *dur, cfg.ServerPID)
	rep, err := bench.RunHTTPLoad(ctx, cfg)
	if rep == nil {
		return err
	}
	var md strings.Builder
	if werr := rep.WriteMarkdown(&md); werr != nil {
		return werr
	}
	io.WriteString(stdout, md.String())
	if *out != "" {
		js, jerr := json.MarshalIndent(rep, "", "  ")
		if jerr != nil {
			return fmt.Errorf("bench http: %w", jerr)
		}
		if werr := os.WriteFile(*out, append(js, '\n'), 0o644); werr != nil {
			return fmt.Errorf("bench http: %w", werr)
		}
	}
	return err
}
