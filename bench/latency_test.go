package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/bench/internal/clients"
	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// BenchmarkLatencyInMemory runs the latency workload (2000 messages/s for 2 s, the adapters' lowest-latency
// settings) against the in-process fake broker, which answers at once: what remains of the tail is the client's
// own (GC, compressor state, scheduling), without a JVM's pauses on the same cores. Each op is one whole run;
// p50, p99 and p99.9 of acknowledgement latency are reported in microseconds.
//
//	cd bench && go test -run XXX -bench LatencyInMemory -benchtime 1x -count 5
func BenchmarkLatencyInMemory(b *testing.B) {
	dir := b.TempDir()
	for _, size := range []int{100, 10 << 10} {
		file := filepath.Join(dir, fmt.Sprintf("values-%d.txt", size))
		if err := workload.WritePayload(file, size); err != nil {
			b.Fatal(err)
		}
		for _, codec := range []string{"none", "lz4"} {
			for _, client := range []string{"gregor", "franz-go"} {
				b.Run(fmt.Sprintf("%s/%s/%s", sizeName(size), codec, client), func(b *testing.B) {
					var p50, p99, p999 float64
					for range b.N {
						fb := newFakeBroker(b, "bench", 6)
						s := &workload.Spec{
							Workload: workload.Latency, Bootstrap: []string{fb.addr()}, Topic: "bench", Partitions: 6,
							Size: size, PayloadFile: file, Compression: codec, Acks: "1", Rate: 2000,
							Duration: 2 * time.Second, BufferMsgs: 100_000, BufferBytes: 64 << 20, Timeout: time.Minute,
						}
						res, err := clients.Execute(context.Background(), client, s)
						if err != nil {
							b.Fatal(err)
						}
						p50, p99, p999 = p50+res.P50Ms, p99+res.P99Ms, p999+res.P999Ms
					}
					n := float64(b.N)
					b.ReportMetric(p50/n*1000, "p50-us")
					b.ReportMetric(p99/n*1000, "p99-us")
					b.ReportMetric(p999/n*1000, "p99.9-us")
				})
			}
		}
	}
}
