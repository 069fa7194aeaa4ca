package server

import (
	"bytes"
	"strconv"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/search"
)

// The server's metrics go through one library, VictoriaMetrics/metrics,
// into a Set of the Server's own (no global registry), written in the
// Prometheus text format; doc/api.md lists every name. The request
// counters and latency histograms are made once, per endpoint, in
// newMetrics, so a request costs an atomic add and a histogram update, and
// no allocation.

// latencyBuckets are the upper bounds in seconds of the latency
// histograms, from 0.1 ms to 1 s.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// Status classes, as indexes of the request counters.
var classNames = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// metrics are the server's counters and histograms.
type metrics struct {
	set      *vm.Set
	requests [numEndpoints][len(classNames)]*vm.Counter
	latency  [numEndpoints]*vm.PrometheusHistogram
	panics   *vm.Counter
}

func newMetrics() metrics {
	m := metrics{set: vm.NewSet()}
	for ep, name := range endpointNames {
		for c, cn := range classNames {
			m.requests[ep][c] = m.set.NewCounter(`aisle_http_requests_total{endpoint="` + name + `",code="` + cn + `"}`)
		}
		m.latency[ep] = m.set.NewPrometheusHistogramExt(`aisle_http_request_duration_seconds{endpoint="`+name+`"}`, latencyBuckets)
	}
	m.panics = m.set.NewCounter("aisle_http_panics_total")
	return m
}

func (m *metrics) observe(ep, status int, d time.Duration) {
	class := status/100 - 1
	if class < 0 || class >= len(classNames) {
		class = len(classNames) - 1
	}
	m.requests[ep][class].Inc()
	m.latency[ep].Update(d.Seconds())
}

// writeMetrics answers /metrics in the Prometheus text exposition format:
// the server's Set, the readiness and index gauges of this moment, and the
// ingest consumer's metrics.
func (s *Server) writeMetrics(ctx *fasthttp.RequestCtx) {
	var b bytes.Buffer
	s.metrics.set.WritePrometheus(&b)
	ready := uint64(0)
	if s.ready() {
		ready = 1
	}
	vm.WriteGaugeUint64(&b, "aisle_ready", ready)
	st := s.eng.Stats()
	for i, sh := range st.Shards {
		shard := `{shard="` + strconv.Itoa(i) + `"}`
		vm.WriteGaugeUint64(&b, "aisle_index_docs"+shard, uint64(sh.Docs))
		vm.WriteGaugeUint64(&b, "aisle_index_deleted_docs"+shard, uint64(sh.Deleted))
		vm.WriteGaugeUint64(&b, "aisle_index_bytes"+shard, uint64(max(sh.Bytes, 0)))
		vm.WriteGaugeUint64(&b, "aisle_index_terms"+shard, uint64(sh.Terms))
	}
	if c := s.svc.Caches; c != nil {
		writeCacheMetrics(&b, c)
	}
	if feed := s.ingestSide().feed; feed != nil { // the generation serving
		feed.WritePrometheus(&b)
	}
	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	ctx.SetBody(b.Bytes())
}

// CacheReporter is what /metrics needs of an engine with caches
// (Services.Caches): their hit rates and sizes.
type CacheReporter interface {
	ResponseCacheStats() search.CacheStats
	FilterCacheStats() search.CacheStats
}

// writeCacheMetrics writes the counters of the response cache (whole first
// pages) and the filter cache (filter bitmap combinations per segment), by
// cache: lookups by result, evictions, bytes held and capacity.
func writeCacheMetrics(b *bytes.Buffer, c CacheReporter) {
	for _, k := range [...]struct {
		name string
		st   search.CacheStats
	}{{"response", c.ResponseCacheStats()}, {"filter", c.FilterCacheStats()}} {
		vm.WriteCounterUint64(b, `aisle_cache_lookups_total{cache="`+k.name+`",result="hit"}`, k.st.Hits)
		vm.WriteCounterUint64(b, `aisle_cache_lookups_total{cache="`+k.name+`",result="miss"}`, k.st.Misses)
		vm.WriteCounterUint64(b, `aisle_cache_evictions_total{cache="`+k.name+`"}`, k.st.Evictions)
		vm.WriteGaugeUint64(b, `aisle_cache_bytes{cache="`+k.name+`"}`, k.st.Bytes)
		vm.WriteGaugeUint64(b, `aisle_cache_capacity_bytes{cache="`+k.name+`"}`, k.st.Capacity)
	}
}
