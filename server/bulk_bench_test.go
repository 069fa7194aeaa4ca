package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// ndjsonBulkBody returns n products as an NDJSON bulk body.
func ndjsonBulkBody(n int, word string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"title":"%s bulk item %d","brand":"Acme","category_path":["Home","Kitchen"],"description":"%s","variants":[{"sku":"S-%d","price_cents":%d,"stock":[{"warehouse_id":"w","available":3}]}]}`+"\n",
			word, i, strings.Repeat("lorem ipsum ", 20), i, 100+i)
	}
	return b.String()
}

// TestBulkNDJSON: an NDJSON body through the real broker and index: every
// product is published, in batches, and searchable; a bad line is named
// products[i] with i its product number.
func TestBulkNDJSON(t *testing.T) {
	e := startWriteEnv(t)
	bad := ndjsonBulkBody(2, "x") + `{"title":"","variants":[{"price_cents":1}]}` + "\n"
	code, m := postBulk(t, e.base, e.keys.seller, "application/x-ndjson", bad)
	if er, _ := m["error"].(map[string]any); code != 400 || er["param"] != "products[2].title" {
		t.Fatalf("bad NDJSON line: %d %v", code, m)
	}
	code, m = postBulk(t, e.base, e.keys.seller, "application/x-ndjson", ndjsonBulkBody(2500, "quokka")+"\n")
	if code != 202 || m["total"] != 2500.0 {
		t.Fatalf("NDJSON bulk: %d %v", code, m)
	}
	m = waitBulk(t, e.base, e.keys.seller, m["status_url"].(string))
	if m["published"] != 2500.0 || m["failed"] != 0.0 {
		t.Fatalf("job: %v", m)
	}
	code, _, res := do(t, "GET", e.base+"/api/v1/products/search?facets=false&q=quokka&min_offset="+m["min_offset"].(string), "")
	if code != 200 {
		t.Fatalf("search: %d", code)
	}
	// min_offset covers the partition of the last product; wait for all.
	deadline := time.Now().Add(30 * time.Second)
	for res["total"] != 2500.0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		_, _, res = do(t, "GET", e.base+"/api/v1/products/search?facets=false&q=quokka", "")
	}
	if res["total"] != 2500.0 {
		t.Fatalf("%v of 2500 bulk products are searchable", res["total"])
	}
}

func postBulk(t testing.TB, base, key, ct, body string) (int, map[string]any) {
	req, _ := http.NewRequest("POST", base+bulkPath, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// BenchmarkBulkEndpoint posts 10,000 products a request through the real
// broker (kfake on loopback, fsynced) while the indexer consumes them, and
// reports products/s from the POST to the job's last acknowledgement.
func BenchmarkBulkEndpoint(b *testing.B) {
	e := startWriteEnv(b)
	const n = 10_000
	bodies := map[string]string{"ndjson": ndjsonBulkBody(n, "wombat"), "json": bulkBody(n, "wombat")}
	for _, form := range []string{"ndjson", "json"} {
		b.Run("form="+form, func(b *testing.B) {
			ct := "application/json"
			if form == "ndjson" {
				ct = "application/x-ndjson"
			}
			var took time.Duration
			for b.Loop() {
				start := time.Now()
				code, m := postBulk(b, e.base, e.keys.seller, ct, bodies[form])
				if code != 202 {
					b.Fatalf("%d %v", code, m)
				}
				for {
					_, st := getJSON(b, e.base+m["status_url"].(string), e.keys.seller)
					if st["state"] == "done" {
						if st["published"] != float64(n) {
							b.Fatalf("job: %v", st)
						}
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				took += time.Since(start)
			}
			b.ReportMetric(float64(n*b.N)/took.Seconds(), "products/s")
		})
	}
}

func getJSON(t testing.TB, u, key string) (int, map[string]any) {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}
