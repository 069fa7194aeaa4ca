package server

import (
	"strconv"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/recs"
	"github.com/valyala/fasthttp"
)

// The home page endpoint:
//
//	GET /api/v1/recs/home?limit=N
//	GET /api/v1/recs/home/{user_id}?limit=N
//
// answers {"user_id","rows":[{"kind","title","items":[...]}]}. Without an
// Authorization header it is public and answers the popular row only
// ("user_id": null); with "Authorization: Bearer <user token>" it answers
// the token user's personalized row first (left out when the user has no
// orders yet), then the popular row. A header with a bad or expired token
// is 401, never a silent fall back to the guest page. The second form
// names the user, as issue 6 writes it: it needs that user's token (401
// without one, 403 with another user's). Items are filtered
// at request time: nothing deleted or out of stock now.

// HomeRows is what the server needs of the home page (*recs.Home). Both
// methods append to dst and must be safe for concurrent use.
type HomeRows interface {
	Personalized(dst []recs.Item, user string, limit int, ps recs.Products) []recs.Item
	Popular(dst []recs.Item, limit int, ps recs.Products) []recs.Item
}

// Limits of the home endpoint, per row.
const (
	DefaultHomeLimit = 10
	MaxHomeLimit     = 50
)

const homeName = "home"

func (s *Server) homeRoute(ctx *fasthttp.RequestCtx, named string) {
	user := ""
	if named != "" && len(ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)) == 0 {
		unauthorized(ctx, "this endpoint needs a user token: Authorization: Bearer <token>", false)
		return
	}
	if len(ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)) > 0 {
		tok, ok := bearer(ctx)
		if !ok {
			unauthorized(ctx, "the Authorization header is not \"Bearer <user token>\"", true)
			return
		}
		if s.opts.Tokens == nil {
			unauthorized(ctx, "this server has no token key configured", true)
			return
		}
		u, err := s.opts.Tokens.Verify(tok)
		if err != nil {
			unauthorized(ctx, "the user token is not valid or has expired", true)
			return
		}
		user = u
	}
	if named != "" && named != user {
		writeError(ctx, fasthttp.StatusForbidden, CodeForbidden, "the home page of another user", "")
		return
	}
	limit, perr := parseRecsArgs(ctx.QueryArgs(), DefaultHomeLimit, MaxHomeLimit)
	if perr != nil {
		writeError(ctx, fasthttp.StatusBadRequest, perr.Code, perr.Message, perr.Param)
		return
	}
	h := s.recsNow()
	if h.home == nil {
		writeError(ctx, fasthttp.StatusServiceUnavailable, CodeNotReady, "the recommendations are still loading", "")
		return
	}
	buf := getBuf()
	b := append(*buf, `{"user_id":`...)
	if user == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, user)
	}
	b = append(b, `,"rows":[`...)
	items := make([]recs.Item, 0, limit)
	if user != "" {
		items = h.home.Personalized(items, user, limit, s.eng)
		if len(items) > 0 {
			b = appendHomeRow(b, "personalized", "Picked for you", items, func(it recs.Item) string {
				if it.Because == it.Product.ID {
					return "you buy it often"
				}
				if p, ok := s.eng.Product(it.Because); ok && p != nil {
					return "because you bought " + p.Title
				}
				return "because of your orders"
			})
			b = append(b, ',')
		}
	}
	items = h.home.Popular(items[:0], limit, s.eng)
	b = appendHomeRow(b, "popular", "Popular right now", items, func(it recs.Item) string {
		return "in " + strconv.Itoa(it.Count) + " orders"
	})
	b = append(b, "]}"...)
	*buf = b
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
	putBuf(buf)
}

// appendHomeRow appends one row {"kind","title","items":[{"product_id",
// "title","image","price","rating","in_stock","reason"}]}.
func appendHomeRow(dst []byte, kind, title string, items []recs.Item, reason func(recs.Item) string) []byte {
	dst = append(dst, `{"kind":`...)
	dst = appendString(dst, kind)
	dst = append(dst, `,"title":`...)
	dst = appendString(dst, title)
	dst = append(dst, `,"items":[`...)
	for i, it := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		p := it.Product
		dst = append(dst, `{"product_id":`...)
		dst = appendString(dst, p.ID)
		dst = append(dst, `,"title":`...)
		dst = appendString(dst, p.Title)
		dst = append(dst, `,"image":`...)
		dst = appendString(dst, productImage(p))
		pr, was := p.Price()
		dst = append(dst, `,"price":`...)
		dst = appendPrice(dst, pr, was)
		dst = append(dst, `,"rating":{"avg":`...)
		dst = appendFloat(dst, p.Rating.Avg)
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendInt(dst, int64(p.Rating.Count), 10)
		dst = append(dst, `},"in_stock":`...)
		dst = appendBool(dst, p.InStock())
		dst = append(dst, `,"reason":`...)
		dst = appendString(dst, reason(it))
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// productImage is the product's thumbnail, else its first image, else "".
func productImage(p *catalog.Product) string {
	if p.Thumbnail != "" {
		return p.Thumbnail
	}
	if len(p.Images) > 0 {
		return p.Images[0]
	}
	return ""
}
