package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/bench/internal/report"
	"github.com/gregorkafka/gregor/bench/internal/workload"
)

func TestRunOrderInterleaves(t *testing.T) {
	got := runOrder([]string{"A", "B", "C", "D"}, 5, 0)
	require.Len(t, got, 20)
	var names []string
	for i, tr := range got {
		assert.Equal(t, i/4, tr.rep, "turn %d", i)
		assert.Equal(t, i%4 == 0, tr.first, "turn %d starts its repetition", i)
		names = append(names, tr.name)
	}
	assert.Equal(t, []string{"A", "B", "D", "C", "B", "C", "A", "D", "C", "D", "B", "A", "D", "A", "C", "B",
		"A", "B", "D", "C"}, names, "a Williams design, its rows in turn")
	for rep := 0; rep < 5; rep++ {
		assert.ElementsMatch(t, []string{"A", "B", "C", "D"}, names[rep*4:rep*4+4], "repetition %d", rep)
	}

	// Within repetitions, no contender runs behind the same one twice in n repetitions (even n), or more than
	// twice in n+1 (odd n), whereas rotating one order put each behind the same one every time.
	for n := 2; n <= 9; n++ {
		contenders := make([]string, n)
		for i := range contenders {
			contenders[i] = string(rune('A' + i))
		}
		reps, most := n, 1
		if n%2 == 1 {
			reps, most = n+1, 2
		}
		seen := map[[2]string]int{}
		order := runOrder(contenders, reps, 0)
		for i := 1; i < len(order); i++ {
			if order[i].rep == order[i-1].rep {
				pair := [2]string{order[i-1].name, order[i].name}
				seen[pair]++
				assert.LessOrEqual(t, seen[pair], most, "n=%d: %s behind %s", n, pair[1], pair[0])
			}
		}
		for rep := 0; rep < reps; rep++ {
			assert.ElementsMatch(t, contenders, turnNames(order[rep*n:rep*n+n]), "n=%d repetition %d", n, rep)
		}
	}
	assert.Empty(t, runOrder([]string{"A"}, 0, 0))
	assert.Empty(t, runOrder(nil, 5, 3))

	// The first repetition of the next cells starts with the next contender, so that the first run on a new
	// topic falls on each in turn.
	for cell, want := range []string{"A", "B", "C", "A"} {
		assert.Equal(t, want, runOrder([]string{"A", "B", "C"}, 2, cell)[0].name, "cell %d", cell)
	}
}

func turnNames(turns []turn) []string {
	var out []string
	for _, t := range turns {
		out = append(out, t.name)
	}
	return out
}

func TestPlanRepetitions(t *testing.T) {
	assert.Equal(t, 5, fullPlan().reps)
}

func TestPlanPinning(t *testing.T) {
	found := func(string) (string, error) { return "/usr/bin/taskset", nil }
	p := planPinning("0,1", found)
	assert.Equal(t, pinning{taskset: "/usr/bin/taskset", brokers: "0", client: "1"}, p)
	assert.Equal(t, []string{"/usr/bin/taskset", "-c", "1", "benchclient", "-x"}, p.clientArgv([]string{"benchclient", "-x"}))
	assert.Equal(t, []string{"/usr/bin/taskset", "-c", "0", "testcluster"}, p.brokerArgv([]string{"testcluster"}))
	assert.Contains(t, p.describe(), "brokers (harness and JVMs) on CPU 0, the client under test on CPU 1")

	p = planPinning("0-3,6", found)
	assert.Equal(t, "0,1,2,3", p.brokers)
	assert.Equal(t, "6", p.client)

	for allowed, why := range map[string]string{"2": "only 1 CPU", "": "unreadable", "x-1": "unreadable", "3-1": "backwards"} {
		p = planPinning(allowed, found)
		assert.Empty(t, p.taskset, allowed)
		assert.Contains(t, p.describe(), why, allowed)
		assert.Equal(t, []string{"benchclient"}, p.clientArgv([]string{"benchclient"}), "unpinned runs run as they are")
	}
	p = planPinning("0,1", func(string) (string, error) { return "", errors.New("not found") })
	assert.Equal(t, "not pinned: taskset (util-linux) is not installed; brokers and clients share every core", p.describe())
	assert.Equal(t, []string{"java", "-cp"}, p.clientArgv([]string{"java", "-cp"}))
}

func TestParseCPUList(t *testing.T) {
	got, err := parseCPUList("0-2,5,7-8\n")
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2, 5, 7, 8}, got)
	assert.Equal(t, "0,1,2,5,7,8", formatCPUList(got))
}

func TestDocsForKeepsPublishedReport(t *testing.T) {
	assert.Equal(t, "docs", docsFor(&report.Results{}, "docs", "results"), "a full run publishes")
	assert.Equal(t, "results", docsFor(&report.Results{Quick: true}, "docs", "results"))
	assert.Equal(t, "results", docsFor(&report.Results{Partial: true}, "docs", "results"),
		"a -only run with nothing to merge into must not replace docs/benchmarks.md")
	// A rerun merged into full results is full again.
	full := &report.Results{Unavailable: map[string]string{}}
	merged := report.Merge(full, &report.Results{Partial: true, Unavailable: map[string]string{}}, func(string) bool { return false })
	assert.Equal(t, "docs", docsFor(merged, "docs", "results"))
}

// TestEndedEarlyRunKeepsPublishedReport: a full run that is interrupted (or
// loses a cluster) has only some cells, and must not replace docs/.
func TestEndedEarlyRunKeepsPublishedReport(t *testing.T) {
	docs, results := t.TempDir(), t.TempDir()
	fullFile := filepath.Join(docs, "benchmarks.json")
	resultsFile := filepath.Join(results, "results.json")
	published := []byte(`{"title":"published"}`)
	require.NoError(t, os.WriteFile(fullFile, published, 0o644))

	saveRun(&report.Results{Title: "cut short", Unavailable: map[string]string{}}, context.Canceled, nil, fullPlan(),
		docs, results, resultsFile, fullFile)
	got, err := os.ReadFile(fullFile)
	require.NoError(t, err)
	assert.Equal(t, published, got, "the published results stay")
	assert.NoFileExists(t, filepath.Join(docs, "benchmarks.md"))
	assert.FileExists(t, filepath.Join(results, "benchmarks.md"), "the cut-short report goes next to the results")
	r, err := report.Load(resultsFile)
	require.NoError(t, err)
	assert.True(t, r.Partial)

	saveRun(&report.Results{Title: "whole", Unavailable: map[string]string{}}, nil, nil, fullPlan(),
		docs, results, resultsFile, fullFile)
	r, err = report.Load(fullFile)
	require.NoError(t, err)
	assert.Equal(t, "whole", r.Title, "a run of the whole plan publishes")
	assert.FileExists(t, filepath.Join(docs, "benchmarks.md"))
}

func TestParsePartitions(t *testing.T) {
	got, err := parsePartitions("10,100, 1000,3000")
	require.NoError(t, err)
	assert.Equal(t, []int{10, 100, 1000, 3000}, got)
	got, err = parsePartitions("")
	require.NoError(t, err)
	assert.Nil(t, got, "no flag: the plan's default")
	for _, bad := range []string{"0", "-3", "ten", "10,,100", "10,10", "100001"} {
		_, err := parsePartitions(bad)
		assert.Error(t, err, bad)
	}
}

func TestPlanPartitionCounts(t *testing.T) {
	p := fullPlan()
	assert.Equal(t, 6, p.partitions, "make bench's default")
	assert.Equal(t, []int{6}, p.partitionCounts(workload.Consume), "without -partitions, consume runs as today")
	p.consumePartitions = []int{10, 3000}
	assert.Equal(t, []int{10, 3000}, p.partitionCounts(workload.Consume))
	assert.Equal(t, []int{6}, p.partitionCounts(workload.Produce), "the axis is the consume cells'")
	assert.Equal(t, []int{6}, p.partitionCounts(workload.Group))
	assert.Contains(t, topicPartitions(p), "consume cells: 10, 3000")

	// The default count keeps today's cell keys; other counts get keys of their own.
	cr := &clusterRun{p: p}
	c := report.Cell{Workload: workload.Consume, Cluster: "kraft-1", Size: 100, Compression: "lz4"}
	assert.Equal(t, "consume/kraft-1/100/lz4", cellKey(c))
	assert.Equal(t, 6, cr.partitions(c))
	c.Partitions = 3000
	assert.Equal(t, "consume/kraft-1/100/lz4/partitions=3000", cellKey(c))
	assert.Equal(t, 3000, cr.partitions(c))
	assert.Contains(t, report.Label(c), "3000 partitions")

	// The report says which consume cells ran at which counts, and only when some did.
	r := &report.Results{Cells: []report.Cell{c}, Unavailable: map[string]string{}}
	assert.Contains(t, strings.Join(notes(r, p), "\n"), "-partitions 3000")
	assert.Equal(t, []int{3000}, cellPartitions(r.Cells))
	r.Cells[0].Partitions = 0
	assert.NotContains(t, strings.Join(notes(r, p), "\n"), "-partitions")
}

func TestConsumeCellsPerPartitionCount(t *testing.T) {
	p := quickPlan()
	p.consumePartitions = []int{6, 100}
	dry := &clusterRun{p: p, spec: clusterSpec{mode: "kraft", brokers: 1}, label: "kraft-1",
		filter: regexp.MustCompile(""), dryRun: true}
	require.NoError(t, dry.workload(context.Background(), workload.Consume))
	assert.Equal(t, 2*len(p.sizes)*len(p.codecs), dry.matched, "one cell per count, size and codec")
	dry.matched, dry.filter = 0, regexp.MustCompile("partitions=100$")
	require.NoError(t, dry.workload(context.Background(), workload.Consume))
	assert.Equal(t, len(p.sizes)*len(p.codecs), dry.matched, "-only selects a partition count")
}

func TestRunsPerTopic(t *testing.T) {
	p := fullPlan()
	big := report.Cell{Workload: workload.Produce, Size: 10 << 10, Messages: p.produceN(10 << 10)}
	n := runsPerTopic(big)
	require.Positive(t, n, "a full plan's 10 KiB produce cell moves to fresh topics")
	assert.LessOrEqual(t, int64(n)*int64(big.Messages)*int64(big.Size), int64(topicBytes))
	assert.Greater(t, int64(n+1)*int64(big.Messages)*int64(big.Size), int64(topicBytes), "as many runs as fit")

	small := report.Cell{Workload: workload.Produce, Size: 100, Messages: p.produceN(100)}
	n = runsPerTopic(small)
	require.Positive(t, n, "a full plan's 100 B produce cell moves to fresh topics")
	assert.LessOrEqual(t, int64(n)*int64(small.Messages)*int64(small.Size), int64(topicBytes))
	fits := report.Cell{Workload: workload.Produce, Size: 100, Messages: 300_000}
	assert.Zero(t, runsPerTopic(fits), "5 repetitions of 6 contenders fit in one topic")
	huge := report.Cell{Workload: workload.Produce, Size: 10 << 10, Messages: 1_000_000}
	assert.Equal(t, 1, runsPerTopic(huge), "a run bigger than the bound still gets a topic of its own")
	consume := report.Cell{Workload: workload.Consume, Size: 10 << 10, Messages: p.consumeN(10 << 10)}
	assert.Zero(t, runsPerTopic(consume), "consume cells read the topic they filled")
	assert.Zero(t, runsPerTopic(report.Cell{Workload: workload.Latency, Size: 10 << 10}))
}

// TestLegacyCellCounts: on the Kafka 3.9 cluster produce and consume cells move as many messages as anywhere
// else, so that the Go clients' CPU per record means something there; pykafka gets a tenth of each, and group cells
// keep counts its group consumer gets through.
func TestLegacyCellCounts(t *testing.T) {
	p := fullPlan()
	legacy := &clusterRun{p: p, spec: clusterSpec{mode: "zookeeper", brokers: 1, legacy: true}}
	main := &clusterRun{p: p, spec: clusterSpec{mode: "kraft", brokers: 1}}
	for _, size := range p.sizes {
		assert.Equal(t, main.n(size), legacy.n(size))
		assert.Equal(t, main.consumeN(workload.Consume, size), legacy.consumeN(workload.Consume, size))
		assert.Equal(t, p.legacyGroupN(size), legacy.consumeN(workload.Group, size))
		assert.Equal(t, p.consumeN(size), main.consumeN(workload.Group, size))
	}

	prod := job{cell: report.Cell{Workload: workload.Produce, Messages: 300_000}, n: 300_000}
	pykafkaJob(&prod)
	assert.Equal(t, 30_000, prod.n)
	ends := map[int32]int64{0: 500_000, 1: 500_000}
	cons := job{cell: report.Cell{Workload: workload.Consume, Messages: 1_000_000}, ends: ends}
	pykafkaJob(&cons)
	assert.Equal(t, map[int32]int64{0: 50_000, 1: 50_000}, cons.ends)
	assert.EqualValues(t, 500_000, ends[0], "the other contenders' ends are left alone")
	group := job{cell: report.Cell{Workload: workload.Group, Messages: 5000}, ends: ends, n: 5000}
	pykafkaJob(&group)
	assert.Equal(t, ends, group.ends)
}

// A latency run of ProducerPerformance on Kafka 4 sends its warm-up as --warmup-records on top of the measured
// records, and the steady state's line, printed last, is the one read; Kafka 3.9's has no such option.
func TestJavaLatencyWarmup(t *testing.T) {
	e := &execer{javaCP: map[string]string{"4.3.1": "cp4", "3.9.2": "cp3"}, bufferBytes: 1 << 20}
	c := report.Cell{Workload: workload.Latency, Size: 100, Compression: "none", Acks: "1", Rate: 2000}
	j := job{cell: c, cl: &cluster{version: "4.3.1", bootstrap: []string{"b:1"}}, topic: "t",
		duration: 1500 * time.Millisecond, warmup: 500 * time.Millisecond}
	argv, parse := e.javaArgs(j)
	args := strings.Join(argv, " ")
	assert.Contains(t, args, "--num-records 4000 ")
	assert.Contains(t, args, "--warmup-records 1000")

	j.cl.version = "3.9.2"
	argv, _ = e.javaArgs(j)
	args = strings.Join(argv, " ")
	assert.Contains(t, args, "--num-records 3000 ")
	assert.NotContains(t, args, "--warmup-records")

	out := "Warmup first 1000 records. Steady state results will print after the complete test summary.\n" +
		"4000 records sent, 1924.310455 records/sec (0.18 MB/sec), 17.68 ms avg latency, 705.00 ms max latency, " +
		"6 ms 50th, 80 ms 95th, 90 ms 99th, 92 ms 99.9th.\n" +
		"3000 steady state records sent, 2000.1 records/sec (0.20 MB/sec), 8.16 ms avg latency, 36.00 ms max " +
		"latency, 5 ms 50th, 21 ms 95th, 35 ms 99th, 36 ms 99.9th.\n"
	res := parse(j, out)
	require.Empty(t, res.Error)
	assert.Equal(t, int64(3000), res.Messages)
	assert.Equal(t, 5.0, res.P50Ms)
	assert.Equal(t, 35.0, res.P99Ms)
	assert.Equal(t, 36.0, res.P999Ms)
}

// A rerun's note replaces an earlier one of the same pattern, whose cells it ran again, and keeps the others.
func TestRerunNotes(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 20, 0, 0, time.UTC)
	old := []string{
		"Throughput counts value bytes only.",
		`Cells matching "^consume/" were run again on 2026-12-05 22:46 UTC.`,
		`Cells matching "^latency/" were run again on 2026-12-06 06:41 UTC.`,
		`Cells matching "^latency/kraft-1" were run again on 2026-12-06 07:00 UTC.`,
	}
	assert.Equal(t, []string{
		`Cells matching "^consume/" were run again on 2026-12-05 22:46 UTC.`,
		`Cells matching "^latency/kraft-1" were run again on 2026-12-06 07:00 UTC.`,
		`Cells matching "^latency/" were run again on 2026-12-06 09:20 UTC.`,
	}, rerunNotes(old, "^latency/", at, nil))

	got := rerunNotes(nil, "^latency/", at, []string{"brokers: G1", "broker collections: none"})
	assert.Equal(t, []string{`Cells matching "^latency/" were run again on 2026-12-06 09:20 UTC. The machine table is ` +
		`this run's; the cells it did not run were measured with brokers: G1; broker collections: none.`}, got)
	assert.True(t, isRerunNote(got[0]), "kept by later reruns")
}

func TestMachineChanges(t *testing.T) {
	old := []report.KV{{K: "CPU", V: "x86"}, {K: "brokers", V: "G1"}, {K: "gone", V: "a"}}
	now := []report.KV{{K: "CPU", V: "x86"}, {K: "brokers", V: "G1, fixed heap"}, {K: "broker collections", V: "jcmd"}}
	assert.Equal(t, []string{"brokers: G1", "broker collections: none"}, machineChanges(old, now))
	assert.Empty(t, machineChanges(now, now))
}

func TestSettle(t *testing.T) {
	runs := func(p50s ...float64) func() (float64, bool) {
		i := 0
		return func() (float64, bool) {
			if i >= len(p50s) {
				t.Fatalf("run %d: settle ran past the runs it was given", i+1)
			}
			i++
			return p50s[i-1], p50s[i-1] > 0
		}
	}
	n, ok := settle(8, runs(10, 7, 4.2, 4.0))
	assert.Equal(t, 4, n, "the fall from 10 ms ends at the first pair within 15%")
	assert.True(t, ok)
	n, ok = settle(3, runs(10, 7, 5))
	assert.Equal(t, 3, n, "it stops at its limit")
	assert.False(t, ok)
	n, ok = settle(8, runs(4, 0))
	assert.Equal(t, 2, n, "a failed run ends it")
	assert.False(t, ok)
	n, ok = settle(8, runs(4.0, 4.6))
	assert.Equal(t, 2, n, "4.6 is within 15% of 4.0")
	assert.True(t, ok)
}

// A job's own bound replaces the execer's on the client's command line; fills get fillFactor times it.
func TestJobTimeout(t *testing.T) {
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	client := script(t, dir, "benchclient", `echo "$@" >> `+args+"\necho '{\"messages\":1}'\n")
	e := &execer{benchclient: client, workDir: dir, timeout: time.Minute, bufferMsgs: func(int) int { return 1 }}
	c := report.Cell{Workload: workload.Produce, Size: 100, Compression: "none"}
	j := job{cell: c, cl: &cluster{bootstrap: []string{"127.0.0.1:9"}}, topic: "t", n: 1}
	require.Empty(t, e.run(context.Background(), "gregor", j).Error)
	j.timeout = fillFactor * e.timeout
	require.Empty(t, e.run(context.Background(), "franz-go", j).Error)
	b, err := os.ReadFile(args)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], "-timeout 60s")
	assert.Contains(t, lines[1], "-timeout 240s")
}

func TestBenchrunCommand(t *testing.T) {
	got := benchrunCommand([]string{"-only", "^latency/", "-contenders", "gregor,franz-go", "-latency-for", "10s", "-x", "it's", ""})
	want := `cd bench && go run ./cmd/benchrun -only '^latency/' -contenders gregor,franz-go -latency-for 10s -x 'it'\''s' ''`
	if got != want {
		t.Errorf("benchrunCommand = %s\nwant %s", got, want)
	}
}

// TestFillJob: the plan's filler writes the cell's messages idempotently with every replica's acknowledgement, in the
// cell's codec and partitions, within four times a run's bound.
func TestFillJob(t *testing.T) {
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	client := script(t, dir, "benchclient", `echo "$@" >> `+args+"\necho '{\"messages\":1}'\n")
	p := fullPlan()
	p.filler = "gregor"
	cr := &clusterRun{p: p, cl: &cluster{bootstrap: []string{"127.0.0.1:9"}}, payloads: map[int]string{10240: "v"},
		e: &execer{benchclient: client, workDir: dir, timeout: time.Minute, bufferMsgs: func(int) int { return 1 }}}
	c := report.Cell{Workload: workload.Consume, Size: 10240, Compression: "lz4", Partitions: 3000, Messages: 50_000}
	filler, j := cr.fillJob(c, "t")
	require.Empty(t, cr.e.run(context.Background(), filler, j).Error)
	b, err := os.ReadFile(args)
	require.NoError(t, err)
	for _, want := range []string{"-client gregor ", "-workload produce ", "-partitions 3000 ", "-n 50000 ", "-compression lz4 ", "-acks all ",
		"-delivery idempotent ", "-timeout 240s"} {
		assert.Contains(t, string(b), want)
	}
}

func TestCheckFiller(t *testing.T) {
	assert.NoError(t, checkFiller("franz-go", false))
	assert.NoError(t, checkFiller("gregor", true))
	assert.ErrorContains(t, checkFiller("gregor", false), "only with -contenders")
	assert.ErrorContains(t, checkFiller("kafka-go", true), "idempotent producer", "kafka-go has no idempotence")
	assert.NoError(t, checkFiller(javaName, true), "Kafka's own producer")
	assert.ErrorContains(t, checkFiller(pykafkaName, true), "idempotent producer")
	assert.ErrorContains(t, checkFiller("nobody", true), "idempotent producer")
}
