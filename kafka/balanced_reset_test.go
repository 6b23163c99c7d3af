package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBalancedConsumerResetOffsets: ResetOffsets moves owned partitions
// and commits the new positions, also from AfterAssignCallback before
// anything of a new partition is delivered; a partition not owned fails.
func TestBalancedConsumerResetOffsets(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft}, 2, func(t *testing.T, env *groupEnv) {
		env.produceRound(t, "reset", 3) // offsets 0, 1, 2 of each partition
		var c *BalancedConsumer
		ready := make(chan struct{})
		var assignErr error
		c = env.consumer(t, BalancedConsumerConfig{
			ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest, ManualStart: true},
			AfterAssignCallback: func(ctx context.Context, ps []int32) {
				<-ready
				targets := map[int32]OffsetTarget{}
				for _, p := range ps {
					targets[p] = OffsetAt(1)
				}
				assignErr = c.ResetOffsets(ctx, targets)
			},
		})
		close(ready)
		require.NoError(t, c.Start(env.ctx))
		require.NoError(t, assignErr)
		seen := map[int32][]int64{}
		for range 4 {
			m, err := c.Consume(env.ctx)
			require.NoError(t, err)
			seen[m.Partition] = append(seen[m.Partition], m.Offset)
		}
		assert.Equal(t, map[int32][]int64{0: {1, 2}, 1: {1, 2}}, seen, "started where the callback moved them")

		require.NoError(t, c.ResetOffsets(env.ctx, map[int32]OffsetTarget{0: OffsetAt(0)}))
		assert.Equal(t, int64(0), env.committed(t)[0], "the reset is committed")
		m, err := c.Consume(env.ctx)
		require.NoError(t, err)
		assert.Equal(t, msgID{0, 0}, msgID{m.Partition, m.Offset})

		err = c.ResetOffsets(env.ctx, map[int32]OffsetTarget{7: OffsetAt(0)})
		assert.ErrorIs(t, err, ErrPartitionNotConsumed)
		var perr *PartitionError
		require.ErrorAs(t, err, &perr)
		assert.Equal(t, int32(7), perr.Partition)

		require.NoError(t, c.Stop(env.ctx))
		assert.ErrorIs(t, c.ResetOffsets(env.ctx, nil), ErrConsumerStopped)
	})
}
