package kafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSimpleConsumerPause: a paused partition is neither delivered nor
// fetched while the others go on, and resumes where it stopped.
func TestSimpleConsumerPause(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft}, 2, func(t *testing.T, env *groupEnv) {
		env.produceRound(t, "first", 2) // offsets 0 and 1 of each
		sc, err := env.topic.SimpleConsumer(ConsumerConfig{ConsumerGroup: env.group, AutoOffsetReset: OffsetEarliest})
		require.NoError(t, err)
		t.Cleanup(func() { _ = sc.Stop(env.ctx) })
		require.NoError(t, sc.Pause(0))
		assert.Equal(t, []int32{0}, sc.Paused())
		var err9 *PartitionError
		require.ErrorAs(t, sc.Pause(9), &err9)
		assert.ErrorIs(t, err9, ErrPartitionNotConsumed)

		env.produceRound(t, "second", 1) // offset 2 of each
		for want := range int64(3) {
			m, err := sc.Consume(env.ctx)
			require.NoError(t, err)
			assert.Equal(t, msgID{1, want}, msgID{m.Partition, m.Offset}, "only the partition not paused")
		}
		require.NoError(t, sc.Resume(0))
		assert.Empty(t, sc.Paused())
		for want := range int64(3) {
			m, err := sc.Consume(env.ctx)
			require.NoError(t, err)
			assert.Equal(t, msgID{0, want}, msgID{m.Partition, m.Offset}, "resumed where it stopped")
		}
	})
}

// TestBalancedConsumerPause: pauses apply to partitions owned and survive a
// cooperative rebalance that leaves them with the member.
func TestBalancedConsumerPause(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft}, 4, func(t *testing.T, env *groupEnv) {
		cfg := BalancedConsumerConfig{Assignor: CooperativeStickyAssignor(),
			ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest}}
		a := env.consumer(t, cfg)
		env.waitSplit(t, a)
		require.NoError(t, a.Pause(0, 1, 2))
		assert.Equal(t, []int32{0, 1, 2}, a.Paused())
		round := env.produceRound(t, "paused", 2)
		for range 2 {
			m, err := a.Consume(env.ctx)
			require.NoError(t, err)
			assert.Equal(t, int32(3), m.Partition, "only the partition not paused")
		}

		b := env.consumer(t, cfg)
		env.waitSplit(t, a, b)
		kept := a.Paused()
		assert.Subset(t, []int32{0, 1, 2}, kept)
		assert.Subset(t, a.Partitions(), kept, "pauses only of partitions owned")
		assert.Len(t, kept, len(a.Partitions())-btoi(containsID(a.Partitions(), 3)), "kept partitions stay paused")
		var perr *PartitionError
		require.ErrorAs(t, a.Pause(b.Partitions()[0]), &perr, "not a's partition")

		col := newCollector(t)
		col.run(env.ctx, b)
		theirs := map[msgID]string{}
		for id, v := range round {
			if containsID(b.Partitions(), id.p) {
				theirs[id] = v
			}
		}
		col.waitAll(t, env, theirs)
		require.NoError(t, a.Resume(kept...))
		col.run(env.ctx, a)
		rest := map[msgID]string{} // partition 3's were read above, unless it moved
		for id, v := range round {
			if id.p != 3 || containsID(b.Partitions(), 3) {
				rest[id] = v
			}
		}
		col.waitAll(t, env, rest)
	})
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
