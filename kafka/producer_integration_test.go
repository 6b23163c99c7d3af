package kafka

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// prodTopic creates a topic for one producer test and returns it.
func prodTopic(t *testing.T, ctx context.Context, cl *Client, partitions int32, rf int16, configs map[string]string) *Topic {
	t.Helper()
	name := uniqueTopic(t, "producer")
	require.NoError(t, cl.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: rf, Configs: configs}))
	topic, err := cl.Topic(ctx, name)
	require.NoError(t, err)
	return topic
}

// fetchedLog is a partition's log as read back with the raw protocol.
type fetchedLog struct {
	records map[int64]protocol.Record // copies, by offset
	batches []int                     // records per batch, in log order
	codecs  []protocol.Compression
	end     int64 // next offset
}

// fetchLog reads partition p from offset 0 until the high watermark with
// Broker.Fetch and protocol.RecordDecoder.
func fetchLog(t *testing.T, ctx context.Context, p *Partition) *fetchedLog {
	t.Helper()
	log := &fetchedLog{records: map[int64]protocol.Record{}}
	for {
		leader := p.Leader()
		require.NotNil(t, leader, "%v has no leader", p)
		req := protocol.NewFetchRequest()
		req.MaxWaitMs, req.MinBytes, req.MaxBytes = 0, 1, 32<<20
		req.Topics = []protocol.FetchRequestTopic{{
			Topic: p.Topic().Name(), TopicID: p.Topic().ID(),
			Partitions: []protocol.FetchRequestPartition{{
				Partition: p.ID(), FetchOffset: log.end, PartitionMaxBytes: 16 << 20,
				CurrentLeaderEpoch: -1, LastFetchedEpoch: -1, LogStartOffset: -1,
			}},
		}}
		resp, err := leader.Fetch(ctx, req)
		require.NoError(t, err)
		require.Len(t, resp.Responses, 1)
		require.Len(t, resp.Responses[0].Partitions, 1)
		fp := resp.Responses[0].Partitions[0]
		if err := protocol.ErrorForCode(fp.ErrorCode); protocol.IsRetriable(err) {
			// A partition created a moment ago, or whose leader moved.
			cl := p.Topic().cl
			require.NoError(t, cl.h.Sleep(ctx, 50*time.Millisecond))
			require.NoError(t, cl.Update(ctx))
			continue
		}
		require.NoError(t, protocol.ErrorForCode(fp.ErrorCode))
		if log.end >= fp.HighWatermark {
			return log
		}
		dec := protocol.RecordDecoder{MinOffset: log.end}
		_, err = dec.DecodeBatches(fp.Records, func(b *protocol.RecordBatch) error {
			log.batches = append(log.batches, len(b.Records))
			log.codecs = append(log.codecs, b.Compression())
			for _, r := range b.Records {
				r.Key, r.Value = cloneNil(r.Key), cloneNil(r.Value)
				r.Headers = append([]protocol.RecordHeader(nil), r.Headers...)
				for i := range r.Headers {
					r.Headers[i].Value = cloneNil(r.Headers[i].Value)
				}
				log.records[r.Offset] = r
			}
			log.end = b.LastOffset() + 1
			return nil
		})
		require.NoError(t, err)
	}
}

// cloneNil copies b, keeping nil and empty apart.
func cloneNil(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// sameBytes compares byte slices, telling nil (null) from empty.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

// testMessage is message i of a round trip: every shape a record can take.
func testMessage(i int) Message {
	m := Message{Key: []byte(fmt.Sprintf("key-%d", i)), Value: value(i), Timestamp: time.UnixMilli(1700000000000 + int64(i))}
	switch i % 6 {
	case 1:
		m.Key = nil
	case 2:
		m.Value = nil
	case 3:
		m.Value = []byte{}
		m.Key = []byte{}
	case 4:
		m.Headers = []Header{{Key: "trace", Value: []byte{byte(i), 0, 0xff}}, {Key: "empty", Value: []byte{}}, {Key: "null"}}
	case 5:
		m.Value = bytes.Repeat(value(i), 50)
	}
	return m
}

// checkDelivered verifies that every report succeeded and that the
// partitions hold exactly the reported messages, byte for byte, at the
// reported offsets.
func checkDelivered(t *testing.T, ctx context.Context, topic *Topic, reports []DeliveryReport, n int) map[int32]*fetchedLog {
	t.Helper()
	require.Len(t, reports, n)
	logs := map[int32]*fetchedLog{}
	for _, p := range topic.Partitions() {
		logs[p.ID()] = fetchLog(t, ctx, p)
	}
	total := 0
	for _, l := range logs {
		total += len(l.records)
	}
	assert.Equal(t, n, total, "no message lost or duplicated")
	for _, r := range reports {
		require.NoError(t, r.Err)
		rec, ok := logs[r.Message.Partition].records[r.Message.Offset]
		require.True(t, ok, "no record at %d/%d", r.Message.Partition, r.Message.Offset)
		m := r.Message
		assert.True(t, sameBytes(m.Key, rec.Key), "key %q vs %q", m.Key, rec.Key)
		assert.True(t, sameBytes(m.Value, rec.Value), "value at %d", r.Message.Offset)
		assert.Equal(t, m.Timestamp.UnixMilli(), rec.Timestamp)
		require.Len(t, rec.Headers, len(m.Headers))
		for i, h := range m.Headers {
			assert.Equal(t, h.Key, rec.Headers[i].Key)
			assert.True(t, sameBytes(h.Value, rec.Headers[i].Value), "header %q", h.Key)
		}
	}
	return logs
}

// produceAll produces messages 0..n-1 made by mk and returns every report.
func produceAll(t *testing.T, ctx context.Context, topic *Topic, cfg ProducerConfig, n int, mk func(int) Message) []DeliveryReport {
	t.Helper()
	cfg.DeliveryReports = true
	p, err := topic.Producer(cfg)
	require.NoError(t, err)
	reports := collectReports(t, p)
	for i := range n {
		require.NoError(t, p.Produce(ctx, mk(i)))
	}
	require.NoError(t, p.Close())
	return reports()
}

func TestProducerIntegrationRoundTrip(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		for _, codec := range []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd} {
			t.Run(codec.String(), func(t *testing.T) {
				topic := prodTopic(t, ctx, cl, 3, 1, nil)
				reports := produceAll(t, ctx, topic, ProducerConfig{Compression: codec}, 300, testMessage)
				logs := checkDelivered(t, ctx, topic, reports, 300)
				for _, l := range logs {
					for _, got := range l.codecs {
						assert.Equal(t, codec, got)
					}
				}
			})
		}
	})
}

func TestProducerIntegrationAcks(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		for _, acks := range []RequiredAcks{AcksNone, AcksLeader, AcksAll} {
			t.Run(acks.String(), func(t *testing.T) {
				topic := prodTopic(t, ctx, cl, 2, 1, nil)
				if acks == AcksNone {
					// A broker closes the connection on an acks=0 request it
					// refuses, and a partition created a moment ago may be
					// refused: what was written behind it is lost, as acks=0
					// allows. Write to each partition with acks first.
					sp, err := topic.SyncProducer(ProducerConfig{Partitioner: ManualPartitioner()})
					require.NoError(t, err)
					for _, p := range topic.Partitions() {
						_, _, err := sp.Produce(ctx, Message{Value: []byte("warm-up"), Partition: p.ID()})
						require.NoError(t, err)
					}
					require.NoError(t, sp.Close())
				}
				reports := produceAll(t, ctx, topic, ProducerConfig{RequiredAcks: acks}, 100, testMessage)
				require.Len(t, reports, 100)
				if acks != AcksNone {
					checkDelivered(t, ctx, topic, reports, 100)
					return
				}
				for _, r := range reports {
					require.NoError(t, r.Err)
					assert.Equal(t, int64(-1), r.Message.Offset)
				}
				// Written, not acknowledged: wait until the broker has them.
				eventually(t, ctx, h, "unacknowledged messages written", func() bool {
					latest, err := topic.LatestOffsets(ctx)
					return err == nil && latest[0]+latest[1] == 2+100
				})
			})
		}
	})
}

func TestProducerIntegrationQueueFull(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		topic := prodTopic(t, ctx, cl, 1, 1, nil)

		// Not started, so nothing leaves the queue until Start.
		p, err := topic.Producer(ProducerConfig{ManualStart: true, MaxQueuedMessages: 10, ErrorOnQueueFull: true, DeliveryReports: true})
		require.NoError(t, err)
		reports := collectReports(t, p)
		for i := range 10 {
			require.NoError(t, p.Produce(ctx, testMessage(i)))
		}
		require.ErrorIs(t, p.Produce(ctx, testMessage(10)), ErrQueueFull)
		require.NoError(t, p.Start())
		require.NoError(t, p.Close())
		require.Len(t, reports(), 10)

		b, err := topic.Producer(ProducerConfig{ManualStart: true, MaxQueuedMessages: 10, DeliveryReports: true})
		require.NoError(t, err)
		reports = collectReports(t, b)
		for i := range 10 {
			require.NoError(t, b.Produce(ctx, testMessage(10+i)))
		}
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, b.Produce(short, testMessage(20)), context.DeadlineExceeded, "blocks while full")
		unblocked := make(chan error, 1)
		go func() { unblocked <- b.Produce(ctx, testMessage(21)) }()
		require.NoError(t, b.Start())
		require.NoError(t, <-unblocked)
		require.NoError(t, b.Close())
		all := reports()
		require.Len(t, all, 11)
		for _, r := range all {
			require.NoError(t, r.Err)
		}
		latest, err := topic.LatestOffsets(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(21), latest[0])
	})
}

// TestProducerIntegrationBatching counts records per batch in the log.
func TestProducerIntegrationBatching(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})

		t.Run("linger and min queued", func(t *testing.T) {
			topic := prodTopic(t, ctx, cl, 1, 1, nil)
			reports := produceAll(t, ctx, topic, ProducerConfig{Linger: time.Hour, MinQueuedMessages: 50}, 175, testMessage)
			l := checkDelivered(t, ctx, topic, reports, 175)[0]
			for i, n := range l.batches {
				if i < len(l.batches)-1 {
					assert.GreaterOrEqual(t, n, 50, "batches %v: only Close sends fewer than MinQueuedMessages", l.batches)
				}
			}
		})
		t.Run("queued while idle go in one batch", func(t *testing.T) {
			topic := prodTopic(t, ctx, cl, 1, 1, nil)
			reports := produceAll(t, ctx, topic, ProducerConfig{ManualStart: true}, 500, testMessage)
			l := checkDelivered(t, ctx, topic, reports, 500)[0]
			assert.Equal(t, []int{500}, l.batches)
		})
		t.Run("capped by MaxRequestSize", func(t *testing.T) {
			topic := prodTopic(t, ctx, cl, 1, 1, nil)
			mk := func(i int) Message { return Message{Value: bytes.Repeat([]byte{byte(i)}, 1000)} }
			reports := produceAll(t, ctx, topic, ProducerConfig{ManualStart: true, MaxRequestSize: 10000}, 50, mk)
			l := checkDelivered(t, ctx, topic, reports, 50)[0]
			assert.Greater(t, len(l.batches), 5)
			for _, n := range l.batches {
				assert.LessOrEqual(t, n, 9, "a 10000-byte request holds at most 9 records of 1000 bytes")
			}
		})
	})
}

func TestProducerIntegrationTooLarge(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})

		t.Run("above MaxBatchSize", func(t *testing.T) {
			topic := prodTopic(t, ctx, cl, 1, 1, nil)
			sp, err := topic.SyncProducer(ProducerConfig{})
			require.NoError(t, err)
			defer sp.Close()
			_, off, err := sp.Produce(ctx, Message{Value: value(0)})
			require.NoError(t, err)
			assert.Equal(t, int64(0), off)
			_, _, err = sp.Produce(ctx, Message{Value: make([]byte, DefaultMaxBatchSize)})
			require.ErrorIs(t, err, ErrMessageTooLarge)
			_, off, err = sp.Produce(ctx, Message{Value: value(1)})
			require.NoError(t, err)
			assert.Equal(t, int64(1), off)
		})

		// The topic's own limit is far below the producer's: batches the
		// broker refuses are split, and the one message above the limit
		// fails alone.
		t.Run("above the topic's max.message.bytes", func(t *testing.T) {
			topic := prodTopic(t, ctx, cl, 1, 1, map[string]string{"max.message.bytes": "2000"})
			p, err := topic.Producer(ProducerConfig{ManualStart: true, DeliveryReports: true})
			require.NoError(t, err)
			reports := collectReports(t, p)
			big := bytes.Repeat([]byte{'x'}, 3000)
			for i := range 60 {
				require.NoError(t, p.Produce(ctx, Message{Value: append(value(i), make([]byte, 90)...)}))
				if i == 30 {
					require.NoError(t, p.Produce(ctx, Message{Value: big}))
				}
			}
			require.NoError(t, p.Start())
			require.NoError(t, p.Close())
			var ok []DeliveryReport
			for _, r := range reports() {
				if bytes.Equal(r.Message.Value, big) {
					require.ErrorIs(t, r.Err, ErrMessageTooLarge)
					continue
				}
				ok = append(ok, r)
			}
			l := checkDelivered(t, ctx, topic, ok, 60)[0]
			for i := range 60 {
				assert.Equal(t, append(value(i), make([]byte, 90)...), l.records[int64(i)].Value, "in order")
			}
		})

		// Once the broker has refused a batch, later batches are cut within
		// what passed: rounds after the first send nothing above the
		// topic's limit, with idempotence (each refusal a new epoch) or
		// without.
		for _, idem := range []Idempotence{IdempotenceOn, IdempotenceOff} {
			t.Run("limit remembered/idempotence "+idem.String(), func(t *testing.T) {
				rec := &hookRecorder{}
				hcl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap(), Hooks: []Hook{rec}})
				topic := prodTopic(t, ctx, hcl, 1, 1, map[string]string{"max.message.bytes": "20000"})
				p, err := topic.Producer(ProducerConfig{Idempotence: idem, RequiredAcks: AcksAll,
					MinQueuedMessages: 60, Linger: time.Hour, DeliveryReports: true})
				require.NoError(t, err)
				reports := collectReports(t, p)
				msg := func(i int) []byte { return append(value(i), make([]byte, 1000)...) }
				sizes := make([][]int, 4) // each round's batches, uncompressed bytes
				for round := range sizes {
					rec.mu.Lock()
					before := len(rec.produced)
					rec.mu.Unlock()
					for i := range 60 {
						require.NoError(t, p.Produce(ctx, Message{Value: msg(round*60 + i)}))
					}
					require.NoError(t, p.Flush(ctx))
					rec.mu.Lock()
					for _, e := range rec.produced[before:] {
						sizes[round] = append(sizes[round], e.UncompressedBytes)
					}
					rec.mu.Unlock()
				}
				require.NoError(t, p.Close())
				assert.Greater(t, slices.Max(sizes[0]), 20000, "the first round's batch of 60 KB was sent whole first")
				for round := 1; round < len(sizes); round++ {
					assert.LessOrEqual(t, slices.Max(sizes[round]), 20000, "round %d: %v", round, sizes[round])
				}
				l := checkDelivered(t, ctx, topic, reports(), 240)[0]
				for i := range 240 {
					assert.Equal(t, msg(i), l.records[int64(i)].Value, "in order")
				}
			})
		}
	})
}

func TestProducerIntegrationPublish(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		topic := prodTopic(t, ctx, cl, 3, 1, nil)
		require.NoError(t, topic.Publish(ctx, []byte("hello world")))
		require.NoError(t, topic.Publish(ctx, []byte("hello"), []byte("world"), nil))
		var batches [][]int
		var values [][]byte
		for _, p := range topic.Partitions() {
			l := fetchLog(t, ctx, p)
			batches = append(batches, l.batches)
			for off := range l.end {
				values = append(values, l.records[off].Value)
			}
		}
		assert.ElementsMatch(t, [][]byte{[]byte("hello world"), []byte("hello"), []byte("world"), nil}, values)
		found := false
		for _, b := range batches {
			found = found || assert.ObjectsAreEqual([]int{3}, b) || assert.ObjectsAreEqual([]int{1, 3}, b) || assert.ObjectsAreEqual([]int{3, 1}, b)
		}
		assert.True(t, found, "the list is one batch: %v", batches)
	})
}

// TestProducerIntegrationZooKeeper produces to Kafka 3.9 in ZooKeeper mode.
func TestProducerIntegrationZooKeeper(t *testing.T) {
	c := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		for _, codec := range []Compression{CompressionNone, CompressionLZ4, CompressionZstd} {
			t.Run(codec.String(), func(t *testing.T) {
				topic := prodTopic(t, ctx, cl, 2, 1, nil)
				reports := produceAll(t, ctx, topic, ProducerConfig{Compression: codec, RequiredAcks: AcksAll}, 200, testMessage)
				checkDelivered(t, ctx, topic, reports, 200)
			})
		}
		topic := prodTopic(t, ctx, cl, 1, 1, nil)
		sp, err := topic.SyncProducer(ProducerConfig{})
		require.NoError(t, err)
		defer sp.Close()
		for i := range 4 {
			part, off, err := sp.Produce(ctx, Message{Value: value(i)})
			require.NoError(t, err)
			assert.Equal(t, int32(0), part)
			assert.Equal(t, int64(i), off)
		}
		require.NoError(t, topic.Publish(ctx, []byte("a"), []byte("b")))
		assert.Equal(t, []int{1, 1, 1, 1, 2}, fetchLog(t, ctx, topic.Partition(0)).batches)
	})
}

// TestProducerIntegrationBrokerKilled kills the leader of a partition while
// an acks=all producer writes to a topic replicated three times: every
// message reported delivered must be in the log afterwards, at its
// reported offset.
func TestProducerIntegrationBrokerKilled(t *testing.T) {
	c := testcluster.ForTest(t, testcluster.KRaftTriple.QuickFailover())
	h := newHandler(t, "goroutine")
	ctx := testCtx(t)
	cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
	topic := prodTopic(t, ctx, cl, 3, 3, map[string]string{"min.insync.replicas": "2"})
	victim := topic.Partition(0).LeaderID()

	p, err := topic.Producer(ProducerConfig{
		RequiredAcks: AcksAll, DeliveryReports: true, MaxRetries: 1000, MaxQueuedMessages: 2000,
	})
	require.NoError(t, err)

	var (
		mu        sync.Mutex
		delivered []DeliveryReport
		failed    []DeliveryReport
		afterKill atomic.Int64
		killed    atomic.Bool
	)
	reportsDone := make(chan struct{})
	go func() {
		defer close(reportsDone)
		for r := range p.Reports() {
			mu.Lock()
			if r.Err != nil {
				failed = append(failed, r)
			} else {
				delivered = append(delivered, r)
				if killed.Load() {
					afterKill.Add(1)
				}
			}
			mu.Unlock()
		}
	}()
	stop := make(chan struct{})
	produced := make(chan int, 1)
	go func() {
		n := 0
		defer func() { produced <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := p.Produce(ctx, testMessage(n)); err != nil {
				t.Errorf("produce %d: %v", n, err)
				return
			}
			n++
		}
	}()

	eventually(t, ctx, h, "a first thousand deliveries", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) >= 1000
	})
	t.Logf("killing broker %d, leader of partition 0", victim)
	killed.Store(true)
	require.NoError(t, c.KillBroker(victim))
	eventually(t, ctx, h, "deliveries after the kill", func() bool { return afterKill.Load() >= 3000 })
	close(stop)
	n := <-produced
	require.NoError(t, p.Close())
	<-reportsDone

	mu.Lock()
	defer mu.Unlock()
	t.Logf("produced %d, delivered %d, failed %d", n, len(delivered), len(failed))
	assert.Equal(t, n, len(delivered)+len(failed), "one report per message")
	assert.Empty(t, failed, "with retries to spare, nothing fails")
	require.NoError(t, cl.Update(ctx))
	assert.NotEqual(t, victim, topic.Partition(0).LeaderID(), "leadership moved")
	logs := map[int32]*fetchedLog{}
	for _, part := range topic.Partitions() {
		logs[part.ID()] = fetchLog(t, ctx, part)
	}
	for _, r := range delivered {
		rec, ok := logs[r.Message.Partition].records[r.Message.Offset]
		require.True(t, ok, "acknowledged message at %d/%d lost", r.Message.Partition, r.Message.Offset)
		require.True(t, sameBytes(r.Message.Value, rec.Value), "%d/%d holds another message", r.Message.Partition, r.Message.Offset)
	}
}
