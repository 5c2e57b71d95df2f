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

func renderChart(w io.Writer, rep *report) error {
	const (
		width, height            = 960, 500
		left, right, top, bottom = 80, 30, 70, 60
		plotW, plotH             = width - left - right, height - top - bottom
	)
	secs := len(rep.PerSecond)
	// Trailing seconds with no sends (the tail of the last period) would
	// only stretch the axis.
	for secs > 0 && rep.PerSecond[secs-1].Count == 0 {
		secs--
	}
	xMax := float64(max(secs, 1))
	yTop := 0.0
	for _, s := range rep.PerSecond[:secs] {
		yTop = max(yTop, s.P99)
	}
	yStep := niceStep(max(yTop, 1), 5)
	yMax := math.Ceil(max(yTop, 1)/yStep) * yStep
	xStep := max(1, niceStep(xMax, 10))
	x := func(t float64) float64 { return left + t/xMax*plotW }
	y := func(v float64) float64 { return top + plotH - v/yMax*plotH }

	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`, width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>`)

	s := rep.Settings
	what := fmt.Sprintf("%d conns", s.Conns)
	if s.Members > 0 {
		what = fmt.Sprintf("%s × %d members", plural(s.Rooms, "room"), s.Members)
	}
	title := fmt.Sprintf("kindred-bench %s: %s, %g msg/s per sender, %d B", rep.Workload, what, s.Rate, s.Size)
	p(`<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`, left, html.EscapeString(title))
	sub := fmt.Sprintf("End-to-end latency per second of send time. Whole run after warmup: p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d deliveries, %d lost, %d doubled.",
		rep.Latency.P50, rep.Latency.P99, rep.Latency.Max, rep.Messages.Deliveries, rep.Messages.Lost, rep.Messages.Doubled)
	p(`<text x="%d" y="44" fill="#444">%s</text>`, left, html.EscapeString(sub))

	// Warmup: its latencies are in the series but not in the totals.
	if wu := s.WarmupS; wu > 0 && secs > 0 {
		p(`<rect x="%d" y="%d" width="%.1f" height="%d" fill="#eee"/>`, left, top, x(min(wu, xMax))-left, plotH)
		p(`<text x="%d" y="%d" fill="#888">warmup</text>`, left+4, top+14)
	}
	// Grid and y axis labels.
	for v := 0.0; v <= yMax+yStep/2; v += yStep {
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`, left, y(v), left+plotW, y(v))
		p(`<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, left-6, y(v), fmtNum(v))
	}
	for t := 0.0; t <= xMax+xStep/2; t += xStep {
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`, x(t), top+plotH, x(t), top+plotH+5)
		p(`<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(t), top+plotH+18, fmtNum(t))
	}
	p(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`, left, top, plotW, plotH)
	p(`<text x="%d" y="%d" text-anchor="middle">seconds since sending started (by send time)</text>`, left+plotW/2, height-16)
	p(`<text transform="translate(20 %d) rotate(-90)" text-anchor="middle">latency (ms)</text>`, top+plotH/2)

	if secs == 0 {
		p(`<text x="%d" y="%d" text-anchor="middle" fill="#888" font-size="16">no deliveries</text>`, left+plotW/2, top+plotH/2)
	}
	series := []struct {
		name, color string
		val         func(secReport) float64
	}{
		{"p99", "#d62728", func(r secReport) float64 { return r.P99 }},
		{"p50", "#1f77b4", func(r secReport) float64 { return r.P50 }},
	}
	for _, sr := range series {
		// A second without deliveries breaks the line rather than
		// drawing a false zero.
		var pts []string
		flush := func() {
			if len(pts) > 1 {
				p(`<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, sr.color, strings.Join(pts, " "))
			}
			pts = pts[:0]
		}
		for _, r := range rep.PerSecond[:secs] {
			if r.Count == 0 {
				flush()
				continue
			}
			px, py := x(float64(r.T)+0.5), y(sr.val(r))
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
			if secs <= 120 {
				p(`<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, px, py, sr.color)
			}
		}
		flush()
	}
	// Legend.
	lx := left + plotW - 90
	for i, sr := range series {
		ly := top + 16 + i*18
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`, lx, ly, lx+24, ly, sr.color)
		p(`<text x="%d" y="%d" dominant-baseline="middle">%s</text>`, lx+30, ly, sr.name)
	}
	p(`</svg>`)
	_, err := io.WriteString(w, b.String())
	return err
}
