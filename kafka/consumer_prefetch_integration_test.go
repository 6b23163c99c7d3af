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

// TestPrefetchHoldsQueuedMaxBytes: 8 partitions of 1 KiB records in batches
// of about 16 KiB, a consumer bounded to 256 KiB across them (each
// partition alone may fetch 1 MiB), one message consumed, then the consumer
// left alone until it stops fetching. What it holds stays within the bound
// and a batch; without the bound it holds far more. Then everything is
// consumed, once and in order, and the count of bytes held returns to zero.
func TestPrefetchHoldsQueuedMaxBytes(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		const parts, perPart, size, bound = 8, 300, 1 << 10, 256 << 10
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "prefetch-bytes"), Partitions: parts, ReplicationFactor: 1})
		p, err := topic.Producer(ProducerConfig{ManualStart: true, MaxRequestSize: 16 << 10, Partitioner: ManualPartitioner()})
		require.NoError(t, err)
		value := make([]byte, size)
		for i := range parts * perPart {
			require.NoError(t, p.Produce(ctx, Message{Partition: int32(i % parts), Value: value, Key: []byte(fmt.Sprintf("%05d", i/parts))}))
		}
		require.NoError(t, p.Close())

		// Settled: the loop waits for room, nothing in flight or decoding.
		// Between a response and the next Fetch nothing is in flight
		// either, so the loop must be listed as waiting.
		settled := func(c *SimpleConsumer) (held int) {
			eventually(t, ctx, h, "the prefetch to settle", func() bool {
				c.mu.Lock()
				defer c.mu.Unlock()
				for _, op := range c.parts {
					if op.inflight || op.undecoded > 0 {
						return false
					}
				}
				held = c.bytes.held
				return c.bytes.reserved == 0 && len(c.bytes.waiting) > 0
			})
			return held
		}
		// Without the bound it fetches everything (and then keeps asking
		// for more, so it never settles).
		unbounded := newConsumer(t, topic, ConsumerConfig{QueuedMaxBytes: -1})
		consumeMessages(t, ctx, unbounded, 1)
		eventually(t, ctx, h, "the unbounded consumer to hold everything", func() bool {
			unbounded.mu.Lock()
			defer unbounded.mu.Unlock()
			return unbounded.bytes.held >= (parts*perPart-1)*size
		})

		c := newConsumer(t, topic, ConsumerConfig{QueuedMaxBytes: bound})
		consumeMessages(t, ctx, c, 1)
		held := settled(c)
		assert.LessOrEqual(t, held, bound+(16<<10), "held with the bound")
		assert.GreaterOrEqual(t, held, bound/2, "held with the bound")

		// What paused partitions hold does not count: pausing half of
		// them lets the others fetch more.
		half := []int32{0, 1, 2, 3}
		c.mu.Lock()
		before := 0
		for _, op := range c.parts[len(half):] {
			before += op.queuedBytes
		}
		c.mu.Unlock()
		require.Less(t, before, 3*bound/4, "the partitions not to be paused hold too much to show anything")
		require.NoError(t, c.Pause(half...))
		eventually(t, ctx, h, "the partitions not paused to fetch", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.bytes.held-c.bytes.paused >= 3*bound/4
		})
		require.NoError(t, c.Resume(half...))

		msgs := consumeMessages(t, ctx, c, parts*perPart-1)
		requireKeysInOrder(t, msgs)
		assert.Len(t, msgs, parts*perPart-1)
		c.mu.Lock()
		assert.Zero(t, c.bytes.held, "bytes held once everything is consumed")
		assert.Zero(t, c.bytes.paused, "bytes held by paused partitions once everything is consumed")
		c.mu.Unlock()
	})
}

// TestBalancedQueuedMaxBytesAcrossTopics: a balanced consumer of three
// topics holds QueuedMaxBytes across all of them, not per topic; the
// shared count agrees with what the inner consumers hold, everything is
// consumed once and in order (no topic waits for ever on another's long
// polls), and the count returns to zero. Each topic alone
// could hold the whole bound.
func TestBalancedQueuedMaxBytesAcrossTopics(t *testing.T) {
	forEachTopicsKind(t, []balancedKind{managedKRaft}, []int32{4, 4, 4}, func(t *testing.T, env *topicsEnv) {
		const perPart, size, bound = 150, 1 << 10, 256 << 10
		ctx := env.ctx
		value := make([]byte, size)
		total := 0
		for _, topic := range env.topics {
			p, err := topic.Producer(ProducerConfig{ManualStart: true, MaxRequestSize: 16 << 10, Partitioner: ManualPartitioner()})
			require.NoError(t, err)
			n := len(topic.Partitions())
			for i := range n * perPart {
				require.NoError(t, p.Produce(ctx, Message{Partition: int32(i % n), Value: value, Key: []byte(fmt.Sprintf("%05d", i/n))}))
			}
			require.NoError(t, p.Close())
			total += n * perPart
		}
		require.Greater(t, total*size/len(env.topics), bound, "each topic must be able to fill the bound alone")

		b := env.consumer(t, BalancedConsumerConfig{
			Topics:         env.names(),
			ConsumerConfig: ConsumerConfig{QueuedMaxBytes: bound, AutoOffsetReset: OffsetEarliest},
		})
		msgs := consumeMessages(t, ctx, b, 1)
		env.waitCover(t, env.topics, b)

		// Settled: every loop waits for room, nothing in flight or decoding.
		var held, counted int
		eventually(t, ctx, env.h, "the prefetch to settle", func() bool {
			inners := b.currentInners()
			if len(inners) != len(env.topics) {
				return false
			}
			held, counted = 0, 0
			for _, c := range inners {
				c.mu.Lock()
				busy := c.bytes.reserved != 0
				for _, op := range c.parts {
					busy = busy || op.inflight || op.undecoded > 0
				}
				held += c.bytes.held
				counted += c.heldLocked()
				c.mu.Unlock()
				if busy {
					return false
				}
			}
			return true
		})
		assert.Equal(t, int64(counted), b.bytes.held.Load(), "the shared count against the inners' own")
		assert.LessOrEqual(t, held, bound+(64<<10), "held across the topics")
		assert.GreaterOrEqual(t, held, bound/2, "held across the topics")

		msgs = append(msgs, consumeMessages(t, ctx, b, total-1)...)
		requireKeysInOrder(t, msgs)
		assert.Len(t, msgs, total)
		for _, c := range b.currentInners() {
			c.mu.Lock()
			assert.Zero(t, c.bytes.held, "bytes held once everything is consumed")
			c.mu.Unlock()
		}
		assert.Zero(t, b.bytes.held.Load(), "the shared count once everything is consumed")
	})
}

// requireKeysInOrder checks that each partition's messages came with their
// keys (written in increasing order) increasing, each once.
func requireKeysInOrder(t *testing.T, msgs []*Message) {
	t.Helper()
	last := map[TopicPartition]string{}
	for _, m := range msgs {
		tp := TopicPartition{m.Topic, m.Partition}
		if prev, ok := last[tp]; ok {
			require.Less(t, prev, string(m.Key), "%v out of order or repeated", tp)
		}
		last[tp] = string(m.Key)
	}
}
