package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// The CPU speed probe (Cell.Probe): before each repetition of a cell the runner times a fixed loop on the client's
// core. The machine's speed has moved by up to 2x within an hour, and every client's CPU per record with it; a
// change within a cell falls on whichever contenders ran after it, and cells measured at different speeds do not
// compare. Results without probes render as they did before the probe.

// probeMoved is the ratio of a cell's fastest probe to its slowest above which the report marks the cell: the
// machine's speed changed while it ran. Probes at one speed agree within 2%.
const probeMoved = 1.15

// probeMark follows the name of a cell whose probes moved by more than probeMoved.
const probeMark = " ↕"

// SpeedBound reports whether c's figures move with the CPU's speed, and so whether the runner probes it: all but
// the conns cells, whose table counts goroutines, threads, memory and sockets.
func (c Cell) SpeedBound() bool { return c.Workload != workload.Conns }

// moved reports whether rates, slowest to fastest, span more than probeMoved.
func moved(rates []float64) bool {
	return len(rates) > 0 && slices.Min(rates) > 0 && slices.Max(rates)/slices.Min(rates) > probeMoved
}

// rowName is a cell's name in a table row: its label, marked when its probes moved.
func rowName(c Cell) string {
	if moved(c.Probe) {
		return Label(c) + probeMark
	}
	return Label(c)
}

// probeTotals sums up the probes of a report's cells.
type probeTotals struct {
	rates  []float64 // every probe's rate
	probed int       // cells with probes
	bound  int       // cells that are probed when the runner probes (SpeedBound)
	moved  int       // cells marked
}

func (r *Results) probes() probeTotals {
	var p probeTotals
	for _, c := range r.Cells {
		if c.SpeedBound() {
			p.bound++
		}
		if len(c.Probe) > 0 {
			p.rates = append(p.rates, c.Probe...)
			p.probed++
		}
		if moved(c.Probe) {
			p.moved++
		}
	}
	return p
}

// gbps renders a probe's rate (MB/s) in GB/s.
func gbps(mbps float64) string { return fmt.Sprintf("%.1f", mbps/1000) }

// machine is the machine table's row for the probe: its range over the report, how it is taken and what it
// marks; none when no cell has probes.
func (p probeTotals) machine() []KV {
	if len(p.rates) == 0 {
		return nil
	}
	of := ""
	if p.probed < p.bound {
		of = fmt.Sprintf(" of %d; the others have none", p.bound)
	}
	marked := fmt.Sprintf("no cell's probes moved by more than %.0f%% (max/min)", (probeMoved-1)*100)
	if p.moved > 0 {
		marked = fmt.Sprintf("%s marks each cell whose probes moved by more than %.0f%% (max/min): %d of them",
			strings.TrimSpace(probeMark), (probeMoved-1)*100, p.moved)
	}
	return []KV{{K: "CPU speed probe", V: fmt.Sprintf("%s–%s GB/s over the report (%d probes in %d cells%s); higher "+
		"is faster. Before each repetition of a cell (but the runtime table's, which counts no CPU time) the runner "+
		"times a fixed loop on the client's core, in a process of its own started as the clients are (see pinning): "+
		"CRC-32C (Castagnoli) of a buffer the L1 cache holds and dependent integer multiply-xorshift operations on "+
		"each sum, the rate being the fastest round's bytes over its thread's CPU time. Within a cell, %s.",
		gbps(slices.Min(p.rates)), gbps(slices.Max(p.rates)), len(p.rates), p.probed, of, marked)}}
}

// notes explain the probe's mark when some cell has it, and say so when the report's cells were measured at
// different speeds.
func (p probeTotals) notes() []string {
	var out []string
	if p.moved > 0 {
		out = append(out, fmt.Sprintf("%s after a cell's name: the CPU speed probe (see the machine table) moved by "+
			"more than %.0f%% between the cell's repetitions (%d of %d cells). The machine's speed changed while the cell "+
			"ran, and the change fell on whichever contenders' runs came after it, so its ratios may be off by as much "+
			"as the probe moved, which its spreads need not show.", strings.TrimSpace(probeMark), (probeMoved-1)*100,
			p.moved, p.bound))
	}
	if moved(p.rates) {
		lo, hi := slices.Min(p.rates), slices.Max(p.rates)
		out = append(out, fmt.Sprintf("The CPU speed probe ranged over %s–%s GB/s (%.2fx) across the report: its "+
			"cells were measured at different speeds, so absolute figures (MB/s, CPU per record, latencies) compare "+
			"across cells only as far as their probes agree (each cell's are in the results' JSON, cpu_probe_mbps); "+
			"the ratios within an unmarked cell hold.", gbps(lo), gbps(hi), hi/lo))
	}
	return out
}
