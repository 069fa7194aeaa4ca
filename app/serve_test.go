package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// aisle is an App under test, opened in this process, or a child process
// running one (startAisleProcess).
type aisle struct {
	base   string // http://host:port
	broker string // the embedded broker's address
	admin  string // http://host:port of the admin API
	data   string // the data directory
	log    *syncBuffer
	app    *App      // in process
	cmd    *exec.Cmd // a child process
	exited chan error
}

// testOptions are the options of the tests' Apps: loopback, a free port, 4
// shards, data in data.
func testOptions(data string) Options {
	o := DefaultOptions()
	o.Addr = "127.0.0.1:0"
	o.Data = data
	o.Shards = 4
	return o
}

// startAisle opens an App with opts (testOptions(data) when nil) and
// waits, bounded, until /healthz answers 200.
func startAisle(t *testing.T, data string, edit func(*Options)) *aisle {
	t.Helper()
	opts := testOptions(data)
	if edit != nil {
		edit(&opts)
	}
	a := &aisle{log: &syncBuffer{}, data: data}
	opts.Log = a.log
	app, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v\n%s", err, a.log.String())
	}
	a.app = app
	t.Cleanup(func() { app.Close() }) // a no-op once stopped
	a.base = "http://" + app.Addr().String()
	if ad := app.AdminAddr(); ad != nil {
		a.admin = "http://" + ad.String()
	}
	a.waitReady(t)
	for line := range strings.Lines(a.log.String()) {
		if v, ok := strings.CutPrefix(line, "aisle: embedded Kafka broker on "); ok {
			a.broker = strings.Fields(v)[0]
		}
	}
	return a
}

// waitReady waits, bounded, until /healthz answers 200; 503 is all it may
// answer before.
func (a *aisle) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		code, _ := httpGet(t, a.base+"/healthz")
		if code == 200 {
			return
		}
		if code != 503 {
			t.Fatalf("/healthz answered %d while loading", code)
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz not 200 within 5 min\n%s", a.log.String())
		}
		select {
		case <-a.doneCh():
			t.Fatalf("aisle stopped while loading\n%s", a.log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (a *aisle) doneCh() <-chan struct{} {
	if a.app != nil {
		return a.app.Done()
	}
	return nil
}

// stop closes the App (or sends SIGTERM to the child) and checks a clean
// end.
func (a *aisle) stop(t *testing.T) {
	t.Helper()
	if a.app != nil {
		done := make(chan error, 1)
		go func() { done <- a.app.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Close: %v\n%s", err, a.log.String())
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("Close did not return within 2 min\n%s", a.log.String())
		}
		return
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.exited:
		if err != nil {
			t.Errorf("aisle exited with %v after SIGTERM\n%s", err, a.log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("aisle did not exit within 30 s of SIGTERM\n%s", a.log.String())
	}
}

type searchResult struct {
	Results []struct {
		ProductID string `json:"product_id"`
		Title     string `json:"title"`
	} `json:"results"`
	Total int `json:"total"`
}

func searchHTTP(t *testing.T, base, q string) searchResult {
	t.Helper()
	code, body := httpGet(t, base+"/api/v1/products/search?facets=false&page_size=5&q="+url.QueryEscape(q))
	if code != 200 {
		t.Fatalf("search %q: %d %s", q, code, body)
	}
	var r searchResult
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("search %q: %v: %s", q, err, body)
	}
	return r
}

// TestServe opens the App on a fresh data directory: the store
// goes through the embedded Kafka broker into the index; it answers search,
// the product page and a 400; an event produced by an independent Kafka
// client (Debian's kcat, where installed) becomes searchable; the
// recommendations are built and answer (checkServeRecs); an online
// reindex keeps every write (reindexWhileWriting); and a restart
// on the same directory rebuilds the index from the ingest logs without
// publishing the store again.
func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("serves the whole store")
	}
	data := filepath.Join(t.TempDir(), "data")
	a := startAisle(t, data, nil)
	if !strings.Contains(a.log.String(), "index caught up with Kafka: 93710 products") {
		t.Errorf("the shipped store did not come in through Kafka:\n%s", a.log.String())
	}
	var id string
	for _, q := range []string{"tea", "milk", "phone"} {
		if r := searchHTTP(t, a.base, q); len(r.Results) > 0 {
			id = r.Results[0].ProductID
			break
		}
	}
	if id == "" {
		t.Fatal("no search found any product in the shipped store")
	}
	code, body := httpGet(t, a.base+"/api/v1/products/"+url.PathEscape(id))
	if code != 200 || !strings.Contains(string(body), `"product_id":`) {
		t.Errorf("product %q: %d %s", id, code, body)
	}
	code, body = httpGet(t, a.base+"/api/v1/products/search?q=tea&sort=cheapest")
	if code != 400 || !strings.Contains(string(body), `"param":"sort"`) {
		t.Errorf("bad sort: %d %s", code, body)
	}

	if kcat, err := exec.LookPath("kcat"); err != nil {
		t.Log("kcat not installed: the independent-client check is skipped (.ci/run installs it)")
	} else if a.broker == "" {
		t.Error("no embedded broker address in the log")
	} else {
		ev := `{"schema":1,"id":"kcat-1","version":1,"product":{"id":"kcat-1","title":"Zorblax kcat kettle","variants":[{"variant_id":"kcat-1-v","price":{"amount":1999,"currency":"USD"},"stock":{"wh-east":3}}]}}`
		cmd := exec.Command(kcat, "-P", "-b", a.broker, "-t", "catalog.products", "-K", "|")
		cmd.Stdin = strings.NewReader("kcat-1|" + ev + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat: %v\n%s", err, out)
		}
		deadline := time.Now().Add(10 * time.Second)
		for searchHTTP(t, a.base, "zorblax").Total != 1 {
			if time.Now().After(deadline) {
				t.Fatal("a product produced with kcat was not searchable within 10 s")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	checkServeRecs(t, a)
	reindexWhileWriting(t, a)
	a.stop(t)
	checkNoSecrets(t, a)
	checkRecsSnapshot(t, a)

	b := startAisle(t, data, nil)
	log := b.log.String()
	if !strings.Contains(log, "products from the ingest logs of generation 2") || strings.Contains(log, "published the shipped store") {
		t.Errorf("restart did not come from the ingest logs alone:\n%s", log)
	}
	if r := searchHTTP(t, b.base, "tea"); r.Total == 0 {
		t.Error("nothing found after the restart")
	}
	b.stop(t)
	checkNoSecrets(t, b)
	if strings.Contains(log, DevCredentialsFile) {
		t.Error("a restart on the same data directory made new dev credentials")
	}
}

// readDevCredentials reads the dev credentials of a's data directory and
// checks they are private to the owner.
func readDevCredentials(t *testing.T, a *aisle) DevCredentials {
	t.Helper()
	path := filepath.Join(a.data, DevCredentialsFile)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want mode 0600", path, fi, err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dc DevCredentials
	if err := json.Unmarshal(raw, &dc); err != nil || dc.SellerAPIKey == "" || dc.AdminKey == "" || dc.UserToken == "" || dc.SellerID == "" || dc.UserID == "" {
		t.Fatalf("%s: %v: %+v", path, err, dc)
	}
	return dc
}

// checkNoSecrets: no key or token of the dev credentials is in the log.
func checkNoSecrets(t *testing.T, a *aisle) {
	t.Helper()
	dc := readDevCredentials(t, a)
	log := a.log.String()
	for _, secret := range []string{dc.SellerAPIKey, dc.AdminKey, dc.UserToken, dc.SellerAPIKey[20:], dc.AdminKey[20:]} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds a secret of %s", DevCredentialsFile)
		}
	}
}

// authDo sends a request with "Authorization: Bearer key" unless key is
// empty and returns the status and body.
func authDo(t *testing.T, key, method, u, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
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

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func httpGet(t *testing.T, u string) (int, []byte) {
	t.Helper()
	// Generous: /healthz once timed out at 10 s on a machine at load 9.
	c := http.Client{Timeout: 60 * time.Second}
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

// reindexWhileWriting starts an online reindex through the admin API, saves
// a product through the seller API while it runs, and checks that the new
// generation serves the whole store and that product.
func reindexWhileWriting(t *testing.T, a *aisle) {
	t.Helper()
	if a.admin == "" {
		t.Fatal("no admin API address in the log")
	}
	dc := readDevCredentials(t, a)
	before := searchHTTP(t, a.base, "tea").Total
	for _, key := range []string{"", dc.SellerAPIKey} {
		if code, out := authDo(t, key, "POST", a.admin+"/admin/reindex", ""); code != 401 && code != 403 {
			t.Fatalf("POST /admin/reindex without the admin key: %d %s", code, out)
		}
	}
	if code, out := authDo(t, dc.AdminKey, "POST", a.admin+"/admin/reindex", ""); code != http.StatusAccepted {
		t.Fatalf("POST /admin/reindex: %d %s", code, out)
	}
	body := `{"title":"Quuxotic reindex teapot","brand":"Aisle","variants":[{"sku":"q-1","price_cents":1500,"stock":[{"warehouse_id":"wh-001","available":4}]}]}`
	if code, out := authDo(t, "", "POST", a.base+"/api/v1/seller/products", body); code != http.StatusUnauthorized {
		t.Fatalf("seller POST without a key: %d %s", code, out)
	}
	if code, out := authDo(t, dc.SellerAPIKey, "POST", a.base+"/api/v1/seller/products", body); code != http.StatusCreated {
		t.Fatalf("seller POST during the reindex: %d %s", code, out)
	}
	// Four more products, rewritten with new titles and versions all
	// through the reindex and just after it: the new generation must hold
	// the newest version of each.
	type written struct {
		id, title string
		version   uint64
	}
	var ws []*written
	put := func(w *written, n int) {
		w.title = fmt.Sprintf("Zorbulous kettle %d rev %d", len(ws), n)
		b := fmt.Sprintf(`{"title":%q,"brand":"Aisle","variants":[{"sku":"z-%d","price_cents":%d,"stock":[{"warehouse_id":"wh-001","available":3}]}]}`, w.title, n, 1000+n)
		method, u := "PUT", a.base+"/api/v1/seller/products/"+w.id
		if w.id == "" {
			method, u = "POST", a.base+"/api/v1/seller/products"
		}
		code, out := authDo(t, dc.SellerAPIKey, method, u, b)
		var r struct {
			ProductID string `json:"product_id"`
			Version   uint64 `json:"version"`
		}
		if (code != http.StatusCreated && code != http.StatusOK) || json.Unmarshal(out, &r) != nil {
			t.Fatalf("seller %s during the reindex: %d %s", method, code, out)
		}
		w.id, w.version = r.ProductID, r.Version
	}
	for range 4 {
		w := &written{}
		put(w, 0)
		ws = append(ws, w)
	}
	writes, after := 0, -1
	deadline := time.Now().Add(120 * time.Second)
	for after < 5 {
		w := ws[writes%len(ws)]
		writes++
		put(w, writes)
		if after >= 0 {
			after++
			continue
		}
		code, b := authDo(t, dc.AdminKey, "GET", a.admin+"/admin/reindex", "")
		var st struct {
			State      string `json:"state"`
			Generation int    `json:"generation"`
			Error      string `json:"error"`
		}
		if code != 200 || json.Unmarshal(b, &st) != nil {
			t.Fatalf("GET /admin/reindex: %d %s", code, b)
		}
		if st.State == "done" && st.Generation == 2 {
			after = 0
		}
		if st.State == "failed" || time.Now().After(deadline) {
			t.Fatalf("reindex %s after %v: %s\n%s", st.State, time.Since(deadline.Add(-120*time.Second)), b, a.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	deadline = time.Now().Add(10 * time.Second)
	for searchHTTP(t, a.base, "quuxotic").Total != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the product saved during the reindex is not in the new generation")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, w := range ws {
		for {
			code, b := httpGet(t, a.base+"/api/v1/products/"+w.id)
			// Every write has its own title: the newest title is the
			// newest version.
			var p struct {
				Title string `json:"title"`
			}
			if code == 200 && json.Unmarshal(b, &p) == nil && p.Title == w.title {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s after %d writes during and after the reindex: %d %s; want v%d %q", w.id, writes, code, b, w.version, w.title)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("%d seller writes during and just after the reindex; the new generation holds the newest version of each product", writes)
	if after := searchHTTP(t, a.base, "tea").Total; after < before {
		t.Errorf("the new generation finds %d products for tea, the old one %d", after, before)
	}
}
