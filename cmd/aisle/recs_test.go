package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aisle/aisle/recs"
)

// TestRecsBeatPopularity is basket completion on the held-out orders
// (order_id % 11 == 0, a sample of 3,000): hide one item, predict it from
// the rest. Both scorers must beat the most-popular baseline on HR@10 and
// NDCG@10 by at least 20%, the better one by 30%.
func TestRecsBeatPopularity(t *testing.T) {
	train, test, err := splitOrders()
	if err != nil {
		t.Fatal(err)
	}
	test = test[:min(3000, len(test))]
	best := 0.0
	var pop recs.EvalResult
	for _, sc := range []recs.Scorer{recs.Cosine, recs.SmithLinden} {
		l, err := recs.Build(context.Background(), train, recs.Options{Scorer: sc})
		if err != nil {
			t.Fatal(err)
		}
		var learned recs.EvalResult
		learned, pop = recs.Evaluate(l, test, recs.EvalOptions{Seed: 1})
		t.Log(learned)
		if learned.HitRate < 1.2*pop.HitRate || learned.NDCG < 1.2*pop.NDCG {
			t.Errorf("%v: HR@10 %.4f NDCG@10 %.4f, popularity %.4f %.4f: want 20%% above", sc, learned.HitRate, learned.NDCG, pop.HitRate, pop.NDCG)
		}
		best = max(best, learned.NDCG/pop.NDCG)
	}
	t.Log(pop)
	if best < 1.3 {
		t.Errorf("best NDCG@10 is %.2fx popularity; want 1.3x", best)
	}
}

// TestServeRecs starts the binary on an empty data directory: it builds
// the lists in the background, answers also-bought and bought-together for
// the banana, and leaves a snapshot that reads back.
func TestServeRecs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary over the whole store")
	}
	bin := buildAisle(t)
	data := filepath.Join(t.TempDir(), "data")
	a := startAisle(t, bin, data)
	const banana = "instacart-24852"
	var (
		code int
		body []byte
	)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body = httpGet(t, a.base+"/api/v1/products/"+banana+"/also-bought?limit=5")
		if code != 503 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var r struct {
		Items []struct {
			ProductID string `json:"product_id"`
			Title     string `json:"title"`
		} `json:"items"`
		Bundles []struct {
			ProductIDs []string `json:"product_ids"`
		} `json:"bundles"`
	}
	if err := json.Unmarshal(body, &r); err != nil || code != 200 || len(r.Items) == 0 {
		t.Fatalf("also-bought of the banana: %d %s (%v)\n%s", code, body, err, a.log.String())
	}
	t.Logf("also bought with the banana: %+v", r.Items)
	code, body = httpGet(t, a.base+"/api/v1/recs/bought-together/"+banana)
	r.Items, r.Bundles = nil, nil
	if err := json.Unmarshal(body, &r); err != nil || code != 200 || len(r.Bundles) == 0 {
		t.Errorf("bought-together of the banana: %d %s (%v)", code, body, err)
	}
	code, body = httpGet(t, a.base+"/api/v1/products/instacart-0/also-bought")
	if code != 404 {
		t.Errorf("unknown product: %d %s", code, body)
	}
	deadline = time.Now().Add(10 * time.Second)
	path := filepath.Join(data, recsFile)
	for {
		if _, err := os.Stat(path); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.stop(t)
	if !strings.Contains(a.log.String(), "aisle: recs (cosine) from 99630 orders (of two items or more)") {
		t.Errorf("no build line in the log:\n%s", a.log.String())
	}
	l, err := readRecs(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Orders < 90000 || st.Neighbors == 0 || st.Pairs == 0 {
		t.Errorf("snapshot stats %+v", st)
	}
}
