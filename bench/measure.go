package bench

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aisle/aisle/catalog"
)

// Build are the indexing figures of one engine.
type Build struct {
	Docs       int     `json:"docs"`
	Seconds    float64 `json:"seconds"`
	DocsPerSec float64 `json:"docs_per_sec"`
	// PeakHeap is the highest Go heap seen while building, products
	// included; for an engine outside the process it is the Go side only.
	PeakHeap int64 `json:"peak_heap_bytes"`
	// IndexBytes is the heap the built index holds beyond the products
	// (measured after a GC), plus the engine's files or server memory.
	IndexBytes      int64   `json:"index_bytes"`
	BytesPerProduct float64 `json:"bytes_per_product"`
}

// heapBytes returns the bytes of live and not yet swept heap objects.
func heapBytes() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// liveHeap returns the heap after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	return heapBytes()
}

// measureBuild runs b over ps, sampling the heap every 5 ms for the peak.
func measureBuild(ctx context.Context, b builder, ps []*catalog.Product) (*engine, Build, error) {
	base := liveHeap()
	var peak atomic.Int64
	peak.Store(base)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	start := time.Now()
	e, err := b(ctx, ps)
	secs := time.Since(start).Seconds()
	close(stop)
	wg.Wait()
	if err != nil {
		return nil, Build{}, err
	}
	st := Build{Docs: len(ps), Seconds: secs, DocsPerSec: float64(len(ps)) / secs, PeakHeap: peak.Load()}
	st.IndexBytes = max(liveHeap()-base, 0)
	if e.bytes != nil {
		st.IndexBytes += e.bytes()
	}
	st.BytesPerProduct = float64(st.IndexBytes) / float64(max(len(ps), 1))
	return e, st, nil
}

// Load are the figures of one engine at one concurrency level.
type Load struct {
	Concurrency int `json:"concurrency"`
	Queries     int `json:"queries"`
	Errors      int `json:"errors"`
	// FirstError is the first error seen, when there was one.
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	QPS        float64 `json:"qps"`
	// Latencies in microseconds.
	P50  float64 `json:"p50_us"`
	P90  float64 `json:"p90_us"`
	P99  float64 `json:"p99_us"`
	P999 float64 `json:"p999_us"`
	// AllocsPerQuery counts heap allocations of the whole process per
	// query; CPUPer1000 is process CPU seconds (user and system) per 1,000
	// queries. Neither sees work done in another process.
	AllocsPerQuery float64 `json:"allocs_per_query"`
	CPUPer1000     float64 `json:"cpu_s_per_1000"`
	// ServerCPUPer1000 is the server process's CPU seconds per 1,000
	// requests, over HTTP when its process is known; BodyBytes the mean
	// response body.
	ServerCPUPer1000 float64 `json:"server_cpu_s_per_1000,omitempty"`
	BodyBytes        float64 `json:"body_bytes,omitempty"`
	// CacheHitRate is the share of the searches the server answered from
	// its response cache (its /metrics), -1 where unknown.
	CacheHitRate float64 `json:"cache_hit_rate,omitempty"`
	// Hist is the latency distribution for charts: counts per bucket of
	// histEdges.
	Hist []int `json:"hist"`
}

// histEdges are the upper bounds, in microseconds, of the latency
// histogram's buckets: 8 per factor of 10 from 10 µs to 10 s.
var histEdges = func() []float64 {
	var e []float64
	for x := 10.0; x <= 1e7; x *= 1.333521432 {
		e = append(e, x)
	}
	return e
}()

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func mallocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// runLoad replays log from conc clients for d, client i starting at offset
// i*len(log)/conc, each asking for the top 10. progress is told the share
// of d gone.
func runLoad(ctx context.Context, s Searcher, log []Query, conc int, d time.Duration, progress func(float64)) (Load, error) {
	if len(log) == 0 {
		return Load{}, fmt.Errorf("bench: empty query log")
	}
	ids := make([][]string, conc)
	return runClients(ctx, len(log), conc, d, 0, 0, progress, func(ctx context.Context, client, j int) error {
		var err error
		ids[client], _, err = s.Search(ctx, &log[j], 10, ids[client][:0])
		return err
	})
}

// runClients runs do from conc clients for d, or until they have made max
// calls together when max > 0: client i calls do(ctx, i, j) for j from
// i*n/conc on, modulo n, one call after the other. It times the calls that
// succeed and returns their figures.
//
// With pace > 0 the load is open: client i means to start its k-th call
// at i*pace/conc + k*pace from the start, waits until then when early, and
// times each call from when it was meant to start, so a call delayed by
// the ones before it counts its wait (no coordinated omission).
func runClients(ctx context.Context, n, conc int, d time.Duration, max int64, pace time.Duration, progress func(float64), do func(ctx context.Context, client, j int) error) (Load, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lat := make([][]time.Duration, conc)
	errs := make([]int, conc)
	var firstErr atomic.Pointer[error]
	var stopped atomic.Bool
	var calls atomic.Int64
	var wg sync.WaitGroup
	runtime.GC()
	m0, c0 := mallocs(), cpuSeconds()
	start := time.Now()
	for i := range conc {
		wg.Go(func() {
			mine := make([]time.Duration, 0, 1<<14)
			next := start.Add(pace * time.Duration(i) / time.Duration(conc))
			for j := i * n / conc; !stopped.Load(); j++ {
				if max > 0 && calls.Add(1) > max {
					stopped.Store(true)
					cancel() // wakes the waiting loop below
					break
				}
				t := time.Now()
				if pace > 0 {
					if wait := next.Sub(t); wait > 0 {
						select {
						case <-time.After(wait):
						case <-ctx.Done():
						}
						if stopped.Load() {
							break
						}
					}
					t, next = next, next.Add(pace)
				}
				if err := do(ctx, i, j%n); err != nil {
					if stopped.Load() && ctx.Err() != nil {
						break // the run ended under this call
					}
					errs[i]++
					firstErr.CompareAndSwap(nil, &err)
					continue
				}
				mine = append(mine, time.Since(t))
			}
			lat[i] = mine
		})
	}
	deadline := time.NewTimer(d)
	tick := time.NewTicker(200 * time.Millisecond)
wait:
	for {
		select {
		case <-deadline.C:
			break wait
		case <-ctx.Done():
			break wait
		case <-tick.C:
			progress(float64(time.Since(start)) / float64(d))
		}
	}
	tick.Stop()
	stopped.Store(true)
	wg.Wait()
	secs := time.Since(start).Seconds()
	m1, c1 := mallocs(), cpuSeconds()
	progress(1)
	l := summarize(lat, errs, secs)
	l.Concurrency = conc
	if p := firstErr.Load(); p != nil {
		l.FirstError = (*p).Error()
		if l.Queries == 0 {
			return l, fmt.Errorf("bench: every query failed at concurrency %d: %w", conc, *p)
		}
	}
	if done := l.Queries + l.Errors; done > 0 {
		l.AllocsPerQuery = float64(m1-m0) / float64(done)
		l.CPUPer1000 = (c1 - c0) / float64(done) * 1000
	}
	if max > 0 && calls.Load() > max {
		return l, nil // stopped by the count, not by the caller
	}
	return l, ctx.Err()
}

// summarize returns the figures of the latencies each client measured,
// with errs[i] failed calls of client i, over secs seconds.
func summarize(lat [][]time.Duration, errs []int, secs float64) Load {
	all := slices.Concat(lat...)
	l := Load{Queries: len(all), Seconds: secs}
	for _, n := range errs {
		l.Errors += n
	}
	if len(all) == 0 {
		return l
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Nanoseconds()) / 1e3
	}
	l.QPS = float64(len(all)) / secs
	l.P50, l.P90, l.P99, l.P999 = pct(0.50), pct(0.90), pct(0.99), pct(0.999)
	l.Hist = make([]int, len(histEdges)+1)
	k := 0
	for _, x := range all {
		us := float64(x.Nanoseconds()) / 1e3
		for k < len(histEdges) && us > histEdges[k] {
			k++
		}
		l.Hist[k]++
	}
	return l
}
