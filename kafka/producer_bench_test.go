package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/eventloop"
	"github.com/gregorkafka/gregor/handler/goroutine"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// benchHandler returns a handler of the given kind, closed after b.
func benchHandler(b *testing.B, kind string) handler.Handler {
	b.Helper()
	var h handler.Handler = goroutine.New()
	if kind == "eventloop" {
		el, err := eventloop.New(eventloop.WithLoops(2))
		if err != nil {
			b.Fatal(err)
		}
		h = el
	}
	b.Cleanup(func() { h.Close() })
	return h
}

func benchClient(b *testing.B, ctx context.Context, h handler.Handler, hosts []string) *Client {
	b.Helper()
	cl, err := NewClient(ctx, Config{Hosts: hosts, Handler: h, Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cl.Close() })
	return cl
}

// BenchmarkProducerPath measures the producer's CPU path per message
// without a network: Produce (partitioner, queue), then, per 1000
// messages, cutting batches, encoding the request to its wire frame, and
// settling the acknowledged messages. 100-byte values, 4 partitions on one
// broker.
func BenchmarkProducerPath(b *testing.B) {
	for _, codec := range []Compression{CompressionNone, CompressionLZ4, CompressionZstd} {
		b.Run(codec.String(), func(b *testing.B) {
			c := newPFCluster(b, 1, 4)
			ctx := context.Background()
			cl := benchClient(b, ctx, benchHandler(b, "goroutine"), c.bootstrap())
			topic, err := cl.Topic(ctx, c.topic)
			if err != nil {
				b.Fatal(err)
			}
			p, err := topic.Producer(ProducerConfig{ManualStart: true, Compression: codec})
			if err != nil {
				b.Fatal(err)
			}
			// Not started: the benchmark plays the sender's part itself.
			p.mu.Lock()
			for _, part := range topic.Partitions() {
				p.route(p.partBuf(part))
			}
			s := p.sinks[topic.Partition(0).Leader()]
			p.mu.Unlock()

			val := make([]byte, 100)
			for i := range val {
				val[i] = byte('a' + i%26)
			}
			clientID := "bench"
			var frame []byte
			flush := func() {
				p.mu.Lock()
				batches := p.collect(s)
				s.inflight++
				p.mu.Unlock()
				if len(batches) == 0 {
					p.finish(s, nil, nil, nil)
					return
				}
				req, sent, failed := s.encode(batches, 11)
				if len(failed) > 0 {
					b.Fatal(failed[0].err)
				}
				frame, err = protocol.AppendRequestFrame(frame[:0], req, 11, 1, &clientID)
				if err != nil {
					b.Fatal(err)
				}
				resp := &protocol.ProduceResponse{Responses: []protocol.ProduceResponseTopic{{Name: c.topic}}}
				for _, bt := range sent {
					resp.Responses[0].PartitionResponses = append(resp.Responses[0].PartitionResponses,
						protocol.ProduceResponsePartition{Index: bt.pb.id, BaseOffset: 0})
				}
				p.finish(s, sent, resp, nil)
			}
			b.SetBytes(int64(len(val)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := p.Produce(ctx, Message{Value: val}); err != nil {
					b.Fatal(err)
				}
				if i%1000 == 999 {
					flush()
				}
			}
			p.mu.Lock()
			p.flushing++
			p.mu.Unlock()
			for p.buffered > 0 {
				flush()
			}
			b.StopTimer()
			b.ReportMetric(float64(len(frame)), "last-frame-B")
		})
	}
}

// BenchmarkProducerKafka produces 100-byte messages to a real broker (3
// partitions, otherwise default settings) and reports messages/s: with
// acks=leader, acks=all, and acks=all with idempotence (the default), which
// shows what idempotence costs.
func BenchmarkProducerKafka(b *testing.B) {
	c := testcluster.Shared(b, testcluster.Config{Mode: testcluster.KRaft, Brokers: 1, Perf: true})
	modes := []struct {
		name string
		cfg  ProducerConfig
	}{
		{"acks=leader", ProducerConfig{RequiredAcks: AcksLeader}},
		{"acks=all", ProducerConfig{Idempotence: IdempotenceOff}},
		{"acks=all,idempotent", ProducerConfig{}},
	}
	for _, kind := range []string{"goroutine", "eventloop"} {
		for _, mode := range modes {
			benchProducerKafka(b, c, kind, mode.name, mode.cfg)
		}
	}
}

func benchProducerKafka(b *testing.B, c *testcluster.Cluster, kind, mode string, cfg ProducerConfig) {
	b.Run(kind+"/"+mode, func(b *testing.B) {
		ctx := context.Background()
		cl := benchClient(b, ctx, benchHandler(b, kind), c.Bootstrap())
		name := fmt.Sprintf("producer-bench-%s-%d", kind, time.Now().UnixNano())
		if err := cl.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: 3, ReplicationFactor: 1}); err != nil {
			b.Fatal(err)
		}
		topic, err := cl.Topic(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		p, err := topic.Producer(cfg)
		if err != nil {
			b.Fatal(err)
		}
		val := make([]byte, 100)
		b.SetBytes(int64(len(val)))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := p.Produce(ctx, Message{Value: val}); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}
