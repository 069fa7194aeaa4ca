package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/commerce"
	"github.com/aisle/aisle/ingest"
)

// The seller and inventory writes of the thin catalog service. They
// validate, publish one versioned event to Kafka and answer with where it
// landed; the index changes when the ingest consumer applies the event.
// A search passing the returned min_offset token waits for that.

// Catalog publishes seller writes (ingest.Writer).
type Catalog interface {
	PublishProduct(ctx context.Context, p *catalog.Product, create bool) (ingest.Written, error)
	PublishStock(ctx context.Context, productID, variantID, warehouseID string, change func(available int) (int, error)) (ingest.Written, int, error)
	DeleteProduct(ctx context.Context, id, seller string) (ingest.Written, error)
	// CreateProducts publishes a batch of new products with one flush,
	// returning for each where it landed or why not.
	CreateProducts(ctx context.Context, ps []*catalog.Product) ([]ingest.Written, []error)
}

// Feed is what the server needs of the ingest consumer (ingest.Consumer):
// read-your-writes waits and the freshness metrics.
type Feed interface {
	WaitApplied(ctx context.Context, topic string, partition int32, offset int64) bool
	// WritePrometheus writes the consumer's metrics in the Prometheus
	// text format.
	WritePrometheus(w io.Writer)
}

// ingestSide is the ingest wiring of the generation serving
// (Services.Ingest).
type ingestSide struct {
	cat  Catalog
	feed Feed
}

// Error codes of the write endpoints, beyond those of the search API.
const (
	CodeInvalidBody       = "invalid_body"
	CodeNoBroker          = "no_broker"
	CodeInsufficientStock = "insufficient_stock"
	CodeUnavailable       = "unavailable"
	// CodeIDTaken: a variant id another product already uses.
	CodeIDTaken = "id_taken"
)

const (
	sellerProductsPath = "/api/v1/seller/products"
	inventoryPrefix    = "/api/v1/inventory/"
	// MaxFreshWait bounds how long a search with min_offset waits.
	MaxFreshWait = 2 * time.Second
	// writeTimeout bounds one write's publish.
	writeTimeout = 10 * time.Second
)

func (s *Server) ingestSide() ingestSide {
	if s.svc.Ingest == nil {
		return ingestSide{}
	}
	cat, feed := s.svc.Ingest()
	return ingestSide{cat: cat, feed: feed}
}

// write routes a request under the write paths; ep is epSeller or
// epInventory.
func (s *Server) write(ctx *fasthttp.RequestCtx, ep int, path string) {
	var allow, want string
	var id string
	bulk := path == bulkPath || strings.HasPrefix(path, bulkPath+"/")
	switch {
	case bulk && path == bulkPath:
		allow, want = "POST", fasthttp.MethodPost
	case bulk:
		allow, want = "GET", fasthttp.MethodGet
	case ep == epInventory:
		id, allow, want = path[len(inventoryPrefix):], "PATCH", fasthttp.MethodPatch
	case path == sellerProductsPath:
		allow, want = "POST", fasthttp.MethodPost
	default:
		id, allow, want = path[len(sellerProductsPath)+1:], "PUT, DELETE", fasthttp.MethodPut
		if string(ctx.Method()) == fasthttp.MethodDelete {
			want = fasthttp.MethodDelete
		}
	}
	if string(ctx.Method()) != want {
		ctx.Response.Header.Set("Allow", allow)
		writeError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+string(ctx.Method())+" not allowed; use "+allow, "")
		return
	}
	if !bulk && (strings.Contains(id, "/") || (id == "" && path != sellerProductsPath)) {
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no such endpoint: "+path, "")
		return
	}
	seller, ok := s.authSeller(ctx)
	if !ok {
		return
	}
	if bulk && path != bulkPath {
		s.bulkRoute(ctx, path, seller, nil) // a job's status
		return
	}
	if ok, wait := s.writeLim.allow([]byte(seller), time.Now()); !ok {
		tooMany(ctx, wait, "seller write")
		return
	}
	if err := checkJSONShape(ctx.PostBody(), s.opts.MaxJSONDepth, s.opts.MaxJSONStringBytes); err != nil {
		writeBodyError(ctx, err)
		return
	}
	side := s.ingestSide()
	if side.cat == nil {
		writeError(ctx, fasthttp.StatusServiceUnavailable, CodeNoBroker, "writes need a broker: this server runs without Kafka", "")
		return
	}
	if bulk {
		s.bulkRoute(ctx, path, seller, side.cat)
		return
	}
	wctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if ep == epInventory {
		s.patchInventory(wctx, ctx, side.cat, id, seller)
		return
	}
	if want == fasthttp.MethodDelete {
		s.deleteProduct(wctx, ctx, side.cat, id, seller)
		return
	}
	s.putProduct(wctx, ctx, side.cat, id, seller)
}

// deleteProduct publishes the tombstone of a product of seller: 200 with
// where it landed; 403 for another seller's product, 404 for an unknown or
// deleted one. Once the index applies it, the product leaves search,
// product pages, recommendations and the storefront, and cart lines of it
// show as unavailable.
func (s *Server) deleteProduct(wctx context.Context, ctx *fasthttp.RequestCtx, cat Catalog, id, seller string) {
	if len(ctx.PostBody()) > 0 {
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidBody, "a DELETE takes no body", "")
		return
	}
	if !s.forbidOthers(ctx, id, seller) {
		return
	}
	if _, known := s.ownerOf(id); !known {
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, "no product "+id, "")
		return
	}
	w, err := cat.DeleteProduct(wctx, id, seller)
	if err != nil {
		s.writeFailed(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{
		"product_id": id, "deleted": true, "version": w.Version, "topic": w.Topic,
		"partition": w.Partition, "offset": w.Offset, "min_offset": w.Token(),
	})
}

// productBody is the JSON of a seller's product.
type productBody struct {
	Title        string            `json:"title"`
	Description  string            `json:"description"`
	Brand        string            `json:"brand"`
	CategoryPath []string          `json:"category_path"`
	Attributes   map[string]string `json:"attributes"`
	Images       []string          `json:"images"`
	ThumbnailURL string            `json:"thumbnail_url"`
	SellerID     string            `json:"seller_id"`
	Variants     []variantBody     `json:"variants"`
}

type variantBody struct {
	VariantID         string            `json:"variant_id"`
	SKU               string            `json:"sku"`
	Attributes        map[string]string `json:"attributes"`
	PriceCents        *int64            `json:"price_cents"`
	ComparePriceCents int64             `json:"compare_price_cents"`
	Stock             []stockBody       `json:"stock"`
}

type stockBody struct {
	WarehouseID string `json:"warehouse_id"`
	Available   int    `json:"available"`
}

// bodyError is a request body the server refuses, answered with 400.
type bodyError struct {
	field, msg string
}

func (e *bodyError) Error() string {
	if e.field == "" {
		return e.msg
	}
	return e.field + " " + e.msg
}

// decodeStrict decodes one JSON object into v, refusing unknown fields
// (typos are refused, not ignored, as for search parameters) and trailing
// data.
func decodeStrict(body []byte, v any) error {
	// encoding/json would turn invalid UTF-8 into U+FFFD silently.
	if !utf8.Valid(body) {
		return &bodyError{"", "the body is not valid UTF-8"}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := strictError(d.Decode(v)); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return &bodyError{"", "trailing data after the JSON object"}
	}
	return nil
}

// strictError turns a strict decoder's error into a bodyError.
func strictError(err error) error {
	if err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return &bodyError{te.Field, "must be a JSON " + te.Type.String()}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
			return &bodyError{f, "is not a known field"}
		case errors.Is(err, io.EOF):
			return &bodyError{"", "the body is empty; want a JSON object"}
		}
		return &bodyError{"", "the body is not valid JSON: " + err.Error()}
	}
	return nil
}

// decodeProduct decodes a seller's product body into a catalog product
// with the given id, in the store currency, and validates it. Variants
// without a variant_id get "<id>-<n>", n counting from 1.
func decodeProduct(body []byte, id, currency string) (*catalog.Product, error) {
	var b productBody
	if err := decodeStrict(body, &b); err != nil {
		return nil, err
	}
	return productFromBody(&b, id, currency)
}

// productFromBody is decodeProduct after the JSON decoding.
func productFromBody(b *productBody, id, currency string) (*catalog.Product, error) {
	now := time.Now().UTC()
	p := &catalog.Product{
		ID: id, Title: b.Title, Description: b.Description, Brand: b.Brand,
		Category: b.CategoryPath, Attributes: b.Attributes, Images: b.Images,
		Thumbnail: b.ThumbnailURL, SellerID: b.SellerID, CreatedAt: now, UpdatedAt: now,
	}
	for i, vb := range b.Variants {
		f := fmt.Sprintf("variants[%d]", i)
		if vb.PriceCents == nil {
			return nil, &bodyError{f + ".price_cents", "is required"}
		}
		v := catalog.Variant{ID: vb.VariantID, SKU: vb.SKU, Attributes: vb.Attributes,
			Price: catalog.Money{Amount: *vb.PriceCents, Currency: currency}}
		if v.ID == "" {
			v.ID = id + "-" + strconv.Itoa(i+1)
		} else if err := catalog.CheckSellerID(v.ID); err != nil {
			return nil, &bodyError{f + ".variant_id", err.Error()}
		}
		if vb.ComparePriceCents != 0 {
			v.CompareAt = catalog.Money{Amount: vb.ComparePriceCents, Currency: currency}
		}
		for j, st := range vb.Stock {
			if err := catalog.CheckSellerID(st.WarehouseID); err != nil {
				return nil, &bodyError{fmt.Sprintf("%s.stock[%d].warehouse_id", f, j), err.Error()}
			}
			if st.Available < 0 {
				return nil, &bodyError{fmt.Sprintf("%s.stock[%d].available", f, j), fmt.Sprintf("is negative (%d)", st.Available)}
			}
			if v.Stock == nil {
				v.Stock = map[string]int{}
			}
			v.Stock[st.WarehouseID] = st.Available
		}
		p.Variants = append(p.Variants, v)
	}
	if err := p.Validate(); err != nil {
		var ve *catalog.ValidationError
		if errors.As(err, &ve) && len(ve.Fields) > 0 {
			fe := ve.Fields[0]
			return nil, &bodyError{bodyField(fe.Field), fe.Message}
		}
		return nil, &bodyError{"", err.Error()}
	}
	return p, nil
}

// bodyField names a catalog validation field as the request body spells it.
func bodyField(f string) string {
	for _, r := range [...][2]string{
		{".price.amount", ".price_cents"}, {".compare_at.amount", ".compare_price_cents"},
		{".price.currency", ".price_cents"}, {".compare_at.currency", ".compare_price_cents"},
		{"category", "category_path"},
	} {
		f = strings.Replace(f, r[0], r[1], 1)
	}
	if i := strings.Index(f, ".stock."); i >= 0 {
		f = f[:i] + ".stock"
	}
	return f
}

// newProductID returns a fresh product id: "s-" and 16 random hex digits.
func newProductID() string {
	var b [8]byte
	rand.Read(b[:])
	return "s-" + hex.EncodeToString(b[:])
}

// putProduct saves a product of seller. The seller comes from the key: a
// body seller_id naming another seller is refused with 403, and one naming
// the key's seller is accepted and changes nothing.
func (s *Server) putProduct(wctx context.Context, ctx *fasthttp.RequestCtx, cat Catalog, id, seller string) {
	create := id == ""
	if create {
		id = newProductID()
	} else if !s.forbidOthers(ctx, id, seller) {
		return
	}
	p, err := decodeProduct(ctx.PostBody(), id, s.opts.Currency)
	if err != nil {
		writeBodyError(ctx, err)
		return
	}
	if p.SellerID != "" && p.SellerID != seller {
		writeError(ctx, fasthttp.StatusForbidden, CodeForbidden, "seller_id names another seller than the API key's; leave it out", "seller_id")
		return
	}
	p.SellerID = seller
	if create {
		s.owners.store(id, seller)
	}
	w, err := cat.PublishProduct(wctx, p, create)
	if err != nil {
		if create {
			s.owners.delete(id)
		}
		s.writeFailed(ctx, err)
		return
	}
	status := fasthttp.StatusOK
	if create {
		status = fasthttp.StatusCreated
	}
	writeJSON(ctx, status, map[string]any{
		"product_id": id, "version": w.Version, "topic": w.Topic,
		"partition": w.Partition, "offset": w.Offset, "min_offset": w.Token(),
	})
}

// inventoryBody is either a change ({quantity_delta, operation}) or a set
// ({available}) of one variant's units in one warehouse.
type inventoryBody struct {
	ProductID     string `json:"product_id"`
	WarehouseID   string `json:"warehouse_id"`
	QuantityDelta *int   `json:"quantity_delta"`
	Operation     string `json:"operation"`
	Available     *int   `json:"available"`
}

// stockChange returns the function that turns the units available now into
// the new units, checking what b asks for.
func (b *inventoryBody) stockChange() (func(int) (int, error), error) {
	switch {
	case b.ProductID == "":
		return nil, &bodyError{"product_id", "is required: inventory events are keyed by product"}
	case b.WarehouseID == "":
		return nil, &bodyError{"warehouse_id", "is required"}
	case b.Available != nil && (b.QuantityDelta != nil || b.Operation != ""):
		return nil, &bodyError{"available", "sets the units; it cannot be combined with quantity_delta and operation"}
	case b.Available != nil:
		if *b.Available < 0 {
			return nil, &bodyError{"available", fmt.Sprintf("is negative (%d)", *b.Available)}
		}
		if *b.Available > catalog.MaxUnits {
			return nil, &bodyError{"available", fmt.Sprintf("is %d, more than the limit of %d", *b.Available, catalog.MaxUnits)}
		}
		n := *b.Available
		return func(int) (int, error) { return n, nil }, nil
	case b.QuantityDelta == nil:
		return nil, &bodyError{"quantity_delta", "is required, with operation, unless available is given"}
	case *b.QuantityDelta <= 0:
		return nil, &bodyError{"quantity_delta", fmt.Sprintf("must be positive (is %d); operation gives the direction", *b.QuantityDelta)}
	case *b.QuantityDelta > catalog.MaxUnits:
		return nil, &bodyError{"quantity_delta", fmt.Sprintf("is %d, more than the limit of %d", *b.QuantityDelta, catalog.MaxUnits)}
	}
	q := *b.QuantityDelta
	switch b.Operation {
	case "RELEASE":
		return func(a int) (int, error) {
			if a > catalog.MaxUnits-q {
				return 0, &bodyError{"quantity_delta", fmt.Sprintf("would make %d+%d units, more than the limit of %d", a, q, catalog.MaxUnits)}
			}
			return a + q, nil
		}, nil
	case "RESERVE", "DEDUCT":
		return func(a int) (int, error) {
			if a < q {
				return 0, &stockError{available: a, want: q}
			}
			return a - q, nil
		}, nil
	}
	return nil, &bodyError{"operation", fmt.Sprintf("is %q; want RESERVE, RELEASE or DEDUCT", b.Operation)}
}

type stockError struct{ available, want int }

func (e *stockError) Error() string {
	return fmt.Sprintf("only %d units are available; %d asked for", e.available, e.want)
}

func (s *Server) patchInventory(wctx context.Context, ctx *fasthttp.RequestCtx, cat Catalog, variantID, seller string) {
	var b inventoryBody
	if err := decodeStrict(ctx.PostBody(), &b); err != nil {
		writeBodyError(ctx, err)
		return
	}
	if b.ProductID != "" && !s.forbidOthers(ctx, b.ProductID, seller) {
		return
	}
	change, err := b.stockChange()
	if err != nil {
		writeBodyError(ctx, err)
		return
	}
	w, n, err := cat.PublishStock(wctx, b.ProductID, variantID, b.WarehouseID, change)
	if err != nil {
		s.writeFailed(ctx, err)
		return
	}
	out := map[string]any{
		"product_id": b.ProductID, "variant_id": variantID, "warehouse_id": b.WarehouseID,
		"available": n, "version": w.Version,
	}
	// Without a topic the change is applied and durable but its event is
	// still queued: there is no token to wait for yet.
	if w.Topic != "" {
		out["topic"], out["partition"], out["offset"], out["min_offset"] = w.Topic, w.Partition, w.Offset, w.Token()
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func writeBodyError(ctx *fasthttp.RequestCtx, err error) {
	var be *bodyError
	if errors.As(err, &be) {
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidBody, be.Error(), be.field)
		return
	}
	writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidBody, err.Error(), "")
}

// writeFailed answers a failed publish.
func (s *Server) writeFailed(ctx *fasthttp.RequestCtx, err error) {
	var se *stockError
	var be *bodyError
	switch {
	case errors.As(err, &be):
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidBody, be.Error(), be.field)
	case errors.As(err, &se):
		writeError(ctx, fasthttp.StatusConflict, CodeInsufficientStock, se.Error(), "quantity_delta")
	case errors.Is(err, commerce.ErrUnknownWarehouse):
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidBody, err.Error(), "warehouse_id")
	case errors.Is(err, catalog.ErrIDTaken):
		writeError(ctx, fasthttp.StatusConflict, CodeIDTaken, err.Error(), "variant_id")
	case errors.Is(err, commerce.ErrOtherProduct):
		writeError(ctx, fasthttp.StatusConflict, CodeIDTaken, err.Error(), "product_id")
	case errors.Is(err, commerce.ErrLine):
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidBody, err.Error(), "")
	case errors.Is(err, ingest.ErrUnknownProduct), errors.Is(err, ingest.ErrUnknownVariant):
		writeError(ctx, fasthttp.StatusNotFound, CodeNotFound, err.Error(), "")
	case errors.Is(err, ingest.ErrNotCaughtUp):
		writeError(ctx, fasthttp.StatusServiceUnavailable, CodeUnavailable, err.Error(), "")
	default:
		s.logf("server: write: %v", err)
		writeError(ctx, fasthttp.StatusServiceUnavailable, CodeUnavailable, "the write could not be published: "+err.Error(), "")
	}
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	body, _ := json.Marshal(v)
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

// parseToken parses a min_offset token, "topic:partition:offset".
func parseToken(v string) (topic string, partition int32, offset int64, err error) {
	i := strings.LastIndexByte(v, ':')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(v[:i], ':')
	}
	if j <= 0 {
		return "", 0, 0, errors.New(`must be "topic:partition:offset", as a write answers it`)
	}
	p, err1 := strconv.ParseInt(v[j+1:i], 10, 32)
	o, err2 := strconv.ParseInt(v[i+1:], 10, 64)
	if err1 != nil || err2 != nil || p < 0 || o < 0 {
		return "", 0, 0, errors.New("has a partition or offset that is not a non-negative integer")
	}
	return v[:j], int32(p), o, nil
}

// MaxFreshWaitsPerClient bounds the searches of one client waiting on
// min_offset at once; past it a search answers 503 not_caught_up at once.
const MaxFreshWaitsPerClient = 8

// CodeNotCaughtUp: the index has not applied a min_offset within
// MaxFreshWait.
const CodeNotCaughtUp = "not_caught_up"

// freshWaits counts the min_offset waits in progress per client.
type freshWaits struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *freshWaits) enter(client string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	if f.n[client] >= MaxFreshWaitsPerClient {
		return false
	}
	f.n[client]++
	return true
}

func (f *freshWaits) leave(client string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[client]--; f.n[client] <= 0 {
		delete(f.n, client)
	}
}

// awaitFresh handles min_offset on a search: it takes the parameter out of
// the query and waits up to MaxFreshWait for the index to apply the
// offset. The wait does not hold an in-flight slot (MaxInFlight), and a
// client has at most MaxFreshWaitsPerClient waits at once; a wait that
// ends before the offset is applied, or one past the cap, answers 503
// not_caught_up with Retry-After (before, 6 clients with far-ahead
// offsets held all 512 slots for 2 s). Without a feed the search answers
// at once with Aisle-Stale: true. It reports false when it answered the
// request.
func (s *Server) awaitFresh(ctx *fasthttp.RequestCtx) bool {
	args := ctx.QueryArgs()
	v := args.Peek("min_offset")
	if v == nil {
		return true
	}
	if len(args.PeekMulti("min_offset")) > 1 {
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidParameter, "min_offset is given more than once", "min_offset")
		return false
	}
	if len(v) == 0 {
		args.Del("min_offset")
		return true
	}
	topic, part, off, err := parseToken(string(v))
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidParameter, "min_offset "+err.Error(), "min_offset")
		return false
	}
	if !slices.Contains(ingest.CatalogTopics, topic) {
		writeError(ctx, fasthttp.StatusBadRequest, CodeInvalidParameter, "min_offset names topic "+strconv.Quote(topic)+", which the index does not consume", "min_offset")
		return false
	}
	args.Del("min_offset")
	feed := s.ingestSide().feed
	if feed == nil {
		ctx.Response.Header.Set("Aisle-Stale", "true")
		return true
	}
	client := string(s.clientKey(ctx))
	if !s.fresh.enter(client) {
		notCaughtUp(ctx, "this client already has "+strconv.Itoa(MaxFreshWaitsPerClient)+" searches waiting on min_offset")
		return false
	}
	defer s.fresh.leave(client)
	s.inflight.Add(-1)
	wctx, cancel := context.WithTimeout(context.Background(), MaxFreshWait)
	fresh := feed.WaitApplied(wctx, topic, part, off)
	cancel()
	s.inflight.Add(1)
	if !fresh {
		notCaughtUp(ctx, "the index has not applied min_offset "+string(v)+" within "+MaxFreshWait.String())
		return false
	}
	return true
}

func notCaughtUp(ctx *fasthttp.RequestCtx, msg string) {
	ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
	writeError(ctx, fasthttp.StatusServiceUnavailable, CodeNotCaughtUp, msg, "min_offset")
}
