package kafka

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/handler/handlertest"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// benchFetchResponse encodes a Fetch response (v12, the newest naming topics) for partition 0 of
// topic "t" holding n records of valueSize bytes, in batches of perBatch.
func benchFetchResponse(b *testing.B, codec protocol.Compression, n, perBatch, valueSize int) []byte {
	b.Helper()
	value := make([]byte, valueSize)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	var records []byte
	var bb protocol.RecordBatchBuilder
	for base := 0; base < n; base += perBatch {
		bb.Reset(&protocol.RecordBatch{BaseOffset: int64(base), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
		for i := base; i < min(base+perBatch, n); i++ {
			bb.Add(1700000000000+int64(i), nil, value, nil)
		}
		var err error
		records, err = bb.Build(records, codec)
		require.NoError(b, err)
	}
	resp := protocol.NewFetchResponse()
	resp.Responses = []protocol.FetchResponseTopic{{Topic: "t", Partitions: []protocol.FetchResponsePartition{{
		PartitionIndex: 0, HighWatermark: int64(n), LastStableOffset: int64(n), LogStartOffset: 0,
		PreferredReadReplica: -1, Records: records}}}}
	frame, err := resp.AppendTo(nil, 12)
	require.NoError(b, err)
	return frame
}

// BenchmarkConsumerDecode measures the consumer's in-memory path, from
// the bytes of a Fetch response to *Messages returned by Consume: response
// decoding, the batch-header scan, record decoding and queueing, and
// delivery. 10,000 records of 100 bytes per response.
func BenchmarkConsumerDecode(b *testing.B) {
	for _, codec := range []protocol.Compression{protocol.CompressionNone, protocol.CompressionLZ4, protocol.CompressionZstd} {
		b.Run(codec.String(), func(b *testing.B) {
			const n, perBatch = 10000, 500
			frame := benchFetchResponse(b, codec, n, perBatch, 100)
			topic := offlineTopic(b, 1)
			cfg, err := ConsumerConfig{QueuedMaxMessages: n, FetchMessageMaxBytes: MaxFetchMessageBytes}.withDefaults(topic)
			require.NoError(b, err)
			c := newSimpleConsumer(topic, cfg)
			c.started.Store(true)
			defer c.Stop(context.Background())
			l := &fetchLoop{c: c, broker: topic.Partition(0).Leader(), index: map[int32]int{}}
			var d fetchDecoder
			op := c.byID[0]
			ctx := context.Background()

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cpu0 := handlertest.CPUTime()
			b.SetBytes(int64(len(frame)))
			b.ResetTimer()
			for range b.N {
				c.mu.Lock()
				c.moveLocked(op, 0)
				c.mu.Unlock()
				resp := protocol.NewFetchResponse()
				if err := resp.DecodeFrom(frame, 12); err != nil {
					b.Fatal(err)
				}
				l.sent = append(l.sent[:0], sentPartition{op: op, epoch: op.epoch, offset: 0})
				res, _ := l.take(resp)
				c.deliver(l, &d, res)
				for range n {
					if _, err := c.Consume(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			cpu := handlertest.CPUTime() - cpu0
			runtime.ReadMemStats(&after)
			msgs := float64(b.N) * n
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgs, "ns/msg")
			b.ReportMetric(float64(cpu.Nanoseconds())/msgs, "cpu-ns/msg")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/msgs, "allocs/msg")
		})
	}
}

// The broker benchmark reads benchMessages records of benchValueSize bytes,
// written once per process with the raw protocol, spread over
// benchPartitions partitions.
const (
	benchMessages   = 1_000_000
	benchValueSize  = 100
	benchPartitions = 4
	benchPerBatch   = 1000
)

var benchPrefill struct {
	once  sync.Once
	topic string
	err   error
}

// BenchmarkConsumerBroker consumes 1,000,000 messages of 100 bytes from a
// real broker with each handler; each op reads the whole topic from the
// start with a new client and consumer. It runs only when -bench selects
// it, and needs a minute or so to start the broker and fill the topic.
// Run it with -benchtime=1x.
func BenchmarkConsumerBroker(b *testing.B) {
	if testing.Short() {
		b.Skip("needs a real Kafka cluster; skipped with -short")
	}
	tc := testcluster.Shared(b, testcluster.Config{Mode: testcluster.KRaft, Brokers: 1, Perf: true})
	benchPrefill.once.Do(func() { benchPrefill.topic, benchPrefill.err = prefillBenchTopic(b, tc) })
	require.NoError(b, benchPrefill.err)

	for _, name := range []string{"goroutine", "eventloop"} {
		for _, timeout := range []time.Duration{0, time.Minute} {
			sub := name + "/balanced"
			if timeout > 0 {
				sub += "-timeout"
			}
			// A one-member managed group: the SimpleConsumer path plus what
			// a balanced consumer adds to each Consume.
			b.Run(sub, func(b *testing.B) {
				benchConsume(b, tc, name, func(t *Topic, i int) (benchConsumer, error) {
					return t.BalancedConsumer(fmt.Sprintf("bench-balanced-%d-%d", time.Now().UnixNano(), i),
						BalancedConsumerConfig{Managed: true,
							ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest, ConsumerTimeout: timeout}})
				})
			})
		}
		for _, queued := range []int{0, 20000} {
			b.Run(fmt.Sprintf("%s/queued=%d", name, queued), func(b *testing.B) {
				benchConsume(b, tc, name, func(t *Topic, _ int) (benchConsumer, error) {
					return t.SimpleConsumer(ConsumerConfig{QueuedMaxMessages: queued})
				})
			})
		}
	}
}

// benchConsumer is what benchConsume needs of SimpleConsumer and
// BalancedConsumer.
type benchConsumer interface {
	Consume(ctx context.Context) (*Message, error)
	Stop(ctx context.Context) error
}

// benchConsume reads the whole benchmark topic once per op, with a new
// client and the consumer open makes for op i.
func benchConsume(b *testing.B, tc *testcluster.Cluster, handlerName string, open func(t *Topic, i int) (benchConsumer, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	h := consumerBenchHandler(b, handlerName)
	b.SetBytes(benchMessages * benchValueSize)
	b.ResetTimer()
	for i := range b.N {
		cl, err := NewClient(ctx, Config{Hosts: tc.Bootstrap(), Handler: h, Logger: testLogger()})
		require.NoError(b, err)
		topic, err := cl.Topic(ctx, benchPrefill.topic)
		require.NoError(b, err)
		c, err := open(topic, i)
		require.NoError(b, err)
		for range benchMessages {
			if _, err := c.Consume(ctx); err != nil {
				b.Fatal(err)
			}
		}
		require.NoError(b, c.Stop(ctx))
		cl.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*benchMessages/b.Elapsed().Seconds(), "msgs/s")
}

// prefillBenchTopic creates the benchmark's topic and writes its records,
// several produce requests in flight at once.
func prefillBenchTopic(b *testing.B, tc *testcluster.Cluster) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	h := consumerBenchHandler(b, "goroutine")
	cl, err := NewClient(ctx, Config{Hosts: tc.Bootstrap(), Handler: h, Logger: testLogger()})
	if err != nil {
		return "", err
	}
	defer cl.Close()
	name := fmt.Sprintf("bench-consumer-%d", time.Now().UnixNano())
	if err := cl.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: benchPartitions, ReplicationFactor: 1}); err != nil {
		return "", err
	}
	topic, err := cl.Topic(ctx, name)
	if err != nil {
		return "", err
	}
	value := make([]byte, benchValueSize)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	var bb protocol.RecordBatchBuilder
	bb.Reset(&protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1})
	for range benchPerBatch {
		bb.Add(time.Now().UnixMilli(), nil, value, nil)
	}
	batch, err := bb.Build(nil, protocol.CompressionNone)
	if err != nil {
		return "", err
	}
	requests := benchMessages / benchPerBatch
	errs, err := fanOut(ctx, h, "bench-prefill", benchPartitions, func(i int) error {
		p := topic.Partition(int32(i))
		req := protocol.NewProduceRequest()
		req.Acks, req.TimeoutMs = 1, 10000
		req.TopicData = []protocol.ProduceRequestTopic{{Name: name,
			PartitionData: []protocol.ProduceRequestPartition{{Index: p.ID(), Records: batch}}}}
		for sent := 0; sent < requests/benchPartitions; {
			resp, err := p.Leader().Produce(ctx, req)
			if err != nil {
				return err
			}
			// A new topic's leader may refuse writes for a moment.
			if err := protocol.ErrorForCode(resp.Responses[0].PartitionResponses[0].ErrorCode); err != nil {
				if !isRetriable(err) || h.Sleep(ctx, 100*time.Millisecond) != nil {
					return err
				}
				continue
			}
			sent++
		}
		return nil
	})
	return name, errors.Join(append(errs, err)...)
}

func consumerBenchHandler(b *testing.B, name string) handler.Handler {
	b.Helper()
	if name == "goroutine" {
		h := goroutine.New()
		b.Cleanup(func() { h.Close() })
		return h
	}
	h, err := eventloop.New(eventloop.WithLoops(2))
	require.NoError(b, err)
	b.Cleanup(func() { h.Close() })
	return h
}
