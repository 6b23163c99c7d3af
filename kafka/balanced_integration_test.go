package kafka

import (
	"context"
	"testing"

	"github.com/go-zookeeper/zk"

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

		// Without AutoCommit no position reached was committed: not at the
		// rebalances, not when c stopped; only the starting offsets, which
		// a consumer commits when a partition starts at AutoOffsetReset.
		// So c's partitions were consumed again from the start by their
		// new owners.
		for p, off := range env.committed(t) {
			assert.Equal(t, int64(0), off, "partition %d", p)
		}
		for id := range first {
			if ownedBy(col, c, id) {
				assert.Equal(t, 2, col.count(id), "%v: consumed by c, then again by its successor", id)
			}
		}
	})
}

// ownedBy reports whether c delivered message id.
func ownedBy(col *collector, c Consumer, id msgID) bool {
	for _, m := range col.messages(c) {
		if m.Partition == id.p && m.Offset == id.off {
			return true
		}
	}
	return false
}

// TestBalancedConsumerHandover stops a member cleanly with AutoCommit on:
// it commits what it delivered before leaving, so its successor goes on
// from there and every message is consumed exactly once.
func TestBalancedConsumerHandover(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft, zkGroup}, 10, func(t *testing.T, env *groupEnv) {
		cfg := BalancedConsumerConfig{ConsumerConfig: ConsumerConfig{AutoCommit: true}}
		a := env.consumer(t, cfg)
		b := env.consumer(t, cfg)
		env.waitSplit(t, a, b)
		col := newCollector(t)
		col.run(env.ctx, a)
		col.run(env.ctx, b)
		first := env.produceRound(t, "first", 5)
		col.waitAll(t, env, first)

		stopConsumer(t, env.ctx, a)
		env.waitSplit(t, b)
		second := env.produceRound(t, "second", 5)
		col.waitAll(t, env, second)
		for _, round := range []map[msgID]string{first, second} {
			for id := range round {
				assert.Equal(t, 1, col.count(id), "%v", id)
			}
		}
		require.NoError(t, b.CommitOffsets(env.ctx))
		for p, co := range env.committedOffsets(t) {
			assert.Equal(t, int64(10), co.Offset, "partition %d", p)
			if env.kind.managed {
				// Committed as the member: the coordinator checked the
				// member id and generation sent with it.
				assert.Contains(t, co.Metadata, `"consumer_id":"`+b.MemberID()+`"`, "partition %d", p)
			}
		}
	})
}

// TestBalancedConsumerMemberDies kills a member without letting it leave:
// its connections (and ZooKeeper session) close abruptly. The survivor
// takes its partitions over once the group notices; every message is
// consumed at least once, and the only duplicates are the messages the dead
// member delivered after its last commit.
func TestBalancedConsumerMemberDies(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft, zkGroup}, 10, func(t *testing.T, env *groupEnv) {
		victimClient, victimTopic := env.newVictimClient(t)
		victim := env.consumerOn(t, victimTopic, BalancedConsumerConfig{})
		survivor := env.consumer(t, BalancedConsumerConfig{})
		owners := env.waitSplit(t, victim, survivor)
		var victimZK *zk.Conn // closing the client leaves a ZooKeeper session open
		if !env.kind.managed {
			victimZK = victim.member.(*zkMembership).m.Session()
		}

		col := newCollector(t)
		victimCtx, killVictim := context.WithCancel(env.ctx)
		col.run(victimCtx, victim)
		col.run(env.ctx, survivor)
		first := env.produceRound(t, "first", 5)
		col.waitAll(t, env, first)
		require.NoError(t, victim.CommitOffsets(env.ctx))
		require.NoError(t, survivor.CommitOffsets(env.ctx))
		second := env.produceRound(t, "second", 5)
		col.waitAll(t, env, second)

		// The kill: no LeaveGroup, no commit, no node deleted by the member.
		killVictim()
		if victimZK != nil {
			victimZK.Close()
		}
		require.NoError(t, victimClient.Close())

		env.waitSplit(t, survivor)
		third := env.produceRound(t, "third", 5)
		col.waitAll(t, env, third)

		for _, round := range []map[msgID]string{first, second, third} {
			for id := range round {
				want := 1
				if owners[id.p] == victim {
					if _, ok := second[id]; ok {
						want = 2 // delivered by the victim after its commit, then by the survivor
					}
				}
				assert.Equal(t, want, col.count(id), "%v", id)
			}
		}
	})
}
