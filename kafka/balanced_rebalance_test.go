package kafka

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBalancedConsumerIdleMemberTakesOver has more members than
// partitions: the extra one owns nothing, times out in Consume like any
// consumer without messages, and takes a partition over when a member
// leaves.
func TestBalancedConsumerIdleMemberTakesOver(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft, zkGroup}, 2, func(t *testing.T, env *groupEnv) {
		cfg := BalancedConsumerConfig{ConsumerConfig: ConsumerConfig{ConsumerTimeout: 300 * time.Millisecond, AutoCommit: true}}
		members := []*BalancedConsumer{env.consumer(t, cfg), env.consumer(t, cfg), env.consumer(t, cfg)}
		env.waitSplit(t, members...)
		var idle *BalancedConsumer
		var active []*BalancedConsumer
		for _, m := range members {
			if len(m.Partitions()) == 0 {
				idle = m
			} else {
				active = append(active, m)
			}
		}
		require.NotNil(t, idle)
		_, err := idle.Consume(env.ctx)
		require.ErrorIs(t, err, ErrConsumerTimeout)
		assert.Empty(t, idle.HeldOffsets())
		assert.NoError(t, idle.CommitOffsets(env.ctx), "nothing to commit")

		stopConsumer(t, env.ctx, active[0])
		env.waitSplit(t, idle, active[1])
		taken := idle.Partitions()
		require.Len(t, taken, 1)

		col := newCollector(t)
		col.run(env.ctx, idle)
		col.run(env.ctx, active[1])
		round := env.produceRound(t, "after", 3)
		col.waitAll(t, env, round)
		for _, m := range col.messages(idle) {
			assert.Equal(t, taken[0], m.Partition)
		}
		assert.Len(t, col.messages(idle), 3)
	})
}

// TestBalancedConsumerBlockedConsume leaves a Consume waiting on an empty
// topic while a second member joins: the rebalance completes around it
// (pykafka deadlocked here), and the waiting Consume then returns a message
// of a partition its consumer still owns.
func TestBalancedConsumerBlockedConsume(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft, zkGroup}, 10, func(t *testing.T, env *groupEnv) {
		a := env.consumer(t, BalancedConsumerConfig{})
		env.waitSplit(t, a)
		type result struct {
			m   *Message
			err error
		}
		done := make(chan result, 1)
		go func() {
			m, err := a.Consume(env.ctx)
			done <- result{m, err}
		}()
		b := env.consumer(t, BalancedConsumerConfig{})
		env.waitSplit(t, a, b)
		select {
		case r := <-done:
			t.Fatalf("Consume returned during the rebalance: %v, %v", r.m, r.err)
		default:
		}
		p := env.topic.Partition(a.Partitions()[0])
		off := env.produceTo(t, p, recordsOf(t, "wake-up"))
		r := <-done
		require.NoError(t, r.err)
		assert.Equal(t, p.ID(), r.m.Partition)
		assert.Equal(t, off, r.m.Offset)
		assert.Equal(t, "wake-up", string(r.m.Value))
	})
}

// TestBalancedConsumerRebalanceCallback checks the callback's view of
// offsets and that the offsets it returns are where consumption resumes.
func TestBalancedConsumerRebalanceCallback(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft, zkGroup}, 4, func(t *testing.T, env *groupEnv) {
		env.produceRound(t, "old", 5)
		// A first member reads everything and commits offset 5 everywhere.
		first := env.consumer(t, BalancedConsumerConfig{ConsumerConfig: ConsumerConfig{AutoCommit: true}})
		for range 20 {
			_, err := first.Consume(env.ctx)
			require.NoError(t, err)
		}
		stopConsumer(t, env.ctx, first)

		type call struct{ old, new map[int32]int64 }
		var mu sync.Mutex
		var calls []call
		cb := func(old, new map[int32]int64) map[int32]OffsetTarget {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{old, new})
			if len(calls) > 1 {
				return nil
			}
			targets := map[int32]OffsetTarget{}
			for p := range new {
				targets[p] = OffsetAt(2) // back before the commit
			}
			return targets
		}
		cfg := BalancedConsumerConfig{PostRebalanceCallback: cb,
			ConsumerConfig: ConsumerConfig{ConsumerTimeout: 500 * time.Millisecond}}
		a := env.consumer(t, cfg)
		got := map[int32][]int64{}
		for range 12 {
			m, err := a.Consume(env.ctx)
			require.NoError(t, err)
			got[m.Partition] = append(got[m.Partition], m.Offset)
		}
		_, err := a.Consume(env.ctx)
		require.ErrorIs(t, err, ErrConsumerTimeout)
		for p := range int32(4) {
			assert.Equal(t, []int64{2, 3, 4}, got[p], "partition %d", p)
		}
		mu.Lock()
		require.Len(t, calls, 1)
		assert.Empty(t, calls[0].old)
		assert.Equal(t, map[int32]int64{0: 4, 1: 4, 2: 4, 3: 4}, calls[0].new, "held offsets: one before the committed 5")
		mu.Unlock()

		// A second member takes half; a keeps its positions in the rest.
		b := env.consumer(t, BalancedConsumerConfig{})
		env.waitSplit(t, a, b)
		eventually(t, env.ctx, env.h, "the second callback", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(calls) == 2
		})
		mu.Lock()
		assert.Equal(t, map[int32]int64{0: 4, 1: 4, 2: 4, 3: 4}, calls[1].old)
		assert.Len(t, calls[1].new, 2)
		for p, off := range calls[1].new {
			assert.Equal(t, int64(4), off, "partition %d kept its position", p)
		}
		mu.Unlock()
	})
}

// TestManagedConsumerStaticMembership restarts a static member (one with
// a GroupInstanceID): it does not leave the group on Stop, and its
// successor with the same instance id gets the same partitions back while
// the other member keeps its own throughout.
func TestManagedConsumerStaticMembership(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft}, 6, func(t *testing.T, env *groupEnv) {
		a := env.consumer(t, BalancedConsumerConfig{GroupInstanceID: env.group + "-a"})
		b := env.consumer(t, BalancedConsumerConfig{GroupInstanceID: env.group + "-b"})
		env.waitSplit(t, a, b)
		aParts, bParts := a.Partitions(), b.Partitions()
		generation := b.member.generation()
		genBefore, _ := generation()
		stopConsumer(t, env.ctx, a)

		a2 := env.consumer(t, BalancedConsumerConfig{GroupInstanceID: env.group + "-a"})
		require.NoError(t, a2.Start(env.ctx))
		env.waitSplit(t, a2, b)
		assert.Equal(t, aParts, a2.Partitions())
		assert.Equal(t, bParts, b.Partitions())
		genAfter, _ := generation()
		assert.Equal(t, genBefore, genAfter, "no rebalance: b stayed in its generation")
	})
}

// TestBalancedConsumerCommitOnRebalance: with CommitOnRebalance and
// AutoCommit off, a rebalance commits the positions reached, as pykafka
// does, and the member taking a partition over resumes there.
func TestBalancedConsumerCommitOnRebalance(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft, zkGroup}, 2, func(t *testing.T, env *groupEnv) {
		env.produceRound(t, "r", 4)
		a := env.consumer(t, BalancedConsumerConfig{CommitOnRebalance: true})
		want := map[int32]int64{}
		for range 5 {
			m, err := a.Consume(env.ctx)
			require.NoError(t, err)
			want[m.Partition] = m.Offset + 1
		}
		require.Len(t, want, 2, "both partitions consumed from")

		b := env.consumer(t, BalancedConsumerConfig{CommitOnRebalance: true,
			ConsumerConfig: ConsumerConfig{ConsumerTimeout: 300 * time.Millisecond}})
		env.waitSplit(t, a, b)
		assert.Equal(t, want, env.committed(t), "the positions reached, committed by the rebalance")
		// b resumes its partition right after what a delivered.
		taken := b.Partitions()[0]
		m, err := b.Consume(env.ctx)
		require.NoError(t, err)
		assert.Equal(t, taken, m.Partition)
		assert.Equal(t, want[taken], m.Offset)
	})
}
