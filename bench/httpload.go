package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// HTTPLoadConfig says what RunHTTPLoad replays against a running server.
type HTTPLoadConfig struct {
	// Addr is the server, host:port or http://host:port; the host must be
	// a loopback address (the generator is for measuring one machine).
	Addr string
	// Paths are the request paths replayed, each with its query string
	// (see URI and WriteLog).
	Paths []string
	// Concurrency lists the numbers of connections, each with one request
	// in flight; nil means 1, 2, 8, 64 and 256.
	Concurrency []int
	// Duration is how long each level runs; zero means 10 s.
	Duration time.Duration
	// MaxRequests, when positive, also ends a level after that many
	// requests.
	MaxRequests int64
	// Rate, when positive, makes the load open: the connections together
	// start Rate requests a second on a fixed schedule, whatever the
	// answers' speed, and each latency counts from the scheduled start
	// (so a server falling behind shows in it). Zero: each connection
	// sends when its last answer arrives.
	Rate float64
	// ServerPID, when positive, is the server's process: its CPU time
	// (user and system, from /proc) is read around each level, giving
	// the server's CPU per request whatever else the machine runs.
	ServerPID int
	// AcceptEncoding, when set, is sent as the Accept-Encoding header
	// (e.g. "gzip" or "zstd"); the body size then counts the bytes as
	// sent, compressed or not.
	AcceptEncoding string
	// Progress, when set, is told the share of each level gone.
	Progress func(level int, done float64)
}

// Limits of RunHTTPLoad.
const (
	maxHTTPConns    = 4096
	maxHTTPDuration = 10 * time.Minute
)

func (c *HTTPLoadConfig) ensureDefaults() {
	if c.Concurrency == nil {
		c.Concurrency = []int{1, 2, 8, 64, 256}
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Progress == nil {
		c.Progress = func(int, float64) {}
	}
}

// validate lists every problem with c and returns the server's host:port.
func (c *HTTPLoadConfig) validate() (string, error) {
	var errs []error
	host, err := loopbackAddr(c.Addr)
	if err != nil {
		errs = append(errs, err)
	}
	if len(c.Paths) == 0 {
		errs = append(errs, errors.New("bench: no request paths to replay"))
	}
	for i, p := range c.Paths {
		if !strings.HasPrefix(p, "/") {
			errs = append(errs, fmt.Errorf("bench: request path %d (%.80q) does not start with /", i+1, p))
			break
		}
	}
	for _, n := range c.Concurrency {
		if n < 1 || n > maxHTTPConns {
			errs = append(errs, fmt.Errorf("bench: concurrency %d; want 1 to %d", n, maxHTTPConns))
		}
	}
	if c.Duration < 10*time.Millisecond || c.Duration > maxHTTPDuration {
		errs = append(errs, fmt.Errorf("bench: duration %v; want 10ms to %v", c.Duration, maxHTTPDuration))
	}
	if c.Rate < 0 || c.Rate > 1e6 {
		errs = append(errs, fmt.Errorf("bench: rate %g requests a second; want 0 (closed loop) to 1,000,000", c.Rate))
	}
	if c.MaxRequests < 0 {
		errs = append(errs, fmt.Errorf("bench: MaxRequests is %d; want 0 (no bound) or more", c.MaxRequests))
	}
	return host, errors.Join(errs...)
}

// loopbackAddr returns host:port of addr (host:port or an http:// URL) when
// its host is a loopback address or localhost.
func loopbackAddr(addr string) (string, error) {
	a := addr
	if strings.Contains(a, "://") {
		u, err := url.Parse(a)
		if err != nil {
			return "", fmt.Errorf("bench: address %q: %w", addr, err)
		}
		if u.Scheme != "http" {
			return "", fmt.Errorf("bench: address %q: only http:// is supported", addr)
		}
		a = u.Host
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "", fmt.Errorf("bench: address %q: want host:port or http://host:port: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("bench: address %q: bad port %q", addr, port)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("bench: address %q: the load generator only loads a server on this machine (a loopback address or localhost)", addr)
	}
	return a, nil
}

// RunHTTPLoad replays c.Paths against the server over HTTP/1.1 keep-alive
// connections, one level per concurrency: each connection sends its next
// request when the answer to the last is read, starting at its own offset
// in the paths, as runLoad does in process. A request succeeds on a 200
// whose body starts as a JSON object; the body is not decoded, so the
// generator's CPU per request stays small beside the server's.
func RunHTTPLoad(ctx context.Context, c HTTPLoadConfig) (*HTTPReport, error) {
	c.ensureDefaults()
	host, err := c.validate()
	if err != nil {
		return nil, err
	}
	rep := &HTTPReport{Addr: host, Requests: len(c.Paths), Rate: c.Rate, LoadAvg: [2]float64{loadAvg(), 0}}
	uris := make([][]byte, len(c.Paths))
	for i, p := range c.Paths {
		uris[i] = []byte("http://" + host + p)
	}
	for li, conc := range c.Concurrency {
		hc := &fasthttp.HostClient{Addr: host, MaxConns: conc, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
			MaxIdleConnDuration: time.Minute, MaxIdemponentCallAttempts: 1}
		reqs := make([]fasthttp.Request, conc)
		resps := make([]fasthttp.Response, conc)
		for i := range reqs {
			if c.AcceptEncoding != "" {
				reqs[i].Header.Set(fasthttp.HeaderAcceptEncoding, c.AcceptEncoding)
			}
		}
		bytesRead := make([]int64, conc)
		s0, sok := procCPU(c.ServerPID)
		h0, m0, cok := responseCacheLookups(host)
		var pace time.Duration
		if c.Rate > 0 {
			pace = time.Duration(float64(conc) / c.Rate * float64(time.Second))
		}
		l, err := runClients(ctx, len(uris), conc, c.Duration, c.MaxRequests, pace, func(f float64) { c.Progress(li, f) },
			func(ctx context.Context, i, j int) error {
				req, resp := &reqs[i], &resps[i]
				req.SetRequestURIBytes(uris[j])
				if err := hc.Do(req, resp); err != nil {
					return fmt.Errorf("bench: GET %s: %w", c.Paths[j], err)
				}
				body := resp.Body()
				if code := resp.StatusCode(); code != fasthttp.StatusOK {
					return fmt.Errorf("bench: GET %s answered %d: %.200s", c.Paths[j], code, body)
				}
				if len(body) == 0 || body[0] != '{' && len(resp.Header.ContentEncoding()) == 0 {
					return fmt.Errorf("bench: GET %s answered a body that is not a JSON object: %.200q", c.Paths[j], body)
				}
				bytesRead[i] += int64(len(body))
				return nil
			})
		hc.CloseIdleConnections()
		if s1, ok := procCPU(c.ServerPID); ok && sok {
			if done := l.Queries + l.Errors; done > 0 {
				l.ServerCPUPer1000 = (s1 - s0) / float64(done) * 1000
			}
		}
		if h1, m1, ok := responseCacheLookups(host); ok && cok && h1+m1 > h0+m0 {
			l.CacheHitRate = float64(h1-h0) / float64(h1+m1-h0-m0)
		} else {
			l.CacheHitRate = -1
		}
		var total int64
		for _, b := range bytesRead {
			total += b
		}
		if l.Queries > 0 {
			l.BodyBytes = float64(total) / float64(l.Queries)
		}
		rep.Loads = append(rep.Loads, l)
		if err != nil {
			return rep, err
		}
	}
	rep.LoadAvg[1] = loadAvg()
	return rep, nil
}

// HTTPLoad replays log against the server at addr at each concurrency for
// d, as the in-process load workload does; serverPID, when positive, is
// the server's process (see HTTPLoadConfig.ServerPID).
func HTTPLoad(ctx context.Context, addr string, log []Query, conc []int, d time.Duration, serverPID int) (*HTTPReport, error) {
	return RunHTTPLoad(ctx, HTTPLoadConfig{Addr: addr, Paths: LogPaths(log, 10), Concurrency: conc, Duration: d, ServerPID: serverPID})
}

// LogPaths returns the search request path of each query of log, top k.
func LogPaths(log []Query, k int) []string {
	out := make([]string, len(log))
	for i := range log {
		out[i] = URI(&log[i], k)
	}
	return out
}

// WriteLog writes paths one a line, as ReadLog reads them.
func WriteLog(w io.Writer, paths []string) error {
	bw := bufio.NewWriter(w)
	for _, p := range paths {
		if strings.ContainsAny(p, "\r\n") {
			return fmt.Errorf("bench: request path %.80q holds a line break", p)
		}
		bw.WriteString(p)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ReadLog reads request paths one a line (blank lines and lines starting
// with # are skipped); each must start with /. A line may also be a whole
// http:// URL, whose path and query are kept.
func ReadLog(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := string(bytes.TrimSpace(sc.Bytes()))
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "http://") {
			u, err := url.Parse(line)
			if err != nil {
				return nil, fmt.Errorf("bench: log line %d: %w", n, err)
			}
			line = u.RequestURI()
		}
		if line[0] != '/' {
			return nil, fmt.Errorf("bench: log line %d: %.80q is not a request path (want /api/v1/...)", n, line)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("bench: reading the log: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("bench: the log holds no request paths")
	}
	return out, nil
}

// procCPU returns the CPU seconds (user and system) process pid has used,
// from /proc/PID/stat; false when pid is not positive or unreadable.
func procCPU(pid int) (float64, bool) {
	if pid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (ut + st) / clockTicks, true
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// loadAvg returns the one-minute load average, or 0 where unknown.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// responseCacheLookups reads the response cache's hit and miss counters
// from the server's /metrics (aisle_cache_lookups_total); false when the
// server has none.
func responseCacheLookups(host string) (hits, misses uint64, ok bool) {
	code, body, err := fasthttp.GetTimeout(nil, "http://"+host+"/metrics", 10*time.Second)
	if err != nil || code != fasthttp.StatusOK {
		return 0, 0, false
	}
	var seen int
	for _, line := range strings.Split(string(body), "\n") {
		rest, found := strings.CutPrefix(line, `aisle_cache_lookups_total{cache="response",result="`)
		if !found {
			continue
		}
		kind, val, _ := strings.Cut(rest, `"} `)
		n, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
		if err != nil {
			continue
		}
		switch kind {
		case "hit":
			hits, seen = n, seen|1
		case "miss":
			misses, seen = n, seen|2
		}
	}
	return hits, misses, seen == 3
}
