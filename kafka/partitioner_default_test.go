package kafka

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

func TestDefaultPartitioner(t *testing.T) {
	p := DefaultPartitioner()
	hash := HashPartitioner(nil)
	for i := range 100 {
		m := &Message{Key: []byte(fmt.Sprint("customer-", i))}
		want, _ := hash.Partition(m, 7)
		got, err := p.Partition(m, 7)
		require.NoError(t, err)
		assert.Equal(t, want, got, "key %s goes where murmur2 puts it", m.Key)
	}
	id, _ := p.Partition(&Message{Key: []byte{}}, 10)
	want, _ := hash.Partition(&Message{Key: []byte{}}, 10)
	assert.Equal(t, want, id, "an empty key is a key")

	var got []int32
	for range 7 {
		id, err := p.Partition(&Message{}, 3)
		require.NoError(t, err)
		got = append(got, id)
	}
	assert.Equal(t, []int32{0, 1, 2, 0, 1, 2, 0}, got, "nil keys go round-robin")

	cfg, err := ProducerConfig{}.withDefaults(&Config{SocketTimeout: DefaultSocketTimeout})
	require.NoError(t, err)
	assert.IsType(t, &keyedPartitioner{}, cfg.Partitioner, "the default")
}

// TestProducerDefaultPlacesKeys: a producer with a zero config keeps each
// key on the partition Murmur2 picks and spreads unkeyed messages evenly.
func TestProducerDefaultPlacesKeys(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "default-partitioner"), Partitions: 3, ReplicationFactor: 1})
		p, err := topic.Producer(ProducerConfig{DeliveryReports: true})
		require.NoError(t, err)
		done := make(chan []DeliveryReport)
		go func() {
			var all []DeliveryReport
			for r := range p.Reports() {
				all = append(all, r)
			}
			done <- all
		}()
		for i := range 200 {
			require.NoError(t, p.Produce(ctx, Message{Key: []byte(fmt.Sprint("customer-", i%10)), Value: value(i)}))
		}
		for i := range 30 {
			require.NoError(t, p.Produce(ctx, Message{Value: value(1000 + i)}))
		}
		require.NoError(t, p.Close())
		all := <-done
		require.Len(t, all, 230)
		hash := HashPartitioner(nil)
		unkeyed := map[int32]int{}
		for _, r := range all {
			require.NoError(t, r.Err)
			if r.Message.Key == nil {
				unkeyed[r.Message.Partition]++
				continue
			}
			want, _ := hash.Partition(&r.Message, 3)
			assert.Equal(t, want, r.Message.Partition, "key %s", r.Message.Key)
		}
		assert.Equal(t, map[int32]int{0: 10, 1: 10, 2: 10}, unkeyed)
	})
}
