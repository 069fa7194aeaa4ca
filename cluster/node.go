package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/search"
)

// The shard API's paths; every request is a POST of a JSON body.
const (
	PathStats    = "/shard/stats"
	PathSearch   = "/shard/search"
	PathProducts = "/shard/products"
)

// Shards is what a node serves: a search.Engine.
type Shards interface {
	ShardTermStats(shards []int, terms []string) (*search.TermStats, error)
	SearchShards(ctx context.Context, r *search.ShardRequest) (*search.ShardResult, error)
	ShardProducts(ids []string, listing bool) []*catalog.Product
}

// statsRequest and productsRequest are the bodies of PathStats and
// PathProducts.
type statsRequest struct {
	Shards []int    `json:"shards"`
	Terms  []string `json:"terms"`
}

type productsRequest struct {
	Shards []int    `json:"shards"`
	IDs    []string `json:"ids"`
	// Listing asks for what a result page shows (search.Listing), not
	// whole products.
	Listing bool `json:"listing,omitempty"`
}

// Node serves the shard API of one index node.
type Node struct {
	// Shards answers the requests.
	Shards Shards
	// Ready reports whether the node serves shard: assigned to it and
	// caught up with Kafka. A request naming a shard not ready is
	// answered 503, and the router asks another replica.
	Ready func(shard int) bool
	// Timeout bounds one request's evaluation; default 10 s.
	Timeout time.Duration

	srv *fasthttp.Server
}

// Serve answers on ln until Shutdown.
func (n *Node) Serve(ln net.Listener) error {
	if n.Timeout == 0 {
		n.Timeout = 10 * time.Second
	}
	n.srv = &fasthttp.Server{Handler: n.handle, Name: "aisle-node", MaxRequestBodySize: 1 << 20, ReadTimeout: time.Minute}
	return n.srv.Serve(ln)
}

// Shutdown stops Serve, waiting for the requests in flight.
func (n *Node) Shutdown(ctx context.Context) error {
	if n.srv == nil {
		return nil
	}
	return n.srv.ShutdownWithContext(ctx)
}

func (n *Node) handle(c *fasthttp.RequestCtx) {
	if !c.IsPost() {
		c.Error("POST only", fasthttp.StatusMethodNotAllowed)
		return
	}
	var out any
	var err error
	switch string(c.Path()) {
	case PathStats:
		var r statsRequest
		if err = n.decode(c, &r, func() []int { return r.Shards }); err == nil {
			out, err = n.Shards.ShardTermStats(r.Shards, r.Terms)
		}
	case PathSearch:
		var r search.ShardRequest
		if err = n.decode(c, &r, func() []int { return r.Shards }); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), n.Timeout)
			out, err = n.Shards.SearchShards(ctx, &r)
			cancel()
		}
	case PathProducts:
		var r productsRequest
		if err = n.decode(c, &r, func() []int { return r.Shards }); err == nil {
			out = n.Shards.ShardProducts(r.IDs, r.Listing)
		}
	default:
		c.Error("not found", fasthttp.StatusNotFound)
		return
	}
	if err != nil {
		status := fasthttp.StatusBadRequest
		var nr errNotReady
		if errors.As(err, &nr) {
			status = fasthttp.StatusServiceUnavailable
		}
		c.Error(err.Error(), status)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		c.Error(err.Error(), fasthttp.StatusInternalServerError)
		return
	}
	c.SetContentType("application/json")
	c.SetBody(b)
}

// errNotReady names a shard the node does not serve (yet).
type errNotReady int

func (e errNotReady) Error() string {
	return fmt.Sprintf("cluster: shard %d is not served here (yet)", int(e))
}

// decode reads the body into v and checks that the node serves every
// shard shards() then names.
func (n *Node) decode(c *fasthttp.RequestCtx, v any, shards func() []int) error {
	if err := json.Unmarshal(c.PostBody(), v); err != nil {
		return fmt.Errorf("cluster: request body: %w", err)
	}
	for _, s := range shards() {
		if n.Ready != nil && !n.Ready(s) {
			return errNotReady(s)
		}
	}
	return nil
}
