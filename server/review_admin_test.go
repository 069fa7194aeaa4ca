package server

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/commerce"
)

func TestReviewModeration(t *testing.T) {
	k := newTestKeys(t)
	st, err := commerce.Open(commerce.Options{Path: t.TempDir() + "/commerce.db", Replica: "A"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rv, _ := commerce.NewReviews(st, commerce.ReviewOptions{})
	tk, _ := auth.NewTokens([]byte(strings.Repeat("k", 32)))
	svc := testSvc(newTestEngine(t))
	svc.Reviews, svc.Moderator = rv, rv
	s := New(svc, Options{Logf: checkedLogf(t), Keys: k.store, Tokens: tk})
	base := serveOver(t, s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin := &fasthttp.Server{Handler: s.ReviewModeration(rv, "")}
	go admin.Serve(ln)
	defer admin.Shutdown()
	mod := "http://" + ln.Addr().String() + ReviewModerationPrefix

	pid := testProducts()[0].ID
	reviews := base + "/api/v1/products/" + pid + "/reviews"
	alice, _ := tk.Sign("alice", time.Hour)
	_, _, m := doAs(t, alice, "POST", reviews, `{"rating":5,"body":"message me on telegram"}`)
	id, _ := m["review_id"].(string)
	if m["status"] != "held" {
		t.Fatalf("spam post: %v", m)
	}
	for _, c := range []struct {
		key, method, path string
		status            int
	}{
		{"", "GET", "/held", 401},
		{"ak_nope", "GET", "/held", 401},
		{k.seller, "GET", "/held", 403},
		{k.admin, "GET", "/held?limit=0", 400},
		{k.admin, "GET", "/held?page=2", 400},
		{k.admin, "POST", "/held", 405},
		{k.admin, "GET", "/" + id + "/approve", 405},
		{k.admin, "POST", "/" + id + "/delete", 404},
		{k.admin, "POST", "/rv-unknown/approve", 404},
		{k.admin, "POST", "/" + id, 404},
	} {
		if st, _, m := doAs(t, c.key, c.method, mod+c.path, ""); st != c.status {
			t.Errorf("%s %s: %d %v; want %d", c.method, c.path, st, m, c.status)
		}
	}
	st1, _, m := doAs(t, k.admin, "GET", mod+"/held?limit=10", "")
	if held, _ := m["reviews"].([]any); st1 != 200 || len(held) != 1 || held[0].(map[string]any)["review_id"] != id ||
		held[0].(map[string]any)["reasons"].([]any)[0] != "contact_spam" {
		t.Fatalf("held: %d %v", st1, m)
	}
	if _, _, m := doAs(t, "", "GET", reviews, ""); m["total"] != 0.0 {
		t.Errorf("listing before approval: %v", m)
	}
	if st, _, m := doAs(t, k.admin, "POST", mod+"/"+id+"/approve", ""); st != 200 || m["status"] != "published" {
		t.Fatalf("approve: %d %v", st, m)
	}
	if _, _, m := doAs(t, "", "GET", reviews, ""); m["total"] != 1.0 || m["summary"].(map[string]any)["count"] != 1.0 {
		t.Errorf("listing after approval: %v", m)
	}
	if st, _, m := doAs(t, k.admin, "POST", mod+"/"+id+"/reject", ""); st != 200 || m["status"] != "rejected" {
		t.Fatalf("reject: %d %v", st, m)
	}
	if _, _, m := doAs(t, "", "GET", reviews, ""); m["total"] != 0.0 || m["summary"].(map[string]any)["count"] != 0.0 {
		t.Errorf("listing after rejection: %v", m)
	}
}
