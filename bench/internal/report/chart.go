package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

var palette = []string{"#1b6ac9", "#6aa9f0", "#e8710a", "#12a150", "#a142f4", "#d93025", "#5f6368", "#f9ab00"}

// Chart renders an SVG of throughput relative to gregor: one group of bars per produce, consume and group cell,
// one bar per contender, and a line at 1.0. Contenders without a result in a cell have no bar there.
func Chart(r *Results) string {
	var cells []Cell
	for _, w := range []string{"produce", "consume", "group"} {
		cells = append(cells, r.cellsOf(w)...)
	}
	names := r.contendersIn(cells)
	const (
		labelW = 330
		plotW  = 520
		barH   = 7
		gap    = 10
		top    = 60
	)
	type bar struct {
		i int
		v float64
	}
	maxV := 1.5
	groups := make([][]bar, len(cells))
	for ci, c := range cells {
		base := Summarize(r.samples(c.Key, Baseline), MBps)
		for i, n := range names {
			v := Ratio(Summarize(r.samples(c.Key, n), MBps), base)
			if math.IsNaN(v) {
				continue
			}
			groups[ci] = append(groups[ci], bar{i, v})
			maxV = max(maxV, v)
		}
	}
	maxV = math.Min(math.Ceil(maxV*2)/2, 4)
	height := top + 30
	for _, g := range groups {
		height += max(len(g), 1)*barH + gap
	}
	x := func(v float64) float64 { return labelW + math.Min(v, maxV)/maxV*plotW }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n",
		labelW+plotW+30, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="18" font-size="14" font-weight="bold">Throughput relative to gregor (goroutine handler), median MB/s ratio</text>`+"\n")
	for i, n := range names {
		lx := 10 + (i%6)*140
		ly := 34 + (i/6)*14
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			lx, ly-9, palette[i%len(palette)], lx+14, ly, html.EscapeString(n))
	}
	y := top
	for ci, c := range cells {
		h := max(len(groups[ci]), 1) * barH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-6, y+h/2+4,
			html.EscapeString(c.Workload+" · "+Label(c)))
		for k, br := range groups[ci] {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: ×%.2f</title></rect>`+"\n",
				labelW, y+k*barH, x(br.v)-labelW, barH-1, palette[br.i%len(palette)], html.EscapeString(names[br.i]), br.v)
		}
		y += h + gap
	}
	for v := 0.5; v <= maxV; v += 0.5 {
		stroke := "#ddd"
		if v == 1 {
			stroke = "#000"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/><text x="%.1f" y="%d" text-anchor="middle">×%.1f</text>`+"\n",
			x(v), top-4, x(v), y, stroke, x(v), y+14, v)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
