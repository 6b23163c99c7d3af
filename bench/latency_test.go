package bench

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/bench/internal/clients"
	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// latencyClients are the contenders of BenchmarkLatencyInMemory, in the order of its first repetition.
var latencyClients = []string{"gregor", "gregor-eventloop", "franz-go"}

var (
	latencyOnly = flag.String("latency.clients", "", "BenchmarkLatencyInMemory: run only these contenders (comma-separated), say for a trace of one")
	latencyFor  = flag.Duration("latency.duration", 2*time.Second, "BenchmarkLatencyInMemory: the length of each run")
)

// BenchmarkLatencyInMemory runs the latency workload (2000 messages/s for 2 s, the adapters' lowest-latency
// settings) against the in-process fake broker: what remains of the tail is the client's own (GC, compressor
// state, scheduling), without a JVM's pauses on the same cores. The broker answers at once (answer=0s), or 1 ms
// after each request (answer=1ms), about a real broker's round trip at this rate, so that records meet a request
// in flight and gather into batches of several, as they do against a real broker. One op is one repetition in
// which every contender runs once, each repetition starting with the next contender (A B C, B C A, ...), so
// that drift in the machine's load falls on all of them alike. Reported per contender: p50, p99 and p99.9 of
// acknowledgement latency in microseconds over all repetitions' latencies pooled (a run's p99.9 is its 4th
// worst of 4,000, too few to compare), and gregor's p99 and p99.9 as a ratio of franz-go's (below 1: gregor's
// tail is shorter). The log adds the median of the runs' own percentiles and their spread, (max−min)/median,
// marked "!" above 25%. Pin the process to one quiet core for numbers worth comparing:
//
//	cd bench && go test -c -o /tmp/bench.test . &&
//	  taskset -c 1 /tmp/bench.test -test.run XXX -test.bench LatencyInMemory -test.benchtime 5x
func BenchmarkLatencyInMemory(b *testing.B) {
	dir := b.TempDir()
	for _, size := range []int{100, 10 << 10} {
		file := filepath.Join(dir, fmt.Sprintf("values-%d.txt", size))
		if err := workload.WritePayload(file, size); err != nil {
			b.Fatal(err)
		}
		for _, codec := range []string{"none", "lz4", "zstd"} {
			for _, delay := range []time.Duration{0, time.Millisecond} {
				b.Run(fmt.Sprintf("%s/%s/answer=%v", sizeName(size), codec, delay), func(b *testing.B) {
					contenders := latencyContenders()
					runs := map[string][]latencyResult{}
					for i := range b.N {
						for k := range contenders {
							client := contenders[(i+k)%len(contenders)]
							res, err := latencyRun(client, size, codec, file, delay)
							if err != nil {
								b.Fatalf("%s: %v", client, err)
							}
							runs[client] = append(runs[client], res)
						}
					}
					reportLatency(b, contenders, runs)
				})
			}
		}
	}
}

func latencyContenders() []string {
	if *latencyOnly == "" {
		return latencyClients
	}
	return strings.Split(*latencyOnly, ",")
}

// latencyResult is one run: the workload's percentiles, and what the process did meanwhile (the fake broker's
// share included, the same for every contender), which unlike the tail does not depend on the machine's load.
type latencyResult struct {
	workload.Result
	allocsPerMsg float64 // heap objects allocated per message
	bytesPerMsg  float64 // heap bytes allocated per message
	gcs          float64 // GC cycles
	cpuPerMsg    float64 // process CPU (user+system) per message, µs
	schedP99     float64 // p99 of the time goroutines waited to run, µs
	spawnsPerMsg float64 // goroutines started per message
}

var runMetrics = []string{
	"/gc/heap/allocs:objects", "/gc/heap/allocs:bytes", "/gc/cycles/total:gc-cycles", "/sched/latencies:seconds",
	"/sched/goroutines-created:goroutines",
}

// latencyRun is one contender's run against a fresh fake broker.
func latencyRun(client string, size int, codec, file string, delay time.Duration) (latencyResult, error) {
	fb, err := startFakeBroker("bench", 6, delay)
	if err != nil {
		return latencyResult{}, err
	}
	defer fb.close()
	s := &workload.Spec{
		Workload: workload.Latency, Bootstrap: []string{fb.addr()}, Topic: "bench", Partitions: 6,
		Size: size, PayloadFile: file, Compression: codec, Acks: "1", Rate: 2000,
		Duration: *latencyFor, BufferMsgs: 100_000, BufferBytes: 64 << 20, Timeout: time.Minute,
	}
	before := make([]metrics.Sample, len(runMetrics))
	after := make([]metrics.Sample, len(runMetrics))
	for i, name := range runMetrics {
		before[i].Name, after[i].Name = name, name
	}
	metrics.Read(before)
	cpu0 := cpuNanos()
	res, err := clients.Execute(context.Background(), client, s)
	cpu := cpuNanos() - cpu0
	metrics.Read(after)
	if err == nil && res.Messages == 0 {
		err = fmt.Errorf("no message acknowledged")
	}
	n := float64(max(res.Messages, 1))
	return latencyResult{
		Result:       res,
		allocsPerMsg: float64(after[0].Value.Uint64()-before[0].Value.Uint64()) / n,
		bytesPerMsg:  float64(after[1].Value.Uint64()-before[1].Value.Uint64()) / n,
		gcs:          float64(after[2].Value.Uint64() - before[2].Value.Uint64()),
		cpuPerMsg:    float64(cpu) / 1000 / n,
		schedP99:     histDeltaPercentile(before[3].Value.Float64Histogram(), after[3].Value.Float64Histogram(), 99) * 1e6,
		spawnsPerMsg: float64(after[4].Value.Uint64()-before[4].Value.Uint64()) / n,
	}, err
}

// histDeltaPercentile is percentile q of what was added to a runtime/metrics histogram between two reads: the
// upper bound of the bucket it falls in.
func histDeltaPercentile(before, after *metrics.Float64Histogram, q float64) float64 {
	var total uint64
	for i := range after.Counts {
		total += after.Counts[i] - before.Counts[i]
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q / 100 * float64(total))
	var seen uint64
	for i := range after.Counts {
		seen += after.Counts[i] - before.Counts[i]
		if seen > rank {
			return after.Buckets[i+1]
		}
	}
	return after.Buckets[len(after.Buckets)-1]
}

// reportLatency reports the medians of each contender's runs, gregor's tail as a ratio of franz-go's, and logs
// the spreads.
func reportLatency(b *testing.B, contenders []string, runs map[string][]latencyResult) {
	pcts := []struct {
		name string
		q    float64
		of   func(latencyResult) float64
	}{
		{"p50", 50, func(r latencyResult) float64 { return r.P50Ms * 1000 }},
		{"p99", 99, func(r latencyResult) float64 { return r.P99Ms * 1000 }},
		{"p99.9", 99.9, func(r latencyResult) float64 { return r.P999Ms * 1000 }},
	}
	stats := []struct {
		format string
		of     func(latencyResult) float64
	}{
		{"%5.1f allocs/msg", func(r latencyResult) float64 { return r.allocsPerMsg }},
		{"%6.0f B/msg", func(r latencyResult) float64 { return r.bytesPerMsg }},
		{"%3.0f GCs", func(r latencyResult) float64 { return r.gcs }},
		{"%5.1f cpu-us/msg", func(r latencyResult) float64 { return r.cpuPerMsg }},
		{"%4.2f goroutines/msg", func(r latencyResult) float64 { return r.spawnsPerMsg }},
		{"sched p99 %5.0f us", func(r latencyResult) float64 { return r.schedP99 }},
	}
	pooled := map[string]float64{}
	var log strings.Builder
	for _, client := range contenders {
		var all []time.Duration
		for _, r := range runs[client] {
			all = append(all, r.Samples...)
		}
		slices.Sort(all)
		fmt.Fprintf(&log, "\n%-17s", client)
		for _, p := range pcts {
			v := float64(workload.Percentile(all, p.q)) / 1000
			pooled[client+"/"+p.name] = v
			b.ReportMetric(v, client+"-"+p.name+"-us")
			vals := make([]float64, 0, len(runs[client]))
			for _, r := range runs[client] {
				vals = append(vals, p.of(r))
			}
			m, spread := medianSpread(vals)
			mark := ""
			if spread > 25 {
				mark = "!"
			}
			fmt.Fprintf(&log, "  %s %7.0f us (runs %7.0f ±%4.0f%%%-1s)", p.name, v, m, spread, mark)
		}
		for _, st := range stats {
			vals := make([]float64, 0, len(runs[client]))
			for _, r := range runs[client] {
				vals = append(vals, st.of(r))
			}
			m, _ := medianSpread(vals)
			fmt.Fprintf(&log, "  "+st.format, m)
		}
	}
	for _, g := range []string{"gregor", "gregor-eventloop"} {
		for _, p := range pcts[1:] {
			if f, ok := pooled["franz-go/"+p.name]; ok && f > 0 && pooled[g+"/"+p.name] > 0 {
				b.ReportMetric(pooled[g+"/"+p.name]/f, g+"÷franz-"+p.name)
			}
		}
	}
	b.Logf("percentiles of %d runs' latencies pooled; in brackets the median of the runs' own and their spread, "+
		"(max−min)/median; then medians of the runs:%s", b.N, log.String())
}

// medianSpread returns the median of vals and their spread, (max−min)/median in percent.
func medianSpread(vals []float64) (median, spread float64) {
	if len(vals) == 0 {
		return 0, 0
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	median = s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	if median > 0 {
		spread = (s[len(s)-1] - s[0]) / median * 100
	}
	return median, spread
}
