package server

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aisle/aisle/ingest"
)

// latencyBuckets are the upper bounds of the latency histograms, from
// 0.1 ms to 1 s.
var latencyBuckets = [...]time.Duration{
	100 * time.Microsecond,
	250 * time.Microsecond,
	500 * time.Microsecond,
	time.Millisecond,
	2500 * time.Microsecond,
	5 * time.Millisecond,
	10 * time.Millisecond,
	25 * time.Millisecond,
	50 * time.Millisecond,
	100 * time.Millisecond,
	250 * time.Millisecond,
	500 * time.Millisecond,
	time.Second,
}

// latencyBucketLabels are the bucket bounds in seconds, as "le" labels.
var latencyBucketLabels = func() (l [len(latencyBuckets)]string) {
	for i, b := range latencyBuckets {
		l[i] = strconv.FormatFloat(b.Seconds(), 'g', -1, 64)
	}
	return l
}()

// Status classes, as indexes of the request counters.
var classNames = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// histogram is a Prometheus histogram with fixed buckets. counts[i] is the
// observations in bucket i alone (made cumulative when written); the last
// slot holds those above every bound.
type histogram struct {
	counts [len(latencyBuckets) + 1]atomic.Uint64
	sumNs  atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(latencyBuckets) && d > latencyBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
}

// metrics are the server's counters. The zero value is ready to use.
type metrics struct {
	requests [numEndpoints][len(classNames)]atomic.Uint64
	latency  [numEndpoints]histogram
	panics   atomic.Uint64
}

func (m *metrics) observe(ep, status int, d time.Duration) {
	class := status/100 - 1
	if class < 0 || class >= len(classNames) {
		class = len(classNames) - 1
	}
	m.requests[ep][class].Add(1)
	m.latency[ep].observe(d)
}

// writeMetrics answers /metrics in the Prometheus text exposition format.
func (s *Server) writeMetrics(ctx *fasthttp.RequestCtx) {
	buf := getBuf()
	b := *buf
	m := &s.metrics

	b = appendHelp(b, "aisle_http_requests_total", "counter", "HTTP requests served, by endpoint and status class.")
	for ep := range numEndpoints {
		for c, cn := range classNames {
			n := m.requests[ep][c].Load()
			if n == 0 && c != 1 {
				continue
			}
			b = append(b, `aisle_http_requests_total{endpoint="`...)
			b = append(b, endpointNames[ep]...)
			b = append(b, `",code="`...)
			b = append(b, cn...)
			b = append(b, `"} `...)
			b = strconv.AppendUint(b, n, 10)
			b = append(b, '\n')
		}
	}

	b = appendHelp(b, "aisle_http_request_duration_seconds", "histogram", "Time to serve an HTTP request, by endpoint.")
	for ep := range numEndpoints {
		h := &m.latency[ep]
		var cum uint64
		for i := range h.counts {
			cum += h.counts[i].Load()
			b = append(b, `aisle_http_request_duration_seconds_bucket{endpoint="`...)
			b = append(b, endpointNames[ep]...)
			b = append(b, `",le="`...)
			if i < len(latencyBucketLabels) {
				b = append(b, latencyBucketLabels[i]...)
			} else {
				b = append(b, "+Inf"...)
			}
			b = append(b, `"} `...)
			b = strconv.AppendUint(b, cum, 10)
			b = append(b, '\n')
		}
		b = append(b, `aisle_http_request_duration_seconds_sum{endpoint="`...)
		b = append(b, endpointNames[ep]...)
		b = append(b, `"} `...)
		b = strconv.AppendFloat(b, time.Duration(h.sumNs.Load()).Seconds(), 'g', -1, 64)
		b = append(b, '\n')
		b = append(b, `aisle_http_request_duration_seconds_count{endpoint="`...)
		b = append(b, endpointNames[ep]...)
		b = append(b, `"} `...)
		b = strconv.AppendUint(b, cum, 10)
		b = append(b, '\n')
	}

	b = appendHelp(b, "aisle_http_panics_total", "counter", "Handler panics recovered into a 500 response.")
	b = appendSample(b, "aisle_http_panics_total", "", int64(m.panics.Load()))

	ready := int64(0)
	if s.ready.Load() {
		ready = 1
	}
	b = appendHelp(b, "aisle_ready", "gauge", "1 once the store is loaded.")
	b = appendSample(b, "aisle_ready", "", ready)

	st := s.eng.Stats()
	gauges := [...]struct {
		name, help string
		get        func(i int) int64
	}{
		{"aisle_index_docs", "Live documents, by shard.", func(i int) int64 { return int64(st.Shards[i].Docs) }},
		{"aisle_index_deleted_docs", "Documents marked deleted and not yet merged away, by shard.", func(i int) int64 { return int64(st.Shards[i].Deleted) }},
		{"aisle_index_bytes", "Approximate heap bytes of the index structures, by shard.", func(i int) int64 { return st.Shards[i].Bytes }},
		{"aisle_index_terms", "Distinct terms, by shard.", func(i int) int64 { return int64(st.Shards[i].Terms) }},
	}
	for _, g := range gauges {
		b = appendHelp(b, g.name, "gauge", g.help)
		for i := range st.Shards {
			b = appendSample(b, g.name, strconv.Itoa(i), g.get(i))
		}
	}

	if feed := s.ingestSide().feed; feed != nil {
		b = appendIngestMetrics(b, feed.Metrics())
	}

	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	ctx.SetBody(b)
	*buf = b
	putBuf(buf)
}

func appendHelp(b []byte, name, typ, help string) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, help...)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}

// appendSample appends one sample line, with a shard label when shard is
// not empty.
func appendSample(b []byte, name, shard string, v int64) []byte {
	b = append(b, name...)
	if shard != "" {
		b = append(b, `{shard="`...)
		b = append(b, shard...)
		b = append(b, `"}`...)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, v, 10)
	return append(b, '\n')
}

// appendIngestMetrics appends the freshness metrics of the ingest consumer.
func appendIngestMetrics(b []byte, m ingest.Metrics) []byte {
	b = appendHelp(b, "aisle_ingest_events_total", "counter", "Catalog events consumed, by outcome: applied, stale (older version), duplicate (same version), dead_lettered (undecodable or invalid).")
	for _, o := range [...]struct {
		name string
		n    int64
	}{{"applied", m.Applied}, {"stale", m.Stale}, {"duplicate", m.Duplicates}, {"dead_lettered", m.DeadLettered}} {
		b = append(b, `aisle_ingest_events_total{outcome="`...)
		b = append(b, o.name...)
		b = append(b, `"} `...)
		b = strconv.AppendInt(b, o.n, 10)
		b = append(b, '\n')
	}
	b = appendHelp(b, "aisle_ingest_lag", "gauge", "Records of a partition not yet applied: end offset (polled every second) minus applied offset.")
	for _, l := range m.Lag {
		b = append(b, `aisle_ingest_lag{topic="`...)
		b = append(b, l.Topic...)
		b = append(b, `",partition="`...)
		b = strconv.AppendInt(b, int64(l.Partition), 10)
		b = append(b, `"} `...)
		b = strconv.AppendInt(b, l.Lag, 10)
		b = append(b, '\n')
	}
	b = appendHelp(b, "aisle_ingest_apply_seconds", "histogram", "Time to apply one partition's batch: decode, log fsync and index update.")
	b = appendIngestHistogram(b, "aisle_ingest_apply_seconds", m.ApplyLatency)
	b = appendHelp(b, "aisle_ingest_event_to_searchable_seconds", "histogram", "Time from an applied event's record timestamp to its effect being searchable.")
	return appendIngestHistogram(b, "aisle_ingest_event_to_searchable_seconds", m.EventToSearchable)
}

func appendIngestHistogram(b []byte, name string, h ingest.Histogram) []byte {
	var cum uint64
	for i, c := range h.Counts {
		cum += c
		b = append(b, name...)
		b = append(b, `_bucket{le="`...)
		if i < len(h.Bounds) {
			b = strconv.AppendFloat(b, h.Bounds[i].Seconds(), 'g', -1, 64)
		} else {
			b = append(b, "+Inf"...)
		}
		b = append(b, `"} `...)
		b = strconv.AppendUint(b, cum, 10)
		b = append(b, '\n')
	}
	b = append(b, name...)
	b = append(b, "_sum "...)
	b = strconv.AppendFloat(b, h.Sum.Seconds(), 'g', -1, 64)
	b = append(b, '\n')
	b = append(b, name...)
	b = append(b, "_count "...)
	b = strconv.AppendUint(b, cum, 10)
	return append(b, '\n')
}
