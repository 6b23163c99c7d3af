package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/handler/handlertest"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// BenchmarkSyncProduceSideBySide is the latency of one request in flight as
// an application sees it: a Sync producer sends each 100-byte message alone
// and waits for the broker's acknowledgement (acks=leader, idempotence off),
// so one op is one Produce round trip to a real broker through the whole
// client. The broker runs in its own process, so cpu-ns/op is the client's.
// The handlers run interleaved; compare their ns/op within one run:
//
//	go test -run '^$' -bench SyncProduceSideBySide ./kafka -args -reps 6
func BenchmarkSyncProduceSideBySide(b *testing.B) {
	if testing.Short() {
		b.Skip("needs a real Kafka cluster")
	}
	c := testcluster.Shared(b, testcluster.Config{Mode: testcluster.KRaft, Brokers: 1, Perf: true})
	ctx := context.Background()
	name := fmt.Sprintf("sync-latency-%d", time.Now().UnixNano())
	setup := benchClient(b, ctx, benchHandler(b, "goroutine"), c.Bootstrap())
	if err := setup.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}); err != nil {
		b.Fatal(err)
	}
	handlertest.SideBySide(b, []string{"goroutine", "eventloop"}, func(b *testing.B, kind string) {
		cl := benchClient(b, ctx, benchHandler(b, kind), c.Bootstrap())
		topic, err := cl.Topic(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		p, err := topic.Producer(ProducerConfig{Sync: true, RequiredAcks: AcksLeader, Idempotence: IdempotenceOff})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		val := make([]byte, 100)
		// The first message dials the leader and negotiates versions.
		if err := p.Produce(ctx, Message{Value: val}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		before := handlertest.CPUTime()
		for range b.N {
			if err := p.Produce(ctx, Message{Value: val}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(handlertest.CPUTime()-before)/float64(b.N), "cpu-ns/op")
	})
}
