package kafka

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// The consumer tests write their data with the raw protocol, through the
// partition leader's Produce, so they depend on nothing but the core.

// sent is a record a test produced, as a consumer must return it.
type sent struct {
	key, value string
	headers    []Header
	ts         int64 // ms; -1 for none
}

// produceBatch writes one record batch of values to partition p with the
// given codec and returns the records as produced, each with its offset.
// Keep ts within the topic's retention (a week by default): a broker's
// retention check deletes older records, the active segment included.
func produceBatch(t testing.TB, ctx context.Context, p *Partition, codec protocol.Compression, ts int64, values ...string) map[int64]sent {
	t.Helper()
	var bb protocol.RecordBatchBuilder
	bb.Reset(&protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1})
	out := make([]sent, len(values))
	for i, v := range values {
		out[i] = sent{key: "k-" + v, value: v, headers: []Header{{Key: "codec", Value: []byte(codec.String())}}, ts: ts}
		bb.Add(ts, []byte(out[i].key), []byte(v), out[i].headers)
	}
	records, err := bb.Build(nil, codec)
	require.NoError(t, err)
	base := produceRaw(t, ctx, p, records)
	m := make(map[int64]sent, len(out))
	for i, s := range out {
		m[base+int64(i)] = s
	}
	return m
}

// produceRaw sends records, already encoded, to partition p's leader with
// acks=all and returns the base offset. A broker may answer
// NOT_LEADER_OR_FOLLOWER for a moment after a topic's creation shows in
// metadata, so retriable refusals are retried a few times.
func produceRaw(t testing.TB, ctx context.Context, p *Partition, records []byte) int64 {
	t.Helper()
	req := protocol.NewProduceRequest()
	req.Acks, req.TimeoutMs = -1, 10000
	req.TopicData = []protocol.ProduceRequestTopic{{Name: p.Topic().Name(),
		PartitionData: []protocol.ProduceRequestPartition{{Index: p.ID(), Records: records}}}}
	for attempt := 0; ; attempt++ {
		leader := p.Leader()
		require.NotNil(t, leader, "partition %v has no leader", p)
		resp, err := leader.Produce(ctx, req)
		require.NoError(t, err)
		pr := resp.Responses[0].PartitionResponses[0]
		err = protocol.ErrorForCode(pr.ErrorCode)
		if err != nil && isRetriable(err) && attempt < 30 {
			time.Sleep(100 * time.Millisecond)
			require.NoError(t, p.Topic().cl.Update(ctx))
			continue
		}
		require.NoError(t, err, "producing to %v", p)
		return pr.BaseOffset
	}
}

// produceLegacy writes values as a legacy message set (magic 0 or 1) with
// an old Produce version, which Kafka 3.9 still accepts, on a connection
// of its own since the client's negotiate the newest version.
func produceLegacy(t testing.TB, ctx context.Context, h handler.Handler, p *Partition, version int16, magic int8,
	codec protocol.Compression, ts int64, values ...string) map[int64]sent {
	t.Helper()
	recs := make([]protocol.Record, len(values))
	for i, v := range values {
		recs[i] = protocol.Record{Offset: int64(i), Timestamp: ts, Key: []byte("k-" + v), Value: []byte(v)}
	}
	records, err := protocol.AppendMessageSet(nil, recs, magic, codec)
	require.NoError(t, err)
	bc, err := conn.New(h, p.Leader().Addr(), conn.Config{ClientID: "gregor-consumer-test"})
	require.NoError(t, err)
	defer bc.Close()
	require.NoError(t, bc.Connect(ctx))
	req := protocol.NewProduceRequest()
	req.Acks, req.TimeoutMs = -1, 10000
	req.TopicData = []protocol.ProduceRequestTopic{{Name: p.Topic().Name(),
		PartitionData: []protocol.ProduceRequestPartition{{Index: p.ID(), Records: records}}}}
	f, err := bc.RequestVersion(ctx, req, version)
	require.NoError(t, err)
	m, err := f.Get(ctx)
	require.NoError(t, err)
	pr := m.(*protocol.ProduceResponse).Responses[0].PartitionResponses[0]
	require.NoError(t, protocol.ErrorForCode(pr.ErrorCode), "Produce v%d magic %d %s", version, magic, codec)
	if magic == 0 {
		ts = -1
	}
	out := make(map[int64]sent, len(values))
	for i, v := range values {
		out[pr.BaseOffset+int64(i)] = sent{key: "k-" + v, value: v, ts: ts}
	}
	return out
}

// makeTopic creates a topic through the client and returns it.
func makeTopic(t testing.TB, ctx context.Context, cl *Client, spec TopicSpec) *Topic {
	t.Helper()
	require.NoError(t, cl.Cluster().CreateTopics(ctx, spec))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = cl.Cluster().DeleteTopics(ctx, spec.Name)
	})
	topic, err := cl.Topic(ctx, spec.Name)
	require.NoError(t, err)
	return topic
}

// newConsumer makes a SimpleConsumer stopped when the test ends.
func newConsumer(t testing.TB, topic *Topic, cfg ConsumerConfig) *SimpleConsumer {
	t.Helper()
	c, err := topic.SimpleConsumer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return c
}

// consumeMessages consumes exactly n messages.
func consumeMessages(t testing.TB, ctx context.Context, c Consumer, n int) []*Message {
	t.Helper()
	out := make([]*Message, 0, n)
	last := time.Now()
	for len(out) < n {
		m, err := c.Consume(ctx)
		// A short ConsumerTimeout is there for requireNoMore; a loaded
		// machine may leave a gap longer than it between two records
		// that are on their way, so only a long silence fails here.
		if errors.Is(err, ErrConsumerTimeout) && time.Since(last) < patience {
			continue
		}
		require.NoError(t, err, "after %d of %d messages", len(out), n)
		out = append(out, m)
		last = time.Now()
	}
	return out
}

// patience is how long consumeMessages waits for the next record.
const patience = 30 * time.Second

// requireNoMore checks that nothing else arrives within the consumer's
// timeout, which must be set.
func requireNoMore(t testing.TB, ctx context.Context, c Consumer) {
	t.Helper()
	m, err := c.Consume(ctx)
	if err == nil {
		t.Fatalf("unexpected extra message at %d/%d: %q", m.Partition, m.Offset, m.Value)
	}
	require.ErrorIs(t, err, ErrConsumerTimeout)
}

// requireInOrder checks that msgs hold each partition's offsets in
// increasing order, each once, and returns them by partition.
func requireInOrder(t testing.TB, msgs []*Message) map[int32][]int64 {
	t.Helper()
	by := map[int32][]int64{}
	for _, m := range msgs {
		offs := by[m.Partition]
		if n := len(offs); n > 0 {
			require.Greater(t, m.Offset, offs[n-1], "partition %d out of order or repeated", m.Partition)
		}
		by[m.Partition] = append(offs, m.Offset)
	}
	return by
}

func valuesOf(msgs []*Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Value)
	}
	return out
}

func seqValues(prefix string, from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}
