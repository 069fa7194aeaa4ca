package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/ingest"
)

// Bulk import: POST /api/v1/seller/products/bulk takes up to
// Options.MaxBulkProducts new products in one body, {"products":[...]},
// each as for POST /api/v1/seller/products. The whole body is validated
// first: one invalid product refuses the request with 400 naming
// products[i].field, and nothing is published. A valid body answers 202
// with a job id and a status URL, and the products are published in the
// background, in order; GET /api/v1/seller/products/bulk/{job_id}, with
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
	var body struct {
		Products []json.RawMessage `json:"products"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeBodyError(ctx, err)
		return
	}
	if len(body.Products) == 0 || len(body.Products) > s.opts.MaxBulkProducts {
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidBody,
			fmt.Sprintf("products holds %d products; want 1 to %d", len(body.Products), s.opts.MaxBulkProducts), "products")
		return
	}
	ids := make([]string, len(body.Products))
	for i, raw := range body.Products {
		ids[i] = newProductID()
		p, err := decodeProduct(raw, ids[i], s.opts.Currency)
		if err == nil && p.SellerID != "" && p.SellerID != seller {
			err = &bodyError{"seller_id", "names another seller than the API key's; leave it out"}
		}
		if err != nil {
			be, _ := err.(*bodyError)
			field := "products[" + strconv.Itoa(i) + "]"
			if be != nil && be.field != "" {
				field += "." + be.field
				err = &bodyError{field, be.msg}
			} else {
				err = &bodyError{field, err.Error()}
			}
			writeBodyError(ctx, err)
			return
		}
	}
	j := s.startBulk(seller, ids)
	if j == nil {
		ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "5")
		writeError(ctx, fasthttp.StatusTooManyRequests, CodeRateLimited, "a bulk job of this seller is running; one at a time", "")
		return
	}
	go s.runBulk(j, body.Products, cat)
	ctx.Response.Header.Set(fasthttp.HeaderLocation, j.st.StatusURL)
	writeJSON(ctx, fasthttp.StatusAccepted, j.status())
}

// runBulk publishes a job's products in order.
func (s *Server) runBulk(j *bulkJob, raws []json.RawMessage, cat Catalog) {
	defer func() {
		s.bulk.mu.Lock()
		delete(s.bulk.running, j.seller)
		s.bulk.mu.Unlock()
	}()
	for i, raw := range raws {
		j.mu.Lock()
		id := j.st.ProductIDs[i]
		j.mu.Unlock()
		p, err := decodeProduct(raw, id, s.opts.Currency) // valid: checked before the job started
		if err == nil {
			p.SellerID = j.seller
			s.owners.m.Store(id, j.seller)
			wctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			var w ingest.Written
			w, err = cat.PublishProduct(wctx, p, true)
			cancel()
			if err == nil {
				j.mu.Lock()
				j.st.Published++
				j.st.MinOffset = w.Token()
				j.mu.Unlock()
				continue
			}
			s.owners.m.Delete(id)
		}
		j.mu.Lock()
		j.st.Failed++
		j.st.ProductIDs[i] = ""
		if len(j.st.Errors) < maxBulkErrors {
			j.st.Errors = append(j.st.Errors, fmt.Sprintf("products[%d]: %v", i, err))
		}
		j.mu.Unlock()
	}
	j.mu.Lock()
	j.st.State, j.st.Finished = "done", time.Now().UTC()
	j.mu.Unlock()
}

// bulkBodyLimit is the fasthttp HeaderReceived hook: a bulk POST carrying a
// valid seller key may send up to MaxBulkBodySize; every other request
// keeps MaxRequestBodySize.
func (s *Server) bulkBodyLimit(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	uri := h.RequestURI()
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	if string(uri) != bulkPath || string(h.Method()) != fasthttp.MethodPost || s.opts.Keys == nil {
		return fasthttp.RequestConfig{}
	}
	auth := h.Peek(fasthttp.HeaderAuthorization)
	const p = "bearer "
	if len(auth) <= len(p) || !bytes.EqualFold(auth[:len(p)], []byte(p)) {
		return fasthttp.RequestConfig{}
	}
	if pr, err := s.opts.Keys.Verify(string(bytes.TrimSpace(auth[len(p):]))); err != nil || pr.Role != RoleSeller {
		return fasthttp.RequestConfig{}
	}
	return fasthttp.RequestConfig{MaxRequestBodySize: s.opts.MaxBulkBodySize}
}

// bulkRunning reports whether a job of seller runs.
func (s *Server) bulkRunning(seller string) bool {
	s.bulk.mu.Lock()
	defer s.bulk.mu.Unlock()
	return s.bulk.running[seller]
}
