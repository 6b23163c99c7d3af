package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// TestSimpleConsumerBrokerKilled kills the leader of a partition of a
// replicated topic while a consumer is a third of the way through it.
// Leadership moves to the other replicas; the consumer follows it and
// delivers every message exactly once, in order per partition.
func TestSimpleConsumerBrokerKilled(t *testing.T) {
	tc := testcluster.ForTest(t, testcluster.KRaftTriple.QuickFailover())
	for _, name := range []string{"goroutine", "eventloop"} {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			h := newHandler(t, name)
			cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
			topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "failover"), Partitions: 3, ReplicationFactor: 3})
			const perPartition = 1500
			for _, p := range topic.Partitions() {
				for i := 0; i < perPartition; i += 100 {
					produceBatch(t, ctx, p, protocol.CompressionLZ4, time.Now().UnixMilli(), seqValues(fmt.Sprint("p", p.ID()), i, i+100)...)
				}
			}
			total := 3 * perPartition

			// Small fetches and a short queue, so that most of the topic is
			// still on the brokers when one dies.
			c := newConsumer(t, topic, ConsumerConfig{FetchMessageMaxBytes: 4 << 10, QueuedMaxMessages: 50})
			msgs := consumeMessages(t, ctx, c, total/3)

			victim := topic.Partition(0).LeaderID()
			t.Logf("killing broker %d, leader of partition 0", victim)
			require.NoError(t, tc.KillBroker(victim))
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				require.NoError(t, tc.RestartBroker(ctx, victim))
			})

			msgs = append(msgs, consumeMessages(t, ctx, c, total-len(msgs))...)
			short, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			m, err := c.Consume(short)
			require.ErrorIs(t, err, context.DeadlineExceeded, "no message after the last: got %v", m)

			byPart := requireInOrder(t, msgs)
			for _, p := range topic.Partitions() {
				offs := byPart[p.ID()]
				require.Len(t, offs, perPartition, "partition %d", p.ID())
				assert.Equal(t, int64(0), offs[0])
				assert.Equal(t, int64(perPartition-1), offs[len(offs)-1], "consecutive: none lost, none twice")
			}
			for _, m := range msgs {
				require.Equal(t, fmt.Sprintf("p%d-%d", m.Partition, m.Offset), string(m.Value))
			}
			assert.NotEqual(t, victim, topic.Partition(0).LeaderID(), "leadership moved")
		})
	}
}
