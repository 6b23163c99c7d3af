package kafka

import (
	"context"
	"slices"
)

// reconcileLoop applies what the heartbeats bring: a target assignment, or
// a fencing that takes every partition away. It runs until ctx ends.
func (m *consumerMembership) reconcileLoop(ctx context.Context) {
	b := m.b
	for ctx.Err() == nil {
		m.mu.Lock()
		lost := m.lost
		target, has := m.target, m.hasTarget
		owned := m.owned
		b.mu.Lock()
		applied := b.assigned
		b.mu.Unlock()
		if !lost && (!has || (applied && slices.Equal(target, owned))) {
			m.work.Clear() // under m.mu, where heartbeats set it: no wake-up is lost
			m.idle.Set()
			m.mu.Unlock()
			if m.work.Wait(ctx) != nil {
				return
			}
			continue
		}
		m.idle.Clear()
		m.mu.Unlock()

		if lost {
			m.drop(ctx)
			continue
		}
		m.reconcile(ctx, owned, target)
	}
}

// reconcile moves the consumer from owned to target, cooperatively:
// partitions leaving are revoked first (BeforeRevokeCallback over them,
// then the commit of AutoCommit or CommitOnRebalance, still under the
// current epoch), then the consumer runs over target (AfterAssignCallback
// over what is new), and a heartbeat goes out at once to acknowledge it;
// only then does the coordinator give revoked partitions to their next
// owner. Partitions kept are carried at their positions.
func (m *consumerMembership) reconcile(ctx context.Context, owned, target []int32) {
	b := m.b
	revoked := slices.DeleteFunc(slices.Clone(owned), func(p int32) bool { return slices.Contains(target, p) })
	if len(revoked) > 0 {
		if b.revokeSome(ctx, revoked) != nil {
			return // ctx ended
		}
	}
	carry := make(map[int32]bool, len(owned))
	for _, p := range owned {
		carry[p] = slices.Contains(target, p)
	}
	b.assign(ctx, target, carry)
	if ctx.Err() != nil {
		return
	}
	m.mu.Lock()
	if !m.lost {
		m.owned = slices.Clone(target)
	}
	m.mu.Unlock()
	m.wake.Set()
	b.setReady()
}

// drop gives up every partition of a fenced membership as lost: no
// BeforeRevokeCallback and no commit (the partitions may be another
// member's by now), LostCallback instead; delivery stays paused until the
// next assignment, which the heartbeat loop, waiting for the reconciler to
// go idle, rejoins for.
func (m *consumerMembership) drop(ctx context.Context) {
	m.b.dropLost(ctx)
	m.mu.Lock()
	m.owned, m.lost = nil, false
	m.mu.Unlock()
}
