package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aisle/aisle/app"
)

func TestParseServeFlags(t *testing.T) {
	opts, err := parseServeFlags(nil, io.Discard)
	want := app.DefaultOptions()
	want.Log = io.Discard
	if err != nil || !sameOptions(opts, want) {
		t.Errorf("defaults: %+v, %v", opts, err)
	}
	opts, err = parseServeFlags([]string{"--addr", "127.0.0.1:0", "--data", "/tmp/x", "--shards", "3", "--carrier-delay", "0",
		"--brokers", "a:1, b:2,"}, io.Discard)
	want.Addr, want.Data, want.Shards, want.CarrierDelay, want.Brokers = "127.0.0.1:0", "/tmp/x", 3, 0, []string{"a:1", "b:2"}
	if err != nil || !sameOptions(opts, want) {
		t.Errorf("flags: %+v, %v", opts, err)
	}
	for _, args := range [][]string{{"--shards", "0"}, {"--nope"}, {"extra"}, {"--addr", "nowhere"}, {"--carrier-delay", "-1s"}} {
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

func sameOptions(a, b app.Options) bool { return reflect.DeepEqual(a, b) }

// TestServeBinary is the smoke test of the README's commands: the built
// binary serves (--store none, the README's quick start, so the test takes
// seconds: the shipped store through Kafka is app.TestServe's) on a
// loopback port with its embedded broker, answers a search, and exits
// cleanly on SIGTERM. What serve does is tested in process in package app.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary over the whole store")
	}
	bin := filepath.Join(t.TempDir(), "aisle")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--store", "none", "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"), "--shards", "4")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	var (
		mu  sync.Mutex
		log strings.Builder
	)
	addrc, exited := make(chan string, 1), make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "aisle: listening on "); ok {
				addrc <- v
			}
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
		exited <- cmd.Wait()
	}()
	collect := func() string {
		mu.Lock()
		defer mu.Unlock()
		return log.String()
	}
	var base string
	select {
	case base = <-addrc:
	case err := <-exited:
		t.Fatalf("aisle exited before listening: %v\n%s", err, collect())
	case <-time.After(60 * time.Second):
		t.Fatalf("aisle did not print its address within 60 s\n%s", collect())
	}
	c := http.Client{Timeout: 10 * time.Second}
	get := func(path string) int {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if path != "/healthz" && resp.StatusCode == 200 && !strings.Contains(string(body), `"results"`) {
			t.Errorf("GET %s: no results in %s", path, body)
		}
		return resp.StatusCode
	}
	deadline := time.Now().Add(5 * time.Minute)
	for code := get("/healthz"); code != 200; code = get("/healthz") {
		if code != 503 || time.Now().After(deadline) {
			t.Fatalf("/healthz: %d\n%s", code, collect())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code := get("/api/v1/products/search?q=tea&page_size=3"); code != 200 {
		t.Errorf("search: %d", code)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("aisle exited with %v after SIGTERM\n%s", err, collect())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("aisle did not exit within 30 s of SIGTERM\n%s", collect())
	}
}
