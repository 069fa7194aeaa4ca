package server

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aisle/aisle/search"

	"github.com/valyala/fasthttp"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(10, 3)
	now := time.Unix(1000, 0)
	for i := range 3 {
		if ok, _ := l.allow([]byte("a"), now); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := l.allow([]byte("a"), now)
	if ok || wait != 100*time.Millisecond {
		t.Fatalf("past the burst: %v, wait %v; want refused, 100ms", ok, wait)
	}
	if ok, _ := l.allow([]byte("b"), now); !ok {
		t.Fatal("another client shares the bucket")
	}
	if ok, _ := l.allow([]byte("a"), now.Add(100*time.Millisecond)); !ok {
		t.Fatal("not refilled after 1/rate")
	}
	if newLimiter(-1, 0) != nil {
		t.Fatal("a negative rate is not 'no limit'")
	}
	var off *limiter
	if ok, _ := off.allow([]byte("a"), now); !ok {
		t.Fatal("no limiter refused")
	}
	// Past maxKeysPerShard a shard forgets its idle buckets.
	for i := range 4 * len(l.shards) * maxKeysPerShard {
		l.allow([]byte(strconv.Itoa(i)), now)
	}
	for i := range l.shards {
		if n := len(l.shards[i].m); n > maxKeysPerShard+1 {
			t.Fatalf("shard %d holds %d buckets", i, n)
		}
	}
}

// TestSearchRateLimit: a bounded burst from one loopback client gets 429
// with Retry-After past the burst. The rate is so low that no token
// comes back while the test runs, however loaded the machine (the refill
// itself is TestLimiter's, on a clock the test sets).
func TestSearchRateLimit(t *testing.T) {
	s := New(testSvc(newTestEngine(t)), Options{SearchRate: 0.001, SearchBurst: 5, SuggestRate: -1})
	base := serveOver(t, s)
	codes := map[int]int{}
	var retry string
	for range 8 {
		code, h, _ := do(t, "GET", base+"/api/v1/products/search?q=sony&facets=false", "")
		codes[code]++
		if code == 429 {
			retry = h.Get("Retry-After")
		}
	}
	if codes[200] != 5 || codes[429] != 3 || retry != "1000" {
		t.Fatalf("8 searches with a burst of 5: %v, Retry-After %q (a token every 1,000 s)", codes, retry)
	}
}

// TestTrustProxy: the client is the last X-Forwarded-For address only
// when the server trusts a proxy.
func TestTrustProxy(t *testing.T) {
	for _, trust := range []bool{false, true} {
		s := New(testSvc(newTestEngine(t)), Options{TrustProxy: trust})
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
		got := string(s.clientKey(&ctx))
		if trust && got != "198.51.100.7" || !trust && got == "198.51.100.7" {
			t.Errorf("TrustProxy %v: client %q", trust, got)
		}
	}
}

// TestSellerWriteLimit: writes past the seller's burst answer 429; other
// sellers are not affected.
func TestSellerWriteLimit(t *testing.T) {
	k := newTestKeys(t)
	s := New(withIngest(testSvc(newTestEngine(t)), okCatalog{}), Options{Keys: k.store, SellerWritesPerMinute: 60, SellerWriteBurst: 2})
	base := serveOver(t, s)
	const body = `{"title":"x","variants":[{"price_cents":1}]}`
	var got []int
	for range 3 {
		code, h, _ := doAs(t, k.seller, "POST", base+"/api/v1/seller/products", body)
		got = append(got, code)
		if code == 429 && h.Get("Retry-After") != "1" {
			t.Errorf("Retry-After %q; want 1", h.Get("Retry-After"))
		}
	}
	if got[0] != 201 || got[1] != 201 || got[2] != 429 {
		t.Fatalf("3 writes with a burst of 2: %v", got)
	}
	if code, _, _ := doAs(t, k.other, "POST", base+"/api/v1/seller/products", body); code != 201 {
		t.Fatalf("another seller: %d", code)
	}
}

// TestMaxInFlight: past the cap the server answers a JSON 503 at once.
func TestMaxInFlight(t *testing.T) {
	block := make(chan struct{})
	eng := &blockingEngine{Engine: newTestEngine(t), block: block}
	s := New(testSvc(eng), Options{MaxInFlight: 2, SearchRate: -1})
	base := serveOver(t, s)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { do(t, "GET", base+"/api/v1/products/search?q=sony", "") })
	}
	for eng.waiting.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	code, h, m := do(t, "GET", base+"/api/v1/products/search?q=sony", "")
	if code != 503 || h.Get("Retry-After") == "" || m["error"].(map[string]any)["code"] != CodeOverloaded {
		t.Errorf("saturated: %d %v", code, m)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the 503 took %v", d)
	}
	close(block)
	wg.Wait()
	if code, _, _ := do(t, "GET", base+"/api/v1/products/search?q=sony", ""); code != 200 {
		t.Errorf("after the load: %d", code)
	}
}

func TestCheckJSONShape(t *testing.T) {
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{`{"a":[{"b":[{"c":1}]}]}`, true},
		{strings.Repeat("[", 17) + strings.Repeat("]", 17), false},
		{strings.Repeat("[", 16) + strings.Repeat("]", 16), true},
		{`{"a":"` + strings.Repeat("x", 101) + `"}`, false},
		{`{"a":"` + strings.Repeat(`\"`, 50) + `"}`, true},
		{`{"` + strings.Repeat("k", 101) + `":1}`, false},
		{`"[[[[[[[[[[[[[[[[[[[[[["`, true}, // brackets inside a string
		{`{"a":"unterminated`, true},       // left to the decoder
	} {
		err := checkJSONShape([]byte(c.body), 16, 100)
		if (err == nil) != c.ok {
			t.Errorf("%.40s: %v; want ok=%v", c.body, err, c.ok)
		}
	}
}

func TestWriteBodyCaps(t *testing.T) {
	k := newTestKeys(t)
	s := New(withIngest(testSvc(newTestEngine(t)), okCatalog{}), Options{Keys: k.store})
	base := serveOver(t, s)
	deep := `{"title":"x","attributes":` + strings.Repeat(`{"a":`, 20) + `1` + strings.Repeat("}", 20) + `,"variants":[{"price_cents":1}]}`
	long := `{"title":"x","attributes":{"a":"` + strings.Repeat("y", 100<<10) + `"},"variants":[{"price_cents":1}]}`
	for name, body := range map[string]string{"deep": deep, "long": long} {
		code, _, m := doAs(t, k.seller, "POST", base+"/api/v1/seller/products", body)
		if code != 400 || m["error"].(map[string]any)["code"] != CodeInvalidBody {
			t.Errorf("%s: %d %v; want 400", name, code, m)
		}
	}
}

func TestLimitOptionsValidate(t *testing.T) {
	err := Options{MaxInFlight: -1, SearchBurst: -2, MaxJSONStringBytes: 10}.Validate()
	for _, want := range []string{"MaxInFlight", "SearchBurst", "MaxJSONStringBytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want it to name %s", err, want)
		}
	}
	o := Options{}.EnsureDefaults()
	if o.SearchRate != 50 || o.SellerWritesPerMinute != 100 || o.SellerWriteBurst != 200 || o.MaxInFlight != 512 {
		t.Errorf("defaults: %+v", o)
	}
}

// blockingEngine holds every search until block is closed.
type blockingEngine struct {
	*search.Engine
	block   chan struct{}
	waiting atomic.Int32
}

func (e *blockingEngine) Search(ctx context.Context, r *search.Request) (*search.Result, error) {
	e.waiting.Add(1)
	<-e.block
	return e.Engine.Search(ctx, r)
}

// TestSlowClient: a client sending its request a byte at a time is cut
// off by the read timeout, while other requests are served meanwhile.
func TestSlowClient(t *testing.T) {
	s := New(testSvc(newTestEngine(t)), Options{ReadTimeout: time.Second})
	base := serveOver(t, s)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	cut := make(chan time.Duration, 1)
	go func() {
		req := "GET /api/v1/products/search?q=sony HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("y", 100) + "\r\n\r\n"
		for i := 0; i < len(req); i++ {
			if _, err := conn.Write([]byte{req[i]}); err != nil {
				break
			}
			conn.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
			var b [512]byte
			if _, err := conn.Read(b[:]); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				break // closed by the server (or answered with an error)
			}
			if time.Since(start) > 6*time.Second {
				break
			}
		}
		cut <- time.Since(start)
	}()
	// Served meanwhile.
	if code, _, _ := do(t, "GET", base+"/api/v1/products/search?q=sony&facets=false", ""); code != 200 {
		t.Errorf("a normal search during the slow client: %d", code)
	}
	if d := <-cut; d > 4*time.Second {
		t.Errorf("the slow client was not cut off in %v (read timeout 1 s)", d)
	}
}

// BenchmarkLimiterAllow: the per-request cost of a rate limit on the
// search path, from many goroutines over 1,000 clients.
func BenchmarkLimiterAllow(b *testing.B) {
	l := newLimiter(1e9, 1e9)
	keys := make([][]byte, 1000)
	for i := range keys {
		keys[i] = []byte{10, 0, byte(i >> 8), byte(i)}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.allow(keys[i%len(keys)], time.Now())
			i++
		}
	})
}
