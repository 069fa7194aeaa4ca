package server

import (
	"strconv"
	"unicode/utf8"

	"github.com/aisle/aisle/search"
	"github.com/aisle/aisle/spell"
	"github.com/valyala/fasthttp"
)

// Limits of /api/v1/suggest.
const (
	// MaxSuggestLimit bounds limit.
	MaxSuggestLimit = spell.MaxSuggestions
	// DefaultSuggestLimit is limit when it is not given.
	DefaultSuggestLimit = 8
)

// parseSuggest reads q and limit of a suggest request. Every parameter may
// appear once; an empty q is allowed and answers no suggestion.
func parseSuggest(args *fasthttp.Args) (q string, limit int, perr *paramError) {
	limit = DefaultSuggestLimit
	var seenQ, seenLimit bool
	for k, v := range args.All() {
		if !utf8.Valid(k) {
			return "", 0, &paramError{Code: CodeInvalidParameter, Param: string(k), Message: "a parameter name is not valid UTF-8"}
		}
		switch string(k) {
		case "q":
			if seenQ {
				return "", 0, invalid("q", "is given more than once")
			}
			seenQ = true
			if len(v) > search.MaxQueryBytes {
				return "", 0, invalid("q", "is "+strconv.Itoa(len(v))+" bytes, more than the limit of "+strconv.Itoa(search.MaxQueryBytes))
			}
			if !utf8.Valid(v) {
				return "", 0, invalid("q", "is not valid UTF-8")
			}
			q = string(v)
		case "limit":
			if seenLimit {
				return "", 0, invalid("limit", "is given more than once")
			}
			seenLimit = true
			if len(v) == 0 {
				continue
			}
			n, err := parsePositive("limit", v)
			if err != nil {
				return "", 0, err
			}
			if n > MaxSuggestLimit {
				return "", 0, invalid("limit", "is "+string(v)+", more than the limit of "+strconv.Itoa(MaxSuggestLimit))
			}
			limit = n
		default:
			msg := string(k) + " is not a suggest parameter"
			if len(k) == 0 {
				msg = "a parameter with an empty name is not a suggest parameter"
			}
			return "", 0, &paramError{Code: CodeUnknownParameter, Param: string(k), Message: msg}
		}
	}
	return q, limit, nil
}

func (s *Server) suggest(ctx *fasthttp.RequestCtx) {
	q, limit, perr := parseSuggest(ctx.QueryArgs())
	if perr != nil {
		writeError(ctx, fasthttp.StatusBadRequest, perr.Code, perr.Message, perr.Param)
		return
	}
	sg := s.svc.Suggester
	if sg == nil {
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "this engine has no autocomplete", "")
		return
	}
	buf := getBuf()
	*buf = appendSuggestions(*buf, sg.Suggest(q, limit))
	ctx.SetContentType("application/json")
	ctx.SetBody(*buf)
	putBuf(buf)
}
