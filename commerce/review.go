package commerce

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aisle/aisle/catalog"
)

// Product reviews (doc/reviews.md). A review is posted once per user and
// product, checked by the abuse rules of abuse.go before it is published,
// and held for moderation when a rule flags it (never dropped). The
// product's rating summary counts published reviews only; every change of
// it takes the next version and is enqueued to RatingsTopic in the same
// transaction as the change.

// RatingsTopic is the topic of rating summaries (ingest.TopicRatings),
// keyed by product id.
const RatingsTopic = "catalog.ratings"

// Limits on a review's text.
const (
	MaxReviewTitleBytes = 120
	MaxReviewBodyBytes  = 5000
)

// Review statuses.
const (
	StatusPublished = "published"
	StatusHeld      = "held"
	StatusRejected  = "rejected"
)

// Review errors callers branch on.
var (
	ErrReview          = errors.New("commerce: invalid review")
	ErrAlreadyReviewed = errors.New("commerce: already reviewed")
	ErrNoReview        = errors.New("commerce: no such review")
	ErrOwnReview       = errors.New("commerce: own review")
	ErrReviewCorrupt   = errors.New("commerce: corrupt review data")
)

// ReviewError is an invalid review; it wraps ErrReview and names the field.
type ReviewError struct {
	Field string
	Msg   string
}

func (e *ReviewError) Error() string { return "commerce: review " + e.Field + " " + e.Msg }
func (e *ReviewError) Unwrap() error { return ErrReview }

var (
	bucketReviews   = []byte("reviews")
	bucketVotes     = []byte("votes")
	bucketRatings   = []byte("ratings")
	bucketPurchases = []byte("purchases")
)

// Keys of the reviews bucket, by their first byte (doc/reviews.md):
//
//	r id                    -> Review JSON
//	p product 0 id          -> listing entry (status, rating, created, helpful)
//	u user 0 product        -> review id (one review per user and product)
//	a user                  -> first activity, unix ns
//	t user 0 ts id          -> (empty) the user's recent posts, for the rate rule
//	b product 0 ts id       -> (empty) extreme ratings from new accounts, for the burst rule
//	s ts id                 -> MinHash signature of a recent review's text
//	h ts id                 -> id: the moderation queue of held reviews
//	n                       -> number of s keys, uint64
const (
	kReview   = 'r'
	kProduct  = 'p'
	kUser     = 'u'
	kActivity = 'a'
	kRate     = 't'
	kBurst    = 'b'
	kSig      = 's'
	kHeld     = 'h'
	kSigCount = 'n'
)

func key(prefix byte, parts ...string) []byte {
	k := []byte{prefix}
	for i, p := range parts {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, p...)
	}
	return k
}

// pair is a + 0 + b, the key of the purchases and votes buckets.
func pair(a, b string) []byte {
	k := make([]byte, 0, len(a)+1+len(b))
	return append(append(append(k, a...), 0), b...)
}

// appendTS appends t as 8 big-endian bytes of unix ns (sortable).
func appendTS(k []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(k, uint64(t.UnixNano()))
}

// Review is one stored review.
type Review struct {
	ID        string    `json:"review_id"`
	ProductID string    `json:"product_id"`
	UserID    string    `json:"user_id"`
	Rating    int       `json:"rating"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	Status    string    `json:"status"`
	Reasons   []string  `json:"reasons,omitempty"` // why it was held
	Verified  bool      `json:"verified"`          // a delivered order of the product
	Helpful   int       `json:"helpful"`
}

// NewReview is what a user posts.
type NewReview struct {
	UserID, ProductID string
	Rating            int
	Title, Body       string
}

// Validate checks the review's fields; the error is a *ReviewError.
func (n *NewReview) Validate() error {
	bad := func(f, msg string) error { return &ReviewError{f, msg} }
	switch {
	case n.UserID == "" || strings.IndexByte(n.UserID, 0) >= 0:
		return bad("user_id", fmt.Sprintf("%q is empty or holds a NUL byte", n.UserID))
	case n.ProductID == "" || strings.IndexByte(n.ProductID, 0) >= 0:
		return bad("product_id", fmt.Sprintf("%q is empty or holds a NUL byte", n.ProductID))
	case n.Rating < 1 || n.Rating > 5:
		return bad("rating", fmt.Sprintf("is %d; want 1 to 5", n.Rating))
	case len(n.Title) > MaxReviewTitleBytes:
		return bad("title", fmt.Sprintf("is %d bytes, more than the limit of %d", len(n.Title), MaxReviewTitleBytes))
	case !utf8.ValidString(n.Title):
		return bad("title", "is not valid UTF-8")
	case strings.TrimSpace(n.Body) == "":
		return bad("body", "is empty")
	case len(n.Body) > MaxReviewBodyBytes:
		return bad("body", fmt.Sprintf("is %d bytes, more than the limit of %d", len(n.Body), MaxReviewBodyBytes))
	case !utf8.ValidString(n.Body):
		return bad("body", "is not valid UTF-8")
	}
	return nil
}

// RatingSummary is a product's summary over its published reviews.
type RatingSummary struct {
	Version      uint64 // 0: no review ever counted
	Avg          float64
	Count        int
	Distribution [5]int // reviews with 1..5 stars
}

func (r RatingSummary) event(productID string) catalog.RatingEvent {
	return catalog.RatingEvent{Schema: catalog.SchemaVersion, ProductID: productID, Version: r.Version,
		Rating: catalog.Rating{Avg: r.Avg, Count: r.Count}, Distribution: r.Distribution}
}

// add counts delta (+1 or -1) reviews of rating stars and takes the next
// version; the average is rounded to two decimals.
func (r *RatingSummary) add(stars, delta int) {
	r.Distribution[stars-1] += delta
	r.Count, r.Avg = 0, 0
	sum := 0
	for i, n := range r.Distribution {
		r.Count += n
		sum += (i + 1) * n
	}
	if r.Count > 0 {
		r.Avg = math.Round(float64(sum)/float64(r.Count)*100) / 100
	}
	r.Version++
}

// ReviewSort orders a listing.
type ReviewSort int

const (
	SortHelpful ReviewSort = iota // most helpful votes first, then newest
	SortRecent                    // newest first
	SortRating                    // highest rating first, then most helpful, then newest
)

// ParseReviewSort parses "helpful", "recent" or "rating".
func ParseReviewSort(s string) (ReviewSort, bool) {
	switch s {
	case "helpful":
		return SortHelpful, true
	case "recent":
		return SortRecent, true
	case "rating":
		return SortRating, true
	}
	return 0, false
}

// ReviewPage is one page of a product's published reviews.
type ReviewPage struct {
	Summary RatingSummary
	Total   int // published reviews of the product
	Reviews []Review
}

// Reviews is the review service over a Store. Safe for concurrent use.
type Reviews struct {
	st   *Store
	opts ReviewOptions
}

// NewReviews returns the review service over st.
func NewReviews(st *Store, opts ReviewOptions) (*Reviews, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Reviews{st: st, opts: opts}, nil
}

// Options returns the options in effect, defaults filled.
func (r *Reviews) Options() ReviewOptions { return r.opts }

func newReviewID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return "rv-" + hex.EncodeToString(b[:])
}

// entry is a review's listing entry under its product: what sorting and
// paging need without decoding the review.
type entry struct {
	id      []byte // in the transaction's memory
	status  byte   // 'P' published, 'H' held, 'R' rejected
	rating  int
	created int64
	helpful int
}

func statusByte(s string) byte {
	switch s {
	case StatusPublished:
		return 'P'
	case StatusHeld:
		return 'H'
	}
	return 'R'
}

func encodeEntry(rv *Review) []byte {
	v := []byte{statusByte(rv.Status), byte(rv.Rating)}
	v = binary.BigEndian.AppendUint64(v, uint64(rv.CreatedAt.UnixNano()))
	return binary.BigEndian.AppendUint32(v, uint32(rv.Helpful))
}

func decodeEntry(id []byte, v []byte) (entry, error) {
	if len(v) != 14 {
		return entry{}, fmt.Errorf("%w: review entry %q of %d bytes", ErrReviewCorrupt, id, len(v))
	}
	return entry{id: id, status: v[0], rating: int(v[1]),
		created: int64(binary.BigEndian.Uint64(v[2:])), helpful: int(binary.BigEndian.Uint32(v[10:]))}, nil
}

func getReview(b kvBucket, id string) (*Review, error) {
	v := b.Get(key(kReview, id))
	if v == nil {
		return nil, nil
	}
	var rv Review
	if err := json.Unmarshal(v, &rv); err != nil {
		return nil, fmt.Errorf("%w: review %q: %v", ErrReviewCorrupt, id, err)
	}
	return &rv, nil
}

// putReview writes the review and its listing entry.
func putReview(b kvBucket, rv *Review) error {
	v, err := json.Marshal(rv)
	if err != nil {
		return err
	}
	if err := b.Put(key(kReview, rv.ID), v); err != nil {
		return err
	}
	return b.Put(key(kProduct, rv.ProductID, rv.ID), encodeEntry(rv))
}

func getSummary(tx kvTx, productID string) (RatingSummary, error) {
	v := tx.Bucket(bucketRatings).Get([]byte(productID))
	if v == nil {
		return RatingSummary{}, nil
	}
	e, err := catalog.DecodeRatingEvent([]byte(productID), v)
	if err != nil {
		return RatingSummary{}, fmt.Errorf("%w: rating summary of %q: %v", ErrReviewCorrupt, productID, err)
	}
	return RatingSummary{Version: e.Version, Avg: e.Rating.Avg, Count: e.Rating.Count, Distribution: e.Distribution}, nil
}

// countRating adds delta reviews of stars to the product's summary, stores
// it and enqueues its event, all in tx.
func countRating(tx kvTx, productID string, stars, delta int) (RatingSummary, error) {
	sum, err := getSummary(tx, productID)
	if err != nil {
		return sum, err
	}
	sum.add(stars, delta)
	if sum.Distribution[stars-1] < 0 {
		panic(fmt.Sprintf("commerce: rating summary of %q: distribution %v is negative", productID, sum.Distribution))
	}
	v, err := json.Marshal(sum.event(productID))
	if err != nil {
		return sum, err
	}
	if err := tx.Bucket(bucketRatings).Put([]byte(productID), v); err != nil {
		return sum, err
	}
	return sum, enqueue(tx, RatingsTopic, []byte(productID), v)
}

// purchased reports whether user has a delivered order with product.
func purchased(tx kvTx, userID, productID string) bool {
	return tx.Bucket(bucketPurchases).Get(pair(userID, productID)) != nil
}

// Post checks and stores a review at time now and returns it, published
// or held with the reasons. A second review of the same product by the
// same user is ErrAlreadyReviewed; an invalid one a *ReviewError.
func (r *Reviews) Post(in NewReview, now time.Time) (Review, error) {
	if err := in.Validate(); err != nil {
		return Review{}, err
	}
	now = now.UTC()
	spam := contactSpam(in.Title + "\n" + in.Body)
	sig, sigOK := signature(in.Body, r.opts.DupMinWords)
	rv := Review{ID: newReviewID(), ProductID: in.ProductID, UserID: in.UserID, Rating: in.Rating,
		Title: in.Title, Body: in.Body, CreatedAt: now}
	var out Review
	err := r.st.txn(func(tx kvTx) (error, error) {
		b := tx.Bucket(bucketReviews)
		if b.Get(key(kUser, in.UserID, in.ProductID)) != nil {
			return fmt.Errorf("%w: user %q has reviewed product %q", ErrAlreadyReviewed, in.UserID, in.ProductID), nil
		}
		w := rv // fn may run more than once
		w.Reasons = slices.Clone(spam)
		w.Verified = purchased(tx, in.UserID, in.ProductID)
		first, err := touch(b, in.UserID, now)
		if err != nil {
			return nil, err
		}
		prior, err := r.recentPosts(b, in.UserID, now, w.ID)
		if err != nil {
			return nil, err
		}
		if rateLimited(prior, now, r.opts.RateLimit, r.opts.RateWindow) {
			w.Reasons = append(w.Reasons, ReasonRate)
		}
		if burstCandidate(in.Rating, first, now, w.Verified, r.opts.NewAccountAge) {
			prior, err := r.recentExtremes(b, in.ProductID, now, w.ID)
			if err != nil {
				return nil, err
			}
			if extremeBurst(prior, now, r.opts.BurstMax, r.opts.BurstWindow) {
				w.Reasons = append(w.Reasons, ReasonBurst)
			}
		}
		if sigOK {
			dup, err := r.duplicate(b, &sig, now, w.ID)
			if err != nil {
				return nil, err
			}
			if dup {
				w.Reasons = append(w.Reasons, ReasonDuplicate)
			}
		}
		w.Status = StatusPublished
		if len(w.Reasons) > 0 {
			w.Status = StatusHeld
			if err := b.Put(append(appendTS([]byte{kHeld}, now), w.ID...), []byte(w.ID)); err != nil {
				return nil, err
			}
		}
		if err := putReview(b, &w); err != nil {
			return nil, err
		}
		if err := b.Put(key(kUser, in.UserID, in.ProductID), []byte(w.ID)); err != nil {
			return nil, err
		}
		if w.Status == StatusPublished {
			if _, err := countRating(tx, in.ProductID, in.Rating, 1); err != nil {
				return nil, err
			}
		}
		out = w
		return nil, nil
	})
	if err != nil {
		return Review{}, err
	}
	return out, nil
}

// touch records now as user's first activity unless one is recorded, and
// returns the first activity.
func touch(b kvBucket, userID string, now time.Time) (time.Time, error) {
	k := key(kActivity, userID)
	if v := b.Get(k); len(v) == 8 {
		return time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC(), nil
	}
	return now, b.Put(k, appendTS(nil, now))
}

// FirstSeen returns the user's first recorded activity (a review or a
// vote), and false when there is none.
func (r *Reviews) FirstSeen(userID string) (time.Time, bool, error) {
	var t time.Time
	var ok bool
	err := r.st.db.view(func(tx kvTx) error {
		if v := tx.Bucket(bucketReviews).Get(key(kActivity, userID)); len(v) == 8 {
			t, ok = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC(), true
		}
		return nil
	})
	return t, ok, viewErr(err)
}

func viewErr(err error) error {
	if errors.Is(err, ErrClosed) {
		return ErrClosed
	}
	return err
}

// Get returns a review in any status; ErrNoReview when there is none.
func (r *Reviews) Get(id string) (Review, error) {
	var out Review
	err := r.st.db.view(func(tx kvTx) error {
		rv, err := getReview(tx.Bucket(bucketReviews), id)
		if err != nil {
			return err
		}
		if rv == nil {
			return fmt.Errorf("%w: %q", ErrNoReview, id)
		}
		out = *rv
		return nil
	})
	return out, viewErr(err)
}

// Summary returns the product's rating summary.
func (r *Reviews) Summary(productID string) (RatingSummary, error) {
	var sum RatingSummary
	err := r.st.db.view(func(tx kvTx) error {
		var err error
		sum, err = getSummary(tx, productID)
		return err
	})
	return sum, viewErr(err)
}

// List returns the summary, the number of published reviews and the page
// [offset, offset+limit) of them in the given order. It reads the
// product's listing entries (14 bytes each) and decodes only the page's
// reviews.
func (r *Reviews) List(productID string, by ReviewSort, limit, offset int) (ReviewPage, error) {
	var page ReviewPage
	if limit < 0 || offset < 0 {
		return page, &ReviewError{"limit", fmt.Sprintf("and offset must not be negative (%d, %d)", limit, offset)}
	}
	err := r.st.db.view(func(tx kvTx) error {
		var err error
		if page.Summary, err = getSummary(tx, productID); err != nil {
			return err
		}
		b := tx.Bucket(bucketReviews)
		prefix := key(kProduct, productID, "")
		sel := newSelector(offset+limit, by)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(v) == 0 || v[0] != 'P' {
				continue
			}
			e, err := decodeEntry(k[len(prefix):], v)
			if err != nil {
				return err
			}
			sel.add(e)
			page.Total++
		}
		es := sel.result()
		if offset >= len(es) {
			return nil
		}
		es = es[offset:]
		page.Reviews = make([]Review, 0, len(es))
		for _, e := range es {
			rv, err := getReview(b, string(e.id))
			if err != nil {
				return err
			}
			if rv == nil {
				return fmt.Errorf("%w: listed review %q of %q is missing", ErrReviewCorrupt, e.id, productID)
			}
			// A delivery after the review still earns the badge.
			rv.Verified = rv.Verified || purchased(tx, rv.UserID, rv.ProductID)
			page.Reviews = append(page.Reviews, *rv)
		}
		return nil
	})
	return page, viewErr(err)
}

// compareEntries orders listing entries by sort, then newest first, then
// by id.
func compareEntries(by ReviewSort) func(a, b entry) int {
	return func(a, b entry) int {
		var c int
		switch by {
		case SortHelpful:
			c = cmp.Compare(b.helpful, a.helpful)
		case SortRating:
			c = cmp.Or(cmp.Compare(b.rating, a.rating), cmp.Compare(b.helpful, a.helpful))
		}
		return cmp.Or(c, cmp.Compare(b.created, a.created), bytes.Compare(a.id, b.id))
	}
}

// selector keeps the first k entries in order of those added: by
// insertion into a sorted slice when k is small (a page), which for the
// common entry that does not make the page is one comparison; by a full
// sort at the end otherwise.
type selector struct {
	k    int
	less func(a, b entry) int
	es   []entry
}

func newSelector(k int, by ReviewSort) *selector {
	return &selector{k: k, less: compareEntries(by)}
}

const maxInsertK = 256

func (s *selector) add(e entry) {
	if s.k <= 0 {
		return
	}
	if s.k > maxInsertK {
		s.es = append(s.es, e)
		return
	}
	if len(s.es) == s.k && s.less(e, s.es[s.k-1]) >= 0 {
		return
	}
	i, _ := slices.BinarySearchFunc(s.es, e, s.less)
	s.es = slices.Insert(s.es, i, e)
	if len(s.es) > s.k {
		s.es = s.es[:s.k]
	}
}

func (s *selector) result() []entry {
	if s.k > maxInsertK {
		slices.SortFunc(s.es, s.less)
		s.es = s.es[:min(s.k, len(s.es))]
	}
	return s.es
}

// topK returns the first k of es in order.
func topK(es []entry, k int, by ReviewSort) []entry {
	s := newSelector(k, by)
	for _, e := range es {
		s.add(e)
	}
	return s.result()
}

// Vote counts userID's helpful vote on a published review of productID,
// once per user: a repeated vote answers counted false. Voting on one's
// own review is ErrOwnReview; an unknown, held or rejected review, or one
// of another product, is ErrNoReview.
func (r *Reviews) Vote(userID, productID, reviewID string, now time.Time) (helpful int, counted bool, err error) {
	if userID == "" || strings.IndexByte(userID, 0) >= 0 {
		return 0, false, &ReviewError{"user_id", fmt.Sprintf("%q is empty or holds a NUL byte", userID)}
	}
	err = r.st.txn(func(tx kvTx) (error, error) {
		b := tx.Bucket(bucketReviews)
		rv, err := getReview(b, reviewID)
		if err != nil {
			return nil, err
		}
		if rv == nil || rv.Status != StatusPublished || rv.ProductID != productID {
			return fmt.Errorf("%w: %q of product %q", ErrNoReview, reviewID, productID), nil
		}
		if rv.UserID == userID {
			return fmt.Errorf("%w: user %q wrote review %q", ErrOwnReview, userID, reviewID), nil
		}
		vk := pair(reviewID, userID)
		votes := tx.Bucket(bucketVotes)
		helpful, counted = rv.Helpful, false
		if votes.Get(vk) != nil {
			return nil, nil // nothing written
		}
		if _, err := touch(b, userID, now.UTC()); err != nil {
			return nil, err
		}
		if err := votes.Put(vk, appendTS(nil, now)); err != nil {
			return nil, err
		}
		rv.Helpful++
		helpful, counted = rv.Helpful, true
		return nil, putReview(b, rv)
	})
	return helpful, counted, err
}

// Held returns up to limit reviews waiting for moderation, oldest first.
func (r *Reviews) Held(limit int) ([]Review, error) {
	var out []Review
	err := r.st.db.view(func(tx kvTx) error {
		b := tx.Bucket(bucketReviews)
		c := b.Cursor()
		for k, v := c.Seek([]byte{kHeld}); k != nil && k[0] == kHeld && len(out) < limit; k, v = c.Next() {
			rv, err := getReview(b, string(v))
			if err != nil {
				return err
			}
			if rv == nil {
				return fmt.Errorf("%w: held review %q is missing", ErrReviewCorrupt, v)
			}
			out = append(out, *rv)
		}
		return nil
	})
	return out, viewErr(err)
}

// Approve publishes a held (or rejected) review: it then counts in the
// product's summary. Approving a published review changes nothing.
func (r *Reviews) Approve(reviewID string) (Review, error) {
	return r.moderate(reviewID, StatusPublished)
}

// Reject takes a held or published review out of the listing and, if it
// was published, out of the summary. It stays stored, and the user may
// not post another review of the product.
func (r *Reviews) Reject(reviewID string) (Review, error) {
	return r.moderate(reviewID, StatusRejected)
}

func (r *Reviews) moderate(reviewID, to string) (Review, error) {
	var out Review
	err := r.st.txn(func(tx kvTx) (error, error) {
		b := tx.Bucket(bucketReviews)
		rv, err := getReview(b, reviewID)
		if err != nil {
			return nil, err
		}
		if rv == nil {
			return fmt.Errorf("%w: %q", ErrNoReview, reviewID), nil
		}
		out = *rv
		from := rv.Status
		if from == to {
			return nil, nil
		}
		if from == StatusHeld {
			if err := b.Delete(append(appendTS([]byte{kHeld}, rv.CreatedAt), rv.ID...)); err != nil {
				return nil, err
			}
		}
		rv.Status = to
		if err := putReview(b, rv); err != nil {
			return nil, err
		}
		switch {
		case to == StatusPublished:
			_, err = countRating(tx, rv.ProductID, rv.Rating, 1)
		case from == StatusPublished:
			_, err = countRating(tx, rv.ProductID, rv.Rating, -1)
		}
		out = *rv
		return nil, err
	})
	return out, err
}
