package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/ingest"
)

// getJSON GETs u and decodes its JSON object.
func getJSON(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	code, body := httpGet(t, u)
	var m map[string]any
	if len(body) > 0 && body[0] == '{' {
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("GET %s: %v: %s", u, err, body)
		}
	}
	return code, m
}

func resultIDs(m map[string]any) []string {
	var ids []string
	rs, _ := m["results"].([]any)
	for _, r := range rs {
		ids = append(ids, r.(map[string]any)["product_id"].(string))
	}
	return ids
}

// TestStoreNone: `serve --store none` is healthy at once with no product;
// search, facets, suggest, product pages, recommendations and the
// storefront page answer sensibly; the example catalog imported (NDJSON
// and CSV, through the running server's embedded broker) is searchable,
// and its spelling, autocomplete, categories, facets and brands follow
// within seconds, with none of the demo store's words; a re-import
// publishes nothing; a seller's delete takes the product out of search
// and its page.
func TestStoreNone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	a := startAisle(t, t.TempDir(), func(o *Options) { o.Store = StoreNone })
	for _, u := range []string{
		"/api/v1/products/search?q=kettle", "/api/v1/products/search?q=", "/api/v1/products/search?q=mouse&brand=logitech&sort=price_asc",
		"/api/v1/suggest?q=ke", "/api/v1/products/search?q=wirelss+hedphones+under+200",
	} {
		code, m := getJSON(t, a.base+u)
		if code != 200 || m["total"] != nil && m["total"] != 0.0 {
			t.Errorf("empty store: GET %s: %d %v", u, code, m)
		}
	}
	if code, _ := httpGet(t, a.base+"/api/v1/products/icecat-3466442"); code != 404 {
		t.Errorf("a demo product's page on an empty store: %d", code)
	}
	if code, body := httpGet(t, a.base+"/"); code != 200 || !strings.Contains(string(body), "<html") {
		t.Errorf("storefront page on an empty store: %d", code)
	}
	for _, c := range []struct {
		u    string
		want int
	}{{"/api/v1/recs/home", 200}, {"/api/v1/products/nope/also-bought", 404}, {"/api/v1/products/nope/bought-together", 404}} {
		if code, body := httpGet(t, a.base+c.u); code != c.want {
			t.Errorf("empty store: GET %s: %d %s; want %d", c.u, code, body, c.want)
		}
	}

	// Import the example catalog, as `aisle import --data DIR` does.
	brokers, err := ingest.EmbeddedBrokerAddrs(filepath.Join(a.data, "kafka"))
	if err != nil {
		t.Fatal(err)
	}
	importFiles := func(names ...string) *ingest.ImportResult {
		t.Helper()
		var srcs []ingest.ImportSource
		for _, n := range names {
			src, c, err := ingest.OpenCatalogFile(filepath.Join("..", "corpora", "example", n), 0)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			srcs = append(srcs, src)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err := ingest.Import(ctx, srcs, ingest.ImportOptions{Brokers: brokers, SpoolDir: t.TempDir()})
		if err != nil {
			t.Fatalf("import: %v %+v", err, res)
		}
		if res.Published > 0 {
			if _, err := ingest.WaitIndexed(ctx, brokers, res.Offsets); err != nil {
				t.Fatal(err)
			}
		}
		return res
	}
	start := time.Now()
	res := importFiles("my-catalog.ndjson", "my-catalog.csv")
	if res.Created != 14 || res.Variants != 20 {
		t.Fatalf("import: %+v", res)
	}
	code, m := getJSON(t, a.base+"/api/v1/products/search?q=tent")
	if ids := resultIDs(m); code != 200 || !slices.Contains(ids, "tent-2p") || !slices.Contains(ids, "tent-4p") {
		t.Fatalf("search after the import: %d %v", code, ids)
	}
	facets, _ := m["facets"].(map[string]any)
	brands, _ := json.Marshal(facets["brand"])
	cats, _ := json.Marshal(facets["category"])
	if !strings.Contains(string(brands), "Northpeak") || !strings.Contains(string(cats), `"camping/tents"`) {
		t.Errorf("facets after the import: brands %s, categories %s", brands, cats)
	}
	if code, m := getJSON(t, a.base+"/api/v1/products/socks-merino"); code != 200 || m["title"] != "Merino hiking socks" {
		t.Errorf("the CSV product's page: %d %v", code, m)
	}
	// Derived data: rebuilt in the background after the catalog changes.
	var derived time.Duration
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, sg := getJSON(t, a.base+"/api/v1/suggest?q=slee")
		_, sp := getJSON(t, a.base+"/api/v1/products/search?q=slepping+bag&facets=false")
		raw, _ := json.Marshal(sg)
		if strings.Contains(string(raw), "sleeping") && len(resultIDs(sp)) == 2 && sp["relaxed"] == false {
			derived = time.Since(start)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spelling and autocomplete did not follow the import: suggest %s, search %v", raw, sp)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("spelling and autocomplete of the imported catalog %.2f s after the import started", derived.Seconds())
	// None of the demo store's words.
	for _, q := range []string{"logit", "banan", "wireless m"} {
		_, sg := getJSON(t, a.base+"/api/v1/suggest?q="+url.QueryEscape(q))
		if s, _ := sg["suggestions"].([]any); len(s) > 0 {
			t.Errorf("suggest %q on the imported catalog: %v", q, s)
		}
	}

	// Similar items follow the catalog: built from the imported
	// products' content (before, 503 for good).
	deadline = time.Now().Add(60 * time.Second)
	for {
		code, body := httpGet(t, a.base+"/api/v1/products/tent-2p/similar")
		if code == 200 {
			if !strings.Contains(string(body), `"tent-4p"`) {
				t.Errorf("similar items of tent-2p: %s; want tent-4p among them", body)
			}
			t.Logf("similar items of the imported catalog %.2f s after the import started", time.Since(start).Seconds())
			break
		}
		if code != 503 || time.Now().After(deadline) {
			t.Fatalf("similar items of an imported product: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, u := range []string{"/api/v1/products/tent-2p/also-bought", "/api/v1/products/tent-2p/bought-together", "/api/v1/recs/home"} {
		if code, body := httpGet(t, a.base+u); code != 200 {
			t.Errorf("tiny store: GET %s: %d %s", u, code, body)
		}
	}

	// A re-import publishes nothing.
	if res := importFiles("my-catalog.ndjson"); res.Unchanged != 12 || res.Published != 0 {
		t.Errorf("re-import: %+v", res)
	}

	// Delete through the seller API: the demo seller imports a product
	// of its own, then deletes it.
	var creds struct {
		SellerID  string `json:"seller_id"`
		SellerKey string `json:"seller_api_key"`
	}
	raw, err := os.ReadFile(filepath.Join(a.data, "dev-credentials.json"))
	if err != nil || json.Unmarshal(raw, &creds) != nil {
		t.Fatalf("credentials: %v", err)
	}
	line, _ := catalog.AppendNDJSON(nil, &catalog.Product{ID: "lantern-1", Title: "Glowworm camp lantern",
		Variants: []catalog.Variant{{ID: "lantern-1", Price: catalog.Money{Amount: 2500, Currency: "USD"}}}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r2, err := ingest.Import(ctx, []ingest.ImportSource{{Name: "lantern", Format: catalog.FileNDJSON, R: strings.NewReader(string(line))}},
		ingest.ImportOptions{Brokers: brokers, Seller: creds.SellerID, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.WaitIndexed(ctx, brokers, r2.Offsets); err != nil {
		t.Fatal(err)
	}
	del := func(id string) int {
		req, _ := http.NewRequest("DELETE", a.base+"/api/v1/seller/products/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+creds.SellerKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := del("tent-2p"); code != 403 {
		t.Errorf("the seller deleting the store's own product: %d", code)
	}
	if code := del("lantern-1"); code != 200 {
		t.Fatalf("DELETE lantern-1: %d", code)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		_, m := getJSON(t, a.base+"/api/v1/products/search?q=lantern&facets=false")
		code, _ := httpGet(t, a.base+"/api/v1/products/lantern-1")
		if len(resultIDs(m)) == 0 && code == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lantern-1 still served after its delete: search %v, page %d", resultIDs(m), code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
