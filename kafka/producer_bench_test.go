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

// producerPath drives a producer without a network, playing the sender's
// part itself: produce queues a message, flush cuts batches, encodes the
// request to its wire frame and settles the acknowledged messages. 4
// partitions on one fake broker.
type producerPath struct {
	tb    testing.TB
	p     *Producer
	s     *sink
	topic string
	frame []byte
}

func newProducerPath(tb testing.TB, codec Compression) *producerPath {
	c := newPFCluster(tb, 1, 4)
	ctx := context.Background()
	cl, err := NewClient(ctx, Config{Hosts: c.bootstrap(), Handler: goroutine.New(), Logger: testLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cl.Close() })
	topic, err := cl.Topic(ctx, c.topic)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := topic.Producer(ProducerConfig{ManualStart: true, Compression: codec})
	if err != nil {
		tb.Fatal(err)
	}
	// Not started: the test plays the sender's part itself.
	p.mu.Lock()
	for _, part := range topic.Partitions() {
		p.route(p.partBuf(part))
	}
	s := p.sinks[topic.Partition(0).Leader()]
	p.mu.Unlock()
	return &producerPath{tb: tb, p: p, s: s, topic: c.topic}
}

func (pp *producerPath) produce(m Message) {
	if err := pp.p.Produce(context.Background(), m); err != nil {
		pp.tb.Fatal(err)
	}
}

// flush sends one request's worth of what is queued, acknowledged at once.
func (pp *producerPath) flush() {
	p, s := pp.p, pp.s
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
		pp.tb.Fatal(failed[0].err)
	}
	clientID := "bench"
	var err error
	if pp.frame, err = protocol.AppendRequestFrame(pp.frame[:0], req, 11, 1, &clientID); err != nil {
		pp.tb.Fatal(err)
	}
	resp := &protocol.ProduceResponse{Responses: []protocol.ProduceResponseTopic{{Name: pp.topic}}}
	for _, bt := range sent {
		resp.Responses[0].PartitionResponses = append(resp.Responses[0].PartitionResponses,
			protocol.ProduceResponsePartition{Index: bt.pb.id, BaseOffset: 0})
	}
	p.finish(s, sent, resp, nil)
}

// drain flushes until nothing is held.
func (pp *producerPath) drain() {
	pp.p.mu.Lock()
	pp.p.flushing++
	pp.p.mu.Unlock()
	for pp.p.buffered > 0 {
		pp.flush()
	}
	pp.p.mu.Lock()
	pp.p.flushing--
	pp.p.mu.Unlock()
}

// BenchmarkProducerPath measures the producer's CPU path per message
// without a network: Produce (partitioner, queue), then, per 1000
// messages, cutting batches, encoding the request to its wire frame, and
// settling the acknowledged messages. 100-byte and 10 KiB values.
func BenchmarkProducerPath(b *testing.B) {
	for _, size := range []int{100, 10 << 10} {
		for _, codec := range []Compression{CompressionNone, CompressionLZ4, CompressionZstd} {
			b.Run(fmt.Sprintf("%d/%s", size, codec), func(b *testing.B) {
				pp := newProducerPath(b, codec)
				val := make([]byte, size)
				for i := range val {
					val[i] = byte('a' + i%26)
				}
				b.SetBytes(int64(len(val)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					pp.produce(Message{Value: val})
					if i%1000 == 999 {
						pp.flush()
					}
				}
				pp.drain()
				b.StopTimer()
				b.ReportMetric(float64(len(pp.frame)), "last-frame-B")
			})
		}
	}
}

// TestProducerPathAllocs is the producer's allocation budget once warm:
// queueing, batching, encoding and settling allocate per request and per
// batch (the request, its batches), never per record, for every codec: a
// round of 4000 records (one request of four batches, as a round of 1000
// is) allocates no more than a round of 1000, give or take what pools
// drop (the race detector has sync.Pool drop items at random).
func TestProducerPathAllocs(t *testing.T) {
	for _, codec := range []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd} {
		t.Run(codec.String(), func(t *testing.T) {
			pp := newProducerPath(t, codec)
			val := make([]byte, 100)
			round := func(n int) func() {
				return func() {
					for range n {
						pp.produce(Message{Value: val})
					}
					pp.drain()
				}
			}
			round(4000)() // warm: queues, pools, the frame buffer
			small := testing.AllocsPerRun(10, round(1000))
			large := testing.AllocsPerRun(10, round(4000))
			if large > small+20 || small > 60 {
				t.Fatalf("%v allocations per round of 1000 records, %v per 4000: want at most 60, and not more for more records", small, large)
			}
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

// TestProducerLoneMessageAllocs is the allocation budget of the latency
// regime: a message produced to an idle producer goes out alone in its
// request, so what a batch and a request allocate is paid per message, and
// every allocation brings the next GC closer. Four are the request's and
// its batch's own (the batch list, the batch, the request and its
// partitions, which the response future keeps); the fifth is the test's
// response.
func TestProducerLoneMessageAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, codec := range []Compression{CompressionNone, CompressionLZ4, CompressionZstd} {
		t.Run(codec.String(), func(t *testing.T) {
			pp := newProducerPath(t, codec)
			val := make([]byte, 100)
			lone := func() {
				pp.produce(Message{Value: val})
				pp.drain()
			}
			for range 100 {
				lone() // warm: queues, pools, the frame buffer
			}
			if allocs := testing.AllocsPerRun(1000, lone); allocs > 5 {
				t.Fatalf("%v allocations per lone message, want at most 5", allocs)
			}
		})
	}
}
