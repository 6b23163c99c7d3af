package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/bench/internal/clients"
	"github.com/gregorkafka/gregor/bench/internal/workload"
)

// BenchmarkProduceInMemory is the produce side by side without brokers: gregor (on each handler) and franz-go run the very
// adapters the broker benchmark runs (bench/internal/clients), producing b.N values from the same payload
// file to a fake broker in this process that acknowledges every batch unread. One op is one record produced
// and acknowledged; cpu-ns/op is the process's user+system CPU per record (the fake broker's share included,
// the same work per byte for both), the number to compare.
//
//	cd bench && go test -run XXX -bench ProduceInMemory -benchtime 200000x -count 5
func BenchmarkProduceInMemory(b *testing.B) {
	type mode struct{ name, acks, delivery string }
	dir := b.TempDir()
	for _, size := range []int{100, 10 << 10} {
		file := filepath.Join(dir, fmt.Sprintf("values-%d.txt", size))
		if err := workload.WritePayload(file, size); err != nil {
			b.Fatal(err)
		}
		for _, codec := range []string{"none", "lz4", "zstd"} {
			for _, m := range []mode{{"acks=1", "1", ""}, {"idempotent", "all", workload.Idempotent}} {
				if m.delivery != "" && (size != 100 || codec != "none") {
					continue // idempotence costs per batch, not per byte: one cell tells
				}
				for _, client := range []string{"gregor", "gregor-eventloop", "franz-go"} {
					name := fmt.Sprintf("%s/%s/%s/%s", sizeName(size), codec, m.name, client)
					b.Run(name, func(b *testing.B) {
						fb := newFakeBroker(b, "bench", 6)
						s := &workload.Spec{
							Workload: workload.Produce, Bootstrap: []string{fb.addr()}, Topic: "bench", Partitions: 6,
							Messages: b.N, Size: size, PayloadFile: file, Compression: codec, Acks: m.acks,
							Delivery: m.delivery, BufferMsgs: min(100_000, (64<<20)/size), BufferBytes: 64 << 20,
							Timeout: time.Minute,
						}
						b.SetBytes(int64(size))
						b.ReportAllocs()
						cpu0 := cpuNanos()
						b.ResetTimer()
						res, err := clients.Execute(context.Background(), client, s)
						b.StopTimer()
						if err != nil {
							b.Fatal(err)
						}
						if res.Messages != int64(b.N) || fb.taken() < int64(b.N) {
							b.Fatalf("%d acknowledged, the broker took %d, want %d", res.Messages, fb.taken(), b.N)
						}
						b.ReportMetric(float64(cpuNanos()-cpu0)/float64(b.N), "cpu-ns/op")
					})
				}
			}
		}
	}
}

func sizeName(size int) string {
	if size >= 1024 {
		return fmt.Sprintf("%dKiB", size>>10)
	}
	return fmt.Sprintf("%dB", size)
}

// cpuNanos is the process's user+system CPU time so far.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
