package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler/handlertest"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// BenchmarkIdleConsumerBroker measures what a SimpleConsumer of 1,000
// partitions costs while it is caught up and nothing is produced, against
// a real broker, on each handler. One op is a second of idling after the
// consumer has started and settled; cpu-ms/s is the process's CPU time
// (rusage, user+system, GC included) per second, fetches/s the Fetch
// requests sent and alloc-KB/s the memory allocated. Run it with
// -benchtime=20x for 20 s per handler.
func BenchmarkIdleConsumerBroker(b *testing.B) {
	if testing.Short() {
		b.Skip("needs a real Kafka cluster; skipped with -short")
	}
	const parts = 1000
	tc := testcluster.Shared(b, testcluster.KRaftSingle)
	ctx := context.Background()
	admin, err := NewClient(ctx, Config{Hosts: tc.Bootstrap(), Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	defer admin.Close()
	name := fmt.Sprintf("idle-consumer-bench-%d", time.Now().UnixNano())
	require.NoError(b, admin.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: parts, ReplicationFactor: 1}))
	defer admin.Cluster().DeleteTopics(ctx, name)
	for _, hn := range []string{"goroutine", "eventloop"} {
		b.Run(hn, func(b *testing.B) {
			h := consumerBenchHandler(b, hn)
			hook := &fetchBytesHook{}
			cl, err := NewClient(ctx, Config{Hosts: tc.Bootstrap(), Handler: h, Logger: slog.New(slog.DiscardHandler), Hooks: []Hook{hook}})
			require.NoError(b, err)
			defer cl.Close()
			topic, err := cl.Topic(ctx, name)
			require.NoError(b, err)
			c, err := topic.SimpleConsumer(ConsumerConfig{AutoOffsetReset: OffsetLatest})
			require.NoError(b, err)
			defer c.Stop(ctx)
			require.NoError(b, c.Start(ctx))
			require.Len(b, c.NextOffsets(), parts)
			time.Sleep(2 * time.Second) // the session's full request and its answer
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			fetches0 := hook.n.Load()
			cpu0 := handlertest.CPUTime()
			b.ResetTimer()
			time.Sleep(time.Duration(b.N) * time.Second)
			b.StopTimer()
			cpu := handlertest.CPUTime() - cpu0
			fetches := hook.n.Load() - fetches0
			runtime.ReadMemStats(&ms1)
			secs := float64(b.N)
			b.ReportMetric(float64(cpu.Microseconds())/1000/secs, "cpu-ms/s")
			b.ReportMetric(float64(fetches)/secs, "fetches/s")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/1024/secs, "alloc-KB/s")
		})
	}
}
