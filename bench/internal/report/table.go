package report

import (
	"fmt"
	"strings"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// A table shows one metric of a workload: a row per cell, a column per contender.
type table struct {
	// caption introduces every table of a section but the first.
	caption string
	// metric tells whether a contender has a successful run in a cell, and is what the ratio to the baseline
	// compares.
	metric Metric
	// summarize, when set, computes the metric's Stat instead of Summarize.
	summarize func(res []workload.Result) Stat
	// text renders the cell of a contender with a successful run: res are its runs, s their metric and base
	// the baseline's.
	text func(res []workload.Result, s, base Stat) string
	// hideErrors shows a failed cell as a dash, for a table that follows one already showing the error.
	hideErrors bool
}

// section writes a workload's section: a heading, an intro, then its tables; nothing when the workload has
// no cells.
func section(b *strings.Builder, r *Results, workload, title, intro string, tables ...table) {
	cells := r.cellsOf(workload)
	if len(cells) == 0 {
		return
	}
	names := r.contendersIn(cells)
	fmt.Fprintf(b, "## %s\n\n%s\n\n", title, intro)
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintf(b, "\n%s\n\n", t.caption)
		}
		t.write(b, r, cells, names)
	}
	b.WriteString("\n")
}

func (t table) write(b *strings.Builder, r *Results, cells []Cell, names []string) {
	header(b, "cell", names)
	for _, c := range cells {
		fmt.Fprintf(b, "| %s |", rowName(c))
		for _, n := range names {
			res := r.ownRuns(c.Key, n)
			s := t.stat(res)
			base := s
			if n != Baseline {
				base = t.stat(r.baseline(c.Key, n))
			}
			var text string
			switch {
			case s.OK():
				text = t.text(res, s, base)
			case t.hideErrors:
				text = "—"
			default:
				text = failed(s)
			}
			fmt.Fprintf(b, " %s |", text)
		}
		b.WriteString("\n")
	}
}

func (t table) stat(res []workload.Result) Stat {
	if t.summarize != nil {
		return t.summarize(res)
	}
	return Summarize(res, t.metric)
}

func header(b *strings.Builder, first string, names []string) {
	fmt.Fprintf(b, "| %s |", first)
	for _, n := range names {
		fmt.Fprintf(b, " %s |", n)
	}
	b.WriteString("\n|---|")
	for range names {
		b.WriteString("---|")
	}
	b.WriteString("\n")
}

// failed is what a table cell shows for a contender without a successful run.
func failed(s Stat) string {
	if s.Err == "" {
		return "—"
	}
	msg := s.Err
	if len(msg) > 60 {
		msg = msg[:57] + "..."
	}
	return "failed: " + strings.ReplaceAll(msg, "|", "/")
}
