package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/recs"
	"github.com/aisle/aisle/server"
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
		if sc == recs.Cosine {
			cats, err := instacartAisles(train.Items)
			if err != nil {
				t.Fatal(err)
			}
			home, hp := recs.EvaluateHome(l, test, cats, recs.HomeOptions{}, recs.EvalOptions{Seed: 1})
			t.Log(home)
			if hp.String() != pop.String() || home.HitRate < 1.2*pop.HitRate || home.NDCG < 1.2*pop.NDCG {
				t.Errorf("home: HR@10 %.4f NDCG@10 %.4f, popularity %.4f %.4f (%v): want 20%% above", home.HitRate, home.NDCG, pop.HitRate, pop.NDCG, hp)
			}
		}
	}
	t.Log(pop)
	if best < 1.3 {
		t.Errorf("best NDCG@10 is %.2fx popularity; want 1.3x", best)
	}
}

// checkServeRecs is TestServe's check of the recommendations on an empty
// data directory: the App builds the lists in the background and answers
// also-bought and bought-together for the banana, and the demo user's
// home page.
func checkServeRecs(t *testing.T, a *aisle) {
	t.Helper()
	const banana = "instacart-24852"
	var (
		code int
		body []byte
	)
	deadline := time.Now().Add(3 * time.Minute)
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
	// The demo user's home page: its seeded history (three real orders
	// holding a banana) gives a personalized row, then the popular one.
	raw, err := os.ReadFile(filepath.Join(a.data, DevCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	var dc DevCredentials
	if err := json.Unmarshal(raw, &dc); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", a.base+"/api/v1/recs/home", nil)
	req.Header.Set("Authorization", "Bearer "+dc.UserToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var home struct {
		UserID string `json:"user_id"`
		Rows   []struct {
			Kind  string `json:"kind"`
			Items []struct {
				ProductID string `json:"product_id"`
				Reason    string `json:"reason"`
			} `json:"items"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(body, &home); err != nil || resp.StatusCode != 200 || len(home.Rows) != 2 ||
		home.Rows[0].Kind != "personalized" || len(home.Rows[0].Items) < 5 || home.UserID != DemoUser {
		t.Errorf("home of the demo user: %d %s (%v)", resp.StatusCode, body, err)
	} else {
		t.Logf("the demo user's home: %+v", home.Rows[0].Items)
	}
	code, body = httpGet(t, a.base+"/api/v1/products/instacart-0/also-bought")
	if code != 404 {
		t.Errorf("unknown product: %d %s", code, body)
	}
	waitFor(t, time.Minute, "the recs snapshot", func() bool {
		_, err := os.Stat(filepath.Join(a.data, RecsFile))
		return err == nil
	})
}

// checkRecsSnapshot is TestServe's check, after the first stop, that the
// recommendations built are in a snapshot that reads back.
func checkRecsSnapshot(t *testing.T, a *aisle) {
	t.Helper()
	path := filepath.Join(a.data, RecsFile)
	if !strings.Contains(a.log.String(), "aisle: recs (cosine) from 99630 orders (of two items or more)") {
		t.Errorf("no build line in the log:\n%s", a.log.String())
	}
	l, e, err := ReadRecsSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Orders < 90000 || st.Neighbors == 0 || st.Pairs == 0 {
		t.Errorf("snapshot stats %+v", st)
	}
	// The embeddings join the snapshot once built (tens of seconds after
	// the lists, so only when the run lasted that long).
	if strings.Contains(a.log.String(), "with the similar items") && (e == nil || e.Options() != ServedSimilar()) {
		t.Errorf("the log says the similar items were written, the snapshot has %v", e)
	}
}

func TestDemoHistoryAndOrderHook(t *testing.T) {
	h, err := recs.NewHome(recs.HomeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := seedDemoHistory(h); err != nil {
		t.Fatal(err)
	}
	if n := h.Orders(DemoUser); n != 3 {
		t.Errorf("the demo user has %d orders, want 3", n)
	}
	a := &App{}
	if a.orderHook() != nil {
		t.Error("a hook with no recommendations")
	}
	live := recs.NewLive(recs.LiveOptions{})
	a.orders = &orderSinks{home: h, live: live, set: func(server.Recommender) {}}
	hook := a.orderHook()
	hook(catalog.OrderEvent{OrderID: "live-1", UserID: DemoUser, PlacedAt: time.Now(),
		Lines: []catalog.OrderLine{{ProductID: "instacart-1", Quantity: 1}, {ProductID: "instacart-2", Quantity: 1}}})
	if n := h.Orders(DemoUser); n != 4 {
		t.Errorf("after a live order the demo user has %d orders, want 4", n)
	}
	if n := live.Count("instacart-1", "instacart-2"); n != 1 {
		t.Errorf("after a live order the pair was bought together %d times, want 1", n)
	}
}
