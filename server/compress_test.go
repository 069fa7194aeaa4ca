package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// TestCompression: over real HTTP, a search answer is compressed only for
// a client that asks and only from CompressMinBytes; both encodings decode
// to the same JSON as the plain answer.
func TestCompression(t *testing.T) {
	l := &live{}
	l.SetReady(true)
	base := serveOver(t, New(l.wire(testSvc(newTestEngine(t))), Options{Logf: checkedLogf(t), CompressMinBytes: 200}))
	u := base + "/api/v1/products/search?q=headphones"
	fetch := func(enc string) (string, []byte) {
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", enc) // set, so net/http does not add gzip and decode itself
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: status %d, %v: %s", enc, resp.StatusCode, err, b)
		}
		return resp.Header.Get("Content-Encoding"), b
	}
	plainEnc, plain := fetch("identity")
	if plainEnc != "" || len(plain) < 200 {
		t.Fatalf("identity: Content-Encoding %q, %d bytes", plainEnc, len(plain))
	}
	decode := func(b []byte) map[string]any {
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%v: %.200s", err, b)
		}
		delete(v, "took_ms")
		return v
	}
	want, _ := json.Marshal(decode(plain))
	for _, tc := range []struct{ accept, enc string }{{"gzip", "gzip"}, {"gzip, deflate, br, zstd", "zstd"}} {
		enc, body := fetch(tc.accept)
		if enc != tc.enc {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, enc, tc.enc)
			continue
		}
		var r io.Reader
		switch enc {
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			r = zr
		case "zstd":
			zr, err := zstd.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			r = zr
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		if got, _ := json.Marshal(decode(out)); !bytes.Equal(got, want) {
			t.Errorf("%s decodes to\n%s\nwant\n%s", enc, got, want)
		}
		if len(body) >= len(plain) {
			t.Errorf("%s: %d bytes, not less than the plain %d", enc, len(body), len(plain))
		}
	}
	// A small answer is sent plain even to a client that accepts gzip.
	u = base + "/api/v1/products/search?q=zzzzqqq&facets=false"
	if enc, b := fetch("gzip"); enc != "" {
		t.Errorf("a %d-byte answer was compressed (%s)", len(b), enc)
	}
}
