package kafka

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// TestPrefetchHoldsQueuedMaxMessages: 20,000 small messages in batches of a
// few hundred, one message consumed, then the consumer left alone until it
// stops fetching. What it fetched ahead stays within QueuedMaxMessages and
// one batch, where a fetch of FetchMessageMaxBytes would bring them all.
// Then a cancelled context ends Consume and Messages at once, though
// thousands of messages are queued.
func TestPrefetchHoldsQueuedMaxMessages(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "prefetch"), Partitions: 1, ReplicationFactor: 1})
		const n, queued = 20000, 2000
		p, err := topic.Producer(ProducerConfig{ManualStart: true, MaxRequestSize: 16 << 10})
		require.NoError(t, err)
		for i := range n {
			require.NoError(t, p.Produce(ctx, Message{Value: []byte(fmt.Sprintf("order-%05d", i))}))
		}
		require.NoError(t, p.Close())

		c := newConsumer(t, topic, ConsumerConfig{QueuedMaxMessages: queued})
		consumeMessages(t, ctx, c, 1)
		op := c.byID[0]
		eventually(t, ctx, h, "the prefetch to settle", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return !op.inflight && op.undecoded == 0 && !c.hasRoomLocked(op)
		})
		c.mu.Lock()
		ahead := op.queue.len()
		c.mu.Unlock()
		// A 16 KiB request holds some 900 of these records.
		assert.LessOrEqual(t, ahead, queued+1000, "fetched ahead")
		assert.GreaterOrEqual(t, ahead, queued/2, "fetched ahead")

		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = c.Consume(cctx)
		require.ErrorIs(t, err, context.Canceled)
		var errs []error
		for m, err := range c.Messages(cctx) {
			require.Nil(t, m)
			errs = append(errs, err)
		}
		require.Len(t, errs, 1)
		require.ErrorIs(t, errs[0], context.Canceled)
		assert.Equal(t, int64(0), c.HeldOffsets()[0], "nothing delivered after the cancel")
	})
}
