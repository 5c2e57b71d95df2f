package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// niceStep returns a round step (1, 2 or 5 times a power of ten) that cuts
// span into about n intervals, for axis ticks.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n < 1 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// fmtNum prints an axis label without trailing zeros.
func fmtNum(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// writeChart writes an SVG line chart of p50 and p99 latency per second of
// send time, with the warmup shaded, for a person to look at.
func writeChart(path string, rep *report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := renderChart(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Chart geometry, in pixels: the picture and the plot area's margins.
const (
	chartW, chartH                               = 960, 500
	chartLeft, chartRight, chartTop, chartBottom = 80, 30, 70, 60
	plotW, plotH                                 = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
)

// chartSeries are the lines drawn, in drawing order (p50 on top).
var chartSeries = []struct {
	name, color string
	val         func(secReport) float64
}{
	{"p99", "#d62728", func(r secReport) float64 { return r.P99 }},
	{"p50", "#1f77b4", func(r secReport) float64 { return r.P50 }},
}

// chart is an SVG chart being written, with its scales.
type chart struct {
	b           strings.Builder
	secs        int     // seconds plotted
	xMax, xStep float64 // seconds
	yMax, yStep float64 // milliseconds
}

func renderChart(w io.Writer, rep *report) error {
	c := newChart(rep)
	c.p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`, chartW, chartH, chartW, chartH)
	c.p(`<rect width="100%%" height="100%%" fill="white"/>`)
	c.titles(rep)
	c.warmup(rep.Settings.WarmupS)
	c.axes()
	for _, sr := range chartSeries {
		c.line(rep.PerSecond[:c.secs], sr.color, sr.val)
	}
	c.legend()
	c.p(`</svg>`)
	_, err := io.WriteString(w, c.b.String())
	return err
}

// newChart sets the scales for rep's seconds. Trailing seconds with no
// sends (the tail of the last period) would only stretch the axis.
func newChart(rep *report) *chart {
	c := &chart{secs: len(rep.PerSecond)}
	for c.secs > 0 && rep.PerSecond[c.secs-1].Count == 0 {
		c.secs--
	}
	c.xMax = float64(max(c.secs, 1))
	yTop := 0.0
	for _, s := range rep.PerSecond[:c.secs] {
		yTop = max(yTop, s.P99)
	}
	c.yStep = niceStep(max(yTop, 1), 5)
	c.yMax = math.Ceil(max(yTop, 1)/c.yStep) * c.yStep
	c.xStep = max(1, niceStep(c.xMax, 10))
	return c
}

// p writes one line of SVG.
func (c *chart) p(format string, a ...any) {
	fmt.Fprintf(&c.b, format, a...)
	c.b.WriteByte('\n')
}

// x and y map a time (s) and a latency (ms) to the picture.
func (c *chart) x(t float64) float64 { return chartLeft + t/c.xMax*plotW }
func (c *chart) y(v float64) float64 { return chartTop + plotH - v/c.yMax*plotH }

// titles writes what was run and the whole run's numbers.
func (c *chart) titles(rep *report) {
	s := rep.Settings
	what := fmt.Sprintf("%d conns", s.Conns)
	if s.Members > 0 {
		what = fmt.Sprintf("%s × %d members", plural(s.Rooms, "room"), s.Members)
	}
	title := fmt.Sprintf("kindred-bench %s: %s, %g msg/s per sender, %d B", rep.Workload, what, s.Rate, s.Size)
	c.p(`<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`, chartLeft, html.EscapeString(title))
	sub := fmt.Sprintf("End-to-end latency per second of send time. Whole run after warmup: p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d deliveries, %d lost, %d doubled.",
		rep.Latency.P50, rep.Latency.P99, rep.Latency.Max, rep.Messages.Deliveries, rep.Messages.Lost, rep.Messages.Doubled)
	c.p(`<text x="%d" y="44" fill="#444">%s</text>`, chartLeft, html.EscapeString(sub))
}

// warmup shades the warmup: its latencies are in the series but not in
// the totals.
func (c *chart) warmup(wu float64) {
	if wu <= 0 || c.secs == 0 {
		return
	}
	c.p(`<rect x="%d" y="%d" width="%.1f" height="%d" fill="#eee"/>`, chartLeft, chartTop, c.x(min(wu, c.xMax))-chartLeft, plotH)
	c.p(`<text x="%d" y="%d" fill="#888">warmup</text>`, chartLeft+4, chartTop+14)
}

// axes draws the grid, the ticks and their labels, the frame and the axis
// titles (and says so when there is nothing to plot).
func (c *chart) axes() {
	for v := 0.0; v <= c.yMax+c.yStep/2; v += c.yStep {
		c.p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`, chartLeft, c.y(v), chartLeft+plotW, c.y(v))
		c.p(`<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, chartLeft-6, c.y(v), fmtNum(v))
	}
	for t := 0.0; t <= c.xMax+c.xStep/2; t += c.xStep {
		c.p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`, c.x(t), chartTop+plotH, c.x(t), chartTop+plotH+5)
		c.p(`<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, c.x(t), chartTop+plotH+18, fmtNum(t))
	}
	c.p(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`, chartLeft, chartTop, plotW, plotH)
	c.p(`<text x="%d" y="%d" text-anchor="middle">seconds since sending started (by send time)</text>`, chartLeft+plotW/2, chartH-16)
	c.p(`<text transform="translate(20 %d) rotate(-90)" text-anchor="middle">latency (ms)</text>`, chartTop+plotH/2)
	if c.secs == 0 {
		c.p(`<text x="%d" y="%d" text-anchor="middle" fill="#888" font-size="16">no deliveries</text>`, chartLeft+plotW/2, chartTop+plotH/2)
	}
}

// line draws one series. A second without deliveries breaks the line
// rather than drawing a false zero; up to 120 seconds, each point is
// marked.
func (c *chart) line(secs []secReport, color string, val func(secReport) float64) {
	var pts []string
	flush := func() {
		if len(pts) > 1 {
			c.p(`<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, color, strings.Join(pts, " "))
		}
		pts = pts[:0]
	}
	for _, r := range secs {
		if r.Count == 0 {
			flush()
			continue
		}
		px, py := c.x(float64(r.T)+0.5), c.y(val(r))
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
		if len(secs) <= 120 {
			c.p(`<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, px, py, color)
		}
	}
	flush()
}

// legend names the series.
func (c *chart) legend() {
	lx := chartLeft + plotW - 90
	for i, sr := range chartSeries {
		ly := chartTop + 16 + i*18
		c.p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`, lx, ly, lx+24, ly, sr.color)
		c.p(`<text x="%d" y="%d" dominant-baseline="middle">%s</text>`, lx+30, ly, sr.name)
	}
}
