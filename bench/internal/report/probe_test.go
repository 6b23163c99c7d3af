package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// probed builds results of three cells with the given probes, each run by gregor and franz-go: a produce and a
// latency cell of the same row name, and a consume cell.
func probed(produce, consume, latency []float64) *Results {
	cells := []Cell{
		{Key: "produce", Cluster: "kraft-1", Workload: workload.Produce, Size: 100, Compression: "none", Acks: "1", Probe: produce},
		{Key: "consume", Cluster: "kraft-1", Workload: workload.Consume, Size: 100, Compression: "none", Probe: consume},
		{Key: "latency", Cluster: "kraft-1", Workload: workload.Latency, Size: 100, Compression: "none", Acks: "1", Rate: 10, Probe: latency},
	}
	r := &Results{Title: "t", Reps: 2, Contenders: []string{"gregor", "franz-go"}, Cells: cells,
		Machine:     []KV{{K: "CPU", V: "x86"}, {K: "pinning", V: "client on CPU 1"}},
		Versions:    []KV{{K: "Go", V: "go1.26"}},
		Unavailable: map[string]string{}, Notes: []string{"A note."}}
	for _, c := range cells {
		for _, name := range r.Contenders {
			for rep := range 2 {
				r.Samples = append(r.Samples, Sample{Cell: c.Key, Contender: name, Rep: rep, Result: workload.Result{
					Messages: 10, Bytes: 1000, Seconds: 1, CPUSeconds: 0.5, P50Ms: 1, P99Ms: 2, P999Ms: 3}})
			}
		}
	}
	return r
}

// rows returns the report's table rows named label, marked or not, by the heading of their section.
func rows(md, label string) map[string][]string {
	out := map[string][]string{}
	section := ""
	for _, l := range strings.Split(md, "\n") {
		if h, ok := strings.CutPrefix(l, "## "); ok {
			section = h
		}
		if strings.HasPrefix(l, "| "+label+" |") || strings.HasPrefix(l, "| "+label+probeMark+" |") {
			out[section] = append(out[section], l)
		}
	}
	return out
}

const (
	producing = "kraft-1 · 100 B · none · acks=1" // the produce and the latency cell's name
	consuming = "kraft-1 · 100 B · none"
)

// A cell whose probes moved is marked in every table it has a row in, and only there.
func TestProbeMarksCellsWhoseSpeedMoved(t *testing.T) {
	steady := []float64{15200, 15100}
	md := Markdown(probed([]float64{30000, 29000, 15500, 15000}, []float64{15000, 16000}, steady), "")
	got := rows(md, producing)
	require.Len(t, got["Produce throughput"], 2, "the throughput and the CPU table")
	for _, l := range got["Produce throughput"] {
		assert.True(t, strings.HasPrefix(l, "| "+producing+" ↕ |"), l)
	}
	require.Len(t, got["Produce latency"], 1)
	assert.True(t, strings.HasPrefix(got["Produce latency"][0], "| "+producing+" |"),
		"the latency cell of the same name held its speed: %s", got["Produce latency"][0])
	consumed := rows(md, consuming)["Consume throughput"]
	require.Len(t, consumed, 2)
	for _, l := range consumed {
		assert.True(t, strings.HasPrefix(l, "| "+consuming+" |"), "moved by less than 15%%: %s", l)
	}
	assert.Equal(t, 2, strings.Count(md, " ↕ |"), "the marked rows only")
	assert.Contains(t, md, "- ↕ after a cell's name: the CPU speed probe (see the machine table) moved by more than 15% "+
		"between the cell's repetitions (1 of 3 cells).")
	assert.Contains(t, md, "- A note.\n- ↕ after a cell's name", "after the results' own notes")
	assert.Contains(t, md, "Within a cell, ↕ marks each cell whose probes moved by more than 15% (max/min): 1 of them.")

	// The latency cell moved: its row alone.
	md = Markdown(probed(steady, steady, []float64{15000, 18000}), "")
	got = rows(md, producing)
	require.Len(t, got["Produce latency"], 1)
	assert.True(t, strings.HasPrefix(got["Produce latency"][0], "| "+producing+" ↕ |"), got["Produce latency"][0])
	for _, l := range got["Produce throughput"] {
		assert.True(t, strings.HasPrefix(l, "| "+producing+" |"), l)
	}
	assert.Equal(t, 1, strings.Count(md, " ↕ |"))

	// No cell moved: no mark, and no note of it.
	md = Markdown(probed(steady, []float64{15000, 15500}, nil), "")
	assert.NotContains(t, md, "↕")
	assert.NotContains(t, md, "after a cell's name")
	assert.Contains(t, md, "Within a cell, no cell's probes moved by more than 15% (max/min).")
}

func TestProbeRangeRendered(t *testing.T) {
	r := probed([]float64{15500, 15000}, []float64{30900, 31000}, nil)
	md := Markdown(r, "")
	assert.Contains(t, md, "| pinning | client on CPU 1 |\n| CPU speed probe | 15.0–31.0 GB/s over the report "+
		"(4 probes in 2 cells of 3; the others have none); higher is faster. Before each repetition of a cell",
		"after the machine's rows")
	assert.Contains(t, md, "over its thread's CPU time. Within a cell, no cell's probes moved by more than 15% "+
		"(max/min). |\n| Go | go1.26 |", "before the versions")
	assert.Contains(t, md, "- The CPU speed probe ranged over 15.0–31.0 GB/s (2.07x) across the report: its cells "+
		"were measured at different speeds", "cells measured at different speeds are called out")
	assert.NotContains(t, md, "↕", "each cell held its own speed")
	assert.Equal(t, []string{"A note."}, r.Notes, "rendering adds nothing to the results")

	// One speed throughout: the range, and nothing said of different speeds; a conns cell is not probed.
	r = probed([]float64{15500, 15000}, []float64{15900, 16000}, []float64{15200})
	r.Cells = append(r.Cells, Cell{Key: "conns", Cluster: "kraft-1", Workload: workload.Conns, Clients: 10})
	md = Markdown(r, "")
	assert.Contains(t, md, "| CPU speed probe | 15.0–16.0 GB/s over the report (5 probes in 3 cells); ",
		"every cell that is probed has probes: the conns cell is not one")
	assert.NotContains(t, md, "different speeds")
}

// Results without probes load, save and render as they did: the published results (saved before the probe, with
// none) come out as the very bytes published, and results without probes save no probe key.
func TestResultsWithoutProbesRenderAsBefore(t *testing.T) {
	docs := filepath.Join("..", "..", "..", "docs")
	raw, err := os.ReadFile(filepath.Join(docs, "benchmarks.json"))
	require.NoError(t, err)
	r, err := Load(filepath.Join(docs, "benchmarks.json"))
	require.NoError(t, err)
	saved := filepath.Join(t.TempDir(), "benchmarks.json")
	require.NoError(t, r.Save(saved))
	again, err := os.ReadFile(saved)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(raw, again), "saved again, the results are the same bytes")
	md, err := os.ReadFile(filepath.Join(docs, "benchmarks.md"))
	require.NoError(t, err)
	svg, err := os.ReadFile(filepath.Join(docs, "benchmarks.svg"))
	require.NoError(t, err)
	assert.Equal(t, string(md), Markdown(r, "benchmarks.svg"))
	assert.Equal(t, string(svg), Chart(r))
	if len(r.probes().rates) == 0 {
		assert.NotContains(t, string(md), "CPU speed probe")
	}

	r = probed(nil, nil, nil)
	md2 := Markdown(r, "")
	assert.NotContains(t, md2, "CPU speed probe")
	assert.NotContains(t, md2, "↕")
	assert.Contains(t, md2, "| "+producing+" |")
	require.NoError(t, r.Save(saved))
	again, err = os.ReadFile(saved)
	require.NoError(t, err)
	assert.NotContains(t, string(again), "cpu_probe_mbps", "no probes, no key")
}

// The probes are saved with their cell, and a rerun of some cells replaces their probes with its own, as it does
// their samples, and keeps the others'.
func TestProbesSavedAndMerged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	full := probed([]float64{1, 2}, []float64{3, 4}, nil)
	require.NoError(t, full.Save(path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"cpu_probe_mbps": [`)
	got, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, full.Cells, got.Cells)

	// A rerun of the consume and the latency cell.
	isRerun := func(key string) bool { return key == "consume" || key == "latency" }
	rerun := func(r *Results) *Results {
		r.Cells, r.Samples = r.Cells[1:], r.Samples[4:]
		return r
	}
	probes := func(r *Results) map[string][]float64 {
		out := map[string][]float64{}
		for _, c := range r.Cells {
			out[c.Key] = c.Probe
		}
		require.Len(t, out, 3)
		return out
	}
	merged := Merge(got, rerun(probed(nil, []float64{5, 6}, []float64{7})), isRerun)
	assert.Equal(t, map[string][]float64{"produce": {1, 2}, "consume": {5, 6}, "latency": {7}}, probes(merged))

	// A rerun without probes leaves its cells without any.
	merged = Merge(probed([]float64{1, 2}, []float64{3, 4}, nil), rerun(probed(nil, nil, nil)), isRerun)
	assert.Equal(t, map[string][]float64{"produce": {1, 2}, "consume": nil, "latency": nil}, probes(merged))
}
