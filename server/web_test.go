package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// maxPageScript is the budget of issue 9 for the page's own scripts.
const maxPageScript = 100 << 10

func webReq(t *testing.T, method, u string, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "identity") // see the raw body unless a row asks for gzip
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestWebFiles serves the embedded page and checks content types,
// caching headers, versioned asset links, methods and unknown files.
func TestWebFiles(t *testing.T) {
	_, base := startServer(t)
	code, hdr, index := webReq(t, "GET", base+"/", nil)
	if code != 200 || hdr.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET / = %d %q", code, hdr.Get("Content-Type"))
	}
	if hdr.Get("Cache-Control") != "no-cache" || hdr.Get("ETag") == "" || !strings.Contains(hdr.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("GET / headers: Cache-Control %q, ETag %q, CSP %q", hdr.Get("Cache-Control"), hdr.Get("ETag"), hdr.Get("Content-Security-Policy"))
	}
	// index.html must name its assets with a content hash, and those must serve.
	assets := regexp.MustCompile(`"(/static/[a-z]+\.(?:js|css))\?v=([0-9a-f]{12})"`).FindAllStringSubmatch(string(index), -1)
	if len(assets) != 2 {
		t.Fatalf("index.html names %d versioned assets, want 2 (app.js, app.css): %v", len(assets), assets)
	}
	for _, a := range assets {
		code, hdr, body := webReq(t, "GET", base+a[1]+"?v="+a[2], nil)
		if code != 200 || !strings.Contains(hdr.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s?v=%s = %d, Cache-Control %q", a[1], a[2], code, hdr.Get("Cache-Control"))
		}
		if tag := hdr.Get("ETag"); !strings.HasPrefix(tag, `"`+a[2]) {
			t.Errorf("%s: version %s is not the ETag's prefix %s", a[1], a[2], tag)
		}
		if strings.HasSuffix(a[1], ".js") && len(body) > maxPageScript {
			t.Errorf("%s is %d bytes, over the page's script budget of %d", a[1], len(body), maxPageScript)
		}
	}

	tests := []struct {
		name, method, path string
		hdr                map[string]string
		code               int
		ctype, encoding    string
	}{
		{"js", "GET", "/static/app.js", nil, 200, "text/javascript; charset=utf-8", ""},
		{"css", "GET", "/static/app.css", nil, 200, "text/css; charset=utf-8", ""},
		{"head", "HEAD", "/static/app.css", nil, 200, "text/css; charset=utf-8", ""},
		{"gzip", "GET", "/static/app.js", map[string]string{"Accept-Encoding": "gzip"}, 200, "text/javascript; charset=utf-8", "gzip"},
		{"unknown file", "GET", "/static/nope.js", nil, 404, "application/json", ""},
		{"index by name", "GET", "/static/index.html", nil, 404, "application/json", ""},
		{"traversal", "GET", "/static/../web.go", nil, 404, "application/json", ""},
		{"post", "POST", "/", nil, 405, "application/json", ""},
		{"delete", "DELETE", "/static/app.js", nil, 405, "application/json", ""},
		{"not modified", "GET", "/", map[string]string{"If-None-Match": hdr.Get("ETag")}, 304, "", ""},
		{"weak list", "GET", "/", map[string]string{"If-None-Match": `"x", W/` + hdr.Get("ETag")}, 304, "", ""},
		{"other etag", "GET", "/", map[string]string{"If-None-Match": `"abc"`}, 200, "text/html; charset=utf-8", ""},
		{"stale version", "GET", "/static/app.js?v=000000000000", nil, 200, "text/javascript; charset=utf-8", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, body := webReq(t, tt.method, base+tt.path, tt.hdr)
			if code != tt.code {
				t.Fatalf("%s %s = %d, want %d: %s", tt.method, tt.path, code, tt.code, body)
			}
			if tt.ctype != "" && h.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", h.Get("Content-Type"), tt.ctype)
			}
			if h.Get("Content-Encoding") != tt.encoding {
				t.Errorf("Content-Encoding %q, want %q", h.Get("Content-Encoding"), tt.encoding)
			}
			if code == 405 && h.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", h.Get("Allow"))
			}
			if tt.encoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				raw, err := io.ReadAll(zr)
				if err != nil || !bytes.HasPrefix(raw, []byte("// Aisle storefront")) {
					t.Errorf("gzipped app.js does not decode to the script: %v %.40q", err, raw)
				}
			}
			if strings.Contains(tt.path, "?v=") && strings.Contains(h.Get("Cache-Control"), "immutable") {
				t.Errorf("a version that is not the file's is cached as immutable: %q", h.Get("Cache-Control"))
			}
			if tt.method == "HEAD" && len(body) != 0 {
				t.Errorf("HEAD answered a body of %d bytes", len(body))
			}
		})
	}
}

// TestDemoSession: the demo token goes only to a loopback client of a
// server given one, and never through a proxy.
func TestDemoSession(t *testing.T) {
	_, bare := startServer(t)
	if code, _, body := webReq(t, "POST", bare+demoSessionPath, nil); code != 404 {
		t.Fatalf("without demo credentials: %d %s; want 404", code, body)
	}
	svc := testSvc(newTestEngine(t))
	svc.DemoUserID, svc.DemoUserToken = "u-demo", "tok-123"
	s := New(svc, Options{Logf: checkedLogf(t)})
	base := serveOver(t, s)
	post := func(hdr map[string]string) (int, []byte) {
		code, _, body := webReq(t, "POST", base+demoSessionPath, hdr)
		return code, body
	}
	code, body := post(nil)
	var got struct{ UserID, UserToken string }
	if err := json.Unmarshal(body, &struct {
		UserID    *string `json:"user_id"`
		UserToken *string `json:"user_token"`
	}{&got.UserID, &got.UserToken}); err != nil || code != 200 || got.UserID != "u-demo" || got.UserToken != "tok-123" {
		t.Fatalf("loopback POST = %d %s (%v); want the demo user", code, body, err)
	}
	if code, body := post(map[string]string{"X-Forwarded-For": "203.0.113.9"}); code != 404 {
		t.Errorf("through a proxy: %d %s; want 404", code, body)
	}
	if code, _, body := webReq(t, "GET", base+demoSessionPath, nil); code != 405 {
		t.Errorf("GET: %d %s; want 405", code, body)
	}
	// A remote client (the handler called directly with its address: no
	// packet leaves the machine).
	for _, addr := range []string{"192.0.2.7:5000", "[2001:db8::1]:5000"} {
		var ctx fasthttp.RequestCtx
		var req fasthttp.Request
		req.Header.SetMethod("POST")
		req.SetRequestURI(demoSessionPath)
		ra, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		ctx.Init(&req, ra, nil)
		s.Handler()(&ctx)
		if ctx.Response.StatusCode() != 404 || bytes.Contains(ctx.Response.Body(), []byte("tok-123")) {
			t.Errorf("client %s: %d %s; want 404 without the token", addr, ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}

func FuzzETagMatch(f *testing.F) {
	for _, s := range []string{`"abc"`, `W/"abc"`, `"x", "abc"`, `*`, ``, `,,`, `W/`, `"a`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		const tag = `"0123456789ab"`
		got := etagMatch(list, tag)
		if strings.Contains(list, tag) && strings.Count(list, `"`) == 2 && strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(list), "W/")) == tag && !got {
			t.Errorf("etagMatch(%q) = false for the tag alone", list)
		}
		if got && !strings.Contains(list, tag) && !strings.Contains(list, "*") {
			t.Errorf("etagMatch(%q) = true without the tag or *", list)
		}
	})
}
