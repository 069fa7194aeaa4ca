package server

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aisle/aisle/recs"
	"github.com/valyala/fasthttp"
)

// The recommendation endpoints:
//
//	GET /api/v1/products/{id}/also-bought?limit=N
//	GET /api/v1/products/{id}/bought-together?limit=N
//	GET /api/v1/products/{id}/similar?limit=N
//
// and the same under /api/v1/recs/also-bought/{id},
// /api/v1/recs/bought-together/{id} and /api/v1/recs/similar/{id}. Lists
// are filtered at request time through the engine, so a product deleted or
// out of stock now is never recommended.

// Recommender is what the server needs of recommendations (*recs.Lists).
// Both methods append to dst and must be safe for concurrent use.
type Recommender interface {
	AlsoBought(dst []recs.Item, id string, limit int, ps recs.Products) []recs.Item
	BoughtTogether(dst []recs.Bundle, id string, limit int, ps recs.Products) []recs.Bundle
}

// SimilarItems is what the server needs of "similar items"
// (*recs.Embeddings). Similar appends to dst and must be safe for
// concurrent use.
type SimilarItems interface {
	Similar(dst []recs.Item, id string, limit int, ps recs.Products) []recs.Item
}

// Limits of the recommendation endpoints.
const (
	DefaultAlsoBoughtLimit     = 10
	MaxAlsoBoughtLimit         = 50
	DefaultBoughtTogetherLimit = 3
	MaxBoughtTogetherLimit     = 10
	DefaultSimilarLimit        = 10
	MaxSimilarLimit            = 50
)

const (
	recsPrefix         = "/api/v1/recs/"
	alsoBoughtName     = "also-bought"
	boughtTogetherName = "bought-together"
	similarName        = "similar"
)

// recsHolder is the recommendations of this moment (Services.Recs,
// Similar and Home); any may be nil.
type recsHolder struct {
	r    Recommender
	sim  SimilarItems
	home HomeRows
}

// recsNow returns the current recommendations.
func (s *Server) recsNow() recsHolder {
	h := recsHolder{home: s.svc.Home}
	if s.svc.Recs != nil {
		h.r = s.svc.Recs()
	}
	if s.svc.Similar != nil {
		h.sim = s.svc.Similar()
	}
	return h
}

// recsRoute serves path if it is a recommendation endpoint and reports
// whether it was.
func (s *Server) recsRoute(ctx *fasthttp.RequestCtx, path string) bool {
	if path == recsPrefix+homeName {
		s.homeRoute(ctx, "")
		return true
	}
	if user, ok := strings.CutPrefix(path, recsPrefix+homeName+"/"); ok {
		s.homeRoute(ctx, user)
		return true
	}
	var kind, id string
	if rest, ok := strings.CutPrefix(path, recsPrefix); ok {
		kind, id, _ = strings.Cut(rest, "/")
	} else if rest, ok := strings.CutPrefix(path, productsPrefix); ok {
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			return false
		}
		id, kind = rest[:i], rest[i+1:]
	} else {
		return false
	}
	if kind != alsoBoughtName && kind != boughtTogetherName && kind != similarName {
		if strings.HasPrefix(path, recsPrefix) {
			writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+path, "")
			return true
		}
		return false
	}
	def, maxLimit := DefaultAlsoBoughtLimit, MaxAlsoBoughtLimit
	switch kind {
	case boughtTogetherName:
		def, maxLimit = DefaultBoughtTogetherLimit, MaxBoughtTogetherLimit
	case similarName:
		def, maxLimit = DefaultSimilarLimit, MaxSimilarLimit
	}
	limit, perr := parseRecsArgs(ctx.QueryArgs(), def, maxLimit)
	if perr != nil {
		writeError(ctx, fasthttp.StatusBadRequest, perr.Code, perr.Message, perr.Param)
		return true
	}
	anchor, ok := s.eng.Product(id)
	if !ok || anchor == nil {
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no product with id "+strconv.Quote(id), "")
		return true
	}
	h := s.recsNow()
	if (kind == similarName && h.sim == nil) || (kind != similarName && h.r == nil) {
		writeError(ctx, fasthttp.StatusServiceUnavailable, CodeNotReady, "the recommendations are still loading", "")
		return true
	}
	buf := getBuf()
	switch kind {
	case alsoBoughtName:
		items := h.r.AlsoBought(make([]recs.Item, 0, limit), id, limit, s.eng)
		*buf = appendAlsoBought(*buf, anchor.ID, anchor.Title, items)
	case similarName:
		items := h.sim.Similar(make([]recs.Item, 0, limit), id, limit, s.eng)
		*buf = appendSimilar(*buf, anchor.ID, anchor.Title, items)
	default:
		bundles := h.r.BoughtTogether(nil, id, limit, s.eng)
		*buf = appendBoughtTogether(*buf, anchor.ID, bundles)
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(*buf)
	putBuf(buf)
	return true
}

// parseRecsArgs reads limit, the one parameter of a recommendation
// endpoint.
func parseRecsArgs(args *fasthttp.Args, def, maxLimit int) (int, *paramError) {
	limit := def
	seen := false
	for k, v := range args.All() {
		if !utf8.Valid(k) {
			return 0, &paramError{Code: CodeInvalidParameter, Param: string(k), Message: "a parameter name is not valid UTF-8"}
		}
		if string(k) != "limit" {
			msg := string(k) + " is not a recommendation parameter"
			if len(k) == 0 {
				msg = "a parameter with an empty name is not a recommendation parameter"
			}
			return 0, &paramError{Code: CodeUnknownParameter, Param: string(k), Message: msg}
		}
		if seen {
			return 0, invalid("limit", "is given more than once")
		}
		seen = true
		n, perr := parsePositive("limit", v)
		if perr != nil {
			return 0, perr
		}
		if n > maxLimit {
			return 0, invalid("limit", "is "+string(v)+", more than the limit of "+strconv.Itoa(maxLimit))
		}
		limit = n
	}
	return limit, nil
}

// appendAlsoBought appends {"product_id","items":[...]}, each item with
// its co-purchase count.
func appendAlsoBought(dst []byte, id, title string, items []recs.Item) []byte {
	return appendItems(dst, id, items, true, func(it recs.Item) string {
		if it.Reason != "" { // a fallback: the item is not one of id's own co-purchases
			return it.Reason
		}
		return "bought with " + title + " in " + strconv.Itoa(it.Count) + " orders"
	})
}

// appendSimilar appends {"product_id","items":[...]} for similar items.
func appendSimilar(dst []byte, id, title string, items []recs.Item) []byte {
	return appendItems(dst, id, items, false, func(it recs.Item) string {
		if it.Reason != "" {
			return it.Reason
		}
		return "bought by the same kind of customers as " + title
	})
}

func appendItems(dst []byte, id string, items []recs.Item, coPurchases bool, reason func(recs.Item) string) []byte {
	dst = append(dst, `{"product_id":`...)
	dst = appendString(dst, id)
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
		dst = append(dst, `,"score":`...)
		dst = appendFloat(dst, it.Score)
		if coPurchases {
			dst = append(dst, `,"co_purchases":`...)
			dst = strconv.AppendInt(dst, int64(it.Count), 10)
		}
		dst = append(dst, `,"reason":`...)
		dst = appendString(dst, reason(it))
		pr, was := p.Price()
		dst = append(dst, `,"price":`...)
		dst = appendPrice(dst, pr, was)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// appendBoughtTogether appends {"product_id","items":[the best bundle's
// products],"bundles":[...]}.
func appendBoughtTogether(dst []byte, id string, bundles []recs.Bundle) []byte {
	dst = append(dst, `{"product_id":`...)
	dst = appendString(dst, id)
	dst = append(dst, `,"items":[`...)
	if len(bundles) > 0 {
		for i, p := range bundles[0].Products {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"product_id":`...)
			dst = appendString(dst, p.ID)
			dst = append(dst, `,"title":`...)
			dst = appendString(dst, p.Title)
			pr, was := p.Price()
			dst = append(dst, `,"price":`...)
			dst = appendPrice(dst, pr, was)
			dst = append(dst, '}')
		}
	}
	dst = append(dst, `],"bundles":[`...)
	for i, b := range bundles {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"product_ids":[`...)
		for j, p := range b.Products {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, p.ID)
		}
		dst = append(dst, `],"price":`...)
		if b.Price.Currency == "" {
			dst = append(dst, "null"...)
		} else {
			dst = appendPrice(dst, b.Price, b.Price)
		}
		dst = append(dst, `,"orders":`...)
		dst = strconv.AppendInt(dst, int64(b.Count), 10)
		dst = append(dst, `,"support":`...)
		dst = appendFloat(dst, b.Support)
		dst = append(dst, `,"confidence":`...)
		dst = appendFloat(dst, b.Confidence)
		dst = append(dst, `,"lift":`...)
		dst = appendFloat(dst, b.Lift)
		dst = append(dst, `,"reason":`...)
		if b.Reason == "" {
			dst = appendString(dst, recs.ReasonBoughtTogether)
		} else {
			dst = appendString(dst, b.Reason)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}
