package kafka

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/fakeclock"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// Automatic commits follow AutoCommitInterval on the handler's clock: with
// a virtual clock over a real broker, nothing is committed a nanosecond
// before the interval ends, and the position is committed when it does.
func TestAutoCommitIntervalOnVirtualClock(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		// Set-up and checks run on a real-clock client; only the consumer's
		// runs on the virtual clock.
		admin := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		name := uniqueTopic(t, "autocommit-clock")
		p := makeTopic(t, ctx, admin, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}).Partitions()[0]
		produceBatch(t, ctx, p, protocol.CompressionNone, time.Now().UnixMilli(), seqValues("v", 0, 10)...)
		group := name + "-group"
		committed := func() int64 {
			offs, err := admin.Cluster().FetchGroupOffsets(ctx, group, map[string][]int32{name: {0}})
			require.NoError(t, err)
			if co, ok := offs[name][0]; ok {
				return co.Offset
			}
			return -1
		}
		// Asking once settles the group's coordinator, so the consumer
		// finds it without a backoff on its virtual clock.
		require.Equal(t, int64(-1), committed())

		fc := fakeclock.New(h)
		cl := newTestClient(t, ctx, fc, Config{Hosts: tc.Bootstrap()})
		topic, err := cl.Topic(ctx, name)
		require.NoError(t, err)
		// Shorter than the request timeout, so advancing the clock by it
		// never makes the fetch in flight overdue.
		const interval = 5 * time.Second
		c := newConsumer(t, topic, ConsumerConfig{
			ConsumerGroup: group, AutoCommit: true, AutoCommitInterval: interval,
			AutoOffsetReset: OffsetEarliest,
		})
		consumeMessages(t, ctx, c, 10)

		// Starting may commit where it started (0); the position reached,
		// 10, waits for the timer.
		require.Equal(t, interval, nextDue(t, fc, interval), "the commit timer")
		before := committed()
		require.Less(t, before, int64(10))
		fc.Advance(interval - time.Nanosecond)
		assert.Equal(t, before, committed(), "committed before the interval ended")
		fc.Advance(time.Nanosecond)
		eventually(t, ctx, h, "the automatic commit", func() bool { return committed() == 10 })

		// The next interval commits the next position.
		produceBatch(t, ctx, p, protocol.CompressionNone, time.Now().UnixMilli(), seqValues("w", 0, 5)...)
		consumeMessages(t, ctx, c, 5)
		require.Equal(t, interval, nextDue(t, fc, interval))
		fc.Advance(interval - time.Nanosecond)
		assert.Equal(t, int64(10), committed())
		fc.Advance(time.Nanosecond)
		eventually(t, ctx, h, "the second automatic commit", func() bool { return committed() == 15 })
	})
}
