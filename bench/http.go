package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/query"
)

// HTTPSearcher runs the log's queries against a running `aisle serve` over
// HTTP on loopback, through the public search API. The server runs in
// another process; this client's own CPU (request building, JSON decoding)
// is counted in the figures of this process, not the server's.
type HTTPSearcher struct {
	addr string
	c    *fasthttp.HostClient
}

// NewHTTPSearcher returns a searcher for the server at addr (host:port).
func NewHTTPSearcher(addr string, conns int) *HTTPSearcher {
	return &HTTPSearcher{addr: addr, c: &fasthttp.HostClient{
		Addr: addr, MaxConns: max(conns, 1), ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
	}}
}

// URI returns the search request path of q for the top k.
func URI(q *Query, k int) string {
	v := url.Values{}
	v.Set("q", q.Text)
	v.Set("page_size", strconv.Itoa(k))
	v.Set("facets", strconv.FormatBool(q.Facets))
	f := &q.Filter
	if f.Category != "" {
		v.Set("category", f.Category)
	}
	if len(f.Brands) > 0 {
		v.Set("brand", strings.Join(f.Brands, ","))
	}
	major := func(cents int64) string { return strconv.FormatFloat(float64(cents)/100, 'f', 2, 64) }
	if f.HasPriceMin {
		v.Set("price_min", major(f.PriceMin))
	}
	if f.HasPriceMax {
		v.Set("price_max", major(f.PriceMax))
	}
	if f.RatingMin > 0 {
		v.Set("rating_min", strconv.FormatFloat(f.RatingMin, 'g', -1, 64))
	}
	if f.InStock {
		v.Set("in_stock", "true")
	}
	for name, vals := range f.Attrs {
		v.Set("attr."+name, strings.Join(vals, ","))
	}
	if q.Sort != query.SortRelevance {
		v.Set("sort", q.Sort.String())
	}
	return "/api/v1/products/search?" + v.Encode()
}

type httpResult struct {
	Results []struct {
		ProductID string `json:"product_id"`
	} `json:"results"`
	Total int `json:"total"`
}

// Search implements Searcher over HTTP.
func (h *HTTPSearcher) Search(_ context.Context, q *Query, k int, ids []string) ([]string, int, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + h.addr + URI(q, k))
	if err := h.c.Do(req, resp); err != nil {
		return ids[:0], 0, fmt.Errorf("bench: GET %s: %w", h.addr, err)
	}
	if code := resp.StatusCode(); code != fasthttp.StatusOK {
		return ids[:0], 0, fmt.Errorf("bench: %q answered %d: %.200s", q.Text, code, resp.Body())
	}
	var r httpResult
	if err := json.Unmarshal(resp.Body(), &r); err != nil {
		return ids[:0], 0, fmt.Errorf("bench: decoding the answer to %q: %w", q.Text, err)
	}
	ids = ids[:0]
	for _, x := range r.Results {
		ids = append(ids, x.ProductID)
	}
	return ids, r.Total, nil
}

// HTTPLoad replays log against the server at addr at each concurrency for
// d, as the in-process load workload does.
func HTTPLoad(ctx context.Context, addr string, log []Query, conc []int, d time.Duration) (*HTTPReport, error) {
	rep := &HTTPReport{Addr: addr}
	for _, c := range conc {
		s := NewHTTPSearcher(addr, c)
		l, err := runLoad(ctx, s, log, c, d, func(float64) {})
		rep.Loads = append(rep.Loads, l)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}
