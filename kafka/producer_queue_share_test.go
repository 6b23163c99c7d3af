package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler/goroutine"
)

// TestQueuesShareTheLimit: partitions filling side by side size their
// arrays by what each can still take under MaxQueuedMessages. Sized by the
// whole limit, each of four partitions growing fourfold past its 1,024th
// record took 4,096 slots: 16,384 for the 4,400 records they hold.
func TestQueuesShareTheLimit(t *testing.T) {
	const parts, limit = 4, 4400
	c := newPFCluster(t, 1, parts)
	ctx := context.Background()
	cl, err := NewClient(ctx, Config{Hosts: c.bootstrap(), Handler: goroutine.New(), Logger: testLogger()})
	require.NoError(t, err)
	t.Cleanup(func() { cl.Close() })
	topic, err := cl.Topic(ctx, c.topic)
	require.NoError(t, err)
	next := 0
	p, err := topic.Producer(ProducerConfig{ManualStart: true, MaxQueuedMessages: limit, ErrorOnQueueFull: true,
		Partitioner: PartitionerFunc(func(_ *Message, n int) (int32, error) {
			next++
			return int32(next % n), nil
		})})
	require.NoError(t, err)
	for range limit {
		require.NoError(t, p.Produce(ctx, Message{Value: []byte("v")}))
	}
	require.ErrorIs(t, p.Produce(ctx, Message{Value: []byte("v")}), ErrQueueFull)

	p.mu.Lock()
	slots, held := 0, 0
	for _, pb := range p.parts {
		slots += cap(pb.queue.q)
		held += pb.queue.len()
	}
	p.mu.Unlock()
	assert.Equal(t, limit, held)
	// Each queue may still double past its share (so that growing stays
	// cheap), and grow by more while the limit leaves room.
	assert.LessOrEqual(t, slots, 5*limit/2, "array slots for %d records", held)

	require.NoError(t, p.Start())
	require.NoError(t, p.Close())
}
