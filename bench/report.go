package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("bench: writing the JSON report: %w", err)
	}
	return nil
}

// WriteMarkdown writes r as markdown: a header with the machine and the
// commit, then one table per workload and, when a peer was measured, the
// ratios Aisle/peer.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Aisle benchmark\n\n")
	fmt.Fprintf(&b, "- commit: `%s`, started %s\n", orDash(r.Commit), r.Started.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- machine: %s, %d cores (GOMAXPROCS %d), %s, %s\n", r.Machine.CPU, r.Machine.Cores, r.Machine.GOMAXPROCS, r.Machine.GoVersion, r.Machine.OS)
	fmt.Fprintf(&b, "- corpus: %d products; %d judged queries; load log %d queries; %gs per concurrency level\n\n", r.Products, r.Judged, r.LogSize, r.Duration)
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "- skipped: %s\n", s)
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\n")
	}

	b.WriteString("## Indexing and relevance\n\n")
	b.WriteString("| engine | build s | docs/s | peak heap MiB | index bytes/product | NDCG@10 | recall@100 | MRR | zero-result |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, e := range r.Engines {
		fmt.Fprintf(&b, "| %s | %.2f | %.0f | %.0f | %.0f |", e.Name, e.Build.Seconds, e.Build.DocsPerSec, mib(e.Build.PeakHeap), e.Build.BytesPerProduct)
		if rel := e.Relevance; rel != nil {
			fmt.Fprintf(&b, " %.4f | %.4f | %.4f | %.4f |\n", rel.NDCG10, rel.Recall100, rel.MRR, rel.ZeroRate)
		} else {
			b.WriteString(" - | - | - | - |\n")
		}
	}
	b.WriteString("\n")

	if hasLoad(r.Engines) {
		b.WriteString("## Throughput and latency (top 10, the mixed log)\n\n")
		b.WriteString("| engine | clients | q/s | p50 µs | p90 µs | p99 µs | p99.9 µs | allocs/q | CPU s/1000 q | errors |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, e := range r.Engines {
			for _, l := range e.Load {
				writeLoadRow(&b, e.Name, l)
			}
		}
		b.WriteString("\n")
	}
	if len(r.Engines) > 1 && r.Engines[0].Name == "aisle" {
		writeRatios(&b, r.Engines)
	}
	for _, e := range r.Engines {
		if e.Notes != "" {
			fmt.Fprintf(&b, "- %s: %s\n", e.Name, e.Notes)
		}
	}
	if len(r.Scale) > 0 {
		writeScale(&b, r.Scale)
	}
	if r.HTTP != nil {
		fmt.Fprintf(&b, "\n## HTTP over loopback (aisle serve --no-kafka with the shipped default store, in another process at %s)\n\n", r.HTTP.Addr)
		r.HTTP.writeTable(&b)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("bench: writing the markdown report: %w", err)
	}
	return nil
}

func writeLoadRow(b *strings.Builder, name string, l Load) {
	fmt.Fprintf(b, "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.3f | %d |\n",
		name, l.Concurrency, l.QPS, l.P50, l.P90, l.P99, l.P999, l.AllocsPerQuery, l.CPUPer1000, l.Errors)
}

// writeRatios writes Aisle/peer for q/s and p99 at each concurrency, and
// for index memory: above 1 means Aisle answers more queries, and below 1
// that it waits or holds less.
func writeRatios(b *strings.Builder, es []EngineReport) {
	a := es[0]
	b.WriteString("## Aisle / peer\n\n")
	b.WriteString("q/s above 1: Aisle answers more; p99 and memory below 1: Aisle waits or holds less.\n\n")
	b.WriteString("| peer | clients | q/s ratio | p99 ratio | index memory ratio | peak heap ratio | NDCG@10 difference |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range es[1:] {
		ndcg := "-"
		if a.Relevance != nil && p.Relevance != nil {
			ndcg = fmt.Sprintf("%+.4f", a.Relevance.NDCG10-p.Relevance.NDCG10)
		}
		mem := ratio(float64(a.Build.IndexBytes), float64(p.Build.IndexBytes))
		peak := ratio(float64(a.Build.PeakHeap), float64(p.Build.PeakHeap))
		if len(a.Load) == 0 || len(p.Load) == 0 {
			fmt.Fprintf(b, "| %s | - | - | - | %s | %s | %s |\n", p.Name, mem, peak, ndcg)
			continue
		}
		for _, al := range a.Load {
			for _, pl := range p.Load {
				if pl.Concurrency == al.Concurrency {
					fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s |\n", p.Name, al.Concurrency,
						ratio(al.QPS, pl.QPS), ratio(al.P99, pl.P99), mem, peak, ndcg)
				}
			}
		}
	}
	b.WriteString("\n")
}

func writeScale(b *strings.Builder, pts []ScalePoint) {
	b.WriteString("\n## Scale (the catalog grown with recombined titles; Aisle unless named)\n\n")
	b.WriteString("The mixed log runs at GOMAXPROCS clients; filters+facets (the log's filtered queries, all facets) and text (its text-only queries, top 10, no facets) at one client. CPU is process CPU per query of the mixed log; heap per product is the peak heap while building over the products.\n\n")
	b.WriteString("| engine | products | build s | peak heap MiB | heap bytes/product | index bytes/product | q/s | p50 µs | p99 µs | CPU µs/query | filters+facets p99 µs | text p50 µs | text p99 µs |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range pts {
		fmt.Fprintf(b, "| %s | %d | %.1f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", p.Engine, p.Products,
			p.Build.Seconds, mib(p.Build.PeakHeap), float64(p.Build.PeakHeap)/float64(max(p.Products, 1)), p.Build.BytesPerProduct,
			p.Load.QPS, p.Load.P50, p.Load.P99, p.Load.CPUPer1000*1000, p.Facets.P99, p.Text.P50, p.Text.P99)
	}
	writeScaleRatios(b, pts)
	b.WriteString("\nResponse cache (Aisle), one pass of the mixed log's first 3,000 queries in order at one client, bypassed and then through the cache from empty:\n\n| products | queries | hit rate | q/s off | q/s on |\n|---:|---:|---:|---:|---:|\n")
	for _, p := range pts {
		if c := p.Cache; c != nil {
			fmt.Fprintf(b, "| %d | %d | %.1f%% | %.0f | %.0f |\n", p.Products, c.Queries, c.HitRate*100, c.QPSOff, c.QPSOn)
		}
	}
}

// writeScaleRatios compares each size of Aisle with its smallest: how
// many times the catalog, and how many times the CPU per query.
func writeScaleRatios(b *strings.Builder, pts []ScalePoint) {
	var base *ScalePoint
	for i := range pts {
		if pts[i].Engine == "aisle" && (base == nil || pts[i].Products < base.Products) {
			base = &pts[i]
		}
	}
	if base == nil || base.Load.CPUPer1000 == 0 {
		return
	}
	b.WriteString("\nAgainst the smallest catalog (Aisle): the cost of a query grows by the CPU ratio while the catalog grows by the size ratio.\n\n")
	b.WriteString("| products | size ratio | q/s ratio | CPU/query ratio | text p99 ratio | filters+facets p99 ratio |\n|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range pts {
		if p.Engine != "aisle" {
			continue
		}
		fmt.Fprintf(b, "| %d | %.0f | %s | %s | %s | %s |\n", p.Products, float64(p.Products)/float64(base.Products),
			ratio(p.Load.QPS, base.Load.QPS), ratio(p.Load.CPUPer1000, base.Load.CPUPer1000), ratio(p.Text.P99, base.Text.P99), ratio(p.Facets.P99, base.Facets.P99))
	}
}

func hasLoad(es []EngineReport) bool {
	for _, e := range es {
		if len(e.Load) > 0 {
			return true
		}
	}
	return false
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteMarkdown writes the HTTP load table alone, as aisle-bench http
// prints it.
func (h *HTTPReport) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## HTTP load on %s (%d request paths", h.Addr, h.Requests)
	if h.Rate > 0 {
		fmt.Fprintf(&b, ", open load of %g requests a second, latency from the scheduled start", h.Rate)
	}
	b.WriteString(")\n\n")
	h.writeTable(&b)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("bench: writing the markdown report: %w", err)
	}
	return nil
}

func (h *HTTPReport) writeTable(b *strings.Builder) {
	b.WriteString("| connections | req/s | p50 µs | p90 µs | p99 µs | p99.9 µs | server CPU µs/req | client CPU µs/req | body bytes | response cache hits | errors |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range h.Loads {
		server := "-"
		if l.ServerCPUPer1000 > 0 {
			server = fmt.Sprintf("%.0f", l.ServerCPUPer1000*1000)
		}
		hits := "-"
		if l.CacheHitRate >= 0 {
			hits = fmt.Sprintf("%.0f%%", l.CacheHitRate*100)
		}
		fmt.Fprintf(b, "| %d | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %.0f | %.0f | %s | %d |\n",
			l.Concurrency, l.QPS, l.P50, l.P90, l.P99, l.P999, server, l.CPUPer1000*1000, l.BodyBytes, hits, l.Errors)
	}
	fmt.Fprintf(b, "\nServer CPU is the server process's user+system time (/proc) over the requests answered; client CPU the load generator's; cache hits the searches the server answered from its response cache (its /metrics). Load average %.1f before, %.1f after.\n",
		h.LoadAvg[0], h.LoadAvg[1])
	for _, l := range h.Loads {
		if l.FirstError != "" {
			fmt.Fprintf(b, "- %d connections, first error: %s\n", l.Concurrency, l.FirstError)
		}
	}
}
