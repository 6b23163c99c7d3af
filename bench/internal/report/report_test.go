package report

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/bench/internal/workload"
)

func res(mb float64) workload.Result {
	return workload.Result{Messages: int64(mb * 1e4), Bytes: int64(mb * 1e6), Seconds: 1, CPUSeconds: mb / 100}
}

func TestSummarizeMedianAndSpread(t *testing.T) {
	s := Summarize([]workload.Result{res(10), res(30), res(20)}, MBps)
	assert.InDelta(t, 20, s.Median, 1e-9)
	assert.InDelta(t, 1.0, s.Spread, 1e-9)
	assert.Equal(t, 3, s.Runs)

	s = Summarize([]workload.Result{res(10), res(20)}, MBps)
	assert.InDelta(t, 15, s.Median, 1e-9)

	failed := Summarize([]workload.Result{{Error: "boom"}, res(5)}, MBps)
	assert.Equal(t, 1, failed.Runs, "a failed run is left out when others succeeded")
	none := Summarize([]workload.Result{{Error: "boom"}}, MBps)
	assert.False(t, none.OK())
	assert.Equal(t, "boom", none.Err)
	assert.True(t, math.IsNaN(Ratio(none, failed)))
	assert.InDelta(t, 3.0, Ratio(Stat{Median: 3, Runs: 1}, Stat{Median: 1, Runs: 1}), 1e-9)
}

func sample() *Results {
	prod := Cell{Key: "p", Cluster: "kraft-1", Workload: "produce", Size: 100, Compression: "none", Acks: "1"}
	lat := Cell{Key: "l", Cluster: "kraft-1", Workload: "latency", Size: 10240, Compression: "lz4", Acks: "1", Rate: 1000}
	r := &Results{Title: "t", Command: "make bench", Reps: 3, Contenders: []string{"gregor", "franz-go", "pykafka"},
		Cells: []Cell{prod, lat}, Unavailable: map[string]string{"pykafka": "cannot speak Produce v3"}}
	for i, v := range []float64{10, 12, 11} {
		r.Samples = append(r.Samples,
			Sample{Cell: "p", Contender: "gregor", Rep: i, Result: res(v)},
			Sample{Cell: "p", Contender: "franz-go", Rep: i, Result: res(2 * v)},
			Sample{Cell: "l", Contender: "gregor", Rep: i, Result: workload.Result{P50Ms: 1, P99Ms: 2, P999Ms: 3}},
		)
	}
	r.Samples = append(r.Samples, Sample{Cell: "p", Contender: "pykafka", Result: workload.Result{Error: "SocketDisconnectedError"}})
	return r
}

func TestMarkdown(t *testing.T) {
	md := Markdown(sample(), "benchmarks.svg")
	assert.Contains(t, md, "| cell | gregor | franz-go | pykafka |")
	assert.Contains(t, md, "| kraft-1 · 100 B · none · acks=1 | 11.0 MB/s (110k/s) ±18% **×1.00** | 22.0 MB/s (220k/s) ±18% **×2.00** | failed: SocketDisconnectedError |")
	assert.Contains(t, md, "| kraft-1 · 10 KiB · lz4 · acks=1 | 1.00 / 2.00 ±0% / 3.00 **×1.00** |")
	assert.Contains(t, md, "- **pykafka**: cannot speak Produce v3")
	assert.Contains(t, md, "![Throughput and CPU per record relative to gregor](benchmarks.svg)")
	assert.NotContains(t, md, "## Group consumption", "no group cells, no section")
}

func TestMarkdownTables(t *testing.T) {
	r := sample()
	grp := Cell{Key: "g", Cluster: "kraft-3", Workload: "group", Size: 100, Compression: "none"}
	cns := Cell{Key: "c", Cluster: "kraft-3", Workload: "conns", Clients: 10}
	r.Cells = append(r.Cells, grp, cns)
	r.Samples = append(r.Samples,
		Sample{Cell: "g", Contender: "gregor", Result: workload.Result{Bytes: 4e6, Seconds: 2, AssignSeconds: 0.5}},
		Sample{Cell: "g", Contender: "franz-go", Result: workload.Result{Bytes: 4e6, Seconds: 1, AssignSeconds: 0.25}},
		Sample{Cell: "c", Contender: "gregor", Result: workload.Result{Goroutines: 42, Threads: 7, RSSBytes: 30 << 20, Sockets: 11}},
		Sample{Cell: "c", Contender: "franz-go", Result: workload.Result{Error: "too | many"}},
	)
	md := Markdown(r, "")

	cpu := "Client CPU per record, microseconds (CPU seconds per run; ◦: under 0.1 s a run, where connecting and start-up weigh in as much as the records, too little to rank clients by):\n\n| cell | gregor | franz-go | pykafka |\n|---|---|---|---|\n" +
		"| kraft-1 · 100 B · none · acks=1 | 1.00 µs ±0% (0.11 s) **×1.00** | 1.00 µs ±0% (0.22 s) **×1.00** | — |\n\n"
	assert.Contains(t, md, cpu, "the CPU table shows a failure as a dash, its error being in the table above")
	assert.Contains(t, md, "## Group consumption\n\nThree members")
	assert.Contains(t, md, "| kraft-3 · 100 B · none | 0.50 s · 2.00 MB/s **×1.00** | 0.25 s · 4.00 MB/s **×2.00** |\n")
	assert.Contains(t, md, "| kraft-3 · 10 clients | 42 / 7 / 30.0 / 11 | failed: too / many |\n")
	assert.Contains(t, md, "## Produce latency\n\n1000 messages/s")
	assert.NotContains(t, md, "## Consume throughput", "no consume cells, no section")
	assert.NotContains(t, md, "![", "no chart")
}

func TestChart(t *testing.T) {
	svg := Chart(sample())
	assert.True(t, strings.HasPrefix(svg, "<svg"))
	assert.Contains(t, svg, "franz-go: ×2.00")
	assert.Contains(t, svg, "gregor: ×1.00")
	assert.Equal(t, 4, strings.Count(svg, "<title>"), "one bar per contender with a result, in each of the two panels")
	assert.Contains(t, svg, "Client CPU per record relative to gregor")
	assert.NotContains(t, svg, "spread above", "no noisy cell")
}

func TestChartNothingToChart(t *testing.T) {
	r := sample()
	r.Cells = slices.DeleteFunc(r.Cells, func(c Cell) bool { return c.Workload != "latency" })
	assert.Empty(t, Chart(r), "latency cells only: no chart, rather than an empty picture")
}

func TestCPUPerRecord(t *testing.T) {
	// 0.5 s of user+system CPU over 250,000 records is 2 µs a record.
	assert.InDelta(t, 2.0, CPUPerRecord(workload.Result{Messages: 250_000, CPUSeconds: 0.5}), 1e-9)
	assert.InDelta(t, 0, CPUPerRecord(workload.Result{CPUSeconds: 0.5}), 0, "no records, no per-record cost")

	r := sample()
	r.Cells = append(r.Cells, Cell{Key: "c", Cluster: "kraft-1", Workload: "consume", Size: 100, Compression: "lz4"})
	for i, cpu := range []float64{0.20, 0.30, 0.25} { // gregor: 2.0, 3.0, 2.5 µs, median 2.5
		r.Samples = append(r.Samples,
			Sample{Cell: "c", Contender: "gregor", Rep: i, Result: workload.Result{Messages: 100_000, Bytes: 1e7, Seconds: 1, CPUSeconds: cpu}},
			Sample{Cell: "c", Contender: "franz-go", Rep: i, Result: workload.Result{Messages: 100_000, Bytes: 1e7, Seconds: 1, CPUSeconds: 0.5}},
		)
	}
	st := Summarize(r.samples("c", "gregor"), CPUPerRecord)
	assert.InDelta(t, 2.5, st.Median, 1e-9)
	assert.InDelta(t, 0.4, st.Spread, 1e-9, "(3.0-2.0)/2.5")
	md := Markdown(r, "")
	assert.Contains(t, md, "| kraft-1 · 100 B · lz4 | 2.50 µs ±40% ⚠ (0.25 s) **×1.00** | 5.00 µs ±0% (0.50 s) **×2.00** |")
	assert.Contains(t, md, "◦: under 0.1 s a run", "the caption says what the short-run mark means")
	assert.NotContains(t, md, "s ◦)", "runs of 0.25 s and more are not short")

	// The pykafka comparison's small cells: 0.04 s a run is marked, whoever uses it.
	r.Cells = append(r.Cells, Cell{Key: "z", Cluster: "zookeeper-1", Workload: "consume", Size: 10240, Compression: "none"})
	for i := range 3 {
		r.Samples = append(r.Samples,
			Sample{Cell: "z", Contender: "gregor", Rep: i, Result: workload.Result{Messages: 5000, Bytes: 5e7, Seconds: 0.05, CPUSeconds: 0.04}},
			Sample{Cell: "z", Contender: "franz-go", Rep: i, Result: workload.Result{Messages: 5000, Bytes: 5e7, Seconds: 0.05, CPUSeconds: 0.2}},
		)
	}
	md = Markdown(r, "")
	assert.Contains(t, md, "| zookeeper-1 · 10 KiB · none | 8.00 µs ±0% (0.04 s ◦) **×1.00** | 40.0 µs ±0% (0.20 s) **×5.00** |")
	svg := Chart(r)
	assert.Contains(t, svg, "franz-go: ×2.00</title>", "the CPU panel shows franz-go's CPU per record at twice gregor's")
	assert.Contains(t, svg, "gregor: ×1.00 (spread above 25%)</title>", "a noisy bar says so")
}

func TestNoisySpreadMarked(t *testing.T) {
	steady := Summarize([]workload.Result{res(10), res(11), res(12)}, MBps) // spread 2/11, 18%
	assert.False(t, steady.Noisy())
	assert.Equal(t, " ±18%", spread(steady))
	noisy := Summarize([]workload.Result{res(10), res(13), res(12)}, MBps) // spread 25% exactly is not above
	assert.False(t, noisy.Noisy())
	noisy = Summarize([]workload.Result{res(10), res(14), res(12)}, MBps) // 33%
	assert.True(t, noisy.Noisy())
	assert.Equal(t, " ±33% ⚠", spread(noisy))
	one := Summarize([]workload.Result{res(10)}, MBps)
	assert.False(t, one.Noisy(), "a single run has no spread to judge")
	assert.Equal(t, "", spread(one))

	r := sample()
	r.Samples[0].Result = res(30) // gregor's produce runs: 30, 12, 11
	md := Markdown(r, "")
	assert.Contains(t, md, "| kraft-1 · 100 B · none · acks=1 | 12.0 MB/s (120k/s) ±158% ⚠ **×1.00** |")
	assert.Contains(t, md, "⚠ marks a spread above 25%")
}

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	r := sample()
	require.NoError(t, r.Save(path))
	got, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, r, got)
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{1.234: "1.23", 12.34: "12.3", 123.4: "123", 12345: "12.3k", 1234567: "1.23M"} {
		assert.Equal(t, want, num(v), "%v", v)
	}
}

func TestMerge(t *testing.T) {
	base := sample()
	update := &Results{Cells: []Cell{{Key: "l", Workload: "latency", Rate: 5}},
		Samples: []Sample{{Cell: "l", Contender: "gregor", Result: workload.Result{P99Ms: 9}}}, Unavailable: map[string]string{}}
	got := Merge(base, update, func(k string) bool { return k == "l" })
	require.Len(t, got.Cells, 2)
	assert.Equal(t, 5, got.Cells[1].Rate)
	var l []Sample
	for _, s := range got.Samples {
		if s.Cell == "l" {
			l = append(l, s)
		}
	}
	require.Len(t, l, 1, "the old samples of a re-run cell are gone")
	assert.Equal(t, 9.0, l[0].Result.P99Ms)
	assert.Len(t, got.Samples, 8, "the other cell's samples stay")

	// A rerun cell keeps its row; a new one comes last.
	update = &Results{Cells: []Cell{{Key: "n"}, {Key: "p", Messages: 7}}, Unavailable: map[string]string{}}
	got = Merge(got, update, func(k string) bool { return k == "p" || k == "n" })
	var keys []string
	for _, c := range got.Cells {
		keys = append(keys, c.Key)
	}
	assert.Equal(t, []string{"p", "l", "n"}, keys)
	assert.Equal(t, 7, got.Cells[0].Messages)
}

// Latency percentiles come from the runs' acknowledgements pooled when every run shipped a histogram. Here one
// run of three had a stall that slowed 5 of its 1,000 acknowledgements to 50 ms: the median of the runs' own
// p99.9 (1 ms) hides it, the pooled p99.9 (5 in 3,000 are slower than 1 ms) shows it. The spread stays the
// runs' own.
func TestLatencyPooled(t *testing.T) {
	run := func(slow int, p99, p999 float64) workload.Result {
		d := make([]time.Duration, 1000)
		for i := range d {
			d[i] = time.Millisecond
			if i < slow {
				d[i] = 50 * time.Millisecond
			}
		}
		return workload.Result{P50Ms: 1, P99Ms: p99, P999Ms: p999, Hist: workload.NewHistogram(d)}
	}
	res := []workload.Result{run(5, 1.5, 50), run(0, 1, 1), run(0, 1, 1)}
	st := SummarizeLatency(res, 99.9, P999)
	assert.True(t, st.Pooled)
	assert.InDelta(t, 50, st.Median, 0.3)
	assert.InDelta(t, 49, st.Spread, 1e-9, "(50-1)/1 from the runs' own p99.9")
	p99 := SummarizeLatency(res, 99, P99)
	assert.InDelta(t, 1, p99.Median, 0.01)
	assert.InDelta(t, 0.5, p99.Spread, 1e-9, "(1.5-1)/1 from the runs' own p99")

	// A run without a histogram (a contender printing percentiles only) keeps the median of the runs'.
	res[1].Hist = nil
	st = SummarizeLatency(res, 99.9, P999)
	assert.False(t, st.Pooled)
	assert.InDelta(t, 1, st.Median, 1e-9)

	r := sample()
	rep := 0
	for i := range r.Samples {
		if r.Samples[i].Cell == "l" {
			r.Samples[i].Result = []workload.Result{run(5, 2, 50), run(0, 2, 1), run(0, 2, 1)}[rep]
			rep++
		}
	}
	// The pooled p99 (1.00) and, in brackets, the median of the p99 the runs reported (2.00).
	assert.Contains(t, Markdown(r, ""), "| kraft-1 · 10 KiB · lz4 · acks=1 | 1.00 / 1.00 ±0% [2.00] / 49.8 **×1.00** |")
}

// A contender that ran beside gregor has its latency ratio taken against gregor's runs beside it, not all of
// gregor's runs; gregor's own column pools its runs beside the Go clients, and the intro says how the runs went.
func TestLatencyBeside(t *testing.T) {
	r := sample()
	r.Contenders = append(r.Contenders, "sarama")
	lat := func(p99 float64) workload.Result { return workload.Result{P50Ms: 1, P99Ms: p99, P999Ms: 2 * p99} }
	var keep []Sample
	for _, s := range r.Samples {
		if s.Cell != "l" {
			keep = append(keep, s)
		}
	}
	r.Samples = keep
	for rep := range 3 {
		// Beside franz-go gregor met a slow broker (p99 4, franz-go 5); beside sarama a quiet one (2 and 3).
		r.Samples = append(r.Samples,
			Sample{Cell: "l", Contender: "gregor", Rep: rep, Beside: "franz-go", Result: lat(4)},
			Sample{Cell: "l", Contender: "franz-go", Rep: rep, Beside: "gregor", Result: lat(5)},
			Sample{Cell: "l", Contender: "gregor", Rep: rep, Beside: "sarama", Result: lat(2)},
			Sample{Cell: "l", Contender: "sarama", Rep: rep, Beside: "gregor", Result: lat(3)},
		)
	}
	md := Markdown(r, "")
	assert.Contains(t, md, "| kraft-1 · 10 KiB · lz4 · acks=1 | 1.00 / 3.00 ±67% ⚠ / 6.00 **×1.00** | "+
		"1.00 / 5.00 ±0% / 10.0 **×1.25** | 1.00 / 3.00 ±0% / 6.00 **×1.50** |",
		"franz-go against gregor's 4, sarama against its 2; gregor's median over all six runs")
	assert.Contains(t, md, "Every other contender ran beside gregor")
	assert.Contains(t, md, "taking turns within each repetition (in the latency cells, beside gregor: see there);")

	// Beside java-perf, whose JVM shares the client's core, gregor's p99 was 20 and java-perf's 30: its ratio is to
	// those runs, and gregor's own column leaves them out.
	withJava := slices.Clone(r.Samples)
	r.Contenders = append(r.Contenders, "java-perf")
	for rep := range 3 {
		r.Samples = append(r.Samples,
			Sample{Cell: "l", Contender: "gregor", Rep: rep, Beside: "java-perf", Result: lat(20)},
			Sample{Cell: "l", Contender: "java-perf", Rep: rep, Beside: "gregor", Result: lat(30)},
		)
	}
	md = Markdown(r, "")
	assert.Contains(t, md, "| kraft-1 · 10 KiB · lz4 · acks=1 | 1.00 / 3.00 ±67% ⚠ / 6.00 **×1.00** | "+
		"1.00 / 5.00 ±0% / 10.0 **×1.25** | 1.00 / 3.00 ±0% / 6.00 **×1.50** | 1.00 / 30.0 ±0% / 60.0 **×1.50** |",
		"gregor's column as without java-perf; java-perf against gregor's 20 beside it")
	r.Contenders = r.Contenders[:len(r.Contenders)-1]
	r.Samples = withJava

	for i := range r.Samples {
		r.Samples[i].Beside = ""
	}
	md = Markdown(r, "")
	assert.Contains(t, md, "**×1.67** | 1.00 / 3.00 ±0% / 6.00 **×1.00** |", "taking turns: against all of gregor's")
	assert.NotContains(t, md, "ran beside gregor")
	assert.NotContains(t, md, "beside gregor: see there")
}
