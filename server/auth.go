package server

import (
	"bytes"
	"errors"
	"time"

	"github.com/aisle/aisle/auth"
	"github.com/valyala/fasthttp"
)

// Who may write what. Seller writes carry "Authorization: Bearer <API
// key>" (see auth.KeyStore); the key names the seller, and a seller changes
// only products whose seller is that seller. User endpoints carry
// "Authorization: Bearer <user token>" (see auth.Tokens) and go through
// RequireUser. Credentials are read only from the Authorization header,
// never from the URL, and never logged.

// KeyVerifier is what the server needs of a key store (*auth.KeyStore).
type KeyVerifier interface {
	Verify(key string) (auth.Principal, error)
}

// UserVerifier is what the server needs of a token signer (*auth.Tokens).
type UserVerifier interface {
	Verify(token string) (userID string, err error)
}

// Error codes of authentication and limits.
const (
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeRateLimited  = "rate_limited"
	CodeOverloaded   = "overloaded"
)

// bearer returns the credential of an "Authorization: Bearer" header.
func bearer(ctx *fasthttp.RequestCtx) (string, bool) {
	h := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	const p = "bearer "
	if len(h) <= len(p) || !bytes.EqualFold(h[:len(p)], []byte(p)) {
		return "", false
	}
	return string(bytes.TrimSpace(h[len(p):])), true
}

// unauthorized answers 401 with the WWW-Authenticate challenge of RFC 6750.
// msg must not contain the credential.
func unauthorized(ctx *fasthttp.RequestCtx, msg string, given bool) {
	ch := `Bearer realm="aisle"`
	if given {
		ch += `, error="invalid_token"`
	}
	ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, ch)
	writeError(ctx, fasthttp.StatusUnauthorized, CodeUnauthorized, msg, "")
}

// authSeller checks the seller key of a write and returns its seller; it
// answers 401 or 403 itself and returns false when the write may not go on.
func (s *Server) authSeller(ctx *fasthttp.RequestCtx) (string, bool) {
	key, ok := bearer(ctx)
	if !ok {
		unauthorized(ctx, "seller writes need an API key: Authorization: Bearer <key>", false)
		return "", false
	}
	if s.opts.Keys == nil {
		unauthorized(ctx, "this server has no API keys configured", true)
		return "", false
	}
	p, err := s.verifyKey(ctx, key)
	if err != nil {
		if errors.Is(err, auth.ErrThrottled) {
			return "", false
		}
		if err != auth.ErrBadKey {
			s.logf("server: verifying an API key: %v", err)
		}
		unauthorized(ctx, "the API key is not valid", true)
		return "", false
	}
	if p.Role != auth.RoleSeller || p.SellerID == "" {
		writeError(ctx, fasthttp.StatusForbidden, CodeForbidden, "this key is not a seller's key", "")
		return "", false
	}
	return p.SellerID, true
}

// RequireUser wraps a handler of a user's own resources: it answers 401
// unless the request carries a valid, unexpired user token, and passes the
// token's user id to next. next answers 403 when the resource asked for is
// another user's.
func (s *Server) RequireUser(next func(ctx *fasthttp.RequestCtx, userID string)) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		tok, ok := bearer(ctx)
		if !ok {
			unauthorized(ctx, "this endpoint needs a user token: Authorization: Bearer <token>", false)
			return
		}
		if s.opts.Tokens == nil {
			unauthorized(ctx, "this server has no token key configured", true)
			return
		}
		user, err := s.opts.Tokens.Verify(tok)
		if err != nil {
			unauthorized(ctx, "the user token is not valid or has expired", true)
			return
		}
		next(ctx, user)
	}
}

// forbidOthers answers 403 and returns false when productID is known and
// belongs to a seller other than sellerID.
func (s *Server) forbidOthers(ctx *fasthttp.RequestCtx, productID, sellerID string) bool {
	owner, known := s.ownerOf(productID)
	if known && owner != sellerID {
		writeError(ctx, fasthttp.StatusForbidden, CodeForbidden, "product "+productID+" belongs to another seller", "")
		return false
	}
	return true
}

// limitedVerifier is a KeyVerifier that takes a limit on its costly checks
// (auth.KeyStore).
type limitedVerifier interface {
	VerifyLimited(key string, allow func() bool) (auth.Principal, error)
}

// verifyKey checks key, limiting per client the checks that cost an
// argon2id hash when the verifier can; on auth.ErrThrottled it has
// answered 429 with Retry-After.
func (s *Server) verifyKey(ctx *fasthttp.RequestCtx, key string) (auth.Principal, error) {
	lv, ok := s.opts.Keys.(limitedVerifier)
	if !ok {
		return s.opts.Keys.Verify(key)
	}
	var wait time.Duration
	p, err := lv.VerifyLimited(key, func() bool {
		var ok bool
		ok, wait = s.keyLim.allow(s.clientKey(ctx), time.Now())
		return ok
	})
	if errors.Is(err, auth.ErrThrottled) {
		tooMany(ctx, wait, "API key check")
	}
	return p, err
}
