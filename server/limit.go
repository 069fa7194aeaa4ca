package server

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Limits on clients: token buckets per client IP (search, suggest) and per
// seller (writes), a cap on requests in flight, and shape caps on JSON
// bodies. See doc/security.md.

// limiter is a set of token buckets keyed by client: each holds up to
// burst tokens and refills at rate tokens a second; a request takes one.
// Keys are spread over shards, each with its own mutex. A shard past
// maxKeysPerShard forgets its full buckets, which behave as new ones.
type limiter struct {
	rate, burst float64
	seed        maphash.Seed
	shards      [16]limShard
}

type limShard struct {
	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

const maxKeysPerShard = 1 << 14

// newLimiter returns a limiter, or nil (no limit) when rate is negative.
func newLimiter(rate float64, burst int) *limiter {
	if rate < 0 {
		return nil
	}
	l := &limiter{rate: rate, burst: float64(max(burst, 1)), seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].m = map[string]*bucket{}
	}
	return l
}

// allow takes a token from key's bucket; when there is none it returns
// false and how long until there is.
func (l *limiter) allow(key []byte, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	sh := &l.shards[maphash.Bytes(l.seed, key)%uint64(len(l.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.m[string(key)]
	if b == nil {
		if len(sh.m) >= maxKeysPerShard {
			l.sweep(sh, now)
		}
		b = &bucket{tokens: l.burst, last: now}
		sh.m[string(key)] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	if l.rate == 0 {
		return false, time.Hour
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// sweep forgets the buckets that have refilled; with sh.mu held. When
// that frees less than half the shard (a flood of distinct clients), it
// forgets arbitrary buckets down to half, so sweeps stay amortised O(1)
// per new key; a forgotten client gets a fresh burst.
func (l *limiter) sweep(sh *limShard, now time.Time) {
	for k, b := range sh.m {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(sh.m, k)
		}
	}
	for k := range sh.m {
		if len(sh.m) <= maxKeysPerShard/2 {
			break
		}
		delete(sh.m, k)
	}
}

// clientKey returns the key of the client for rate limits: its IP, or with
// TrustProxy the last address of X-Forwarded-For, the one the proxy in
// front of the server appended (earlier ones are the client's to forge).
func (s *Server) clientKey(ctx *fasthttp.RequestCtx) []byte {
	if s.opts.TrustProxy {
		if xff := ctx.Request.Header.Peek("X-Forwarded-For"); len(xff) > 0 {
			if i := bytes.LastIndexByte(xff, ','); i >= 0 {
				xff = xff[i+1:]
			}
			if ip := bytes.TrimSpace(xff); len(ip) > 0 {
				return ip
			}
		}
	}
	ip := ctx.RemoteIP()
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return net.IP(ip)
}

// tooMany answers 429 with Retry-After in whole seconds, at least 1.
func tooMany(ctx *fasthttp.RequestCtx, wait time.Duration, what string) {
	secs := int(math.Ceil(wait.Seconds()))
	secs = max(secs, 1)
	ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, strconv.Itoa(secs))
	writeError(ctx, fasthttp.StatusTooManyRequests, CodeRateLimited, what+" rate limit reached; retry after "+strconv.Itoa(secs)+" s", "")
}

// overloaded answers the fast 503 of a saturated server.
func overloaded(ctx *fasthttp.RequestCtx, limit int) {
	ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
	writeError(ctx, fasthttp.StatusServiceUnavailable, CodeOverloaded, "the server is serving "+strconv.Itoa(limit)+" requests, its limit; retry shortly", "")
}

// checkJSONShape refuses a body nested deeper than maxDepth or holding a
// string (key or value) longer than maxString bytes as written, before it
// is decoded. It does not validate the JSON otherwise; the decoder does.
func checkJSONShape(body []byte, maxDepth, maxString int) error {
	depth := 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{', '[':
			depth++
			if depth > maxDepth {
				return &bodyError{"", fmt.Sprintf("the body nests deeper than %d levels", maxDepth)}
			}
		case '}', ']':
			depth--
		case '"':
			start := i
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' {
					i++
				}
			}
			if n := i - start - 1; n > maxString {
				return &bodyError{"", fmt.Sprintf("the body holds a string of %d bytes, past the limit of %d", n, maxString)}
			}
		}
	}
	return nil
}
