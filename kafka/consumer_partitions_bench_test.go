package kafka

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/protocol"
)

// BenchmarkConsumePartitions measures Consume across many partitions, each
// with a decoded fetch of 100 messages queued: the delivery side of a
// consumer at 10 to 3,000 partitions, without the network.
func BenchmarkConsumePartitions(b *testing.B) {
	for _, parts := range []int{10, 100, 1000, 3000} {
		b.Run(fmt.Sprint("partitions=", parts), func(b *testing.B) {
			const perPart = 100
			records := batchAt(b, protocol.CompressionNone, offsetRange(0, perPart)...)
			topic := offlineTopic(b, parts)
			cfg, err := ConsumerConfig{}.withDefaults(topic)
			require.NoError(b, err)
			c := newSimpleConsumer(topic, cfg)
			c.started.Store(true)
			defer c.Stop(context.Background())
			l := &fetchLoop{c: c, index: map[int32]int{}}
			var d fetchDecoder
			ctx := context.Background()
			sc := protocol.ScanRecords(records)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				res := &fetchResult{}
				c.mu.Lock()
				for id := range int32(parts) {
					op := c.byID[id]
					c.moveLocked(op, 0)
					op.undecoded++
					res.items = append(res.items, decodeItem{op: op, epoch: op.epoch, in: decodeIn{
						topic: "t", partition: id, records: records[:sc.End], count: sc.Count, maxCount: cfg.QueuedMaxMessages}})
				}
				c.mu.Unlock()
				c.deliver(l, &d, res)
				runtime.GC()
				b.StartTimer()
				for range parts * perPart {
					if _, err := c.Consume(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			msgs := float64(b.N * parts * perPart)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgs, "ns/msg")
		})
	}
}
