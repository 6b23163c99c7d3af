package kafka

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// TestProducerStopUndrainedReports: nobody reads Reports, the channel is
// full and more reports wait for room. Stop with an ended context returns
// at once; the reports already in the channel stay readable, the rest
// are dropped, and the channel is closed.
func TestProducerStopUndrainedReports(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 1)
		const room = 10 // the reports channel holds MaxQueuedMessages
		p, err := topic.Producer(ProducerConfig{DeliveryReports: true, MaxQueuedMessages: room})
		require.NoError(t, err)
		ctx := testCtx(t)
		written := func(want int) func([]pfProduce) bool {
			return func(seen []pfProduce) bool {
				n := 0
				for _, e := range seen {
					n += len(e.Records)
				}
				return n >= want
			}
		}
		for i := range room {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
		}
		eventually(t, ctx, h, "a full reports channel", func() bool { return len(p.Reports()) == room })
		// These are held: the first batch of them written, its reports
		// waiting for room (and so the rest waiting behind it).
		const more = room / 2
		for i := range more {
			require.NoError(t, p.Produce(ctx, Message{Value: value(room + i)}))
		}
		c.waitSeen(t, written(room+1))

		stopCtx, cancel := context.WithCancel(ctx)
		cancel()
		stopped := make(chan error, 1)
		go func() { stopped <- p.Stop(stopCtx) }()
		select {
		case err := <-stopped:
			require.ErrorIs(t, err, context.Canceled)
		case <-ctx.Done():
			t.Fatal("Stop with an ended context blocked on the undrained reports")
		}
		var got []DeliveryReport
		for r := range p.Reports() { // closed by Stop
			got = append(got, r)
		}
		require.Len(t, got, room)
		for i, r := range got {
			require.NoError(t, r.Err)
			assert.Equal(t, value(i), r.Message.Value)
		}
		require.ErrorIs(t, p.Close(), context.Canceled, "later calls return the first one's result")
	})
}

// TestProducerCloseOneRetryBudget: every try fails with a retriable
// error, as against a dead cluster. Close reports every message once, and
// the partition's messages share one retry budget: the tries are those of
// one batch, not of every batch the queue holds.
func TestProducerCloseOneRetryBudget(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 2)
		c.setOnProduce(func(e *pfProduce) (int16, <-chan struct{}) {
			return protocol.ErrRequestTimedOut.Code, nil
		})
		const maxRetries, n = 3, 400
		p := newTestProducer(t, topic, ProducerConfig{
			DeliveryReports: true, MaxRetries: maxRetries, RetryBackoff: time.Millisecond,
			ManualStart: true, Partitioner: ManualPartitioner(),
			// About ten messages per request: dozens of batches per partition.
			MaxRequestSize: minRequestSize,
		})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		pad := strings.Repeat("x", 40)
		for i := range n {
			require.NoError(t, p.Produce(ctx, Message{Value: []byte(fmt.Sprintf("value-%d-%s", i, pad)), Partition: int32(i % 2)}))
		}
		require.NoError(t, p.Close())

		all := reports()
		require.Len(t, all, n, "one report per message")
		seen := map[string]bool{}
		for _, r := range all {
			require.ErrorIs(t, r.Err, protocol.ErrRequestTimedOut)
			require.False(t, seen[string(r.Message.Value)], "reported twice: %s", r.Message.Value)
			seen[string(r.Message.Value)] = true
		}
		tries := map[int32]int{}
		for _, e := range c.produced() {
			tries[e.Partition]++
		}
		assert.Equal(t, map[int32]int{0: maxRetries + 1, 1: maxRetries + 1}, tries)
	})
}

// TestProducerCloseDeadBroker: the only broker's port is closed after the
// producer learned the topic. Close reports every message once, failed.
func TestProducerCloseDeadBroker(t *testing.T) {
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		c, topic := pfSetup(t, h, 1, 3)
		p := newTestProducer(t, topic, ProducerConfig{
			DeliveryReports: true, MaxRetries: 3, RetryBackoff: time.Millisecond,
			ManualStart: true, MaxRequestSize: minRequestSize,
		})
		reports := collectReports(t, p)
		ctx := testCtx(t)
		const n = 300
		for i := range n {
			require.NoError(t, p.Produce(ctx, Message{Value: value(i)}))
		}
		c.brokers[0].close()
		require.NoError(t, p.Close())
		all := reports()
		require.Len(t, all, n)
		seen := make([]bool, n)
		for _, r := range all {
			require.Error(t, r.Err)
			i := indexOf(t, r.Message.Value)
			require.False(t, seen[i], "message %d reported twice", i)
			seen[i] = true
		}
		assert.Empty(t, c.produced())
	})
}
