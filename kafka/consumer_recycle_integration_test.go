package kafka

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// TestSimpleConsumerRecycledFramesKeepMessages holds every message while
// the consumer reads on, so that response frames are recycled and read
// into again behind the held messages, and only then checks them: no
// delivered message may alias a recycled frame. The topic has runs of lz4
// batches only (responses the consumer recycles) and runs mixing lz4 with
// uncompressed batches (responses its messages alias), of incompressible
// values so that every response is large enough to come from the pool.
func TestSimpleConsumerRecycledFramesKeepMessages(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "recycle"), Partitions: 1, ReplicationFactor: 1})
		p := topic.Partition(0)

		rng := rand.New(rand.NewPCG(1, 2))
		value := func() string {
			b := make([]byte, 4096)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			return string(b)
		}
		want := map[int64]sent{}
		ts := time.Now().Add(-time.Hour).UnixMilli()
		for i := range 48 {
			codec := protocol.CompressionLZ4
			if i >= 24 && i%3 == 0 {
				codec = protocol.CompressionNone
			}
			values := make([]string, 16)
			for j := range values {
				values[j] = value()
			}
			for off, s := range produceBatch(t, ctx, p, codec, ts, values...) {
				want[off] = s
			}
		}

		// 256 KiB per fetch: about a dozen responses of the same pooled size.
		c := newConsumer(t, topic, ConsumerConfig{FetchMessageMaxBytes: 256 << 10, ConsumerTimeout: 5 * time.Second})
		msgs := consumeMessages(t, ctx, c, len(want))
		requireNoMore(t, ctx, c)
		for _, m := range msgs {
			s, ok := want[m.Offset]
			require.True(t, ok, "unexpected offset %d", m.Offset)
			require.Equal(t, s.value, string(m.Value), "value of offset %d changed after delivery", m.Offset)
			require.Equal(t, s.key, string(m.Key), "key of offset %d", m.Offset)
			require.Equal(t, s.headers, m.Headers, fmt.Sprintf("headers of offset %d", m.Offset))
		}
		require.NoError(t, c.Stop(ctx))
	})
}

// TestSimpleConsumerReclaimedFramesKeepMessages reads an uncompressed
// topic, whose messages alias their response frames, keeping the messages
// of every fourth batch and dropping the rest, and collects garbage as it
// goes, while later responses are read into pooled buffers. The messages
// kept must be untouched: no frame a message points into is read into
// again.
func TestSimpleConsumerReclaimedFramesKeepMessages(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "reclaim"), Partitions: 1, ReplicationFactor: 1})
		p := topic.Partition(0)

		rng := rand.New(rand.NewPCG(3, 4))
		value := func() string {
			b := make([]byte, 4096)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			return string(b)
		}
		want := map[int64]sent{}
		keep := map[int64]bool{}
		ts := time.Now().Add(-time.Hour).UnixMilli()
		for i := range 64 {
			values := make([]string, 16)
			for j := range values {
				values[j] = value()
			}
			for off, s := range produceBatch(t, ctx, p, protocol.CompressionNone, ts, values...) {
				want[off] = s
				keep[off] = i%4 == 0
			}
		}

		// 128 KiB per fetch: many responses of one pooled size.
		c := newConsumer(t, topic, ConsumerConfig{FetchMessageMaxBytes: 128 << 10, ConsumerTimeout: 5 * time.Second})
		var kept []*Message
		for n := 0; n < len(want); n++ {
			m := consumeMessages(t, ctx, c, 1)[0]
			if keep[m.Offset] {
				kept = append(kept, m)
			}
			if n%32 == 31 {
				runtime.GC()
			}
		}
		requireNoMore(t, ctx, c)
		require.Len(t, kept, len(want)/4)
		for _, m := range kept {
			s := want[m.Offset]
			require.Equal(t, s.value, string(m.Value), "value of offset %d changed after delivery", m.Offset)
			require.Equal(t, s.key, string(m.Key), "key of offset %d", m.Offset)
			require.Equal(t, s.headers, m.Headers, fmt.Sprintf("headers of offset %d", m.Offset))
		}
		require.NoError(t, c.Stop(ctx))
	})
}
