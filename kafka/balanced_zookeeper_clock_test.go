package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/fakeclock"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/internal/zookeeper"
	"github.com/gregorkafka/gregor/protocol"
)

// A ZooKeeper member that finds its partition owned by another retries
// after RebalanceBackoff times the attempt, on the handler's clock: checked
// on a virtual clock over real ZooKeeper and Kafka.
func TestZooKeeperRebalanceBackoffOnVirtualClock(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		admin := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		name := uniqueTopic(t, "zk-backoff-clock")
		p := makeTopic(t, ctx, admin, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}).Partitions()[0]
		produceBatch(t, ctx, p, protocol.CompressionNone, time.Now().UnixMilli(), "one")
		group := name + "-group"
		// Settles the group's coordinator (offsets are kept in Kafka), so
		// the consumer needs no coordinator backoff on its virtual clock.
		_, err := admin.Cluster().FetchGroupOffsets(ctx, group, map[string][]int32{name: {0}})
		require.NoError(t, err)

		// Another member holds partition 0, through a session of the test's.
		zc, err := zookeeper.ParseConnect(tc.ZooKeeperConnect())
		require.NoError(t, err)
		other := dialZooKeeper(t, tc.ZooKeeperConnect())
		paths := zookeeper.NewPaths(zc.Chroot, group, name, "other")
		require.NoError(t, zookeeper.EnsurePath(other, paths.Owners))
		node := fmt.Sprintf("%s/%d-0", paths.Owners, p.Leader().ID())
		_, err = other.Create(node, []byte("other"), zk.FlagEphemeral, zookeeper.ACL)
		require.NoError(t, err)

		fc := fakeclock.New(h)
		cl := newTestClient(t, ctx, fc, Config{Hosts: tc.Bootstrap()})
		topic, err := cl.Topic(ctx, name)
		require.NoError(t, err)
		const backoff = time.Second
		c, err := topic.BalancedConsumer(group, BalancedConsumerConfig{
			ZooKeeperConnect: tc.ZooKeeperConnect(),
			// Long, so that no ZooKeeper read deadline falls inside the few
			// virtual seconds the test advances.
			ZooKeeperTimeout: 30 * time.Second,
			RebalanceBackoff: backoff, RebalanceMaxRetries: 10,
		})
		require.NoError(t, err)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = c.Stop(ctx)
		})

		// Attempt 1 fails on the claim and waits one backoff, attempt 2 two.
		require.Equal(t, backoff, nextDue(t, fc, backoff), "backoff after attempt 1")
		fc.Advance(backoff)
		require.Equal(t, 2*backoff, nextDue(t, fc, 2*backoff), "backoff after attempt 2")
		fc.Advance(2*backoff - time.Nanosecond)
		left, ok := fc.Next()
		require.True(t, ok)
		assert.Equal(t, time.Nanosecond, left, "attempt 3 waits out the whole backoff")

		// The other member lets go; attempt 3 claims the partition.
		require.NoError(t, other.Delete(node, -1))
		fc.Advance(time.Nanosecond)
		m, err := c.Consume(ctx)
		require.NoError(t, err)
		assert.Equal(t, "one", string(m.Value))
	})
}
