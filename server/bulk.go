package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/auth"
	"github.com/aisle/aisle/catalog"
)

// Bulk import: POST /api/v1/seller/products/bulk takes up to
// Options.MaxBulkProducts new products in one body, {"products":[...]} or
// NDJSON (Content-Type application/x-ndjson), each as for POST
// /api/v1/seller/products. The whole body is validated first, each product
// decoded once: one invalid product refuses the request with 400 naming
// products[i].field, and nothing is published. A valid body answers 202
// with a job id and a status URL, and the products are published in the
// background, in order, in batches of bulkBatch produced asynchronously
// with one flush per batch; GET /api/v1/seller/products/bulk/{job_id}, with
// the same seller's key, answers the job's progress. A seller runs one job
// at a time (429 while one runs); a job counts as one write against the
// seller's rate limit. Jobs live in memory: the last maxBulkJobs are kept,
// and a restart forgets them (published products stay published).

const (
	bulkPath    = sellerProductsPath + "/bulk"
	maxBulkJobs = 1000
	// maxBulkErrors bounds the per-product errors a job reports.
	maxBulkErrors = 100
)

// BulkStatus is the JSON of a bulk job.
type BulkStatus struct {
	JobID      string    `json:"job_id"`
	StatusURL  string    `json:"status_url"`
	State      string    `json:"state"` // running, done
	Total      int       `json:"total"`
	Published  int       `json:"published"`
	Failed     int       `json:"failed"`
	ProductIDs []string  `json:"product_ids"` // in body order; "" where a publish failed
	Errors     []string  `json:"errors,omitempty"`
	MinOffset  string    `json:"min_offset,omitempty"` // read-your-writes token of the last publish
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished,omitzero"`
}

type bulkJob struct {
	seller string
	mu     sync.Mutex
	st     BulkStatus
}

// bulkJobs holds the jobs of a server.
type bulkJobs struct {
	mu      sync.Mutex
	m       map[string]*bulkJob
	order   []string
	running map[string]bool // seller -> a job runs
	// wg holds the running jobs' goroutines: Shutdown waits for them
	// (an accepted job's products are published or reported failed,
	// never dropped).
	wg sync.WaitGroup
}

func (s *Server) bulkJob(id string) *bulkJob {
	s.bulk.mu.Lock()
	defer s.bulk.mu.Unlock()
	return s.bulk.m[id]
}

// startBulk registers a job of seller, or returns nil when one of its jobs
// is running.
func (s *Server) startBulk(seller string, ids []string) *bulkJob {
	b := &s.bulk
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m, b.running = map[string]*bulkJob{}, map[string]bool{}
	}
	if b.running[seller] {
		return nil
	}
	id := "job-" + newProductID()[2:]
	j := &bulkJob{seller: seller, st: BulkStatus{JobID: id, StatusURL: bulkPath + "/" + id, State: "running",
		Total: len(ids), ProductIDs: ids, Started: time.Now().UTC()}}
	b.m[id] = j
	b.order = append(b.order, id)
	b.running[seller] = true
	for len(b.order) > maxBulkJobs {
		old := b.order[0]
		if oj := b.m[old]; oj != nil && b.running[oj.seller] && oj.status().State == "running" {
			break // never forget a running job
		}
		delete(b.m, old)
		b.order = b.order[1:]
	}
	return j
}

func (j *bulkJob) status() BulkStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := j.st
	st.ProductIDs = append([]string(nil), j.st.ProductIDs...)
	st.Errors = append([]string(nil), j.st.Errors...)
	return st
}

// bulkRoute serves the bulk paths; auth, limits and the shape check are
// done by write.
func (s *Server) bulkRoute(ctx *fasthttp.RequestCtx, path, seller string, cat Catalog) {
	if path != bulkPath {
		j := s.bulkJob(path[len(bulkPath)+1:])
		if j == nil || j.seller != seller {
			// Another seller's job is not found either: job ids are not
			// to be probed.
			writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such bulk job", "")
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, j.status())
		return
	}
	ps, err := s.decodeBulk(ctx, seller)
	if err != nil {
		writeBodyError(ctx, err)
		return
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	j := s.startBulk(seller, ids)
	if j == nil {
		ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "5")
		writeError(ctx, fasthttp.StatusTooManyRequests, CodeRateLimited, "a bulk job of this seller is running; one at a time", "")
		return
	}
	s.bulk.wg.Go(func() { s.runBulk(j, ps, cat) })
	ctx.Response.Header.Set(fasthttp.HeaderLocation, j.st.StatusURL)
	writeJSON(ctx, fasthttp.StatusAccepted, j.status())
}

// decodeBulk decodes and validates every product of a bulk body, each
// decoded once, straight from the body: NDJSON (Content-Type
// application/x-ndjson or application/jsonl), one product body a line, or
// {"products":[...]}. The first invalid product refuses the request,
// named products[i] (i counting from 0 in either form).
func (s *Server) decodeBulk(ctx *fasthttp.RequestCtx, seller string) ([]*catalog.Product, error) {
	body := ctx.PostBody()
	var ps []*catalog.Product
	add := func(i int, b *productBody, err error) error {
		var p *catalog.Product
		if err == nil {
			p, err = productFromBody(b, newProductID(), s.opts.Currency)
		}
		if err == nil && p.SellerID != "" && p.SellerID != seller {
			err = &bodyError{"seller_id", "names another seller than the API key's; leave it out"}
		}
		if err != nil {
			field := "products[" + strconv.Itoa(i) + "]"
			if be, ok := err.(*bodyError); ok && be.field != "" {
				return &bodyError{field + "." + be.field, be.msg}
			}
			return &bodyError{field, err.Error()}
		}
		p.SellerID = seller
		ps = append(ps, p)
		if len(ps) > s.opts.MaxBulkProducts {
			return &bodyError{"products", fmt.Sprintf("holds more than %d products", s.opts.MaxBulkProducts)}
		}
		return nil
	}
	ct := string(ctx.Request.Header.ContentType())
	if strings.Contains(ct, "ndjson") || strings.Contains(ct, "jsonl") {
		i := 0
		for len(body) > 0 {
			line := body
			if k := bytes.IndexByte(body, '\n'); k >= 0 {
				line, body = body[:k], body[k+1:]
			} else {
				body = nil
			}
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var b productBody
			if err := add(i, &b, decodeStrict(line, &b)); err != nil {
				return nil, err
			}
			i++
		}
	} else {
		d := json.NewDecoder(bytes.NewReader(body))
		d.DisallowUnknownFields()
		if err := bulkOpen(d); err != nil {
			return nil, err
		}
		for i := 0; d.More(); i++ {
			var b productBody
			if err := add(i, &b, strictError(d.Decode(&b))); err != nil {
				return nil, err
			}
		}
		if _, err := d.Token(); err != nil { // ]
			return nil, &bodyError{"", "the body is not valid JSON: " + err.Error()}
		}
		if t, err := d.Token(); err != nil || t != json.Delim('}') {
			return nil, &bodyError{"", `want {"products":[...]} and nothing else`}
		}
		if _, err := d.Token(); err != io.EOF {
			return nil, &bodyError{"", "trailing data after the JSON object"}
		}
	}
	if len(ps) == 0 {
		return nil, &bodyError{"products", fmt.Sprintf("holds 0 products; want 1 to %d", s.opts.MaxBulkProducts)}
	}
	return ps, nil
}

// bulkOpen reads `{"products":[` from d.
func bulkOpen(d *json.Decoder) error {
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return &bodyError{"", `the body is not a JSON object; want {"products":[...]} (or NDJSON with Content-Type application/x-ndjson)`}
	}
	t, err := d.Token()
	if err != nil {
		return &bodyError{"", "the body is not valid JSON: " + err.Error()}
	}
	if k, _ := t.(string); k != "products" {
		if t == json.Delim('}') {
			return &bodyError{"products", "is required"}
		}
		return &bodyError{fmt.Sprint(t), "is not a known field"}
	}
	if t, err := d.Token(); err != nil || t != json.Delim('[') {
		return &bodyError{"products", "must be a JSON array"}
	}
	return nil
}

// bulkBatch is the number of products published with one flush.
const bulkBatch = 1000

// runBulk publishes a job's products in order, in batches of bulkBatch,
// each produced asynchronously and flushed once.
func (s *Server) runBulk(j *bulkJob, ps []*catalog.Product, cat Catalog) {
	defer func() {
		s.bulk.mu.Lock()
		delete(s.bulk.running, j.seller)
		s.bulk.mu.Unlock()
	}()
	for _, p := range ps {
		s.owners.store(p.ID, j.seller)
	}
	for start := 0; start < len(ps); start += bulkBatch {
		batch := ps[start:min(start+bulkBatch, len(ps))]
		wctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		ws, errs := cat.CreateProducts(wctx, batch)
		cancel()
		j.mu.Lock()
		for i, err := range errs {
			if err == nil {
				j.st.Published++
				j.st.MinOffset = ws[i].Token()
				continue
			}
			s.owners.delete(batch[i].ID)
			j.st.Failed++
			j.st.ProductIDs[start+i] = ""
			if len(j.st.Errors) < maxBulkErrors {
				j.st.Errors = append(j.st.Errors, fmt.Sprintf("products[%d]: %v", start+i, err))
			}
		}
		j.mu.Unlock()
	}
	j.mu.Lock()
	j.st.State, j.st.Finished = "done", time.Now().UTC()
	j.mu.Unlock()
}

// bulkBodyLimit is the fasthttp HeaderReceived hook: a bulk POST carrying a
// seller key may send up to MaxBulkBodySize; every other request keeps
// MaxRequestBodySize. The hook sees the header only, not the client's
// address, so it cannot apply the per-client limit every argon2id check
// takes (verifyKey): it hashes nothing. A key seen valid within the cache
// TTL gets the large body; a key not seen yet under a key id the store
// holds gets it within a per-key-id token bucket (KeyCheckRate,
// KeyCheckBurst), which bounds the large bodies a guessed secret makes the
// server read; everything else keeps the small cap. The handler then
// checks the key as every write does, under the per-client limit.
func (s *Server) bulkBodyLimit(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	uri := h.RequestURI()
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	if string(uri) != bulkPath || string(h.Method()) != fasthttp.MethodPost || s.opts.Keys == nil {
		return fasthttp.RequestConfig{}
	}
	cred := h.Peek(fasthttp.HeaderAuthorization)
	const p = "bearer "
	if len(cred) <= len(p) || !bytes.EqualFold(cred[:len(p)], []byte(p)) {
		return fasthttp.RequestConfig{}
	}
	key := string(bytes.TrimSpace(cred[len(p):]))
	lv, ok := s.opts.Keys.(limitedVerifier)
	if !ok {
		return fasthttp.RequestConfig{} // no way to check without hashing
	}
	pr, err := lv.VerifyLimited(key, func() bool { return false })
	switch {
	case err == nil && pr.Role == auth.RoleSeller:
	case errors.Is(err, auth.ErrThrottled): // a key id the store holds, secret not seen yet
		if ok, _ := s.bulkLim.allow([]byte(key[:min(len(key), bulkKeyIDLen)]), time.Now()); !ok {
			return fasthttp.RequestConfig{}
		}
	default:
		return fasthttp.RequestConfig{}
	}
	return fasthttp.RequestConfig{MaxRequestBodySize: s.opts.MaxBulkBodySize}
}

// bulkKeyIDLen is the length of an API key's public prefix, "ak_" and its
// key id (auth.KeyStore).
const bulkKeyIDLen = len("ak_") + 16

// bulkRunning reports whether a job of seller runs.
func (s *Server) bulkRunning(seller string) bool {
	s.bulk.mu.Lock()
	defer s.bulk.mu.Unlock()
	return s.bulk.running[seller]
}
