package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"mime"
	"net"
	"path"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"
)

// The storefront page of issue 9: a single-page app served at / with its
// files under /static/, embedded in the binary (no build step). It speaks
// only the public and shopper API; see doc/storefront.md.
//
// index.html names its script and style sheet with a content hash
// (/static/app.js?v=HASH), so those are cached for a year and index.html
// itself is revalidated on every load (ETag). Every file is served
// gzipped to clients that accept it.
//
// POST /api/v1/session/demo hands the demo user's token to the page, and
// only to a loopback client of a server given demo credentials
// (Services.DemoUserID): it is the dev-credentials convenience of `aisle serve`
// on a laptop, never reachable from another machine.

//go:embed web
var webFiles embed.FS

const (
	staticPrefix    = "/static/"
	demoSessionPath = "/api/v1/session/demo"
	// webCSP keeps the page to its own scripts and styles; product images
	// may come from any http(s) host (the catalog's image URLs).
	webCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' http: https: data:; " +
		"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

// webFile is one embedded file, ready to serve.
type webFile struct {
	body, gz    []byte // gz is nil when gzip does not make it smaller
	contentType string
	etag        string
}

// webAssets maps a request path ("/" or "/static/NAME") to its file.
var webAssets = sync.OnceValue(func() map[string]*webFile {
	sub, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic("server: embedded web files: " + err.Error()) // the embed pattern guarantees the folder
	}
	m := map[string]*webFile{}
	var index []byte
	hashes := map[string]string{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		if p == "index.html" {
			index = b
			return nil
		}
		f := newWebFile(p, b)
		m[staticPrefix+p] = f
		hashes[p] = f.etag[1:13]
		return nil
	})
	if err != nil || index == nil {
		panic("server: embedded web files: missing index.html or unreadable: " + errString(err))
	}
	// Version the assets index.html names, so they can be cached for long.
	for name, h := range hashes {
		index = bytes.ReplaceAll(index, []byte(`"`+staticPrefix+name+`"`), []byte(`"`+staticPrefix+name+"?v="+h+`"`))
	}
	m["/"] = newWebFile("index.html", index)
	return m
})

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

func newWebFile(name string, body []byte) *webFile {
	sum := sha256.Sum256(body)
	f := &webFile{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	f.contentType = mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) { // the system's MIME table may lack or differ on these
	case ".html":
		f.contentType = "text/html; charset=utf-8"
	case ".js":
		f.contentType = "text/javascript; charset=utf-8"
	case ".css":
		f.contentType = "text/css; charset=utf-8"
	case ".svg":
		f.contentType = "image/svg+xml"
	case ".png":
		f.contentType = "image/png"
	}
	if f.contentType == "" {
		f.contentType = "application/octet-stream"
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	if buf.Len() < len(body) {
		f.gz = buf.Bytes()
	}
	return f
}

func isWebPath(path string) bool {
	return path == "/" || strings.HasPrefix(path, staticPrefix) || path == demoSessionPath
}

// web serves the page, its static files and the demo session. It checks
// its own methods: the files are GET and HEAD, the session POST.
func (s *Server) web(ctx *fasthttp.RequestCtx, p string) {
	if p == demoSessionPath {
		s.demoSession(ctx)
		return
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		writeError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+string(ctx.Method())+" not allowed; use GET", "")
		return
	}
	f := webAssets()[p]
	if f == nil {
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such file: "+p, "")
		return
	}
	h := &ctx.Response.Header
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	switch {
	case p == "/":
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", webCSP)
		h.Set("X-Frame-Options", "DENY")
	case string(ctx.QueryArgs().Peek("v")) == f.etag[1:13]:
		// The version index.html names: this URL never changes content.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		h.Set("Cache-Control", "public, max-age=300")
	}
	h.Set("Vary", "Accept-Encoding")
	if inm := ctx.Request.Header.Peek(fasthttp.HeaderIfNoneMatch); len(inm) > 0 && etagMatch(string(inm), f.etag) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	ctx.SetContentType(f.contentType)
	if f.gz != nil && ctx.Request.Header.HasAcceptEncoding("gzip") {
		h.Set(fasthttp.HeaderContentEncoding, "gzip")
		ctx.SetBody(f.gz)
		return
	}
	ctx.SetBody(f.body)
}

// etagMatch reports whether an If-None-Match list names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatch(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// demoSession answers POST /api/v1/session/demo: the demo user's id and
// token, for a loopback client of a server given them; 404 otherwise, so
// the endpoint does not even show elsewhere.
func (s *Server) demoSession(ctx *fasthttp.RequestCtx) {
	id, token := s.svc.DemoUserID, s.svc.DemoUserToken
	if id == "" || token == "" || !loopbackClient(ctx) {
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+demoSessionPath, "")
		return
	}
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		writeError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+string(ctx.Method())+" not allowed; use POST", "")
		return
	}
	body, _ := json.Marshal(struct {
		UserID    string `json:"user_id"`
		UserToken string `json:"user_token"`
	}{id, token})
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

// loopbackClient reports whether the request comes from this machine and
// was not relayed by a proxy (which would make every client look local).
//
// The Host header must name this machine too: a page on another origin
// that rebinds its DNS name to 127.0.0.1 reaches the server from a
// loopback address, but with its own name in Host.
func loopbackClient(ctx *fasthttp.RequestCtx) bool {
	if len(ctx.Request.Header.Peek("X-Forwarded-For")) > 0 || len(ctx.Request.Header.Peek("Forwarded")) > 0 {
		return false
	}
	ip := ctx.RemoteIP()
	return ip != nil && ip.IsLoopback() && !ip.Equal(net.IPv4zero) && loopbackHost(string(ctx.Host()))
}

// loopbackHost reports whether host (a Host header, with or without a
// port) names this machine: localhost or a loopback address.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
