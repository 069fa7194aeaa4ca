package commerce

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// The abuse rules a review passes before it is published. Each rule is a
// pure function over what the store read for it; a flagged review is held
// for moderation with the rule's reason, never dropped.

// Reasons a review is held.
const (
	ReasonRate      = "rate_limit"     // the user posted more than RateLimit reviews in RateWindow
	ReasonDuplicate = "duplicate_text" // the body nearly repeats a recent review's (any user, any product)
	ReasonLink      = "link_spam"      // a URL or a bare domain
	ReasonContact   = "contact_spam"   // an e-mail address, a phone number or a messenger handle
	ReasonBurst     = "rating_burst"   // one of too many 1 or 5 star ratings of the product from new accounts
)

// ReviewOptions configure the review service's abuse rules. The zero
// value of a field means its default.
type ReviewOptions struct {
	// RateLimit reviews per user in RateWindow are published; more are
	// held. Defaults 5 and 10 minutes.
	RateLimit  int
	RateWindow time.Duration
	// A body of at least DupMinWords words whose estimated Jaccard
	// similarity of word 3-gram sets with a recent review reaches
	// DupThreshold is held. Recent: the newest DupRecent reviews of the
	// last DupWindow. Defaults 8 words, 0.8, 2,000 reviews, 30 days.
	DupMinWords  int
	DupThreshold float64
	DupRecent    int
	DupWindow    time.Duration
	// An account is new until NewAccountAge after its first recorded
	// activity (a review or a vote). When more than BurstMax 1 or 5 star
	// ratings of one product from new accounts without a delivered order
	// arrive in BurstWindow, the ones past BurstMax are held. Defaults
	// 24 hours, 3, 1 hour.
	NewAccountAge time.Duration
	BurstMax      int
	BurstWindow   time.Duration
}

// EnsureDefaults fills unset fields with their defaults.
func (o *ReviewOptions) EnsureDefaults() {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	defD := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	def(&o.RateLimit, 5)
	defD(&o.RateWindow, 10*time.Minute)
	def(&o.DupMinWords, 8)
	if o.DupThreshold == 0 {
		o.DupThreshold = 0.8
	}
	def(&o.DupRecent, 2000)
	defD(&o.DupWindow, 30*24*time.Hour)
	defD(&o.NewAccountAge, 24*time.Hour)
	def(&o.BurstMax, 3)
	defD(&o.BurstWindow, time.Hour)
}

// Validate lists every problem with o.
func (o *ReviewOptions) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"RateLimit", o.RateLimit}, {"DupMinWords", o.DupMinWords}, {"DupRecent", o.DupRecent}, {"BurstMax", o.BurstMax}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("commerce: ReviewOptions.%s is negative (%d)", f.name, f.v))
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"RateWindow", o.RateWindow}, {"DupWindow", o.DupWindow}, {"NewAccountAge", o.NewAccountAge}, {"BurstWindow", o.BurstWindow}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("commerce: ReviewOptions.%s is negative (%v)", f.name, f.v))
		}
	}
	if o.DupThreshold < 0 || o.DupThreshold > 1 {
		errs = append(errs, fmt.Errorf("commerce: ReviewOptions.DupThreshold is %v; want 0 to 1", o.DupThreshold))
	}
	return errors.Join(errs...)
}

// rateLimited is the per-user rate rule: prior holds the user's posts
// of the window, newest last; the new post is held when it makes more
// than limit in the window ending at now.
func rateLimited(prior []time.Time, now time.Time, limit int, window time.Duration) bool {
	n := 1
	for _, t := range prior {
		if now.Sub(t) < window {
			n++
		}
	}
	return n > limit
}

func isExtreme(rating int) bool { return rating == 1 || rating == 5 }

// burstCandidate reports whether a rating counts toward the burst rule:
// 1 or 5 stars from an account younger than newAge (first activity at
// first) without a delivered order of the product.
func burstCandidate(rating int, first, now time.Time, verified bool, newAge time.Duration) bool {
	return isExtreme(rating) && now.Sub(first) < newAge && !verified
}

// extremeBurst is the burst rule for a candidate: prior holds the times of
// the product's earlier candidates; the new one is held when it makes
// more than max in the window ending at now.
func extremeBurst(prior []time.Time, now time.Time, max int, window time.Duration) bool {
	return rateLimited(prior, now, max, window)
}

var (
	reURL    = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.(?:com|net|org|info|biz|io|co|ru|cn|xyz|top|shop|site|online|store|me|ly|gl|link|click)(?:$|[\s/?#:),.!;"'])`)
	reEmail  = regexp.MustCompile(`(?i)[a-z0-9._%+-]+\s*(?:@|\(at\)|\[at\])\s*[a-z0-9-]+(?:\s*(?:\.|\(dot\)|\[dot\])\s*[a-z0-9-]+)*\s*(?:\.|\(dot\)|\[dot\])\s*[a-z]{2,}\b`)
	rePhone  = regexp.MustCompile(`\+?\d[\d \t().-]{7,}\d`)
	reHandle = regexp.MustCompile(`(?i)\b(?:whats\s*app|telegram|viber|wechat|signal\s+me|kik\s+me|dm\s+me)\b`)
)

// contactSpam is the link and contact rule: the reasons text gives to
// hold it (ReasonLink, ReasonContact), none when it is clean. A phone
// number is a run of 9 to 15 digits with optional separators, so prices,
// dates and model numbers pass.
func contactSpam(text string) []string {
	var out []string
	email := reEmail.MatchString(text)
	if email {
		text = reEmail.ReplaceAllLiteralString(text, " ") // its domain is not a link
	}
	if reURL.MatchString(text) {
		out = append(out, ReasonLink)
	}
	contact := email || reHandle.MatchString(text)
	if !contact {
		for _, m := range rePhone.FindAllString(text, -1) {
			d := 0
			for _, c := range m {
				if c >= '0' && c <= '9' {
					d++
				}
			}
			if d >= 9 && d <= 15 {
				contact = true
				break
			}
		}
	}
	if contact {
		out = append(out, ReasonContact)
	}
	return out
}

// sigK is the number of MinHash values of a signature: the estimate of a
// Jaccard similarity J has a standard deviation of sqrt(J(1-J)/sigK),
// 0.035 at J = 0.8.
const sigK = 128

// Signature is the MinHash signature of a text's word 3-gram set.
type Signature [sigK]uint32

// words returns the text's words, lower-cased, letters and digits only.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
}

// signature returns the MinHash signature of text's word 3-grams, and
// false when the text has fewer than minWords words: short texts ("Great
// product, love it") repeat honestly and are not compared.
func signature(text string, minWords int) (Signature, bool) {
	var sig Signature
	w := words(text)
	if len(w) < max(minWords, 3) {
		return sig, false
	}
	for i := range sig {
		sig[i] = ^uint32(0)
	}
	for i := 0; i+3 <= len(w); i++ {
		x := fnv64a(fnvOffset, w[i])
		x = fnv64a(fnv64a(x, " "), w[i+1])
		x = mix64(fnv64a(fnv64a(x, " "), w[i+2]))
		for j := range sig {
			// Multiply-shift hashing of the mixed shingle hash: one of
			// sigK independent permutations.
			if v := uint32((x*hashA[j] + hashB[j]) >> 32); v < sig[j] {
				sig[j] = v
			}
		}
	}
	return sig, true
}

const fnvOffset = 14695981039346656037

func fnv64a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// hashA (odd) and hashB are the sigK hash functions' fixed parameters:
// signatures are stored, so they must not change between runs
// (doc/reviews.md).
var hashA, hashB = func() (a, b [sigK]uint64) {
	x := uint64(0x5eed_a15e_0000_0001)
	for i := range a {
		x += 0x9e3779b97f4a7c15
		a[i] = mix64(x) | 1
		x += 0x9e3779b97f4a7c15
		b[i] = mix64(x)
	}
	return a, b
}()

// mix64 is splitmix64's finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (s *Signature) encode() []byte {
	b := make([]byte, 0, 4*sigK)
	for _, v := range s {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// similarity estimates the Jaccard similarity of s and an encoded
// signature; 0 for a malformed one.
func (s *Signature) similarity(enc []byte) float64 {
	if len(enc) != 4*sigK {
		return 0
	}
	eq := 0
	for i, v := range s {
		if binary.BigEndian.Uint32(enc[4*i:]) == v {
			eq++
		}
	}
	return float64(eq) / sigK
}

// nearDuplicate is the duplicate rule: whether any of the recent encoded
// signatures is at least threshold similar to sig.
func nearDuplicate(sig *Signature, recent iter.Seq[[]byte], threshold float64) bool {
	// A signature is at least threshold similar when at most miss of its
	// sigK values differ; the scan of one stops at the miss+1st difference,
	// after about 30 values for an unrelated text.
	miss := sigK - int(math.Ceil(threshold*sigK-1e-9))
	for enc := range recent {
		if len(enc) != 4*sigK {
			continue
		}
		diff := 0
		for i, v := range sig {
			if binary.BigEndian.Uint32(enc[4*i:]) != v {
				if diff++; diff > miss {
					break
				}
			}
		}
		if diff <= miss {
			return true
		}
	}
	return false
}

// window collects the times of the keys prefix+ts+id not older than w
// (at most limit+1 of them, which is all a rule needs), deletes the older
// ones, and adds prefix+now+id.
func window(b kvBucket, prefix []byte, now time.Time, w time.Duration, limit int, id string) ([]time.Time, error) {
	cutoff := now.Add(-w).UnixNano()
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if len(k) < len(prefix)+8 || int64(binary.BigEndian.Uint64(k[len(prefix):])) > cutoff {
			break
		}
		if err := b.Delete(k); err != nil {
			return nil, err
		}
	}
	var out []time.Time
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) <= limit; k, _ = c.Next() {
		if len(k) >= len(prefix)+8 {
			out = append(out, time.Unix(0, int64(binary.BigEndian.Uint64(k[len(prefix):]))))
		}
	}
	return out, b.Put(append(appendTS(bytes.Clone(prefix), now), id...), nil)
}

// recentPosts returns the user's posts in the rate window and records the
// new one.
func (r *Reviews) recentPosts(b kvBucket, userID string, now time.Time, id string) ([]time.Time, error) {
	return window(b, key(kRate, userID, ""), now, r.opts.RateWindow, r.opts.RateLimit, id)
}

// recentExtremes returns the product's burst candidates in the burst
// window and records the new one.
func (r *Reviews) recentExtremes(b kvBucket, productID string, now time.Time, id string) ([]time.Time, error) {
	return window(b, key(kBurst, productID, ""), now, r.opts.BurstWindow, r.opts.BurstMax, id)
}

// duplicate runs the duplicate rule against the newest DupRecent
// signatures of the last DupWindow, then stores sig and drops the
// signatures past those bounds (oldest first), so the cost of a post is
// bounded by DupRecent comparisons of sigK values.
func (r *Reviews) duplicate(b kvBucket, sig *Signature, now time.Time, id string) (bool, error) {
	cutoff := now.Add(-r.opts.DupWindow).UnixNano()
	recent := func(yield func([]byte) bool) {
		c := b.Cursor()
		k, v := c.Seek([]byte{kSig + 1})
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for n := 0; k != nil && k[0] == kSig && n < r.opts.DupRecent; k, v = c.Prev() {
			if len(k) < 9 || int64(binary.BigEndian.Uint64(k[1:])) < cutoff {
				return
			}
			if !yield(v) {
				return
			}
			n++
		}
	}
	dup := nearDuplicate(sig, recent, r.opts.DupThreshold)
	if err := b.Put(append(appendTS([]byte{kSig}, now), id...), sig.encode()); err != nil {
		return dup, err
	}
	nk := []byte{kSigCount}
	count := uint64(1)
	if v := b.Get(nk); len(v) == 8 {
		count += binary.BigEndian.Uint64(v)
	}
	c := b.Cursor()
	for k, _ := c.Seek([]byte{kSig}); k != nil && k[0] == kSig; k, _ = c.Seek([]byte{kSig}) {
		if count <= uint64(r.opts.DupRecent) && (len(k) >= 9 && int64(binary.BigEndian.Uint64(k[1:])) >= cutoff) {
			break
		}
		if err := b.Delete(k); err != nil {
			return dup, err
		}
		count--
	}
	return dup, b.Put(nk, binary.BigEndian.AppendUint64(nil, count))
}

// Sweep deletes up to max rate and burst entries that have left their
// window at now (a user who never posts again leaves entries that the
// next post would otherwise prune) and returns how many it deleted. Run
// it now and then, as the soft-hold sweeper runs.
func (r *Reviews) Sweep(now time.Time, max int) (int, error) {
	deleted := 0
	err := r.st.txn(func(tx kvTx) (error, error) {
		deleted = 0
		b := tx.Bucket(bucketReviews)
		var old [][]byte
		for _, w := range []struct {
			prefix byte
			window time.Duration
		}{{kRate, r.opts.RateWindow}, {kBurst, r.opts.BurstWindow}} {
			cutoff := now.Add(-w.window).UnixNano()
			c := b.Cursor()
			for k, _ := c.Seek([]byte{w.prefix}); k != nil && k[0] == w.prefix && len(old) < max; k, _ = c.Next() {
				// key: prefix, user or product, 0, ts (8), id
				i := bytes.IndexByte(k, 0)
				if i < 0 || len(k) < i+9 || int64(binary.BigEndian.Uint64(k[i+1:])) <= cutoff {
					old = append(old, bytes.Clone(k))
				}
			}
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return nil, err
			}
		}
		deleted = len(old)
		return nil, nil
	})
	return deleted, err
}
