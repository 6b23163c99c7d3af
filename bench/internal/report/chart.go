package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

var palette = []string{"#1b6ac9", "#6aa9f0", "#e8710a", "#12a150", "#a142f4", "#d93025", "#5f6368", "#f9ab00"}

// Chart renders an SVG of two panels, each relative to gregor: throughput (higher is better) and client CPU per
// record (lower is better). Each has one group of bars per produce, consume and group cell (CPU per record:
// produce and consume), one bar per contender, and a line at 1.0. Contenders without a result in a cell have
// no bar there; a bar whose runs spread more than NoisySpread is drawn hatched-light and its tooltip says so.
func Chart(r *Results) string {
	var cells, cpuCells []Cell
	for _, w := range []string{"produce", "consume", "group"} {
		cells = append(cells, r.cellsOf(w)...)
	}
	for _, w := range []string{"produce", "consume"} {
		cpuCells = append(cpuCells, r.cellsOf(w)...)
	}
	names := r.contendersIn(cells)
	panels := []chartPanel{
		{title: "Throughput relative to gregor (goroutine handler), median MB/s ratio — higher is better", metric: MBps, cells: cells},
		{title: "Client CPU per record relative to gregor (goroutine handler), median ratio — lower is better", metric: CPUPerRecord, cells: cpuCells},
	}
	var body strings.Builder
	y := 10
	for _, p := range panels {
		if len(p.cells) > 0 {
			y = p.render(&body, r, names, y)
		}
	}
	if body.Len() == 0 {
		return "" // a report of latency cells only has nothing to chart
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n",
		chartLabelW+chartPlotW+30, y)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	return b.String()
}

const (
	chartLabelW = 330
	chartPlotW  = 520
	chartBarH   = 7
	chartGap    = 10
)

// chartPanel is one metric's bars over a list of cells.
type chartPanel struct {
	title  string
	metric Metric
	cells  []Cell
}

// render draws the panel from y down and returns where the next one starts.
func (p chartPanel) render(b *strings.Builder, r *Results, names []string, y0 int) int {
	type bar struct {
		i     int
		v     float64
		noisy bool
	}
	maxV := 1.5
	groups := make([][]bar, len(p.cells))
	for ci, c := range p.cells {
		base := Summarize(r.samples(c.Key, Baseline), p.metric)
		for i, n := range names {
			s := Summarize(r.samples(c.Key, n), p.metric)
			v := Ratio(s, base)
			if math.IsNaN(v) {
				continue
			}
			groups[ci] = append(groups[ci], bar{i, v, s.Noisy()})
			maxV = max(maxV, v)
		}
	}
	maxV = math.Min(math.Ceil(maxV*2)/2, 4)
	x := func(v float64) float64 { return chartLabelW + math.Min(v, maxV)/maxV*chartPlotW }

	fmt.Fprintf(b, `<text x="10" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", y0+8, html.EscapeString(p.title))
	for i, n := range names {
		lx := 10 + (i%6)*140
		ly := y0 + 24 + (i/6)*14
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			lx, ly-9, palette[i%len(palette)], lx+14, ly, html.EscapeString(n))
	}
	top := y0 + 24 + ((len(names)+5)/6)*14 + 8
	y := top
	for ci, c := range p.cells {
		h := max(len(groups[ci]), 1) * chartBarH
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", chartLabelW-6, y+h/2+4,
			html.EscapeString(c.Workload+" · "+Label(c)))
		for k, br := range groups[ci] {
			opacity, note := "1", ""
			if br.noisy {
				opacity, note = "0.45", fmt.Sprintf(" (spread above %.0f%%)", NoisySpread*100)
			}
			fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="%s"><title>%s: ×%.2f%s</title></rect>`+"\n",
				chartLabelW, y+k*chartBarH, x(br.v)-chartLabelW, chartBarH-1, palette[br.i%len(palette)], opacity,
				html.EscapeString(names[br.i]), br.v, note)
		}
		y += h + chartGap
	}
	for v := 0.5; v <= maxV; v += 0.5 {
		stroke := "#ddd"
		if v == 1 {
			stroke = "#000"
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/><text x="%.1f" y="%d" text-anchor="middle">×%.1f</text>`+"\n",
			x(v), top-4, x(v), y, stroke, x(v), y+14, v)
	}
	return y + 34
}
