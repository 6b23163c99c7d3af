package kafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allBalancedKinds = []balancedKind{managedKRaft, managedZKMode, zkGroup}

// TestBalancedConsumerSplit has three members split a 10-partition topic,
// each partition to one member, and consume each message exactly once
// (nothing moves while the messages are consumed); then one stops cleanly
// and the other two split the topic and consume what follows.
func TestBalancedConsumerSplit(t *testing.T) {
	forEachKind(t, allBalancedKinds, 10, func(t *testing.T, env *groupEnv) {
		a := env.consumer(t, BalancedConsumerConfig{})
		b := env.consumer(t, BalancedConsumerConfig{})
		c := env.consumer(t, BalancedConsumerConfig{})
		owners := env.waitSplit(t, a, b, c)

		col := newCollector(t)
		for _, x := range []*BalancedConsumer{a, b, c} {
			col.run(env.ctx, x)
		}
		first := env.produceRound(t, "first", 5)
		col.waitAll(t, env, first)
		for id := range first {
			assert.Equal(t, 1, col.count(id), "%v", id)
		}
		for _, x := range []*BalancedConsumer{a, b, c} {
			for _, m := range col.messages(x) {
				require.Same(t, x, owners[m.Partition], "partition %d delivered by a member that does not own it", m.Partition)
			}
		}

		stopConsumer(t, env.ctx, c)
		owners = env.waitSplit(t, a, b)
		second := env.produceRound(t, "second", 5)
		col.waitAll(t, env, second)
		for id := range second {
			assert.Equal(t, 1, col.count(id), "%v", id)
		}
		for _, x := range []*BalancedConsumer{a, b} {
			assert.NotEmpty(t, x.Partitions())
			for _, m := range col.messages(x) {
				if _, ok := second[msgID{m.Partition, m.Offset}]; ok {
					require.Same(t, x, owners[m.Partition])
				}
			}
		}
		assert.NotEmpty(t, a.MemberID())
		assert.NotEqual(t, a.MemberID(), b.MemberID())
	})
}
