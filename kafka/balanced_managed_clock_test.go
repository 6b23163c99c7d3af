package kafka

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/fakeclock"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// apiCounter is a handler that counts the request frames of one API its
// connections write.
type apiCounter struct {
	handler.Handler
	key int16
	n   atomic.Int64
}

func (a *apiCounter) Dial(ctx context.Context, cfg handler.DialConfig) (handler.Conn, error) {
	c, err := a.Handler.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, a: a}, nil
}

type countingConn struct {
	handler.Conn
	a *apiCounter
}

// Write counts the frames of the API among b's whole frames.
func (c *countingConn) Write(b []byte) error {
	for i := 0; i+6 <= len(b); {
		if int16(binary.BigEndian.Uint16(b[i+4:])) == c.a.key {
			c.a.n.Add(1)
		}
		i += 4 + int(binary.BigEndian.Uint32(b[i:]))
	}
	return c.Conn.Write(b)
}

// A managed member heartbeats every HeartbeatInterval of the handler's
// clock: on a virtual clock over a real broker, not a nanosecond early.
func TestHeartbeatIntervalOnVirtualClock(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		admin := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		name := uniqueTopic(t, "heartbeat-clock")
		p := makeTopic(t, ctx, admin, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}).Partitions()[0]
		produceBatch(t, ctx, p, protocol.CompressionNone, time.Now().UnixMilli(), "one")
		group := name + "-group"
		// Settles the coordinator, so joining needs no backoff.
		_, err := admin.Cluster().FetchGroupOffsets(ctx, group, map[string][]int32{name: {0}})
		require.NoError(t, err)

		fc := fakeclock.New(h)
		beats := &apiCounter{Handler: fc, key: protocol.APIKeyHeartbeat}
		cl := newTestClient(t, ctx, beats, Config{Hosts: tc.Bootstrap()})
		topic, err := cl.Topic(ctx, name)
		require.NoError(t, err)
		const interval = 2 * time.Second
		c, err := topic.BalancedConsumer(group, BalancedConsumerConfig{
			Managed: true, HeartbeatInterval: interval, SessionTimeout: 30 * time.Second,
		})
		require.NoError(t, err)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = c.Stop(ctx)
		})
		m, err := c.Consume(ctx) // joined, assigned, fetching
		require.NoError(t, err)
		assert.Equal(t, "one", string(m.Value))

		for round := range 2 {
			require.Equal(t, interval, nextDue(t, fc, interval), "the heartbeat timer")
			n := beats.n.Load()
			fc.Advance(interval - time.Nanosecond)
			assert.Equal(t, n, beats.n.Load(), "round %d: a heartbeat before the interval ended", round)
			fc.Advance(time.Nanosecond)
			eventually(t, ctx, h, "the heartbeat", func() bool { return beats.n.Load() == n+1 })
		}
	})
}
