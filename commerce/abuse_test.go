package commerce

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func ago(ds ...time.Duration) []time.Time {
	var out []time.Time
	for _, d := range ds {
		out = append(out, t0.Add(-d))
	}
	return out
}

func TestRuleRateLimit(t *testing.T) {
	m := time.Minute
	for _, c := range []struct {
		name  string
		prior []time.Time
		limit int
		want  bool
	}{
		{"first post", nil, 5, false},
		{"fifth in window", ago(9*m, 5*m, 2*m, 0), 5, false},
		{"sixth in window", ago(9*m, 5*m, 2*m, m, 0), 5, true},
		{"sixth, oldest just out of window", ago(10*m, 5*m, 2*m, m, 0), 5, false},
		{"many long ago", ago(time.Hour, 50*m, 40*m, 30*m, 20*m, 11*m), 5, false},
		{"limit 1, second post", ago(30 * time.Second), 1, true},
	} {
		if got := rateLimited(c.prior, t0, c.limit, 10*m); got != c.want {
			t.Errorf("%s: rateLimited = %v; want %v", c.name, got, c.want)
		}
	}
}

func TestRuleBurst(t *testing.T) {
	h := time.Hour
	for _, c := range []struct {
		name     string
		rating   int
		age      time.Duration
		verified bool
		want     bool
	}{
		{"5 stars, account of 1 h", 5, h, false, true},
		{"1 star, account of 0 s", 1, 0, false, true},
		{"4 stars, new account", 4, h, false, false},
		{"3 stars, new account", 3, 0, false, false},
		{"5 stars, account of 2 days", 5, 48 * h, false, false},
		{"5 stars, account of exactly 24 h", 5, 24 * h, false, false},
		{"5 stars, new account with a delivered order", 5, h, true, false},
	} {
		if got := burstCandidate(c.rating, t0.Add(-c.age), t0, c.verified, 24*h); got != c.want {
			t.Errorf("%s: burstCandidate = %v; want %v", c.name, got, c.want)
		}
	}
	m := time.Minute
	for _, c := range []struct {
		name  string
		prior []time.Time
		want  bool
	}{
		{"first", nil, false},
		{"third", ago(20*m, m), false},
		{"fourth in the hour", ago(50*m, 20*m, m), true},
		{"fourth, first out of the hour", ago(61*m, 20*m, m), false},
	} {
		if got := extremeBurst(c.prior, t0, 3, h); got != c.want {
			t.Errorf("%s: extremeBurst = %v; want %v", c.name, got, c.want)
		}
	}
}

func TestRuleContactSpam(t *testing.T) {
	link, contact := []string{ReasonLink}, []string{ReasonContact}
	for _, c := range []struct {
		text string
		want []string
	}{
		{"Great headphones, the bass is deep and the battery lasts 30 hours.", nil},
		{"Paid $199.99 on 2025-11-02, model WH-1000XM4, 3.5mm jack, 4.5 stars.", nil},
		{"Sold 1,000,000 units apparently. Order #12345678.", nil},
		{"Works well with Node.js and my laptop.Co-workers agree.", nil},
		{"Cheaper at https://cheap-phones.example/deal", link},
		{"go to www.deals4u.net now", link},
		{"best price on bestprice.shop", link},
		{"best price on bestprice.shop!", link},
		{"join t.me/deals", link},
		{"see BIT.LY/abc", link},
		{"write me: john.doe@gmail.com", contact},
		{"mail john (at) gmail (dot) com", contact},
		{"call +1 (555) 123-4567 for wholesale", contact},
		{"text 07700 900123", contact},
		{"Contact me on WhatsApp for a discount", contact},
		{"whats app me", contact},
		{"join my Telegram channel", contact},
		{"email me@x.com or visit shop.com", []string{ReasonLink, ReasonContact}},
	} {
		if got := contactSpam(c.text); !slices.Equal(got, c.want) {
			t.Errorf("contactSpam(%q) = %v; want %v", c.text, got, c.want)
		}
	}
}

// randomText returns n words drawn from a vocabulary of 500, deterministic
// in seed.
func randomText(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 7))
	w := make([]string, n)
	for i := range w {
		w[i] = fmt.Sprintf("w%d", r.IntN(500))
	}
	return strings.Join(w, " ")
}

func TestRuleNearDuplicate(t *testing.T) {
	base := randomText(1, 60)
	ws := strings.Fields(base)
	oneWord := slices.Clone(ws)
	oneWord[30] = "changed"
	fiveWords := slices.Clone(ws)
	for _, i := range []int{5, 17, 29, 41, 53} {
		fiveWords[i] = "changed"
	}
	for _, c := range []struct {
		name string
		a, b string
		want bool
	}{
		{"identical", base, base, true},
		{"case and punctuation only", base, strings.ToUpper(strings.ReplaceAll(base, " ", ", ")) + "!!!", true},
		{"one word of 60 changed (J 0.90)", base, strings.Join(oneWord, " "), true},
		{"two words appended (J 0.97)", base, base + " really good", true},
		{"five words of 60 changed (J 0.59)", base, strings.Join(fiveWords, " "), false},
		{"first half only (J 0.48)", base, strings.Join(ws[:30], " "), false},
		{"unrelated", base, randomText(2, 60), false},
		{"same words, shuffled", base, strings.Join(shuffled(ws), " "), false},
	} {
		sa, ok1 := signature(c.a, 8)
		sb, ok2 := signature(c.b, 8)
		if !ok1 || !ok2 {
			t.Fatalf("%s: signature refused a 60 word text", c.name)
		}
		t.Logf("%s: estimated similarity %.2f", c.name, sa.similarity(sb.encode()))
		recent := slices.Values([][]byte{randomSig(t, 3), sb.encode(), randomSig(t, 4)})
		if got := nearDuplicate(&sa, recent, 0.8); got != c.want {
			t.Errorf("%s: nearDuplicate = %v (similarity %.2f); want %v", c.name, got, sa.similarity(sb.encode()), c.want)
		}
	}
	if _, ok := signature("Great product, love it!", 8); ok {
		t.Error("a 4 word text got a signature; short texts are not compared")
	}
	if s, _ := signature(base, 8); s.similarity([]byte("short")) != 0 {
		t.Error("a malformed stored signature is not 0 similar")
	}
}

func shuffled(ws []string) []string {
	out := slices.Clone(ws)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func randomSig(t *testing.T, seed uint64) []byte {
	s, ok := signature(randomText(seed, 40), 8)
	if !ok {
		t.Fatal("no signature")
	}
	return s.encode()
}

func TestReviewOptionsValidate(t *testing.T) {
	o := ReviewOptions{RateLimit: -1, DupThreshold: 1.5, BurstWindow: -time.Second}
	err := o.Validate()
	for _, want := range []string{"RateLimit is negative (-1)", "DupThreshold is 1.5", "BurstWindow is negative (-1s)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; want it to say %q", err, want)
		}
	}
	o = ReviewOptions{}
	o.EnsureDefaults()
	if err := o.Validate(); err != nil || o.RateLimit != 5 || o.RateWindow != 10*time.Minute || o.DupThreshold != 0.8 {
		t.Errorf("defaults %+v, Validate() = %v", o, err)
	}
}

func BenchmarkSignature(b *testing.B) {
	text := randomText(1, 200) // about 1,200 bytes
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		signature(text, 8)
	}
}

// FuzzAbuseText runs the text rules on any input: no panic, a signature
// is deterministic and equal to itself, reasons come from the known set.
func FuzzAbuseText(f *testing.F) {
	for _, s := range []string{"", "Great!", "call +1 555 123 4567", "x@y.z", randomText(1, 30), "Ünïcödé wörds ärë fïnë hërë töö, ëight wörds", "\xff\xfe www.", "日本語のレビューです"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, r := range contactSpam(text) {
			if r != ReasonLink && r != ReasonContact {
				t.Fatalf("reason %q", r)
			}
		}
		a, ok := signature(text, 8)
		b, ok2 := signature(text, 8)
		if ok != ok2 || a != b {
			t.Fatal("signature is not deterministic")
		}
		if ok && (a.similarity(a.encode()) != 1 || !nearDuplicate(&a, slices.Values([][]byte{a.encode()}), 0.8)) {
			t.Fatal("a signature is not a duplicate of itself")
		}
	})
}
