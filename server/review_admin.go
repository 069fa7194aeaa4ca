package server

import (
	"errors"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/commerce"
)

// Moderation of held reviews, for the admin listener (doc/reviews.md):
//
//	GET  {prefix}/held?limit=N            held reviews, oldest first (limit 1-500, default 50)
//	POST {prefix}/{review_id}/approve     publish it: it counts in the summary
//	POST {prefix}/{review_id}/reject      take it out of the listing and the summary
//
// Every request needs the admin key (Authorization: Bearer <admin key>).

// Moderator is what moderation needs (*commerce.Reviews).
type Moderator interface {
	Held(limit int) ([]commerce.Review, error)
	Approve(reviewID string) (commerce.Review, error)
	Reject(reviewID string) (commerce.Review, error)
}

// ReviewModerationPrefix is where the lead may mount ReviewModeration.
const ReviewModerationPrefix = "/admin/reviews"

type moderatedJSON struct {
	ReviewID  string   `json:"review_id"`
	ProductID string   `json:"product_id"`
	UserID    string   `json:"user_id"`
	Rating    int      `json:"rating"`
	Title     string   `json:"title"`
	Body      string   `json:"body"`
	CreatedAt string   `json:"created_at"`
	Status    string   `json:"status"`
	Reasons   []string `json:"reasons"`
	Verified  bool     `json:"verified"`
}

func moderated(rv commerce.Review) moderatedJSON {
	return moderatedJSON{ReviewID: rv.ID, ProductID: rv.ProductID, UserID: rv.UserID, Rating: rv.Rating, Title: rv.Title,
		Body: rv.Body, CreatedAt: rv.CreatedAt.Format("2006-01-02T15:04:05.999999999Z07:00"), Status: rv.Status,
		Reasons: nonNil(rv.Reasons), Verified: rv.Verified}
}

// ReviewModeration returns the handler of the moderation endpoints under
// prefix (ReviewModerationPrefix when empty).
func (s *Server) ReviewModeration(m Moderator, prefix string) fasthttp.RequestHandler {
	if prefix == "" {
		prefix = ReviewModerationPrefix
	}
	return func(ctx *fasthttp.RequestCtx) {
		path := string(ctx.Path())
		rest, ok := strings.CutPrefix(path, prefix+"/")
		if !ok {
			writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+path, "")
			return
		}
		if !s.authAdmin(ctx) {
			return
		}
		if rest == "held" {
			if !ctx.IsGet() {
				ctx.Response.Header.Set("Allow", "GET")
				writeError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+string(ctx.Method())+" not allowed; use GET", "")
				return
			}
			limit := 50
			var perr *paramError
			ctx.QueryArgs().VisitAll(func(k, v []byte) {
				switch {
				case perr != nil:
				case string(k) != "limit":
					perr = &paramError{CodeUnknownParameter, string(k), strconv.Quote(string(k)) + " is not a parameter; want limit"}
				default:
					n, err := strconv.Atoi(string(v))
					if err != nil || n < 1 || n > 500 {
						perr = invalid("limit", "is "+strconv.Quote(string(v))+"; want an integer from 1 to 500")
					}
					limit = n
				}
			})
			if perr != nil {
				writeError(ctx, fasthttp.StatusBadRequest, perr.Code, perr.Message, perr.Param)
				return
			}
			held, err := m.Held(limit)
			if err != nil {
				s.reviewFailed(ctx, err)
				return
			}
			out := struct {
				Reviews []moderatedJSON `json:"reviews"`
			}{Reviews: []moderatedJSON{}}
			for _, rv := range held {
				out.Reviews = append(out.Reviews, moderated(rv))
			}
			writeJSON(ctx, fasthttp.StatusOK, out)
			return
		}
		id, action, ok := strings.Cut(rest, "/")
		if !ok || id == "" || (action != "approve" && action != "reject") {
			writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+path, "")
			return
		}
		if !ctx.IsPost() {
			ctx.Response.Header.Set("Allow", "POST")
			writeError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+string(ctx.Method())+" not allowed; use POST", "")
			return
		}
		do := m.Approve
		if action == "reject" {
			do = m.Reject
		}
		rv, err := do(id)
		if err != nil {
			if errors.Is(err, commerce.ErrNoReview) {
				writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no review with id "+strconv.Quote(id), "review_id")
				return
			}
			s.reviewFailed(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, moderated(rv))
	}
}

// authAdmin answers 401 or 403 and returns false unless the request
// carries the admin key.
func (s *Server) authAdmin(ctx *fasthttp.RequestCtx) bool {
	key, ok := bearer(ctx)
	if !ok {
		unauthorized(ctx, "moderation needs the admin key: Authorization: Bearer <key>", false)
		return false
	}
	if s.opts.Keys == nil {
		unauthorized(ctx, "this server has no API keys configured", true)
		return false
	}
	p, err := s.verifyKey(ctx, key)
	if errors.Is(err, auth.ErrThrottled) {
		return false
	}
	if err != nil {
		unauthorized(ctx, "the API key is not valid", true)
		return false
	}
	if p.Role != auth.RoleAdmin {
		writeError(ctx, fasthttp.StatusForbidden, CodeForbidden, "moderation needs the admin key", "")
		return false
	}
	return true
}
