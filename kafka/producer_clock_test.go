package kafka

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/fakeclock"
	"github.com/gregorkafka/gregor/protocol"
)

// Producer timing on a virtual clock: linger and retry backoff are checked
// to the nanosecond, without sleeping, over real sockets to pfCluster.

// forEachFakeClock runs fn on each handler implementation with its clock
// made virtual.
func forEachFakeClock(t *testing.T, fn func(t *testing.T, fc *fakeclock.Handler)) {
	t.Helper()
	forEachHandler(t, func(t *testing.T, h handler.Handler) { fn(t, fakeclock.New(h)) })
}

// nextDue waits until something on fc is due within want and returns how
// far off the earliest deadline is.
func nextDue(t *testing.T, fc *fakeclock.Handler, want time.Duration) time.Duration {
	t.Helper()
	require.NoError(t, fc.BlockUntilDue(testCtx(t), want))
	d, ok := fc.Next()
	require.True(t, ok)
	return d
}

func TestProducerLingerOnVirtualClock(t *testing.T) {
	forEachFakeClock(t, func(t *testing.T, fc *fakeclock.Handler) {
		c, topic := pfSetup(t, fc, 1, 1)
		const linger = 10 * time.Second
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, Linger: linger})
		ctx := testCtx(t)
		for i := range 3 {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
		}
		require.Equal(t, linger, nextDue(t, fc, linger), "the linger timer counts from the first message")

		fc.Advance(linger - time.Nanosecond)
		assert.Empty(t, c.produced(), "sent before Linger ran out")
		fc.Advance(time.Nanosecond)
		c.waitSeen(t, func(s []pfProduce) bool { return len(s) >= 1 })
		seen := c.produced()
		require.Len(t, seen, 1)
		assert.Len(t, seen[0].Records, 3, "the three lingering messages leave in one batch")
	})
}

func TestProducerRetryBackoffOnVirtualClock(t *testing.T) {
	forEachFakeClock(t, func(t *testing.T, fc *fakeclock.Handler) {
		c, topic := pfSetup(t, fc, 1, 1)
		fails := 4
		c.setOnProduce(func(*pfProduce) (int16, <-chan struct{}) {
			if fails > 0 {
				fails--
				return protocol.ErrNotEnoughReplicas.Code, nil
			}
			return 0, nil
		})
		const first = 300 * time.Millisecond
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, RetryBackoff: first, MaxRetries: 10})
		require.NoError(t, p.Produce(testCtx(t), Message{Value: value(0)}))

		// Doubling from RetryBackoff, capped at one second.
		for try, want := range []time.Duration{first, 2 * first, time.Second, time.Second} {
			c.waitSeen(t, func(s []pfProduce) bool { return len(s) >= try+1 })
			require.Equal(t, want, nextDue(t, fc, want), "backoff before retry %d", try+1)
			fc.Advance(want - time.Nanosecond)
			assert.Len(t, c.produced(), try+1, "retried before the backoff ran out")
			fc.Advance(time.Nanosecond)
		}
		c.waitSeen(t, func(s []pfProduce) bool { return len(s) >= 5 })
		r := <-p.Reports()
		require.NoError(t, r.Err)
		assert.Equal(t, int64(0), r.Message.Offset)
	})
}

// TestPublishRetriesOnVirtualClock: Publish retries a retriable refusal
// DefaultMaxRetries times, backing off from DefaultRetryBackoff, doubling
// up to a second, then returns the refusal as a *PartitionError.
func TestPublishRetriesOnVirtualClock(t *testing.T) {
	forEachFakeClock(t, func(t *testing.T, fc *fakeclock.Handler) {
		c, topic := pfSetup(t, fc, 1, 1)
		c.setOnProduce(func(*pfProduce) (int16, <-chan struct{}) { return protocol.ErrCorruptMessage.Code, nil })
		done := make(chan error, 1)
		go func() { done <- topic.Publish(testCtx(t), []byte("x")) }()
		want := DefaultRetryBackoff
		for try := 1; try <= DefaultMaxRetries; try++ {
			c.waitSeen(t, func(s []pfProduce) bool { return len(s) >= try })
			require.Equal(t, want, nextDue(t, fc, want), "backoff before retry %d", try)
			fc.Advance(want - time.Nanosecond)
			assert.Len(t, c.produced(), try, "retried before the backoff ran out")
			fc.Advance(time.Nanosecond)
			want = min(2*want, time.Second)
		}
		err := <-done
		require.ErrorIs(t, err, protocol.ErrCorruptMessage)
		var pe *PartitionError
		require.ErrorAs(t, err, &pe)
		assert.Len(t, c.produced(), DefaultMaxRetries+1, "the first try and every retry")
	})
}

// TestProducerBatchTimestampsOnVirtualClock: a message without a timestamp
// gets its batch's, read when the batch is cut (here a Linger after the
// first Produce), while timestamps the caller set are written as given, in
// any order, earlier or later than the batch's; the report carries what was
// written.
func TestProducerBatchTimestampsOnVirtualClock(t *testing.T) {
	forEachFakeClock(t, func(t *testing.T, fc *fakeclock.Handler) {
		c, topic := pfSetup(t, fc, 1, 1)
		const linger = 10 * time.Second
		p := newTestProducer(t, topic, ProducerConfig{DeliveryReports: true, Linger: linger})
		ctx := testCtx(t)
		produced := fc.Now()
		user := []time.Time{
			time.UnixMilli(1_600_000_000_123), // far earlier than the batch
			{},
			produced.Add(time.Hour).Truncate(time.Millisecond), // later
			{},
			time.UnixMilli(1_500_000_000_000), // earlier still, out of order
		}
		for i, ts := range user {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i), Timestamp: ts}))
		}
		fc.Advance(linger)
		cut := fc.Now().UnixMilli()
		c.waitSeen(t, func(s []pfProduce) bool { return len(s) >= 1 })
		seen := c.produced()
		require.Len(t, seen, 1)
		require.Len(t, seen[0].Records, len(user))
		for i, r := range seen[0].Records {
			want := cut
			if !user[i].IsZero() {
				want = user[i].UnixMilli()
			}
			assert.Equal(t, want, r.Timestamp, "record %d as written", i)
			rep := <-p.Reports()
			require.NoError(t, rep.Err)
			assert.Equal(t, want, rep.Message.Timestamp.UnixMilli(), "record %d as reported", i)
		}
		assert.Greater(t, cut, produced.UnixMilli(), "stamped at the cut, not at Produce")
	})
}
