package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/index"
	"github.com/aisle/aisle/search"
)

// Remote is the search.Remote of a router: every call asks each shard of
// one replica, the one with the fewest requests outstanding, and on an
// error asks the shard's next replica; a shard with no replica left is
// reported missing.
type Remote struct {
	// Table returns the current partition -> node addresses.
	Table func() Table
	// Shards is the shard count.
	Shards int
	// Timeout bounds one node request; default 5 s.
	Timeout time.Duration
	// Logf gets node failures; nil discards them.
	Logf func(string, ...any)

	client fasthttp.Client
	mu     sync.Mutex
	nodes  map[string]*nodeLoad
}

// nodeLoad is what the router knows of a node's load.
type nodeLoad struct {
	outstanding atomic.Int64
	failed      atomic.Int64 // unix nanos of the last failure
	requests    atomic.Int64
	errors      atomic.Int64
}

// failBackoff is how long a node that failed is asked only when no other
// replica is left.
const failBackoff = time.Second

func (r *Remote) load(addr string) *nodeLoad {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.nodes == nil {
		r.nodes = map[string]*nodeLoad{}
	}
	n := r.nodes[addr]
	if n == nil {
		n = &nodeLoad{}
		r.nodes[addr] = n
	}
	return n
}

// NodeStats are the router's counters of one node.
type NodeStats struct {
	Addr             string
	Requests, Errors int64
	Outstanding      int64
}

// Stats returns the counters of every node asked so far.
func (r *Remote) Stats() []NodeStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []NodeStats
	for a, n := range r.nodes {
		out = append(out, NodeStats{a, n.requests.Load(), n.errors.Load(), n.outstanding.Load()})
	}
	slices.SortFunc(out, func(a, b NodeStats) int {
		if a.Addr < b.Addr {
			return -1
		}
		return 1
	})
	return out
}

// plan chooses a replica for each of shards, skipping the addresses in
// tried[shard], and groups the shards by node; the shards left with no
// replica are returned apart.
func (r *Remote) plan(t Table, shards []int, tried map[int][]string) (by map[string][]int, missing []int) {
	by = map[string][]int{}
	now := time.Now().UnixNano()
	for _, s := range shards {
		best, bestLoad := "", int64(0)
		for _, a := range t.Shards[s] {
			if slices.Contains(tried[s], a) {
				continue
			}
			n := r.load(a)
			l := n.outstanding.Load() + int64(len(by[a]))
			if f := n.failed.Load(); f != 0 && now-f < int64(failBackoff) {
				l += 1 << 20 // a node that just failed: only if nothing else
			}
			if best == "" || l < bestLoad {
				best, bestLoad = a, l
			}
		}
		if best == "" {
			missing = append(missing, s)
			continue
		}
		by[best] = append(by[best], s)
	}
	return by, missing
}

// scatter calls ask on a node for every group of shards, retrying a failed
// group's shards on their other replicas; it returns the shards no replica
// answered.
func (r *Remote) scatter(ctx context.Context, ask func(ctx context.Context, addr string, shards []int) error) ([]int, error) {
	t := r.Table()
	if len(t.Shards) != r.Shards {
		return nil, fmt.Errorf("cluster: the membership table has %d shards, want %d", len(t.Shards), r.Shards)
	}
	todo := make([]int, r.Shards)
	for i := range todo {
		todo[i] = i
	}
	tried := map[int][]string{}
	var missing []int
	for len(todo) > 0 {
		by, miss := r.plan(t, todo, tried)
		missing = append(missing, miss...)
		todo = todo[:0:0]
		var mu sync.Mutex
		var wg sync.WaitGroup
		for addr, shards := range by {
			wg.Go(func() {
				n := r.load(addr)
				n.outstanding.Add(1)
				n.requests.Add(1)
				err := ask(ctx, addr, shards)
				n.outstanding.Add(-1)
				if err == nil {
					return
				}
				n.errors.Add(1)
				n.failed.Store(time.Now().UnixNano())
				if r.Logf != nil && ctx.Err() == nil {
					r.Logf("cluster: node %s, shards %v: %v", addr, shards, err)
				}
				mu.Lock()
				for _, s := range shards {
					tried[s] = append(tried[s], addr)
				}
				todo = append(todo, shards...)
				mu.Unlock()
			})
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	slices.Sort(missing)
	return missing, nil
}

// call POSTs body as JSON to addr's path and decodes the answer into out.
func (r *Remote) call(ctx context.Context, addr, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + path)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.SetBodyRaw(b)
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	if err := r.client.DoTimeout(req, resp, timeout); err != nil {
		return err
	}
	if sc := resp.StatusCode(); sc != fasthttp.StatusOK {
		return fmt.Errorf("%s: status %d: %s", path, sc, resp.Body())
	}
	return json.Unmarshal(resp.Body(), out)
}

// TermStats implements search.Remote.
func (r *Remote) TermStats(ctx context.Context, terms []string) (*search.TermStats, []int, error) {
	sum := &search.TermStats{DF: map[string]int{}}
	var mu sync.Mutex
	missing, err := r.scatter(ctx, func(ctx context.Context, addr string, shards []int) error {
		var ts search.TermStats
		if err := r.call(ctx, addr, PathStats, statsRequest{Shards: shards, Terms: terms}, &ts); err != nil {
			return err
		}
		mu.Lock()
		sum.Add(&ts)
		mu.Unlock()
		return nil
	})
	return sum, missing, err
}

// Search implements search.Remote.
func (r *Remote) Search(ctx context.Context, req search.ShardRequest) ([]*search.ShardResult, []int, error) {
	var out []*search.ShardResult
	var mu sync.Mutex
	missing, err := r.scatter(ctx, func(ctx context.Context, addr string, shards []int) error {
		q := req
		q.Shards = shards
		var res search.ShardResult
		if err := r.call(ctx, addr, PathSearch, &q, &res); err != nil {
			return err
		}
		mu.Lock()
		out = append(out, &res)
		mu.Unlock()
		return nil
	})
	return out, missing, err
}

// Products implements search.Remote: each id is asked of its shard's
// nodes, for its listing; the products of a shard with no live replica
// are left out.
func (r *Remote) Products(ctx context.Context, ids []string) ([]*catalog.Product, error) {
	return r.products(ctx, ids, true)
}

// Product returns the whole product with id, for its page.
func (r *Remote) Product(ctx context.Context, id string) (*catalog.Product, bool, error) {
	ps, err := r.products(ctx, []string{id}, false)
	if err != nil || len(ps) == 0 {
		return nil, false, err
	}
	return ps[0], true, nil
}

func (r *Remote) products(ctx context.Context, ids []string, listing bool) ([]*catalog.Product, error) {
	byShard := make(map[int][]string)
	for _, id := range ids {
		s := index.Partition(id, r.Shards)
		byShard[s] = append(byShard[s], id)
	}
	var out []*catalog.Product
	var mu sync.Mutex
	_, err := r.scatter(ctx, func(ctx context.Context, addr string, shards []int) error {
		var want []string
		var asked []int
		for _, s := range shards {
			if len(byShard[s]) > 0 {
				want = append(want, byShard[s]...)
				asked = append(asked, s)
			}
		}
		if len(want) == 0 {
			return nil
		}
		var ps []*catalog.Product
		if err := r.call(ctx, addr, PathProducts, productsRequest{Shards: asked, IDs: want, Listing: listing}, &ps); err != nil {
			return err
		}
		mu.Lock()
		out = append(out, ps...)
		mu.Unlock()
		return nil
	})
	return out, err
}
