package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/bench/internal/clients"
	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// latencyClients are the contenders of BenchmarkLatencyInMemory, in the order of its first repetition.
var latencyClients = []string{"gregor", "gregor-eventloop", "franz-go"}

// BenchmarkLatencyInMemory runs the latency workload (2000 messages/s for 2 s, the adapters' lowest-latency
// settings) against the in-process fake broker, which answers at once: what remains of the tail is the client's
// own (GC, compressor state, scheduling), without a JVM's pauses on the same cores. One op is one repetition in
// which every contender runs once, each repetition starting with the next contender (A B C, B C A, ...), so
// that drift in the machine's load falls on all of them alike. Reported per contender: the medians over the
// repetitions of p50, p99 and p99.9 of acknowledgement latency in microseconds, and gregor's p99 and p99.9 as
// a ratio of franz-go's (below 1: gregor's tail is shorter). The log adds each percentile's spread,
// (max−min)/median, marked "!" above 25%. Pin the process to one quiet core for numbers worth comparing:
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
			b.Run(fmt.Sprintf("%s/%s", sizeName(size), codec), func(b *testing.B) {
				runs := map[string][]workload.Result{}
				for i := range b.N {
					for k := range latencyClients {
						client := latencyClients[(i+k)%len(latencyClients)]
						res, err := latencyRun(client, size, codec, file)
						if err != nil {
							b.Fatalf("%s: %v", client, err)
						}
						runs[client] = append(runs[client], res)
					}
				}
				reportLatency(b, runs)
			})
		}
	}
}

// latencyRun is one contender's run against a fresh fake broker.
func latencyRun(client string, size int, codec, file string) (workload.Result, error) {
	fb, err := startFakeBroker("bench", 6)
	if err != nil {
		return workload.Result{}, err
	}
	defer fb.close()
	s := &workload.Spec{
		Workload: workload.Latency, Bootstrap: []string{fb.addr()}, Topic: "bench", Partitions: 6,
		Size: size, PayloadFile: file, Compression: codec, Acks: "1", Rate: 2000,
		Duration: 2 * time.Second, BufferMsgs: 100_000, BufferBytes: 64 << 20, Timeout: time.Minute,
	}
	res, err := clients.Execute(context.Background(), client, s)
	if err == nil && res.Messages == 0 {
		err = fmt.Errorf("no message acknowledged")
	}
	return res, err
}

// reportLatency reports the medians of each contender's runs, gregor's tail as a ratio of franz-go's, and logs
// the spreads.
func reportLatency(b *testing.B, runs map[string][]workload.Result) {
	pcts := []struct {
		name string
		of   func(workload.Result) float64
	}{
		{"p50", func(r workload.Result) float64 { return r.P50Ms }},
		{"p99", func(r workload.Result) float64 { return r.P99Ms }},
		{"p99.9", func(r workload.Result) float64 { return r.P999Ms }},
	}
	med := map[string]float64{}
	var log strings.Builder
	for _, client := range latencyClients {
		fmt.Fprintf(&log, "\n%-17s", client)
		for _, p := range pcts {
			vals := make([]float64, 0, len(runs[client]))
			for _, r := range runs[client] {
				vals = append(vals, p.of(r)*1000)
			}
			m, spread := medianSpread(vals)
			med[client+"/"+p.name] = m
			b.ReportMetric(m, client+"-"+p.name+"-us")
			mark := ""
			if spread > 25 {
				mark = "!"
			}
			fmt.Fprintf(&log, "  %s %8.0f us ±%3.0f%%%-1s", p.name, m, spread, mark)
		}
	}
	for _, g := range latencyClients[:2] {
		for _, p := range pcts[1:] {
			if f := med["franz-go/"+p.name]; f > 0 {
				b.ReportMetric(med[g+"/"+p.name]/f, g+"÷franz-"+p.name)
			}
		}
	}
	b.Logf("medians of %d runs, spread (max−min)/median:%s", len(runs[latencyClients[0]]), log.String())
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
