package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/commerce"
)

type reviewFixture struct {
	base   string
	tokens map[string]string // user -> token
	pid    string
	store  *commerce.Store
}

// newReviewServer serves the test engine with a review service over a
// fresh store in which each user of delivered has a delivered order of
// the first test product.
func newReviewServer(t *testing.T, delivered ...string) reviewFixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "commerce.db")
	pid := testProducts()[0].ID
	if len(delivered) > 0 { // the purchases key MarkDelivered writes
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("purchases"))
			for _, u := range delivered {
				if err == nil {
					err = b.Put([]byte(u+"\x00"+pid), []byte("o-"+u))
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	st, err := commerce.Open(commerce.Options{Path: path, Replica: "A"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rv, err := commerce.NewReviews(st, commerce.ReviewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := auth.NewTokens([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	svc := testSvc(newTestEngine(t))
	svc.Reviews, svc.Moderator = rv, rv
	s := New(svc, Options{Logf: checkedLogf(t), Tokens: tk})
	f := reviewFixture{base: serveOver(t, s), tokens: map[string]string{}, pid: pid, store: st}
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		f.tokens[u], _ = tk.Sign(u, time.Hour)
	}
	return f
}

func errCode(m map[string]any) (code, param string) {
	e, _ := m["error"].(map[string]any)
	code, _ = e["code"].(string)
	param, _ = e["param"].(string)
	return code, param
}

func TestReviewEndpointsFlow(t *testing.T) {
	f := newReviewServer(t, "alice")
	reviews := f.base + "/api/v1/products/" + f.pid + "/reviews"
	st, _, m := doAs(t, f.tokens["alice"], "POST", reviews, `{"rating":5,"title":"Superb","body":"Clear sound, long battery."}`)
	if st != 201 || m["status"] != "published" || m["verified"] != true || len(m["reasons"].([]any)) != 0 {
		t.Fatalf("alice's post: %d %v", st, m)
	}
	aliceID := m["review_id"].(string)
	st, _, m = doAs(t, f.tokens["bob"], "POST", reviews, `{"rating":2,"body":"Meh."}`)
	if st != 201 || m["status"] != "published" || m["verified"] != false {
		t.Fatalf("bob's post: %d %v", st, m)
	}
	bobID := m["review_id"].(string)
	st, _, m = doAs(t, f.tokens["carol"], "POST", reviews, `{"rating":4,"body":"Cheaper on www.grey-market.example.com"}`)
	if st != 201 || m["status"] != "held" || fmt.Sprint(m["reasons"]) != "[link_spam]" {
		t.Fatalf("carol's spam: %d %v", st, m)
	}
	heldID := m["review_id"].(string)
	st, _, m = doAs(t, f.tokens["alice"], "POST", reviews, `{"rating":1,"body":"changed my mind"}`)
	if code, _ := errCode(m); st != 409 || code != CodeAlreadyReviewed {
		t.Errorf("second review: %d %v; want 409 already_reviewed", st, m)
	}

	for _, c := range []struct {
		user, id string
		status   int
		want     string
	}{
		{"bob", aliceID, 200, "map[counted:true helpful:1]"},
		{"bob", aliceID, 200, "map[counted:false helpful:1]"},
		{"dave", aliceID, 200, "map[counted:true helpful:2]"},
		{"alice", aliceID, 403, CodeOwnReview},
		{"dave", heldID, 404, CodeNotFound},
		{"dave", "rv-unknown", 404, CodeNotFound},
	} {
		st, _, m := doAs(t, f.tokens[c.user], "POST", reviews+"/"+c.id+"/helpful", "")
		got := fmt.Sprint(m)
		if code, _ := errCode(m); code != "" {
			got = code
		}
		if st != c.status || got != c.want {
			t.Errorf("%s votes on %s: %d %s; want %d %s", c.user, c.id, st, got, c.status, c.want)
		}
	}

	st, _, m = doAs(t, "", "GET", reviews+"?sort=rating&limit=5", "")
	if st != 200 || m["product_id"] != f.pid || m["total"] != 2.0 {
		t.Fatalf("listing: %d %v", st, m)
	}
	sum := m["summary"].(map[string]any)
	if sum["avg"] != 3.5 || sum["count"] != 2.0 || fmt.Sprint(sum["distribution"]) != "[0 1 0 0 1]" {
		t.Errorf("summary %v; want avg 3.5 of 2, distribution [0 1 0 0 1]", sum)
	}
	rs := m["reviews"].([]any)
	first := rs[0].(map[string]any)
	if len(rs) != 2 || first["review_id"] != aliceID || first["verified"] != true || first["helpful"] != 2.0 ||
		first["user_id"] != "alice" || first["title"] != "Superb" || rs[1].(map[string]any)["review_id"] != bobID {
		t.Errorf("reviews %v; want alice's (verified, 2 helpful) then bob's", rs)
	}
	if ts, _ := first["created_at"].(string); !strings.HasPrefix(ts, "20") {
		t.Errorf("created_at %q", ts)
	}
	st, _, m = doAs(t, "", "GET", reviews+"?sort=recent&limit=1&offset=1", "")
	if rs := m["reviews"].([]any); st != 200 || len(rs) != 1 || rs[0].(map[string]any)["review_id"] != aliceID {
		t.Errorf("recent, offset 1: %d %v", st, m)
	}
}

func TestReviewListParams(t *testing.T) {
	f := newReviewServer(t)
	reviews := "/api/v1/products/" + f.pid + "/reviews"
	for _, c := range []struct {
		query       string
		status      int
		code, param string
	}{
		{"", 200, "", ""},
		{"?sort=helpful&limit=50&offset=0", 200, "", ""},
		{"?sort=recent", 200, "", ""},
		{"?sort=rating&offset=1000", 200, "", ""},
		{"?sort=newest", 400, CodeInvalidParameter, "sort"},
		{"?sort=", 400, CodeInvalidParameter, "sort"},
		{"?limit=51", 400, CodeInvalidParameter, "limit"},
		{"?limit=0", 400, CodeInvalidParameter, "limit"},
		{"?limit=ten", 400, CodeInvalidParameter, "limit"},
		{"?offset=-1", 400, CodeInvalidParameter, "offset"},
		{"?offset=99999999999999999999", 400, CodeInvalidParameter, "offset"},
		{"?sort=recent&sort=rating", 400, CodeInvalidParameter, "sort"},
		{"?page=2", 400, CodeUnknownParameter, "page"},
		{"?limit=5&Sort=recent", 400, CodeUnknownParameter, "Sort"},
	} {
		st, _, m := doAs(t, "", "GET", f.base+reviews+c.query, "")
		code, param := errCode(m)
		if st != c.status || code != c.code || param != c.param {
			t.Errorf("GET %s: %d %s %s; want %d %s %s", c.query, st, code, param, c.status, c.code, c.param)
		}
	}
	st, _, m := doAs(t, "", "GET", f.base+"/api/v1/products/no-such-product/reviews", "")
	if code, _ := errCode(m); st != 404 || code != CodeNotFound {
		t.Errorf("unknown product: %d %v", st, m)
	}
	st, _, m = doAs(t, f.tokens["bob"], "POST", f.base+"/api/v1/products/no-such-product/reviews", `{"rating":3,"body":"x"}`)
	if code, _ := errCode(m); st != 404 || code != CodeNotFound {
		t.Errorf("post on an unknown product: %d %v", st, m)
	}
}

func TestReviewPostBodyErrors(t *testing.T) {
	f := newReviewServer(t)
	reviews := f.base + "/api/v1/products/" + f.pid + "/reviews"
	for _, c := range []struct {
		body, param string
	}{
		{`{"rating":5,"body":"ok","stars":5}`, "stars"},
		{`{"body":"no rating"}`, "rating"},
		{`{"rating":0,"body":"x"}`, "rating"},
		{`{"rating":6,"body":"x"}`, "rating"},
		{`{"rating":4.5,"body":"x"}`, "rating"},
		{`{"rating":"5","body":"x"}`, "rating"},
		{`{"rating":5}`, "body"},
		{`{"rating":5,"body":""}`, "body"},
		{`{"rating":5,"body":" \n\t "}`, "body"},
		{`{"rating":5,"body":"` + strings.Repeat("a", 5001) + `"}`, "body"},
		{`{"rating":5,"body":"x","title":"` + strings.Repeat("t", 121) + `"}`, "title"},
		{`{"rating":5,"body":["x"]}`, "body"},
		{`{"rating":5,"body":"x","title":7}`, "title"},
		{``, ""},
		{`not json`, ""},
		{`{"rating":5,"body":"x"} {}`, ""},
		{`[]`, ""},
	} {
		st, _, m := doAs(t, f.tokens["alice"], "POST", reviews, c.body)
		code, param := errCode(m)
		msg, _ := m["error"].(map[string]any)["message"].(string)
		if st != 400 || code != CodeInvalidBody || param != c.param || msg == "" {
			t.Errorf("body %.60q: %d %s %q (%s); want 400 invalid_body %q", c.body, st, code, param, msg, c.param)
		}
	}
	// Nothing was written: alice may still post.
	if st, _, m := doAs(t, f.tokens["alice"], "POST", reviews, `{"rating":5,"title":"`+strings.Repeat("t", 120)+`","body":"`+strings.Repeat("b", 5000)+`"}`); st != 201 {
		t.Errorf("a review at the limits: %d %v", st, m)
	}
}

func TestReviewRoutes(t *testing.T) {
	f := newReviewServer(t)
	p := "/api/v1/products/" + f.pid
	tok := f.tokens["alice"]
	for _, c := range []struct {
		token, method, path string
		status              int
	}{
		{"", "POST", p + "/reviews", 401},
		{"not-a-token", "POST", p + "/reviews", 401},
		{"", "POST", p + "/reviews/rv-1/helpful", 401},
		{tok, "DELETE", p + "/reviews", 405},
		{tok, "PUT", p + "/reviews", 405},
		{tok, "GET", p + "/reviews/rv-1/helpful", 405},
		{tok, "POST", p + "/reviews/rv-1", 404},
		{tok, "POST", p + "/reviews//helpful", 404},
		{tok, "POST", p + "/reviews/a/b/helpful", 404},
		{tok, "GET", "/api/v1/products//reviews", 404},
		{tok, "POST", p + "/reviews/rv-1/helpful", 404},
	} {
		if st, _, m := doAs(t, c.token, c.method, f.base+c.path, ""); st != c.status {
			t.Errorf("%s %s: %d %v; want %d", c.method, c.path, st, m, c.status)
		}
	}
	// Without a review service: 501 after authentication.
	tk, _ := auth.NewTokens([]byte(strings.Repeat("k", 32)))
	base := serveOver(t, New(testSvc(newTestEngine(t)), Options{Logf: checkedLogf(t), Tokens: tk}))
	if st, _, _ := doAs(t, "", "GET", base+p+"/reviews", ""); st != 501 {
		t.Errorf("GET without a service: %d; want 501", st)
	}
	if st, _, _ := doAs(t, "", "POST", base+p+"/reviews", `{}`); st != 401 {
		t.Errorf("POST without a service or token: %d; want 401", st)
	}
	// A closed store: 503, no detail.
	f.store.Close()
	st, _, m := doAs(t, "", "GET", f.base+p+"/reviews", "")
	if code, _ := errCode(m); st != 503 || code != CodeUnavailable {
		t.Errorf("closed store: %d %v; want 503", st, m)
	}
}

func FuzzReviewBody(f *testing.F) {
	for _, s := range []string{
		`{"rating":5,"title":"Great","body":"Works."}`,
		`{"rating":1,"body":"x"}`,
		`{"rating":0,"body":"x"}`,
		`{"rating":5,"body":"x","extra":1}`,
		`{"rating":5,"body":"\u00e9\ud800"}`,
		`{"rating":5,"body":"` + strings.Repeat("é", 2501) + `"}`,
		`{"rating":1e400,"body":"x"}`,
		`{"rating":5,"body":null,"title":null}`,
		`[[[[[[[[[[[[]]]]]]]]]]]]`,
		`{"rating":5,"body":"x"}garbage`,
		``,
		"\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rating, title, text, err := decodeReviewBody(body)
		if err != nil {
			var be *bodyError
			if !errors.As(err, &be) || be.Error() == "" {
				t.Fatalf("error %v (%T) is not a bodyError with a message", err, err)
			}
			return
		}
		if rating < 1 || rating > 5 || len(title) > commerce.MaxReviewTitleBytes || len(text) > commerce.MaxReviewBodyBytes ||
			strings.TrimSpace(text) == "" || !utf8.ValidString(title) || !utf8.ValidString(text) {
			t.Fatalf("accepted rating %d, title %q, body %q", rating, title, text)
		}
		in := commerce.NewReview{UserID: "u", ProductID: "p", Rating: rating, Title: title, Body: text}
		if err := in.Validate(); err != nil {
			t.Fatalf("the server accepted what the store refuses: %v", err)
		}
	})
}

// BenchmarkReviewEndpoints measures the listing (a product with 1,000
// published reviews, first page by helpful) and posting over loopback
// HTTP, reporting the p99 latency.
func BenchmarkReviewEndpoints(b *testing.B) {
	path := filepath.Join(b.TempDir(), "commerce.db")
	st, err := commerce.Open(commerce.Options{Path: path, Replica: "A", GroupCommit: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	rv, _ := commerce.NewReviews(st, commerce.ReviewOptions{RateLimit: 1 << 30})
	pid := testProducts()[0].ID
	now := time.Now()
	for i := range 1000 {
		in := commerce.NewReview{UserID: fmt.Sprintf("seed%d", i), ProductID: pid, Rating: 2 + i%3,
			Body: fmt.Sprintf("review number %d of the seed set", i)}
		if _, err := rv.Post(in, now); err != nil {
			b.Fatal(err)
		}
	}
	tk, _ := auth.NewTokens([]byte(strings.Repeat("k", 32)))
	svc := testSvc(newTestEngine(b))
	svc.Reviews, svc.Moderator = rv, rv
	s := New(svc, Options{Tokens: tk})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Shutdown(context.Background())
	base := "http://" + ln.Addr().String() + "/api/v1/products/" + pid + "/reviews"
	c := &http.Client{}
	do := func(b *testing.B, req *http.Request, want int) time.Duration {
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("%s: %d", req.URL, resp.StatusCode)
		}
		return time.Since(start)
	}
	p99 := func(b *testing.B, lat []time.Duration) {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
	}
	b.Run("list", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			req, _ := http.NewRequest("GET", base+"?sort=helpful&limit=20", nil)
			lat = append(lat, do(b, req, 200))
		}
		p99(b, lat)
	})
	b.Run("post", func(b *testing.B) {
		var lat []time.Duration
		i := 0
		for b.Loop() {
			i++
			tok, _ := tk.Sign(fmt.Sprintf("bench-%d-%d", b.N, i), time.Hour)
			req, _ := http.NewRequest("POST", base, strings.NewReader(fmt.Sprintf(`{"rating":4,"title":"t","body":"bench review %d"}`, i)))
			req.Header.Set("Authorization", "Bearer "+tok)
			lat = append(lat, do(b, req, 201))
		}
		p99(b, lat)
	})
}
