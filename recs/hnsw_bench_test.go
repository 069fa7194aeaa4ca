package recs

import (
	"fmt"
	mrand "math/rand"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	coder "github.com/coder/hnsw"
)

// The probe of issue 6: recall@10 against brute force and queries per
// second of Aisle's HNSW and of github.com/coder/hnsw v0.6.1 (the peer),
// on 100k unit vectors of 64 dimensions, clustered (100 Gaussian centres,
// noise sigma 1 per coordinate) and uniformly random, 500 held-out
// queries, at several ef. Both graphs have M 16 and are built with an
// efConstruction of 100 (coder/hnsw uses its EfSearch while adding, so it is
// set to 100 for the build and to ef for the search). One op is one query;
// recall@10, build-s and cpu-ns/op (the CPU time of the benchmark's
// thread per query, RUSAGE_THREAD: on the shared machine ns/op counts the
// other processes' turns) are reported as metrics.
//
//	go test ./recs -run '^$' -bench 'HNSW' -benchtime 2000x -timeout 30m
//
// The figures are in doc/recs.md.

const (
	probeDim     = 64
	probeQueries = 500
	probeM       = 16
	probeEfC     = 100
)

var probeEfs = []int{10, 16, 32, 40, 48, 64, 128, 256}

type probeCase struct {
	vs    vectorSet
	truth [][]uint32
	aisle *HNSW
	coder *coder.Graph[uint32]
	build map[string]time.Duration
}

var (
	probeMu    sync.Mutex
	probeCache = map[string]*probeCase{}
)

// probeData builds (once per process) the set, its ground truth and the
// graph of impl.
func probeData(b *testing.B, data string, n int, impl string) *probeCase {
	probeMu.Lock()
	defer probeMu.Unlock()
	key := data + "/" + strconv.Itoa(n)
	pc := probeCache[key]
	if pc == nil {
		clusters := 100
		if data == "random" {
			clusters = 0
		}
		pc = &probeCase{vs: clusteredVectors(n, probeQueries, probeDim, clusters, 1, 42), build: map[string]time.Duration{}}
		pc.truth = bruteForce(pc.vs, 10)
		probeCache[key] = pc
	}
	if _, ok := pc.build[impl]; ok {
		return pc
	}
	start := time.Now()
	switch impl {
	case "aisle":
		h, err := BuildHNSW(pc.vs.base, probeDim, HNSWOptions{M: probeM, EfConstruction: probeEfC, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		pc.aisle = h
	case "coder":
		g := coder.NewGraph[uint32]()
		g.M = probeM
		g.EfSearch = probeEfC
		g.Distance = coder.CosineDistance
		g.Rng = mrand.New(mrand.NewSource(1))
		for i := range n {
			g.Add(coder.MakeNode(uint32(i), pc.vs.base[i*probeDim:(i+1)*probeDim]))
		}
		pc.coder = g
	}
	pc.build[impl] = time.Since(start)
	return pc
}

func coderSearch(g *coder.Graph[uint32], ef int) func(q []float32, k int) []uint32 {
	var ids []uint32
	return func(q []float32, k int) []uint32 {
		g.EfSearch = ef
		ids = ids[:0]
		for _, nd := range g.Search(q, k) {
			ids = append(ids, nd.Key)
		}
		return ids
	}
}

func BenchmarkHNSW(b *testing.B) {
	for _, data := range []string{"clustered", "random"} {
		for _, n := range []int{100000} {
			for _, impl := range []string{"aisle", "coder"} {
				for _, ef := range probeEfs {
					b.Run(fmt.Sprintf("data=%s/n=%d/impl=%s/ef=%d", data, n, impl, ef), func(b *testing.B) {
						pc := probeData(b, data, n, impl)
						var search func(q []float32, k int) []uint32
						if impl == "aisle" {
							search = aisleSearch(pc.aisle, ef)
						} else {
							search = coderSearch(pc.coder, ef)
						}
						recall := recallAt(pc.vs, pc.truth, 10, search)
						b.ReportAllocs()
						runtime.LockOSThread()
						defer runtime.UnlockOSThread()
						b.ResetTimer()
						c0 := threadCPU()
						i := 0
						for b.Loop() {
							qi := i % probeQueries
							search(pc.vs.queries[qi*probeDim:(qi+1)*probeDim], 10)
							i++
						}
						b.ReportMetric(float64(threadCPU()-c0)/float64(b.N), "cpu-ns/op")
						b.ReportMetric(recall, "recall@10")
						b.ReportMetric(pc.build[impl].Seconds(), "build-s")
					})
				}
			}
		}
	}
}

// threadCPU is the CPU time of the calling OS thread (user and system), in
// nanoseconds: a query's cost on a shared machine, where the wall clock
// counts the other processes' turns too.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		panic(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkHNSWParallel is Aisle's search from every core at once, ef 64,
// on the clustered set: the shared read path.
func BenchmarkHNSWParallel(b *testing.B) {
	pc := probeData(b, "clustered", 100000, "aisle")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var hits []Hit
		i := 0
		for pb.Next() {
			qi := i % probeQueries
			hits = pc.aisle.Search(hits[:0], pc.vs.queries[qi*probeDim:(qi+1)*probeDim], 10, 64)
			i++
		}
	})
}

// BenchmarkDot compares the inner product of the graph (vek's kernel) with
// the plain Go loop, at the dimensions served.
func BenchmarkDot(b *testing.B) {
	for _, n := range []int{64, 128, 256} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(i)/float32(n), float32(n-i)/float32(n)
		}
		var s float32
		b.Run(fmt.Sprintf("dim=%d/impl=vek", n), func(b *testing.B) {
			for b.Loop() {
				s += dot(x, y)
			}
		})
		b.Run(fmt.Sprintf("dim=%d/impl=go", n), func(b *testing.B) {
			for b.Loop() {
				s += dotGo(x, y)
			}
		})
		_ = s
	}
}
