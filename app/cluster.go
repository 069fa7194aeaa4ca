package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/aisle/aisle/catalog"
	"github.com/aisle/aisle/cluster"
	"github.com/aisle/aisle/ingest"
	"github.com/aisle/aisle/internal/atomicfile"
	"github.com/aisle/aisle/search"
	"github.com/aisle/aisle/server"
)

// openClusterRole opens an index node or a router (doc/cluster.md): a
// slimmer App whose Close is closeFn.
func openClusterRole(ctx context.Context, opts Options) (*App, error) {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &App{opts: opts, log: opts.Log, ctx: bg, cancel: cancel, done: make(chan struct{})}
	var err error
	if opts.CPUProfile != "" {
		f, err := os.Create(opts.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("serve: %w", err)
		}
		a.closers = append(a.closers, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if opts.Role == RoleIndex {
		err = a.openIndex(ctx)
	} else {
		err = a.openRouter(ctx)
	}
	if err != nil {
		cancel()
		a.group.Wait()
		a.runClosers()
		return nil, err
	}
	return a, nil
}

// openIndex starts an index node: the engine of every shard, fed by the
// ingest consumer of the replica set's group for the partitions the group
// assigns (restored first from the snapshots and logs in Data), and the
// shard API on Addr answering for the shards caught up.
func (a *App) openIndex(ctx context.Context) error {
	o := a.opts
	if err := atomicfile.MkdirAll(o.Data); err != nil {
		return fmt.Errorf("index node: cannot create data directory: %w", err)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("index node: %w", err)
	}
	a.ln = ln
	a.closers = append(a.closers, func() { ln.Close() })
	admin, err := ingest.NewProducer(o.Brokers)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, admin.Close)
	parts, err := ingest.EnsureTopics(ctx, admin, int32(o.Shards))
	if err != nil {
		return err
	}
	for t, n := range parts {
		if n != o.Shards {
			return fmt.Errorf("index node: topic %s has %d partitions but --shards is %d", t, n, o.Shards)
		}
	}
	eng, err := search.New(search.Options{Shards: o.Shards})
	if err != nil {
		return err
	}
	group := cluster.GroupName(o.ReplicaSet)
	cons, err := ingest.New(ingest.Options{
		Brokers: o.Brokers, Group: group, InstanceID: o.NodeID,
		ClientOpts: []kgo.Opt{kgo.Balancers(&cluster.ShardBalancer{Addr: ln.Addr().String()})},
		Dir:        filepath.Join(o.Data, "ingest"), Partitions: o.Shards, Sink: eng,
		SessionTimeout: 6 * time.Second, Logf: a.logf,
	})
	if err != nil {
		return err
	}
	rd := &cluster.Readiness{Client: admin, Group: group, InstanceID: o.NodeID, Topics: ingest.IndexedTopics,
		Shards: o.Shards, Applied: cons.Applied}
	node := &cluster.Node{Shards: eng, Ready: rd.Ready}
	a.group.Go(func() { rd.Run(a.ctx, a.logf) })
	a.group.Go(func() {
		if err := node.Serve(ln); err != nil {
			a.fail(fmt.Errorf("index node: shard API: %w", err))
		}
	})
	a.group.Go(func() {
		err := cons.Run(a.ctx)
		if err == nil && a.ctx.Err() == nil {
			err = errors.New("index node: the consumer stopped")
		}
		if err != nil {
			a.fail(err)
		}
		cons.Close()
	})
	a.group.Go(func() { // log the shards served as they change
		var last []int
		for {
			select {
			case <-a.ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			if s := rd.Serving(); !slices.Equal(s, last) {
				a.logf("index node %s (replica set %s): serving shards %v, %d products", o.NodeID, o.ReplicaSet, s, eng.Len())
				last = s
			}
		}
	})
	a.closeFn = func() error {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		return node.Shutdown(sctx)
	}
	a.logf("index node %s of replica set %s: shard API on http://%s", o.NodeID, o.ReplicaSet, ln.Addr())
	return nil
}

// openRouter starts a router: the public search API on Addr, answered by
// scatter-gather over the index nodes the replica sets' groups list.
func (a *App) openRouter(ctx context.Context) error {
	o := a.opts
	cl, err := ingest.NewProducer(o.Brokers)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, cl.Close)
	mem := &cluster.Members{Client: cl, ReplicaSets: o.ReplicaSets, Shards: o.Shards, Topic: ingest.TopicProducts}
	if _, err := mem.Read(ctx); err != nil {
		return err
	}
	remote := &cluster.Remote{Table: mem.Table, Shards: o.Shards, Logf: a.logf}
	eng, err := search.NewRouter(search.Options{Shards: o.Shards}, remote)
	if err != nil {
		return err
	}
	a.srv = server.New(server.Services{
		Engine: routerEngine{eng, remote},
		Ready:  func() bool { return mem.Table().Covered() },
	}, server.Options{Logf: a.logf, SearchRate: o.SearchRate, SuggestRate: o.SuggestRate})
	if a.ln, err = net.Listen("tcp", o.Addr); err != nil {
		return fmt.Errorf("router: %w", err)
	}
	a.group.Go(func() { mem.Run(a.ctx, a.logf) })
	a.served = make(chan error, 1)
	a.group.Go(func() {
		err := a.srv.Serve(a.ln)
		if err != nil {
			a.fail(fmt.Errorf("router: %w", err))
		}
		a.served <- err
	})
	a.closeFn = func() error {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		err := a.srv.Shutdown(sctx)
		<-a.served
		return err
	}
	fmt.Fprintf(a.log, "aisle: router listening on http://%s (replica sets %v)\n", a.ln.Addr(), o.ReplicaSets)
	return nil
}

// routerEngine is the router's server.Engine: the router's search, and
// product pages fetched from the shard's nodes.
type routerEngine struct {
	*search.Engine
	remote *cluster.Remote
}

func (r routerEngine) Product(id string) (*catalog.Product, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, ok, err := r.remote.Product(ctx, id)
	return p, ok && err == nil
}

// closeCluster is Close for an index node or a router.
func (a *App) closeCluster() error {
	a.closeOnce.Do(func() {
		a.logf("shutting down")
		err := a.closeFn()
		a.cancel()
		a.group.Wait()
		a.runClosers()
		a.failOnce.Do(func() { close(a.done) })
		a.closeErr = errors.Join(a.err, err)
	})
	return a.closeErr
}
