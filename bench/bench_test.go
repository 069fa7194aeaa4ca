package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

var built struct {
	mu  sync.Mutex
	eng map[string]*engine
}

// builtEngine returns the named engine over the Icecat catalog, built once
// per test binary and never closed (the process ends first).
func builtEngine(b *testing.B, name string) *engine {
	built.mu.Lock()
	defer built.mu.Unlock()
	if e := built.eng[name]; e != nil {
		return e
	}
	ps, _ := icecatSet(b)
	build := map[string]builder{"aisle": buildAisle(8), PeerBleve: buildBleve}[name]
	e, err := build(context.Background(), ps)
	if err != nil {
		b.Fatal(err)
	}
	if built.eng == nil {
		built.eng = map[string]*engine{}
	}
	built.eng[name] = e
	return e
}

// BenchmarkQueryLog replays the mixed query log (the load workload of Run)
// against each engine from GOMAXPROCS goroutines: run with -cpu 1,2.
func BenchmarkQueryLog(b *testing.B) {
	ps, js := icecatSet(b)
	log := QueryLog(ps, JudgedQueries(js), 2000, 1)
	for _, name := range []string{"aisle", PeerBleve} {
		b.Run("engine="+name, func(b *testing.B) {
			e := builtEngine(b, name)
			b.ReportAllocs()
			var next sync.Mutex
			i := 0
			b.RunParallel(func(pb *testing.PB) {
				ids := make([]string, 0, 16)
				next.Lock()
				j := i * 997
				i++
				next.Unlock()
				for pb.Next() {
					var err error
					if ids, _, err = e.s.Search(context.Background(), &log[j%len(log)], 10, ids); err != nil {
						b.Error(err)
						return
					}
					j++
				}
			})
		})
	}
}

// BenchmarkBuild indexes the Icecat catalog into each engine.
func BenchmarkBuild(b *testing.B) {
	ps, _ := icecatSet(b)
	for _, name := range []string{"aisle", PeerBleve} {
		build := map[string]builder{"aisle": buildAisle(8), PeerBleve: buildBleve}[name]
		b.Run(fmt.Sprintf("engine=%s/size=%d", name, len(ps)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e, err := build(context.Background(), ps)
				if err != nil {
					b.Fatal(err)
				}
				if e.close != nil {
					e.close()
				}
			}
			b.ReportMetric(float64(len(ps))*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// BenchmarkRelevance runs the judged queries through each engine.
func BenchmarkRelevance(b *testing.B) {
	_, js := icecatSet(b)
	for _, name := range []string{"aisle", PeerBleve} {
		b.Run("engine="+name, func(b *testing.B) {
			e := builtEngine(b, name)
			var rel Relevance
			for b.Loop() {
				var err error
				if rel, err = evaluate(context.Background(), e.s, js); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(rel.NDCG10, "ndcg@10")
		})
	}
}
