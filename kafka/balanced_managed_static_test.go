package kafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestManagedStaticMemberBounce bounces a static member (KIP-345) of a
// group using the sticky assignor: it does not leave on Stop, its
// successor with the same instance id gets the same partitions in the same
// generation, the coordinator lists it under its instance id, and its
// offset commits, which carry the instance id, are accepted.
func TestManagedStaticMemberBounce(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft}, 6, func(t *testing.T, env *groupEnv) {
		cfg := func(id string) BalancedConsumerConfig {
			return BalancedConsumerConfig{GroupInstanceID: env.group + "-" + id, Assignor: StickyAssignor()}
		}
		a, b := env.consumer(t, cfg("a")), env.consumer(t, cfg("b"))
		env.waitSplit(t, a, b)
		aParts, bParts := a.Partitions(), b.Partitions()
		genBefore, _ := b.member.generation()()
		stopConsumer(t, env.ctx, a)

		a2 := env.consumer(t, cfg("a"))
		env.waitSplit(t, a2, b)
		assert.Equal(t, aParts, a2.Partitions())
		assert.Equal(t, bParts, b.Partitions())
		genA2, _ := a2.member.generation()()
		genB, _ := b.member.generation()()
		assert.Equal(t, genBefore, genB, "no rebalance: b stayed in its generation")
		assert.Equal(t, genBefore, genA2, "a2 rejoined into the same generation")

		desc, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
		require.NoError(t, err)
		var ids []string
		for _, m := range desc.Members {
			ids = append(ids, m.GroupInstanceID)
		}
		assert.ElementsMatch(t, []string{env.group + "-a", env.group + "-b"}, ids)

		env.produceRound(t, "static", 1)
		for range aParts {
			_, err := a2.Consume(env.ctx)
			require.NoError(t, err)
		}
		require.NoError(t, a2.CommitOffsets(env.ctx))
	})
}
