package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/cluster"
	"github.com/aisle/aisle/corpora"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/query"
	"github.com/aisle/aisle/search"
	"github.com/aisle/aisle/server"
)

// TestCluster runs a cluster on loopback: an embedded broker, two replica
// sets of two index nodes each and a router, over a slice of Icecat. The
// router's answers are byte for byte those of one process holding every
// product (through the same HTTP API); with one node of a replica set
// closed they stay complete through the other set; with both holders of a
// shard closed they are partial:true naming it, not errors.
func TestCluster(t *testing.T) {
	const shards = 4
	all, err := corpora.Icecat()
	if err != nil {
		t.Fatal(err)
	}
	ps := all[:1500]
	b, err := ingest.StartBroker(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	prod, err := ingest.NewProducer(b.Addrs(), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := ingest.EnsureTopics(ctx, prod, shards); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.PublishProducts(ctx, prod, ps); err != nil {
		t.Fatal(err)
	}

	// The single-process answer: one engine with every product, behind
	// the same HTTP API.
	one, err := search.New(search.Options{Shards: shards})
	if err != nil {
		t.Fatal(err)
	}
	if err := one.Upsert(ps...); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ref := server.New(server.Services{Engine: one, Ready: func() bool { return true }}, server.Options{SearchRate: -1})
	go ref.Serve(ln)
	defer ref.Shutdown(context.Background())
	refBase := "http://" + ln.Addr().String()

	open := func(edit func(*Options)) *App {
		o := DefaultOptions()
		o.Addr, o.Data, o.Shards, o.Brokers, o.SearchRate = "127.0.0.1:0", t.TempDir(), shards, b.Addrs(), -1
		o.Log = &syncBuffer{}
		edit(&o)
		a, err := Open(ctx, o)
		if err != nil {
			t.Fatalf("Open %s: %v\n%s", o.Role, err, o.Log.(*syncBuffer).String())
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	nodes := map[string]*App{}
	for _, id := range []string{"a1", "a2", "b1", "b2"} {
		nodes[id] = open(func(o *Options) { o.Role, o.ReplicaSet, o.NodeID = RoleIndex, id[:1], id })
	}
	router := open(func(o *Options) { o.Role, o.ReplicaSets = RoleRouter, []string{"a", "b"} })
	base := "http://" + router.Addr().String()

	// Ready once every product is searchable through both replica sets:
	// each node answers only for the shards it caught up on.
	want := fmt.Sprintf(`"total":%d,`, len(ps))
	deadline := time.Now().Add(3 * time.Minute)
	for {
		_, body := httpGet(t, base+"/api/v1/products/search?q=&page_size=1")
		if strings.Contains(string(body), want) && !strings.Contains(string(body), "partial") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Both replica sets must serve every shard before a node goes: the
	// loop above passes as soon as the router can answer through either
	// set. The groups' own description (read here as the router reads
	// it) must list a node of each set for every shard, and each node
	// must have logged that it serves its shards (caught up); then the
	// router's membership, read every 250 ms, is given a second to see
	// the same.
	mem := &cluster.Members{Client: prod, ReplicaSets: []string{"a", "b"}, Shards: shards, Topic: ingest.TopicProducts}
	lastServing := func(id string) []int {
		log := nodes[id].opts.Log.(*syncBuffer).String()
		i := strings.LastIndex(log, "serving shards [")
		if i < 0 {
			return nil
		}
		list, _, _ := strings.Cut(strings.TrimPrefix(log[i:], "serving shards ["), "]")
		var out []int
		for _, w := range strings.Fields(list) {
			var n int
			if _, err := fmt.Sscan(w, &n); err == nil {
				out = append(out, n)
			}
		}
		return out
	}
	for deadline := time.Now().Add(3 * time.Minute); ; {
		tb, err := mem.Read(ctx)
		ok := err == nil && len(tb.Problems) == 0
		for s := range shards {
			ok = ok && len(tb.Shards[s]) == 2
		}
		for _, set := range [][2]string{{"a1", "a2"}, {"b1", "b2"}} {
			served := append(lastServing(set[0]), lastServing(set[1])...)
			for s := range shards {
				ok = ok && slices.Contains(served, s)
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica sets never both served every shard: table %+v, err %v", tb, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)

	generated := 150
	if testing.Short() { // the CI's race pass
		generated = 50
	}
	queries := clusterQueries(t, ps, generated)
	same := func(t *testing.T, qs []string) {
		t.Helper()
		found := 0
		for _, q := range qs {
			_, got := httpGet(t, base+"/api/v1/products/search?"+q)
			_, want := httpGet(t, refBase+"/api/v1/products/search?"+q)
			if g, w := stripTook(got), stripTook(want); g != w {
				t.Errorf("%s:\nrouter %s\nsingle %s", q, g, w)
			}
			if strings.Contains(string(want), `"product_id"`) {
				found++
			}
		}
		if found < len(qs)/2 {
			t.Errorf("only %d of %d queries found products: a weak comparison", found, len(qs))
		}
	}
	t.Run("equivalent", func(t *testing.T) {
		same(t, queries)
		for _, p := range ps[:20] { // product pages: the whole product
			code, got := httpGet(t, base+"/api/v1/products/"+url.PathEscape(p.ID))
			_, want := httpGet(t, refBase+"/api/v1/products/"+url.PathEscape(p.ID))
			if code != 200 || string(got) != string(want) {
				t.Errorf("product %s: %d %s\nwant %s", p.ID, code, got, want)
			}
		}
	})

	// One node of replica set a goes (its listener closes, as after
	// kill -9; a static member does not leave its group): set b answers
	// for its shards at once, and no answer fails or is partial. The
	// group then gives a1's shards to a2, which serves them once caught
	// up.
	t.Run("one node down", func(t *testing.T) {
		nodes["a1"].Close()
		down := time.Now()
		same(t, queries[:40])
		log := nodes["a2"].opts.Log.(*syncBuffer)
		for !strings.Contains(log.String(), "serving shards [0 1 2 3]") {
			if time.Since(down) > 2*time.Minute {
				t.Fatalf("a2 never took over a1's shards:\n%s", log.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("a2 serves every shard %.1f s after a1 went (session timeout 6 s)", time.Since(down).Seconds())
		nodes["b1"].Close()
		nodes["b2"].Close()
		same(t, queries[40:60])
	})
	// The last replica goes: answers are partial:true naming the shards,
	// status 200.
	t.Run("last replica down", func(t *testing.T) {
		nodes["a2"].Close()
		code, body := httpGet(t, base+"/api/v1/products/search?q=&page_size=1")
		if code != 200 || !strings.Contains(string(body), `"partial":true,"missing_shards":[0,1,2,3]`) {
			t.Fatalf("status %d: %s", code, body)
		}
	})
}

var tookRe = regexp.MustCompile(`"took_ms":[0-9.]+`)

func stripTook(b []byte) string { return tookRe.ReplaceAllString(string(b), "") }

// clusterQueries are the judged Icecat queries and n generated ones (title
// words, filters, sorts, pages, facets), as query strings.
func clusterQueries(t *testing.T, ps []*catalog.Product, n int) []string {
	js, err := corpora.IcecatJudgments()
	if err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, j := range js {
		q := "q=" + url.QueryEscape(j.Query) + "&page_size=10&facets=true"
		if !slices.Contains(qs, q) {
			qs = append(qs, q)
		}
	}
	r := rand.New(rand.NewPCG(20, 2))
	sorts := []string{"relevance", "price_asc", "price_desc", "rating", "newest"}
	for range n {
		p := ps[r.IntN(len(ps))]
		ws := query.Words(p.Title)
		var words []string
		for range 1 + r.IntN(3) {
			if len(ws) > 0 {
				words = append(words, ws[r.IntN(len(ws))].Text)
			}
		}
		v := url.Values{"q": {strings.Join(words, " ")}, "page_size": {"10"}, "page": {fmt.Sprint(1 + r.IntN(3))},
			"sort": {sorts[r.IntN(len(sorts))]}, "facets": {fmt.Sprint(r.IntN(2) == 0)}}
		switch r.IntN(4) {
		case 0:
			v.Set("brand", p.Brand)
		case 1:
			v.Set("category", catalog.CategorySlug(p.Category[:1]))
		case 2:
			v.Set("price_max", "100")
			v.Set("in_stock", "true")
		}
		qs = append(qs, v.Encode())
	}
	return qs
}
