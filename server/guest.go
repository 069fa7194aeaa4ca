package server

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/valyala/fasthttp"
)

// POST /api/v1/guest issues a guest: a user id "guest-" + 32 random hex
// digits (128 bits, unguessable, so a guest cart cannot be found by
// guessing) and a user token for it, signed like any other. It is public
// and limited per client (CartOptions.GuestRate). At sign-in the guest
// cart merges into the user's (POST /api/v1/cart/{user_id}/merge).

const (
	guestPath   = "/api/v1/guest"
	guestPrefix = "guest-"
)

// newGuestID returns "guest-" and 32 random hex digits.
func newGuestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return guestPrefix + hex.EncodeToString(b[:])
}

func (s *Server) guest(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		writeError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+string(ctx.Method())+" not allowed; use POST", "")
		return
	}
	c, signer := s.cart, s.svc.Guests
	if c == nil || signer == nil {
		notBuilt(ctx, "guest checkout")
		return
	}
	if ok, wait := c.guestLim.allow(s.clientKey(ctx), time.Now()); !ok {
		tooMany(ctx, wait, "guest")
		return
	}
	id := newGuestID()
	tok, err := signer.Sign(id, c.opts.GuestTTL)
	if err != nil {
		s.logf("server: signing a guest token: %v", err)
		writeError(ctx, fasthttp.StatusInternalServerError, CodeInternal, "internal error", "")
		return
	}
	buf := getBuf()
	b := append(*buf, `{"user_id":`...)
	b = appendString(b, id)
	b = append(b, `,"user_token":`...)
	b = appendString(b, tok)
	b = append(b, `,"expires_in":`...)
	b = appendFloat(b, c.opts.GuestTTL.Seconds())
	*buf = append(b, '}')
	ctx.SetStatusCode(fasthttp.StatusCreated)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	ctx.SetBody(*buf)
	putBuf(buf)
}
