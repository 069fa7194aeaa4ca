package commerce

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
)

func openReviews(t testing.TB, group bool, o ReviewOptions) (*Store, *Reviews) {
	t.Helper()
	st := openStore(t, "A", group)
	r, err := NewReviews(st, o)
	if err != nil {
		t.Fatal(err)
	}
	return st, r
}

// markPurchased writes the purchases key that MarkDelivered writes when an
// order with the product is delivered.
func markPurchased(t testing.TB, st *Store, userID, productID, orderID string) {
	t.Helper()
	err := st.db.update(func(tx kvTx) error {
		return tx.Bucket(bucketPurchases).Put(pair(userID, productID), []byte(orderID))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ratingEvents decodes the catalog.ratings records of the outbox.
func ratingEvents(t testing.TB, st *Store) []catalog.RatingEvent {
	t.Helper()
	recs, err := st.Pending(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	var out []catalog.RatingEvent
	for _, r := range recs {
		if r.Topic != RatingsTopic {
			continue
		}
		e, err := catalog.DecodeRatingEvent(r.Key, r.Value)
		if err != nil {
			t.Fatalf("outbox record %d: %v", r.Seq, err)
		}
		out = append(out, e)
	}
	return out
}

func post(t testing.TB, r *Reviews, user, product string, rating int, body string, now time.Time) Review {
	t.Helper()
	rv, err := r.Post(NewReview{UserID: user, ProductID: product, Rating: rating, Title: "t", Body: body}, now)
	if err != nil {
		t.Fatalf("Post(%s, %s): %v", user, product, err)
	}
	return rv
}

func TestReviewPostListSummaryEvents(t *testing.T) {
	st, r := openReviews(t, false, ReviewOptions{})
	now := t0
	var ids []string
	for i, rating := range []int{5, 3, 4, 1, 4} {
		now = now.Add(time.Minute)
		rv := post(t, r, fmt.Sprintf("old-%d", i), "p1", rating, randomText(uint64(i+10), 20), now)
		if rv.Status != StatusPublished || len(rv.Reasons) != 0 {
			t.Fatalf("review %d: %s %v; want published", i, rv.Status, rv.Reasons)
		}
		ids = append(ids, rv.ID)
	}
	post(t, r, "old-0", "p2", 2, "other product", now)
	sum, err := r.Summary("p1")
	if err != nil {
		t.Fatal(err)
	}
	want := RatingSummary{Version: 5, Avg: 3.4, Count: 5, Distribution: [5]int{1, 0, 1, 2, 1}}
	if sum != want {
		t.Errorf("Summary = %+v; want %+v", sum, want)
	}
	evs := ratingEvents(t, st)
	var p1 []catalog.RatingEvent
	for _, e := range evs {
		if e.ProductID == "p1" {
			p1 = append(p1, e)
		}
	}
	if len(p1) != 5 || len(evs) != 6 {
		t.Fatalf("%d rating events, %d of p1; want 6 and 5", len(evs), len(p1))
	}
	for i, e := range p1 {
		if e.Version != uint64(i+1) || e.Schema != catalog.SchemaVersion {
			t.Errorf("event %d: version %d schema %d; want %d, %d", i, e.Version, e.Schema, i+1, catalog.SchemaVersion)
		}
	}
	if last := p1[4]; last.Rating.Avg != 3.4 || last.Rating.Count != 5 || last.Distribution != want.Distribution {
		t.Errorf("last event %+v; want the summary %+v", last, want)
	}

	// Helpful votes: review 2 gets two, review 4 one.
	for _, v := range []struct{ user, id string }{{"x", ids[2]}, {"y", ids[2]}, {"x", ids[4]}} {
		if _, counted, err := r.Vote(v.user, "p1", v.id, now); err != nil || !counted {
			t.Fatalf("Vote(%s, %s) = %v, %v", v.user, v.id, counted, err)
		}
	}
	for _, c := range []struct {
		by   ReviewSort
		want []string
	}{
		{SortRecent, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{SortHelpful, []string{ids[2], ids[4], ids[3], ids[1], ids[0]}},
		{SortRating, []string{ids[0], ids[2], ids[4], ids[1], ids[3]}},
	} {
		page, err := r.List("p1", c.by, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, rv := range page.Reviews {
			got = append(got, rv.ID)
		}
		if !slices.Equal(got, c.want) || page.Total != 5 || page.Summary != want {
			t.Errorf("List(sort %d) = %v total %d; want %v total 5", c.by, got, page.Total, c.want)
		}
		page, _ = r.List("p1", c.by, 2, 1)
		if len(page.Reviews) != 2 || page.Reviews[0].ID != c.want[1] || page.Reviews[1].ID != c.want[2] || page.Total != 5 {
			t.Errorf("List(sort %d, limit 2, offset 1) = %d reviews, total %d", c.by, len(page.Reviews), page.Total)
		}
	}
	if page, _ := r.List("p1", SortRecent, 10, 7); len(page.Reviews) != 0 || page.Total != 5 {
		t.Errorf("offset past the end: %d reviews, total %d", len(page.Reviews), page.Total)
	}
	if page, _ := r.List("none", SortRecent, 10, 0); len(page.Reviews) != 0 || page.Total != 0 || page.Summary.Version != 0 {
		t.Errorf("product without reviews: %+v", page)
	}
}

func TestReviewOncePerUserAndVotes(t *testing.T) {
	_, r := openReviews(t, false, ReviewOptions{})
	rv := post(t, r, "alice", "p1", 4, "nice", t0)
	_, err := r.Post(NewReview{UserID: "alice", ProductID: "p1", Rating: 2, Body: "again"}, t0.Add(time.Hour))
	if !errors.Is(err, ErrAlreadyReviewed) {
		t.Errorf("second review: %v; want ErrAlreadyReviewed", err)
	}
	for _, c := range []struct {
		user, product, id string
		helpful           int
		counted           bool
		err               error
	}{
		{"bob", "p1", rv.ID, 1, true, nil},
		{"bob", "p1", rv.ID, 1, false, nil},
		{"carol", "p1", rv.ID, 2, true, nil},
		{"alice", "p1", rv.ID, 0, false, ErrOwnReview},
		{"bob", "p2", rv.ID, 0, false, ErrNoReview},
		{"bob", "p1", "rv-nope", 0, false, ErrNoReview},
	} {
		h, counted, err := r.Vote(c.user, c.product, c.id, t0)
		if !errors.Is(err, c.err) || (c.err == nil && (h != c.helpful || counted != c.counted)) {
			t.Errorf("Vote(%s, %s, %s) = %d, %v, %v; want %d, %v, %v", c.user, c.product, c.id, h, counted, err, c.helpful, c.counted, c.err)
		}
	}
	for _, in := range []NewReview{
		{UserID: "u", ProductID: "p", Rating: 0, Body: "b"},
		{UserID: "u", ProductID: "p", Rating: 6, Body: "b"},
		{UserID: "u", ProductID: "p", Rating: 3, Body: "  "},
		{UserID: "u", ProductID: "p", Rating: 3, Body: "b", Title: string(make([]byte, 121))},
		{UserID: "u", ProductID: "p", Rating: 3, Body: string(make([]byte, 5001))},
		{UserID: "u", ProductID: "p\x00q", Rating: 3, Body: "b"},
		{UserID: "", ProductID: "p", Rating: 3, Body: "b"},
		{UserID: "u", ProductID: "p", Rating: 3, Body: "\xff"},
	} {
		var re *ReviewError
		if _, err := r.Post(in, t0); !errors.As(err, &re) || !errors.Is(err, ErrReview) {
			t.Errorf("Post(%+v) = %v; want a ReviewError", in, err)
		}
	}
}

func TestReviewVerifiedOnlyWithDeliveredOrder(t *testing.T) {
	st, r := openReviews(t, false, ReviewOptions{})
	markPurchased(t, st, "buyer", "p1", "o-1")
	markPurchased(t, st, "other", "p2", "o-2") // another product
	if rv := post(t, r, "buyer", "p1", 5, "works", t0); !rv.Verified {
		t.Error("a delivered order did not give the badge")
	}
	if rv := post(t, r, "other", "p1", 4, "works too", t0); rv.Verified {
		t.Error("an order of another product gave the badge")
	}
	late := post(t, r, "late", "p1", 4, "arrived later", t0)
	if late.Verified {
		t.Error("no order, yet verified")
	}
	markPurchased(t, st, "late", "p1", "o-3")
	page, _ := r.List("p1", SortRecent, 10, 0)
	got := map[string]bool{}
	for _, rv := range page.Reviews {
		got[rv.UserID] = rv.Verified
	}
	if !got["buyer"] || got["other"] || !got["late"] {
		t.Errorf("listing badges %v; want buyer and late verified", got)
	}
}

// TestReviewAbuseRules runs each rule through Post: a history of earlier
// posts, then the post under test with its expected status and reasons.
func TestReviewAbuseRules(t *testing.T) {
	type p struct {
		user, product string
		rating        int
		body          string
		at            time.Duration // after t0
	}
	long := randomText(100, 40)
	var rateHistory []p
	for i := range 5 {
		rateHistory = append(rateHistory, p{"fast", fmt.Sprintf("p%d", i), 4, randomText(uint64(200+i), 20), time.Duration(i) * time.Minute})
	}
	var burst []p
	for i := range 3 {
		burst = append(burst, p{fmt.Sprintf("new%d", i), "hot", 5, randomText(uint64(300+i), 20), time.Duration(i) * time.Minute})
	}
	for _, c := range []struct {
		name    string
		history []p
		post    p
		verify  bool // the posting user has a delivered order of the product
		want    []string
	}{
		{"clean", nil, p{"u", "p1", 4, "Solid build, good value.", 0}, false, nil},
		{"sixth review in 10 min", rateHistory, p{"fast", "p9", 4, randomText(299, 20), 9 * time.Minute}, false, []string{ReasonRate}},
		{"sixth review after 10 min", rateHistory, p{"fast", "p9", 4, randomText(299, 20), 11 * time.Minute}, false, nil},
		{"same text on another product by another user", []p{{"a", "p1", 4, long, 0}}, p{"b", "p2", 4, long + "!", time.Hour}, false, []string{ReasonDuplicate}},
		{"same text by the same user on another product", []p{{"a", "p1", 4, long, 0}}, p{"a", "p2", 4, long, time.Hour}, false, []string{ReasonDuplicate}},
		{"same short text", []p{{"a", "p1", 4, "Great product, love it", 0}}, p{"b", "p2", 4, "Great product, love it", 0}, false, nil},
		{"same text 31 days later", []p{{"a", "p1", 4, long, 0}}, p{"b", "p2", 4, long, 31 * 24 * time.Hour}, false, nil},
		{"link", nil, p{"u", "p1", 4, "buy it cheaper at www.knockoffs.example.com", 0}, false, []string{ReasonLink}},
		{"phone", nil, p{"u", "p1", 4, "wholesale: +44 7700 900 123", 0}, false, []string{ReasonContact}},
		{"whatsapp", nil, p{"u", "p1", 1, "ping me on whatsapp", 0}, false, []string{ReasonContact}},
		{"fourth 5-star from new accounts in an hour", burst, p{"new9", "hot", 5, randomText(399, 20), 30 * time.Minute}, false, []string{ReasonBurst}},
		{"fourth, 1 star", burst, p{"new9", "hot", 1, randomText(399, 20), 30 * time.Minute}, false, []string{ReasonBurst}},
		{"fourth, 4 stars", burst, p{"new9", "hot", 4, randomText(399, 20), 30 * time.Minute}, false, nil},
		{"fourth, verified buyer", burst, p{"new9", "hot", 5, randomText(399, 20), 30 * time.Minute}, true, nil},
		{"fourth, two hours later", burst, p{"new9", "hot", 5, randomText(399, 20), 2 * time.Hour}, false, nil},
		{"fourth, other product", burst, p{"new9", "cold", 5, randomText(399, 20), 30 * time.Minute}, false, nil},
		{"several reasons", rateHistory, p{"fast", "p9", 4, "see deals.shop " + randomText(299, 20), 9 * time.Minute}, false, []string{ReasonLink, ReasonRate}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, r := openReviews(t, false, ReviewOptions{})
			for _, h := range c.history {
				if rv := post(t, r, h.user, h.product, h.rating, h.body, t0.Add(h.at)); rv.Status != StatusPublished {
					t.Fatalf("history post %+v: %s %v", h, rv.Status, rv.Reasons)
				}
			}
			if c.verify {
				markPurchased(t, st, c.post.user, c.post.product, "o-1")
			}
			before, _ := r.Summary(c.post.product)
			rv := post(t, r, c.post.user, c.post.product, c.post.rating, c.post.body, t0.Add(c.post.at))
			wantStatus := StatusPublished
			if len(c.want) > 0 {
				wantStatus = StatusHeld
			}
			if rv.Status != wantStatus || !slices.Equal(rv.Reasons, c.want) {
				t.Fatalf("status %s, reasons %v; want %s %v", rv.Status, rv.Reasons, wantStatus, c.want)
			}
			after, _ := r.Summary(c.post.product)
			if held := wantStatus == StatusHeld; held != (after == before) {
				t.Errorf("summary %+v -> %+v; a held review must not count, a published one must", before, after)
			}
			stored, err := r.Get(rv.ID)
			if err != nil || stored.Status != wantStatus {
				t.Errorf("stored: %+v, %v", stored, err)
			}
		})
	}
}

func TestReviewModeration(t *testing.T) {
	st, r := openReviews(t, false, ReviewOptions{})
	good := post(t, r, "a", "p1", 4, "fine", t0)
	spam := post(t, r, "b", "p1", 5, "visit cheap.shop", t0.Add(time.Second))
	spam2 := post(t, r, "c", "p1", 1, "telegram me", t0.Add(2*time.Second))
	if spam.Status != StatusHeld || spam2.Status != StatusHeld {
		t.Fatalf("spam statuses %s %s; want held", spam.Status, spam2.Status)
	}
	held, _ := r.Held(10)
	if len(held) != 2 || held[0].ID != spam.ID || held[1].ID != spam2.ID {
		t.Fatalf("Held = %d reviews; want the two spam ones, oldest first", len(held))
	}
	if page, _ := r.List("p1", SortRecent, 10, 0); page.Total != 1 || page.Reviews[0].ID != good.ID {
		t.Errorf("listing shows %d reviews; want only the published one", page.Total)
	}
	if _, _, err := r.Vote("z", "p1", spam.ID, t0); !errors.Is(err, ErrNoReview) {
		t.Errorf("vote on a held review: %v; want ErrNoReview", err)
	}
	steps := []struct {
		do      func(string) (Review, error)
		id      string
		status  string
		count   int
		version uint64
	}{
		{r.Approve, spam.ID, StatusPublished, 2, 2},
		{r.Approve, spam.ID, StatusPublished, 2, 2}, // repeated: nothing changes
		{r.Reject, spam2.ID, StatusRejected, 2, 2},  // held -> rejected: not counted either way
		{r.Reject, good.ID, StatusRejected, 1, 3},   // published -> rejected: uncounted
		{r.Reject, good.ID, StatusRejected, 1, 3},
	}
	for i, s := range steps {
		rv, err := s.do(s.id)
		sum, _ := r.Summary("p1")
		if err != nil || rv.Status != s.status || sum.Count != s.count || sum.Version != s.version {
			t.Errorf("step %d: %s, %v, summary %+v; want %s count %d version %d", i, rv.Status, err, sum, s.status, s.count, s.version)
		}
	}
	if sum, _ := r.Summary("p1"); sum.Distribution != [5]int{0, 0, 0, 0, 1} || sum.Avg != 5 {
		t.Errorf("summary %+v; want the approved 5 only", sum)
	}
	if held, _ := r.Held(10); len(held) != 0 {
		t.Errorf("Held after moderation = %d reviews", len(held))
	}
	if _, err := r.Approve("rv-nope"); !errors.Is(err, ErrNoReview) {
		t.Errorf("Approve(unknown) = %v", err)
	}
	evs := ratingEvents(t, st)
	if len(evs) != 3 || evs[2].Version != 3 || evs[2].Rating.Count != 1 {
		t.Errorf("rating events %+v; want versions 1, 2, 3", evs)
	}
}

// TestReviewConcurrentGroupCommit posts from many goroutines sharing group
// commits: the summary counts every published review once, and the
// outbox holds one event per version, 1..n, in order.
func TestReviewConcurrentGroupCommit(t *testing.T) {
	st, r := openReviews(t, true, ReviewOptions{})
	const n = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	stars := 0
	for i := range n {
		wg.Go(func() {
			rating := 2 + i%3 // not extreme: no burst rule
			body := randomText(uint64(1000+i), 20)
			if i%10 == 0 {
				body = "call 555 123 4567" // held
			}
			rv, err := r.Post(NewReview{UserID: fmt.Sprintf("u%d", i), ProductID: "p", Rating: rating, Body: body}, t0)
			if err != nil {
				t.Error(err)
				return
			}
			if rv.Status == StatusPublished {
				mu.Lock()
				stars += rating
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sum, _ := r.Summary("p")
	if sum.Count != n-n/10 || sum.Version != uint64(sum.Count) {
		t.Fatalf("summary %+v; want count and version %d", sum, n-n/10)
	}
	if avg := float64(stars) / float64(sum.Count); sum.Avg < avg-0.005 || sum.Avg > avg+0.005 {
		t.Errorf("avg %v; want %v", sum.Avg, avg)
	}
	evs := ratingEvents(t, st)
	for i, e := range evs {
		if e.Version != uint64(i+1) {
			t.Fatalf("event %d has version %d", i, e.Version)
		}
	}
	if len(evs) != sum.Count {
		t.Errorf("%d events; want %d", len(evs), sum.Count)
	}
}

// TestReviewDuplicateWindowBounded checks that the signatures kept stay
// within DupRecent and that an evicted one no longer matches.
func TestReviewDuplicateWindowBounded(t *testing.T) {
	st, r := openReviews(t, false, ReviewOptions{DupRecent: 5, RateLimit: 1000})
	first := randomText(500, 30)
	post(t, r, "u", "p0", 4, first, t0)
	for i := 1; i <= 7; i++ {
		post(t, r, "u", fmt.Sprintf("p%d", i), 4, randomText(uint64(500+i), 30), t0.Add(time.Duration(i)*time.Second))
	}
	nsig := 0
	st.db.view(func(tx kvTx) error {
		c := tx.Bucket(bucketReviews).Cursor()
		for k, _ := c.Seek([]byte{kSig}); k != nil && k[0] == kSig; k, _ = c.Next() {
			nsig++
		}
		return nil
	})
	if nsig != 5 {
		t.Errorf("%d signatures kept; want DupRecent = 5", nsig)
	}
	if rv := post(t, r, "v", "p9", 4, first, t0.Add(time.Minute)); rv.Status != StatusPublished {
		t.Errorf("a repeat of an evicted text is %s %v; want published", rv.Status, rv.Reasons)
	}
	if rv := post(t, r, "w", "p9", 4, randomText(507, 30), t0.Add(time.Minute)); rv.Status != StatusHeld {
		t.Errorf("a repeat of a recent text is %s; want held", rv.Status)
	}
}

// TestTopKMatchesSort checks the page selection against a full sort.
func TestTopKMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		n := r.IntN(300)
		es := make([]entry, n)
		for j := range es {
			es[j] = entry{id: []byte(fmt.Sprintf("rv-%d", j)), rating: 1 + r.IntN(5), helpful: r.IntN(4), created: int64(r.IntN(50))}
		}
		by := ReviewSort(i % 3)
		k := r.IntN(n + 2)
		if i%7 == 0 {
			k += 300
		}
		want := slices.Clone(es)
		slices.SortFunc(want, compareEntries(by))
		want = want[:min(k, n)]
		got := topK(slices.Clone(es), k, by)
		if !slices.EqualFunc(got, want, func(a, b entry) bool { return string(a.id) == string(b.id) }) {
			t.Fatalf("n %d k %d sort %d: topK differs from the sorted prefix", n, k, by)
		}
	}
}

// TestReviewVerifiedThroughMarkDelivered takes an order through
// fulfillment to delivery (fulfill.go) and checks the badge follows it.
func TestReviewVerifiedThroughMarkDelivered(t *testing.T) {
	st := openClocked(t, false)
	r, err := NewReviews(st, ReviewOptions{})
	must(t, err)
	o := &Order{ID: "ord-1", UserID: "u1", Status: OrderPlaced,
		Lines:   []SessionLine{{VariantID: "a", ProductID: "pa", Quantity: 1}, {VariantID: "b", ProductID: "pb", Quantity: 1}},
		Routed:  []Line{{"a", "lax", 1}, {"b", "lax", 1}},
		Address: Address{City: "Boston", Lat: boston.Lat, Lon: boston.Lon}}
	putCheckoutOrder(t, st, o)
	_, err = st.HandleOrderEvent(NewWarehouses(testWarehouses), orderEvent("ord-1", "u1", oline("pa", "a", 1), oline("pb", "b", 1)))
	must(t, err)
	must(t, st.MarkShipped("ord-1"))
	if rv := post(t, r, "u1", "pb", 5, "shipped, not yet here", t0); rv.Verified {
		t.Error("verified on a shipped, undelivered order")
	}
	must(t, st.MarkDelivered("ord-1"))
	if rv := post(t, r, "u1", "pc", 5, "not a product of the order", t0); rv.Verified {
		t.Error("verified on a product the order does not hold")
	}
	if rv := post(t, r, "u2", "pa", 4, "another user", t0); rv.Verified {
		t.Error("verified for a user without the order")
	}
	if rv := post(t, r, "u1", "pa", 5, "arrived, works", t0); !rv.Verified {
		t.Error("a delivered order did not give the badge")
	}
	// The review posted while shipped gets the badge once delivered.
	page, err := r.List("pb", SortRecent, 10, 0)
	must(t, err)
	if len(page.Reviews) != 1 || !page.Reviews[0].Verified {
		t.Errorf("listing of pb after delivery: %+v", page.Reviews)
	}
}

// kgoPublisher publishes outbox records to a broker (as cmd/aisle does).
type kgoPublisher struct{ cl *kgo.Client }

func (p kgoPublisher) Publish(ctx context.Context, recs []Record) error {
	out := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		out[i] = &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value}
	}
	return p.cl.ProduceSync(ctx, out...).FirstErr()
}

// TestReviewRatingsReachKafka relays the rating events of posts and
// moderation through a real (kfake) broker and applies them as a
// consumer would (highest version per product): the result is every
// product's summary, and each product's versions arrive 1, 2, 3, ... in
// order.
func TestReviewRatingsReachKafka(t *testing.T) {
	st, r := openReviews(t, true, ReviewOptions{})
	var held []string
	for i := range 12 {
		body := randomText(uint64(700+i), 20)
		if i%4 == 3 {
			body = "cheaper at deals.shop"
		}
		rv := post(t, r, fmt.Sprintf("u%d", i), fmt.Sprintf("p%d", i%3), 1+i%5, body, t0.Add(time.Duration(i)*time.Minute))
		if rv.Status == StatusHeld {
			held = append(held, rv.ID)
		}
	}
	_, err := r.Approve(held[0])
	must(t, err)
	_, err = r.Reject(held[1])
	must(t, err)

	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, RatingsTopic))
	must(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	must(t, err)
	defer prod.Close()
	want := len(ratingEvents(t, st))
	rctx, stop := context.WithCancel(ctx)
	relayed := make(chan error, 1)
	go func() { relayed <- st.Relay(rctx, kgoPublisher{prod}, RelayOptions{Poll: 10 * time.Millisecond}) }()

	cons, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(RatingsTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	must(t, err)
	defer cons.Close()
	latest := map[string]catalog.RatingEvent{}
	n := 0
	for n < want {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d rating events", n, want)
		}
		fs.EachRecord(func(rec *kgo.Record) {
			e, err := catalog.DecodeRatingEvent(rec.Key, rec.Value)
			if err != nil {
				t.Fatalf("record %d: %v", rec.Offset, err)
			}
			if e.Version != latest[e.ProductID].Version+1 {
				t.Errorf("%s: version %d after %d", e.ProductID, e.Version, latest[e.ProductID].Version)
			}
			latest[e.ProductID] = e
			n++
		})
	}
	stop()
	if err := <-relayed; !errors.Is(err, context.Canceled) {
		t.Errorf("Relay: %v", err)
	}
	for p, e := range latest {
		sum, _ := r.Summary(p)
		if sum.Version != e.Version || sum.Count != e.Rating.Count || sum.Avg != e.Rating.Avg || sum.Distribution != e.Distribution {
			t.Errorf("%s: consumed %+v; summary %+v", p, e, sum)
		}
	}
	if len(latest) != 3 || want != 10 { // 9 published posts + 1 approval
		t.Errorf("%d products, %d events; want 3 and 10", len(latest), want)
	}
}

func TestReviewSweep(t *testing.T) {
	_, r := openReviews(t, false, ReviewOptions{})
	for i := range 4 { // 4 rate entries, 4 burst entries (new accounts, 5 stars)
		post(t, r, fmt.Sprintf("u%d", i), "p", 5, randomText(uint64(900+i), 20), t0.Add(time.Duration(i)*time.Minute))
	}
	count := func() (n int) {
		r.st.db.view(func(tx kvTx) error {
			c := tx.Bucket(bucketReviews).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if k[0] == kRate || k[0] == kBurst {
					n++
				}
			}
			return nil
		})
		return n
	}
	if n, err := r.Sweep(t0.Add(5*time.Minute), 100); err != nil || n != 0 || count() != 8 {
		t.Fatalf("Sweep inside the windows deleted %d (%v); %d entries left, want 8", n, err, count())
	}
	// 11.5 min: rate entries of minutes 0 and 1 are out (10 min window), burst ones not (1 h).
	if n, _ := r.Sweep(t0.Add(11*time.Minute+30*time.Second), 100); n != 2 || count() != 6 {
		t.Errorf("Sweep at 11.5 min deleted %d, %d left; want 2, 6", n, count())
	}
	if n, _ := r.Sweep(t0.Add(2*time.Hour), 3); n != 3 || count() != 3 {
		t.Errorf("Sweep bounded by 3 deleted %d, %d left; want 3, 3", n, count())
	}
	if n, _ := r.Sweep(t0.Add(2*time.Hour), 100); n != 3 || count() != 0 {
		t.Errorf("final Sweep deleted %d, %d left", n, count())
	}
}
