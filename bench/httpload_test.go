package bench

import (
	"bytes"
	"context"
	"net"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestRunHTTPLoad(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var served, bad atomic.Int64
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/metrics" { // read around each level
			ctx.SetBodyString("aisle_cache_lookups_total{cache=\"response\",result=\"hit\"} 7\naisle_cache_lookups_total{cache=\"response\",result=\"miss\"} 3\n")
			return
		}
		served.Add(1)
		if string(ctx.QueryArgs().Peek("q")) == "fail" {
			bad.Add(1)
			ctx.SetStatusCode(fasthttp.StatusBadRequest)
			ctx.SetBodyString(`{"error":{}}`)
			return
		}
		ctx.SetBodyString(`{"results":[],"total":0}`)
	}}
	go srv.Serve(ln)
	defer srv.Shutdown()

	paths := []string{"/api/v1/products/search?q=a", "/api/v1/products/search?q=b", "/api/v1/products/search?q=fail"}
	rep, err := RunHTTPLoad(context.Background(), HTTPLoadConfig{
		Addr: "http://" + ln.Addr().String(), Paths: paths, Concurrency: []int{1, 4},
		Duration: time.Minute, MaxRequests: 300, ServerPID: os.Getpid(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Loads) != 2 {
		t.Fatalf("%d levels, want 2", len(rep.Loads))
	}
	for _, l := range rep.Loads {
		if n := l.Queries + l.Errors; n < 290 || n > 300 {
			t.Errorf("c=%d: %d requests, want about 300 (MaxRequests)", l.Concurrency, n)
		}
		if l.Errors == 0 || !strings.Contains(l.FirstError, "answered 400") {
			t.Errorf("c=%d: errors %d, first %q; want the 400s of q=fail counted", l.Concurrency, l.Errors, l.FirstError)
		}
		if l.CacheHitRate != -1 {
			t.Errorf("c=%d: cache hit rate %v with counters that did not move; want -1 (unknown)", l.Concurrency, l.CacheHitRate)
		}
		if l.Queries == 0 || l.P50 <= 0 || l.P999 < l.P50 || l.BodyBytes != float64(len(`{"results":[],"total":0}`)) {
			t.Errorf("c=%d: figures %+v", l.Concurrency, l)
		}
	}
	if got := served.Load(); got < 580 || got > 600 {
		t.Errorf("server saw %d requests, want about 600", got)
	}
	if pid := ListenerPID(ln.Addr().String()); pid != 0 && pid != os.Getpid() {
		t.Errorf("ListenerPID = %d; this process is %d", pid, os.Getpid())
	}
}

func TestHTTPLoadConfigRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    HTTPLoadConfig
		want string
	}{
		{"remote host", HTTPLoadConfig{Addr: "10.0.0.1:80", Paths: []string{"/"}}, "only loads a server on this machine"},
		{"https", HTTPLoadConfig{Addr: "https://127.0.0.1:443", Paths: []string{"/"}}, "only http://"},
		{"no port", HTTPLoadConfig{Addr: "127.0.0.1", Paths: []string{"/"}}, "want host:port"},
		{"no paths", HTTPLoadConfig{Addr: "127.0.0.1:1"}, "no request paths"},
		{"relative path", HTTPLoadConfig{Addr: "127.0.0.1:1", Paths: []string{"api"}}, "does not start with /"},
		{"too many connections", HTTPLoadConfig{Addr: "127.0.0.1:1", Paths: []string{"/"}, Concurrency: []int{5000}}, "want 1 to 4096"},
		{"too long", HTTPLoadConfig{Addr: "localhost:1", Paths: []string{"/"}, Duration: time.Hour}, "want 10ms to 10m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RunHTTPLoad(context.Background(), tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want one saying %q", err, tc.want)
			}
		})
	}
}

func TestLogRoundTrip(t *testing.T) {
	paths := []string{"/api/v1/products/search?q=usb+cable&facets=true", "/api/v1/suggest?q=wi"}
	var b bytes.Buffer
	if err := WriteLog(&b, paths); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n# a comment\nhttp://127.0.0.1:8080/api/v1/products/search?q=tv\n")
	got, err := ReadLog(&b)
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(paths), "/api/v1/products/search?q=tv")
	if !slices.Equal(got, want) {
		t.Errorf("ReadLog = %q, want %q", got, want)
	}
	if _, err := ReadLog(strings.NewReader("q=tv\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a line that is not a path: error %v", err)
	}
	if _, err := ReadLog(strings.NewReader("# nothing\n")); err == nil {
		t.Error("an empty log: no error")
	}
	if err := WriteLog(&b, []string{"/a\nb"}); err == nil {
		t.Error("a path with a line break written")
	}
}

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		ok   bool
	}{
		{"0", []int{0}, true}, {"1,3", []int{1, 3}, true}, {"0-2,5", []int{0, 1, 2, 5}, true},
		{"", nil, false}, {"a", nil, false}, {"3-1", nil, false}, {"-1", nil, false}, {"2000", nil, false},
	} {
		got, err := ParseCPUList(tc.in)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestProcCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if s, ok := procCPU(os.Getpid()); !ok || s < 0 {
		t.Errorf("procCPU(self) = %v, %v", s, ok)
	}
	if _, ok := procCPU(0); ok {
		t.Error("procCPU(0) ok")
	}
}

// TestRunHTTPLoadOpen: with a rate, the connections never start requests
// ahead of the schedule, whatever the server's speed.
func TestRunHTTPLoadOpen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(`{}`) }}
	go srv.Serve(ln)
	defer srv.Shutdown()
	const rate = 400
	rep, err := RunHTTPLoad(context.Background(), HTTPLoadConfig{Addr: ln.Addr().String(), Paths: []string{"/a", "/b"},
		Concurrency: []int{4}, Duration: 300 * time.Millisecond, Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Loads[0]
	if n := l.Queries + l.Errors; n == 0 || float64(n) > rate*l.Seconds+4 {
		t.Errorf("%d requests in %.3f s at %d a second: ahead of the schedule", n, l.Seconds, rate)
	}
	if rep.Rate != rate {
		t.Errorf("report rate %v", rep.Rate)
	}
}
