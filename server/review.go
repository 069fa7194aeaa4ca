package server

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/commerce"
)

// The review endpoints of issue 7 (doc/reviews.md):
//
//	GET  /api/v1/products/{id}/reviews?sort=helpful|recent|rating&limit=&offset=   public
//	POST /api/v1/products/{id}/reviews                       {"rating","title","body"}, user token
//	POST /api/v1/products/{id}/reviews/{review_id}/helpful   user token
//
// A review is posted as the token's user.

// Reviewer is what the review endpoints need (*commerce.Reviews).
type Reviewer interface {
	Post(in commerce.NewReview, now time.Time) (commerce.Review, error)
	List(productID string, by commerce.ReviewSort, limit, offset int) (commerce.ReviewPage, error)
	Vote(userID, productID, reviewID string, now time.Time) (helpful int, counted bool, err error)
}

func (s *Server) reviewer() Reviewer { return s.svc.Reviews }

// Limits of the review endpoints.
const (
	// MaxReviewPage bounds limit of a review listing.
	MaxReviewPage = 50
	// DefaultReviewPage is the listing's limit when none is given.
	DefaultReviewPage = 10
	// maxReviewOffset bounds offset (a listing reads every entry of the
	// product anyway; this keeps the number sane).
	maxReviewOffset = 1_000_000
	// maxReviewRequest bounds a posted review's body: 5,000 bytes of text
	// may take six times that as JSON escapes.
	maxReviewRequest = 32 << 10
)

// Error codes of the review endpoints.
const (
	CodeAlreadyReviewed = "already_reviewed"
	CodeOwnReview       = "own_review"
)

// isReviewsPath reports whether path, under productsPrefix, is a review
// endpoint.
func isReviewsPath(path string) bool {
	rest := path[len(productsPrefix):]
	return strings.HasSuffix(rest, "/reviews") || strings.Contains(rest, "/reviews/")
}

func (s *Server) reviewsRoute(ctx *fasthttp.RequestCtx, path string) {
	rest := path[len(productsPrefix):]
	i := strings.Index(rest, "/reviews")
	if i < 0 { // the route matched the path as sent; its normal form ("//" made "/") has no product
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+path, "")
		return
	}
	pid, tail := rest[:i], rest[i+len("/reviews"):]
	var rid string
	switch {
	case pid == "" || strings.Contains(pid, "/"):
		rid = "/" // not found
	case tail == "":
	case strings.HasPrefix(tail, "/"):
		var ok bool
		if rid, ok = strings.CutSuffix(tail[1:], "/helpful"); !ok || rid == "" {
			rid = "/"
		}
	default:
		rid = "/"
	}
	if strings.Contains(rid, "/") {
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+path, "")
		return
	}
	switch {
	case rid == "" && (ctx.IsGet() || ctx.IsHead()):
		s.listReviews(ctx, pid)
	case rid == "" && ctx.IsPost():
		s.RequireUser(func(ctx *fasthttp.RequestCtx, user string) {
			if !refuseGuest(ctx, user, "review a product") {
				s.postReview(ctx, pid, user)
			}
		})(ctx)
	case rid != "" && ctx.IsPost():
		s.RequireUser(func(ctx *fasthttp.RequestCtx, user string) {
			if !refuseGuest(ctx, user, "vote on a review") {
				s.voteReview(ctx, pid, rid, user)
			}
		})(ctx)
	default:
		allow := "GET, HEAD, POST"
		if rid != "" {
			allow = "POST"
		}
		ctx.Response.Header.Set("Allow", allow)
		writeError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+string(ctx.Method())+" not allowed; use "+allow, "")
	}
}

// reviewArgs are the parameters of a listing.
type reviewArgs struct {
	sort          commerce.ReviewSort
	limit, offset int
}

// parseReviewArgs parses sort, limit and offset strictly: an unknown or
// repeated parameter, an unknown sort or a number out of range is an error.
func parseReviewArgs(args *fasthttp.Args) (reviewArgs, *paramError) {
	a := reviewArgs{sort: commerce.SortHelpful, limit: DefaultReviewPage}
	var perr *paramError
	seen := 0
	num := func(k string, v []byte, lo, hi int) int {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < lo || n > hi {
			perr = invalid(k, "is "+strconv.Quote(string(v))+"; want an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		}
		return n
	}
	args.VisitAll(func(k, v []byte) {
		if perr != nil {
			return
		}
		bit := 0
		switch string(k) {
		case "sort":
			bit = 1
			var ok bool
			if a.sort, ok = commerce.ParseReviewSort(string(v)); !ok {
				perr = invalid("sort", "is "+strconv.Quote(string(v))+"; want helpful, recent or rating")
			}
		case "limit":
			bit = 2
			a.limit = num("limit", v, 1, MaxReviewPage)
		case "offset":
			bit = 4
			a.offset = num("offset", v, 0, maxReviewOffset)
		default:
			perr = &paramError{Code: CodeUnknownParameter, Param: string(k),
				Message: strconv.Quote(string(k)) + " is not a parameter of the review listing; want sort, limit or offset"}
			return
		}
		if seen&bit != 0 && perr == nil {
			perr = invalid(string(k), "is given more than once")
		}
		seen |= bit
	})
	return a, perr
}

// productKnown answers 404 and returns false when the engine has no such
// product.
func (s *Server) productKnown(ctx *fasthttp.RequestCtx, pid string) bool {
	if p, ok := s.eng.Product(pid); !ok || p == nil {
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no product with id "+strconv.Quote(pid), "product_id")
		return false
	}
	return true
}

type reviewSummaryJSON struct {
	Avg          float64 `json:"avg"`
	Count        int     `json:"count"`
	Distribution [5]int  `json:"distribution"`
}

type reviewJSON struct {
	ReviewID  string    `json:"review_id"`
	UserID    string    `json:"user_id"`
	Rating    int       `json:"rating"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	Verified  bool      `json:"verified"`
	Helpful   int       `json:"helpful"`
}

type reviewListJSON struct {
	ProductID string            `json:"product_id"`
	Summary   reviewSummaryJSON `json:"summary"`
	Total     int               `json:"total"`
	Reviews   []reviewJSON      `json:"reviews"`
}

func (s *Server) listReviews(ctx *fasthttp.RequestCtx, pid string) {
	a, perr := parseReviewArgs(ctx.QueryArgs())
	if perr != nil {
		writeError(ctx, fasthttp.StatusBadRequest, perr.Code, perr.Message, perr.Param)
		return
	}
	r := s.reviewer()
	if r == nil {
		notBuilt(ctx, "reviews")
		return
	}
	if !s.productKnown(ctx, pid) {
		return
	}
	page, err := r.List(pid, a.sort, a.limit, a.offset)
	if err != nil {
		s.reviewFailed(ctx, err)
		return
	}
	out := reviewListJSON{ProductID: pid, Total: page.Total, Reviews: make([]reviewJSON, 0, len(page.Reviews)),
		Summary: reviewSummaryJSON{Avg: page.Summary.Avg, Count: page.Summary.Count, Distribution: page.Summary.Distribution}}
	for _, rv := range page.Reviews {
		out.Reviews = append(out.Reviews, reviewJSON{ReviewID: rv.ID, UserID: rv.UserID, Rating: rv.Rating, Title: rv.Title,
			Body: rv.Body, CreatedAt: rv.CreatedAt, Verified: rv.Verified, Helpful: rv.Helpful})
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// reviewBody is the JSON of a posted review.
type reviewBody struct {
	Rating *int    `json:"rating"`
	Title  *string `json:"title"`
	Body   *string `json:"body"`
}

// decodeReviewBody decodes a posted review strictly; the error is a
// *bodyError naming the field at fault.
func decodeReviewBody(body []byte) (rating int, title, text string, err error) {
	if len(body) > maxReviewRequest {
		return 0, "", "", &bodyError{"", "the body is " + strconv.Itoa(len(body)) + " bytes, more than the limit of " + strconv.Itoa(maxReviewRequest)}
	}
	if err := checkJSONShape(body, 2, maxReviewRequest); err != nil {
		return 0, "", "", err
	}
	var b reviewBody
	if err := decodeStrict(body, &b); err != nil {
		return 0, "", "", err
	}
	switch {
	case b.Rating == nil:
		return 0, "", "", &bodyError{"rating", "is required (1 to 5)"}
	case *b.Rating < 1 || *b.Rating > 5:
		return 0, "", "", &bodyError{"rating", "is " + strconv.Itoa(*b.Rating) + "; want 1 to 5"}
	case b.Body == nil || strings.TrimSpace(*b.Body) == "":
		return 0, "", "", &bodyError{"body", "is required and must not be blank"}
	case len(*b.Body) > commerce.MaxReviewBodyBytes:
		return 0, "", "", &bodyError{"body", "is " + strconv.Itoa(len(*b.Body)) + " bytes, more than the limit of " + strconv.Itoa(commerce.MaxReviewBodyBytes)}
	case !utf8.ValidString(*b.Body):
		return 0, "", "", &bodyError{"body", "is not valid UTF-8"}
	}
	if b.Title != nil {
		title = *b.Title
		if len(title) > commerce.MaxReviewTitleBytes {
			return 0, "", "", &bodyError{"title", "is " + strconv.Itoa(len(title)) + " bytes, more than the limit of " + strconv.Itoa(commerce.MaxReviewTitleBytes)}
		}
		if !utf8.ValidString(title) {
			return 0, "", "", &bodyError{"title", "is not valid UTF-8"}
		}
	}
	return *b.Rating, title, *b.Body, nil
}

type postedReviewJSON struct {
	ReviewID string   `json:"review_id"`
	Status   string   `json:"status"`
	Verified bool     `json:"verified"`
	Reasons  []string `json:"reasons"`
}

func (s *Server) postReview(ctx *fasthttp.RequestCtx, pid, user string) {
	r := s.reviewer()
	if r == nil {
		notBuilt(ctx, "reviews")
		return
	}
	rating, title, text, err := decodeReviewBody(ctx.PostBody())
	if err != nil {
		writeBodyError(ctx, err)
		return
	}
	if !s.productKnown(ctx, pid) {
		return
	}
	rv, err := r.Post(commerce.NewReview{UserID: user, ProductID: pid, Rating: rating, Title: title, Body: text}, time.Now())
	if err != nil {
		s.reviewFailed(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, postedReviewJSON{ReviewID: rv.ID, Status: rv.Status, Verified: rv.Verified, Reasons: nonNil(rv.Reasons)})
}

func (s *Server) voteReview(ctx *fasthttp.RequestCtx, pid, rid, user string) {
	r := s.reviewer()
	if r == nil {
		notBuilt(ctx, "reviews")
		return
	}
	if body := ctx.PostBody(); len(body) > 0 {
		var none struct{}
		if err := decodeStrict(body, &none); err != nil {
			writeBodyError(ctx, err)
			return
		}
	}
	helpful, counted, err := r.Vote(user, pid, rid, time.Now())
	if err != nil {
		s.reviewFailed(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, struct {
		Helpful int  `json:"helpful"`
		Counted bool `json:"counted"`
	}{helpful, counted})
}

// reviewFailed answers an error of the review service.
func (s *Server) reviewFailed(ctx *fasthttp.RequestCtx, err error) {
	var re *commerce.ReviewError
	switch {
	case errors.As(err, &re):
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidBody, re.Field+" "+re.Msg, re.Field)
	case errors.Is(err, commerce.ErrAlreadyReviewed):
		writeError(ctx, fasthttp.StatusConflict, CodeAlreadyReviewed, "you have already reviewed this product", "product_id")
	case errors.Is(err, commerce.ErrNoReview):
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no published review with this id on this product", "review_id")
	case errors.Is(err, commerce.ErrOwnReview):
		writeError(ctx, fasthttp.StatusForbidden, CodeOwnReview, "you cannot vote on your own review", "review_id")
	default:
		s.logf("server: reviews: %v", err)
		writeError(ctx, fasthttp.StatusServiceUnavailable, CodeUnavailable, "the review store is unavailable", "")
	}
}

// refuseGuest answers 403 and returns true when user is a guest: a guest
// token is free to mint (POST /api/v1/guest), so it buys a cart and
// nothing that speaks for a shopper (doc/security.md); 30 guests once
// moved a product from 4.1 to 2.3 stars.
func refuseGuest(ctx *fasthttp.RequestCtx, user, what string) bool {
	if !strings.HasPrefix(user, guestPrefix) {
		return false
	}
	writeError(ctx, fasthttp.StatusForbidden, CodeForbidden, "a guest cannot "+what+"; sign in first", "")
	return true
}
