package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestParseServeFlags(t *testing.T) {
	cfg, err := parseServeFlags(nil, io.Discard)
	if err != nil || cfg != (serveConfig{addr: "127.0.0.1:8080", data: "./data", shards: 8}) {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = parseServeFlags([]string{"--addr", "127.0.0.1:0", "--data", "/tmp/x", "--shards", "3"}, io.Discard)
	if err != nil || cfg != (serveConfig{addr: "127.0.0.1:0", data: "/tmp/x", shards: 3}) {
		t.Errorf("flags: %+v, %v", cfg, err)
	}
	for _, args := range [][]string{{"--shards", "0"}, {"--nope"}, {"extra"}} {
		if _, err := parseServeFlags(args, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, io.Discard); err == nil {
		t.Error("unknown command: no error")
	}
	if err := run(context.Background(), nil, io.Discard); err == nil {
		t.Error("no command: no error")
	}
}

// TestServe builds the real binary, serves the shipped store on a loopback
// port and speaks HTTP to it.
func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary over the whole store")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "aisle")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--shards", "4")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	var log syncBuffer
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			log.WriteString(line + "\n")
			if a, ok := strings.CutPrefix(line, "aisle: listening on "); ok {
				addrc <- a
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() }) // fails harmlessly once it has exited

	var base string
	select {
	case base = <-addrc:
	case err := <-exited:
		t.Fatalf("aisle exited before listening: %v\n%s", err, log.String())
	case <-time.After(30 * time.Second):
		t.Fatal("aisle did not print its address within 30 s")
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		code, _ := httpGet(t, base+"/healthz")
		if code == 200 {
			break
		}
		if code != 503 {
			t.Fatalf("/healthz answered %d while loading", code)
		}
		if time.Now().After(deadline) {
			t.Fatal("/healthz not 200 within 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	var id string
	for _, q := range []string{"tea", "milk", "phone", ""} {
		code, body := httpGet(t, base+"/api/v1/products/search?q="+url.QueryEscape(q)+"&page_size=5")
		if code != 200 {
			t.Fatalf("search %q: %d %s", q, code, body)
		}
		var r struct {
			Results []struct {
				ProductID string `json:"product_id"`
			} `json:"results"`
			Total int `json:"total"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("search %q: %v: %s", q, err, body)
		}
		if len(r.Results) > 0 {
			id = r.Results[0].ProductID
			break
		}
	}
	if id == "" {
		t.Fatal("no search found any product in the shipped store")
	}
	code, body := httpGet(t, base+"/api/v1/products/"+url.PathEscape(id))
	if code != 200 || !strings.Contains(string(body), `"product_id":`) {
		t.Errorf("product %q: %d %s", id, code, body)
	}
	code, body = httpGet(t, base+"/api/v1/products/search?q=tea&sort=cheapest")
	if code != 400 || !strings.Contains(string(body), `"param":"sort"`) {
		t.Errorf("bad sort: %d %s", code, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("aisle exited with %v after SIGTERM\n%s", err, log.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("aisle did not exit within 15 s of SIGTERM\n%s", log.String())
	}
	if !strings.Contains(log.String(), "aisle: loaded ") {
		t.Errorf("no load line in the log:\n%s", log.String())
	}
}

// syncBuffer is a bytes.Buffer safe to write and read from two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.WriteString(s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func httpGet(t *testing.T, u string) (int, []byte) {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode, body
}
