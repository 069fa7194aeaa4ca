package bench

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// WriteCharts writes the report's charts as SVG files into dir:
// latency.svg (the latency distribution of each engine, as the share of
// queries answered within a time, at each engine's highest concurrency
// level) and, when the report has scale points, scale.svg (build time, peak
// heap and p99 latency against catalog size).
func (r *Report) WriteCharts(dir string) error {
	var series []chartSeries
	for _, e := range r.Engines {
		if len(e.Load) == 0 {
			continue
		}
		l := e.Load[len(e.Load)-1]
		series = append(series, cdfSeries(fmt.Sprintf("%s, %d clients", e.Name, l.Concurrency), l))
	}
	if r.HTTP != nil && len(r.HTTP.Loads) > 0 {
		l := r.HTTP.Loads[len(r.HTTP.Loads)-1]
		series = append(series, cdfSeries(fmt.Sprintf("aisle serve over HTTP, %d clients", l.Concurrency), l))
	}
	if len(series) > 0 {
		svg := lineChart("Latency distribution (mixed query log, top 10)", "latency, µs (log)", "share of queries answered", true, false, series)
		if err := os.WriteFile(filepath.Join(dir, "latency.svg"), []byte(svg), 0o644); err != nil {
			return fmt.Errorf("bench: writing latency.svg: %w", err)
		}
	}
	if len(r.Scale) == 0 {
		return nil
	}
	charts := []struct {
		file, title, y string
		v              func(ScalePoint) float64
	}{
		{"scale_build.svg", "Index build time against catalog size", "build seconds (log)", func(p ScalePoint) float64 { return p.Build.Seconds }},
		{"scale_memory.svg", "Peak heap during build against catalog size", "peak heap MiB (log)", func(p ScalePoint) float64 { return mib(p.Build.PeakHeap) }},
		{"scale_p99.svg", "p99 latency (filters and all facets) against catalog size", "p99 µs (log)", func(p ScalePoint) float64 { return p.Facets.P99 }},
		{"scale_qps.svg", "Queries per second (mixed log) against catalog size", "q/s (log)", func(p ScalePoint) float64 { return p.Load.QPS }},
		{"scale_cpu.svg", "CPU per query (mixed log) against catalog size", "CPU µs per query (log)", func(p ScalePoint) float64 { return p.Load.CPUPer1000 * 1000 }},
		{"scale_text_p99.svg", "p99 latency (text, top 10, no facets) against catalog size", "p99 µs (log)", func(p ScalePoint) float64 { return p.Text.P99 }},
	}
	for _, c := range charts {
		by := map[string]*chartSeries{}
		var order []string
		for _, p := range r.Scale {
			s := by[p.Engine]
			if s == nil {
				s = &chartSeries{name: p.Engine}
				by[p.Engine] = s
				order = append(order, p.Engine)
			}
			s.x = append(s.x, float64(p.Products))
			s.y = append(s.y, c.v(p))
		}
		var ss []chartSeries
		for _, n := range order {
			ss = append(ss, *by[n])
		}
		svg := lineChart(c.title, "products (log)", c.y, true, true, ss)
		if err := os.WriteFile(filepath.Join(dir, c.file), []byte(svg), 0o644); err != nil {
			return fmt.Errorf("bench: writing %s: %w", c.file, err)
		}
	}
	return nil
}

type chartSeries struct {
	name string
	x, y []float64
}

// cdfSeries turns a latency histogram into its cumulative distribution.
func cdfSeries(name string, l Load) chartSeries {
	s := chartSeries{name: name}
	total := 0
	for _, n := range l.Hist {
		total += n
	}
	cum := 0
	for i, n := range l.Hist {
		if i >= len(histEdges) {
			break
		}
		cum += n
		if cum == 0 && i+1 < len(l.Hist) && l.Hist[i+1] == 0 {
			continue
		}
		s.x = append(s.x, histEdges[i])
		s.y = append(s.y, float64(cum)/float64(max(total, 1)))
		if cum == total {
			break
		}
	}
	return s
}

var chartColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

// lineChart draws series as an SVG line chart, with logarithmic axes where
// asked; points that cannot be drawn on a log axis are skipped.
func lineChart(title, xLabel, yLabel string, logX, logY bool, series []chartSeries) string {
	const w, h, left, right, top, bottom = 720.0, 420.0, 70.0, 200.0, 40.0, 50.0
	tx := func(v float64) float64 { return v }
	ty := tx
	if logX {
		tx = math.Log10
	}
	if logY {
		ty = math.Log10
	}
	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for i := range s.x {
			if (logX && s.x[i] <= 0) || (logY && s.y[i] <= 0) {
				continue
			}
			x0, x1 = math.Min(x0, tx(s.x[i])), math.Max(x1, tx(s.x[i]))
			y0, y1 = math.Min(y0, ty(s.y[i])), math.Max(y1, ty(s.y[i]))
		}
	}
	if math.IsInf(x0, 0) {
		x0, x1, y0, y1 = 0, 1, 0, 1
	}
	if !logY {
		y0 = math.Min(y0, 0)
	}
	if x1 == x0 {
		x1 = x0 + 1
	}
	if y1 == y0 {
		y1 = y0 + 1
	}
	px := func(v float64) float64 { return left + (tx(v)-x0)/(x1-x0)*(w-left-right) }
	py := func(v float64) float64 { return h - bottom - (ty(v)-y0)/(y1-y0)*(h-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%g" y="22" font-size="15">%s</text>`+"\n", left, esc(title))
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="black"/><line x1="%g" y1="%g" x2="%g" y2="%g" stroke="black"/>`+"\n",
		left, h-bottom, w-right, h-bottom, left, top, left, h-bottom)
	for _, t := range ticks(x0, x1, logX) {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#ddd"/><text x="%.1f" y="%g" text-anchor="middle">%s</text>`+"\n",
			px(t), top, px(t), h-bottom, px(t), h-bottom+16, num(t))
	}
	for _, t := range ticks(y0, y1, logY) {
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/><text x="%g" y="%.1f" text-anchor="end">%s</text>`+"\n",
			left, py(t), w-right, py(t), left-6, py(t)+4, num(t))
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`+"\n", (left+w-right)/2, h-12, esc(xLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %g) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (top+h-bottom)/2, esc(yLabel))
	for k, s := range series {
		c := chartColors[k%len(chartColors)]
		var pts []string
		for i := range s.x {
			if (logX && s.x[i] <= 0) || (logY && s.y[i] <= 0) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.x[i]), py(s.y[i])))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, px(s.x[i]), py(s.y[i]), c)
		}
		fmt.Fprintf(&b, "\n"+`<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", c, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<rect x="%g" y="%d" width="12" height="12" fill="%s"/><text x="%g" y="%d">%s</text>`+"\n",
			w-right+10, int(top)+18*k, c, w-right+28, int(top)+18*k+10, esc(s.name))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// ticks returns axis ticks between lo and hi (in transformed units for a
// log axis), returned as data values.
func ticks(lo, hi float64, log bool) []float64 {
	var out []float64
	if log {
		for e := math.Floor(lo); e <= math.Ceil(hi); e++ {
			if e >= lo-1e-9 && e <= hi+1e-9 {
				out = append(out, math.Pow(10, e))
			}
		}
		return out
	}
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/4)))
	for (hi-lo)/step > 8 {
		step *= 2
	}
	for v := math.Ceil(lo/step) * step; v <= hi+1e-9; v += step {
		out = append(out, v)
	}
	return out
}

func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", math.Round(v*1000)/1000)
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
