package kafka

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBeforeRevokeCallbackBound: the callback sees the partitions owned and
// a context that ends after RebalanceTimeout; it runs once per rebalance,
// not again when a failed join pauses the consumer again.
func TestBeforeRevokeCallbackBound(t *testing.T) {
	topic := groupTestTopic(t, 3)
	var calls [][]int32
	var ctxErr error
	b, err := topic.BalancedConsumer("g", BalancedConsumerConfig{
		RebalanceTimeout: 50 * time.Millisecond,
		ConsumerConfig:   ConsumerConfig{ManualStart: true},
		BeforeRevokeCallback: func(ctx context.Context, parts []int32) {
			calls = append(calls, parts)
			<-ctx.Done() // a callback that would take too long
			ctxErr = ctx.Err()
		},
	})
	require.NoError(t, err)
	inner := newSimpleConsumer(topic, ConsumerConfig{Partitions: []int32{0, 2}})
	t.Cleanup(func() { _ = inner.Stop(context.Background()) })
	resumeOne(b, inner, []int32{0, 2})

	require.NoError(t, b.revoke(context.Background()))
	require.Equal(t, [][]int32{{0, 2}}, calls)
	assert.Error(t, ctxErr, "the callback's context ended with RebalanceTimeout")

	require.NoError(t, b.revoke(context.Background()))
	assert.Len(t, calls, 1, "a retried rebalance does not call it again")

	resumeOne(b, inner, []int32{0, 2})
	require.NoError(t, b.revoke(context.Background()))
	assert.Len(t, calls, 2, "the next rebalance does")

	resumeOne(b, nil, nil)
	require.NoError(t, b.revoke(context.Background()))
	assert.Len(t, calls, 2, "not called while owning nothing")
}

// revokeCall is what a BeforeRevokeCallback saw.
type revokeCall struct {
	parts     []int32
	next      map[int32]int64 // NextOffsets when called
	committed map[int32]int64 // the group's offsets when called
	err       error           // of the callback's own commit, if any
}

// TestBeforeRevokeCallback: two members of a group the brokers coordinate
// (zero BalancedConsumerConfig: no ZooKeeper named), and of a ZooKeeper
// group. The first, with
// AutoCommit off, commits in its callback when the second joins: the
// second resumes exactly there, and nothing is consumed twice. The second,
// with AutoCommit on, sees in its callback at Stop the offsets not yet
// committed, which AutoCommit then commits.
func TestBeforeRevokeCallback(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft, zkGroup}, 4, func(t *testing.T, env *groupEnv) {
		want := env.produceRound(t, "r", 10)
		var mu sync.Mutex
		calls := map[string][]revokeCall{}
		var a, b *BalancedConsumer
		config := func(name string, autoCommit bool, self **BalancedConsumer) BalancedConsumerConfig {
			cfg := env.config(BalancedConsumerConfig{
				ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest, AutoCommit: autoCommit},
				BeforeRevokeCallback: func(ctx context.Context, parts []int32) {
					c := revokeCall{parts: parts, next: (*self).NextOffsets(), committed: map[int32]int64{}}
					if sc, err := env.topic.SimpleConsumer(ConsumerConfig{ConsumerGroup: env.group, ManualStart: true}); err == nil {
						got, _ := sc.FetchOffsets(ctx)
						for p, co := range got {
							c.committed[p] = co.Offset
						}
						_ = sc.Stop(ctx)
					}
					if !autoCommit {
						c.err = (*self).CommitOffsets(ctx)
					}
					mu.Lock()
					calls[name] = append(calls[name], c)
					mu.Unlock()
				},
			})
			if env.kind.managed {
				cfg.Managed = false // the zero value's choice: no ZooKeeper named
			}
			return cfg
		}
		a = env.consumer(t, config("a", false, &a))
		seen := map[msgID]int{}
		for range 15 {
			m, err := a.Consume(env.ctx)
			require.NoError(t, err)
			seen[msgID{m.Partition, m.Offset}]++
		}
		held := a.HeldOffsets()
		for p, next := range a.NextOffsets() {
			assert.Equal(t, held[p]+1, next, "partition %d: next = held + 1", p)
		}
		// With messages fetched ahead, a cancelled context still ends
		// Consume and Messages at once, and the iterator says why.
		cancelled, cancel := context.WithCancel(env.ctx)
		cancel()
		_, err := a.Consume(cancelled)
		require.ErrorIs(t, err, context.Canceled)
		var iterErrs []error
		for m, err := range a.Messages(cancelled) {
			require.Nil(t, m)
			iterErrs = append(iterErrs, err)
		}
		require.Len(t, iterErrs, 1)
		require.ErrorIs(t, iterErrs[0], context.Canceled)
		assert.Equal(t, held, a.HeldOffsets(), "nothing delivered after the cancel")

		b = env.consumer(t, config("b", true, &b))
		owners := env.waitSplit(t, a, b)
		col := newCollector(t)
		col.run(env.ctx, a)
		col.run(env.ctx, b)
		eventually(t, env.ctx, env.h, "every message", func() bool {
			for id := range want {
				if seen[id] == 0 && col.count(id) == 0 {
					return false
				}
			}
			return true
		})

		mu.Lock()
		ca := slices.Clone(calls["a"])
		mu.Unlock()
		require.NotEmpty(t, ca, "a's callback ran when b joined")
		assert.Equal(t, []int32{0, 1, 2, 3}, ca[0].parts)
		require.NoError(t, ca[0].err, "a commits in its callback")
		for p, c := range ca[0].committed {
			assert.LessOrEqual(t, c, ca[0].next[p], "partition %d", p)
		}
		for _, m := range col.messages(b) {
			if owners[m.Partition] == b {
				first := ca[0].next[m.Partition]
				assert.GreaterOrEqual(t, m.Offset, first, "b resumes where a's callback committed")
			}
		}
		for _, c := range []Consumer{a, b} {
			for _, m := range col.messages(c) {
				seen[msgID{m.Partition, m.Offset}]++
			}
		}
		for id := range want {
			assert.Equal(t, 1, seen[id], "message %v consumed once", id)
		}

		stopConsumer(t, env.ctx, b)
		mu.Lock()
		cb := slices.Clone(calls["b"])
		mu.Unlock()
		// A ZooKeeper member may have rebalanced more than once while a
		// partition was still owned; the last call is Stop's.
		require.NotEmpty(t, cb, "b's callback ran in Stop")
		if env.kind.managed {
			require.Len(t, cb, 1, "b's callback ran once, in Stop")
		}
		assert.Equal(t, env.kind.managed, b.cfg.Managed, "coordination follows the ZooKeeper fields")
		last := cb[len(cb)-1]
		var bParts []int32
		for p, o := range owners {
			if o == b {
				bParts = append(bParts, p)
			}
		}
		slices.Sort(bParts)
		assert.Equal(t, bParts, last.parts)
		after := env.committed(t)
		for _, p := range last.parts {
			assert.Equal(t, last.next[p], after[p], "AutoCommit committed after the callback, partition %d", p)
		}
		// Some call saw its commit still to come. Not always the last: a
		// ZooKeeper member that rebalanced again after reading everything
		// had AutoCommit commit it then, before Stop's call.
		moved := false
		for _, call := range cb {
			for _, p := range call.parts {
				moved = moved || call.committed[p] != call.next[p]
			}
		}
		assert.True(t, moved, "the callback ran before AutoCommit's commit: %+v; a: %+v", cb, ca)
	})
}
