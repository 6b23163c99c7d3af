package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// TestManagedConsumerCoordinatorDies kills the group's coordinator broker
// (kill -9) in a three-broker KRaft cluster whose offsets topic has three
// replicas. The members find the new coordinator, keep their membership or
// rejoin, and consume every message produced before and after; commits
// reach the new coordinator.
func TestManagedConsumerCoordinatorDies(t *testing.T) {
	tc := testcluster.ForTest(t, testcluster.KRaftTriple.QuickFailover())
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newGroupEnv(t, managedKRaft, tc, h, 10, 3)
		a := env.consumer(t, BalancedConsumerConfig{})
		b := env.consumer(t, BalancedConsumerConfig{})
		env.waitSplit(t, a, b)
		col := newCollector(t)
		col.run(env.ctx, a)
		col.run(env.ctx, b)
		first := env.produceRound(t, "first", 5)
		col.waitAll(t, env, first)
		require.NoError(t, a.CommitOffsets(env.ctx))
		require.NoError(t, b.CommitOffsets(env.ctx))

		coord, err := env.cl.Cluster().GroupCoordinator(env.ctx, env.group)
		require.NoError(t, err)
		id := coord.ID()
		require.NoError(t, tc.KillBroker(id))
		t.Cleanup(func() {
			// The next handler's run needs all three brokers again.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			require.NoError(t, tc.RestartBroker(ctx, id))
		})

		second := env.produceRound(t, "second", 5)
		col.waitAll(t, env, second)
		env.waitSplit(t, a, b)
		eventually(t, env.ctx, h, "commits to the new coordinator", func() bool {
			return a.CommitOffsets(env.ctx) == nil && b.CommitOffsets(env.ctx) == nil
		})
		newCoord, err := env.cl.Cluster().GroupCoordinator(env.ctx, env.group)
		require.NoError(t, err)
		assert.NotEqual(t, id, newCoord.ID())
		// The end of each partition: the test's retried produce requests
		// may have written a batch twice while the leaders moved.
		latest, err := env.topic.LatestOffsets(env.ctx)
		require.NoError(t, err)
		for p, off := range env.committed(t) {
			assert.Equal(t, latest[p], off, "partition %d", p)
		}
		for id := range first {
			assert.Equal(t, 1, col.count(id), "%v: committed before the failover", id)
		}
	})
}

// TestManagedConsumerMissesGenerations silences a member's heartbeats
// until the coordinator drops it and the group rebalances without it. When
// it speaks again it learns it is unknown, rejoins as a new member and
// gets its share back, without the application doing anything.
func TestManagedConsumerMissesGenerations(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft}, 10, func(t *testing.T, env *groupEnv) {
		a := env.consumer(t, BalancedConsumerConfig{})
		b := env.consumer(t, BalancedConsumerConfig{})
		env.waitSplit(t, a, b)
		before := a.MemberID()
		ma := a.member.(*managedMembership)

		// Heartbeats wait for the group connection's lock: holding it
		// silences a without touching anything else.
		require.NoError(t, ma.io.LockContext(env.ctx))
		eventually(t, env.ctx, env.h, "b alone", func() bool { return len(b.Partitions()) == 10 })
		ma.io.Unlock()

		owners := env.waitSplit(t, a, b)
		assert.NotEqual(t, before, a.MemberID(), "rejoined as a new member")
		col := newCollector(t)
		col.run(env.ctx, a)
		col.run(env.ctx, b)
		round := env.produceRound(t, "after", 2)
		col.waitAll(t, env, round)
		for _, m := range col.messages(a) {
			assert.Same(t, a, owners[m.Partition])
		}
	})
}
