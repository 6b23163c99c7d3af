package kafka

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// poisonAt is the offset of the record that is not JSON in the log
// produceTypedLog writes: typedLogLen records, all orders but this one.
const (
	poisonAt    = 5
	typedLogLen = 10
)

// produceTypedLog writes orders 0..9 to partition 0 of topic, keyed
// "customer-N", through both typed producers, except that offset 5 is a
// record written as raw bytes that are not JSON.
func produceTypedLog(t *testing.T, ctx context.Context, topic *Topic) {
	t.Helper()
	sp, err := topic.SyncProducer(ProducerConfig{Partitioner: ManualPartitioner()})
	require.NoError(t, err)
	sync := NewTypedSyncProducer[string, typedOrder](sp, StringSerde{}, JSONSerde[typedOrder]{})
	defer func() { require.NoError(t, sync.Close()) }()
	for i := range poisonAt {
		part, off, err := sync.Produce(ctx, fmt.Sprint("customer-", i), typedOrder{ID: i, Item: "tea", Total: 10 * i})
		require.NoError(t, err)
		require.Equal(t, int32(0), part)
		require.Equal(t, int64(i), off)
	}
	_, off, err := sync.SyncProducer().Produce(ctx, Message{Key: []byte("customer-5"), Value: []byte(`{"id": 5, "item": tea}`)})
	require.NoError(t, err)
	require.Equal(t, int64(poisonAt), off)

	p, err := topic.Producer(ProducerConfig{Partitioner: ManualPartitioner(), DeliveryReports: true})
	require.NoError(t, err)
	async := NewTypedProducer[string, typedOrder](p, nil, nil)
	reports := make(chan []DeliveryReport, 1)
	go func() {
		var got []DeliveryReport
		for r := range async.Reports() {
			got = append(got, r)
		}
		reports <- got
	}()
	for i := poisonAt + 1; i < typedLogLen; i++ {
		require.NoError(t, async.Produce(ctx, fmt.Sprint("customer-", i), typedOrder{ID: i, Item: "tea", Total: 10 * i}))
	}
	require.NoError(t, async.Close())
	got := <-reports
	require.Len(t, got, typedLogLen-poisonAt-1)
	for _, r := range got {
		require.NoError(t, r.Err)
	}
}

// typedOutcomes reads n outcomes (orders and errors) from next.
func typedOutcomes(t *testing.T, n int, next func() (*TypedMessage[string, typedOrder], error)) (orders []*TypedMessage[string, typedOrder], poison []*DeserializationError) {
	t.Helper()
	for range n {
		m, err := next()
		var de *DeserializationError
		if errors.As(err, &de) {
			require.Nil(t, m)
			poison = append(poison, de)
			continue
		}
		require.NoError(t, err)
		orders = append(orders, m)
	}
	return orders, poison
}

// checkTypedLog checks what a typed consumer read of produceTypedLog's log:
// every order in offset order, each with its key, and the poison record as
// one *DeserializationError naming its place, in its place.
func checkTypedLog(t *testing.T, topic string, orders []*TypedMessage[string, typedOrder], poison []*DeserializationError) {
	t.Helper()
	require.Len(t, poison, 1)
	de := poison[0]
	assert.Equal(t, topic, de.Topic)
	assert.Equal(t, int32(0), de.Partition)
	assert.Equal(t, int64(poisonAt), de.Offset)
	assert.False(t, de.Key, "the value failed")
	assert.Equal(t, "customer-5", string(de.Message.Key))
	assert.Equal(t, `{"id": 5, "item": tea}`, string(de.Message.Value))
	assert.Contains(t, de.Error(), fmt.Sprintf("%s/0@%d", topic, poisonAt))

	require.Len(t, orders, typedLogLen-1)
	var offsets []int64
	for _, m := range orders {
		offsets = append(offsets, m.Offset)
		i := int(m.Offset)
		assert.Equal(t, topic, m.Topic)
		assert.Equal(t, fmt.Sprint("customer-", i), m.Key)
		assert.Equal(t, typedOrder{ID: i, Item: "tea", Total: 10 * i}, m.Value)
		assert.False(t, m.Timestamp.IsZero())
	}
	assert.Equal(t, []int64{0, 1, 2, 3, 4, 6, 7, 8, 9}, offsets, "consumption went on past the poison record")
}

// TestTypedSimpleConsumerPoisonRecord produces typed JSON with both typed
// producers around one record that is not JSON, and consumes it typed with
// a SimpleConsumer, on Kafka 4.3 and 3.9: the bad record is a
// *DeserializationError at its offset, the next Consume returns the record
// after it, and the group's commit moves past it.
func TestTypedSimpleConsumerPoisonRecord(t *testing.T) {
	for _, kind := range []testcluster.Config{testcluster.KRaftSingle, testcluster.ZooKeeperSingle} {
		t.Run(kind.Name(), func(t *testing.T) {
			tc := testcluster.Shared(t, kind)
			forEachHandler(t, func(t *testing.T, h handler.Handler) {
				testTypedSimpleConsumer(t, tc, h)
			})
		})
	}
}

func testTypedSimpleConsumer(t *testing.T, tc *testcluster.Cluster, h handler.Handler) {
	ctx := testCtx(t)
	cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
	topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "typed-simple"), Partitions: 1, ReplicationFactor: 1})
	produceTypedLog(t, ctx, topic)

	group := topic.Name() + "-group"
	c := NewTypedConsumer[string, typedOrder](newConsumer(t, topic, ConsumerConfig{ConsumerGroup: group}), nil, nil)
	orders, poison := typedOutcomes(t, typedLogLen, func() (*TypedMessage[string, typedOrder], error) { return c.Consume(ctx) })
	checkTypedLog(t, topic.Name(), orders, poison)
	assert.Equal(t, map[int32]int64{0: typedLogLen - 1}, c.HeldOffsets())
	require.NoError(t, c.CommitOffsets(ctx))
	require.NoError(t, c.Stop(ctx))

	// The group resumes after everything, the poison record included.
	committed, err := newConsumer(t, topic, ConsumerConfig{ConsumerGroup: group, ManualStart: true}).FetchOffsets(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(typedLogLen), committed[0].Offset)
}

// TestTypedBalancedConsumerPoisonRecord reads the same log through a
// broker-managed BalancedConsumer's Messages iterator, which yields the
// poison record's error and goes on.
func TestTypedBalancedConsumerPoisonRecord(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft}, 1, func(t *testing.T, env *groupEnv) {
		produceTypedLog(t, env.ctx, env.topic)
		c := NewTypedConsumer[string, typedOrder](env.consumer(t, BalancedConsumerConfig{}), StringSerde{}, JSONSerde[typedOrder]{})
		next, stop := iter.Pull2(c.Messages(env.ctx))
		defer stop()
		orders, poison := typedOutcomes(t, typedLogLen, func() (*TypedMessage[string, typedOrder], error) {
			m, err, ok := next()
			require.True(t, ok, "the iteration ended early")
			return m, err
		})
		checkTypedLog(t, env.topic.Name(), orders, poison)
		assert.Equal(t, map[int32]int64{0: typedLogLen - 1}, c.HeldOffsets())
		require.NoError(t, c.CommitOffsets(env.ctx))
		assert.Equal(t, map[int32]int64{0: typedLogLen}, env.committed(t))
		stop()
		require.NoError(t, c.Stop(env.ctx))
	})
}
