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

// reconcile moves the consumer from owned to target: partitions leaving
// are revoked first (BeforeRevokeCallback, then the commit of AutoCommit or
// CommitOnRebalance, still under the current epoch), then the consumer
// runs over target, and a heartbeat goes out at once to acknowledge it;
// only then does the coordinator give revoked partitions to their next
// owner. Partitions kept are carried at their positions.
func (m *consumerMembership) reconcile(ctx context.Context, owned, target []int32) {
	b := m.b
	revoking := slices.ContainsFunc(owned, func(p int32) bool { return !slices.Contains(target, p) })
	var err error
	if revoking {
		err = b.revoke(ctx)
	} else {
		err = b.pauseDelivery(ctx)
	}
	if err != nil {
		return // ctx ended
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

// drop gives up every partition of a fenced membership: delivery pauses,
// no callback runs and nothing is committed (the partitions may be
// another member's by now), the consumer is left owning nothing, and the
// heartbeat loop, waiting for the reconciler to go idle, rejoins.
func (m *consumerMembership) drop(ctx context.Context) {
	b := m.b
	if b.pauseDelivery(ctx) != nil {
		return
	}
	b.mu.Lock()
	inner := b.inner
	b.inner, b.owned = nil, nil
	b.mu.Unlock()
	if inner != nil {
		// With AutoCommit, Stop commits under the fenced epoch, which the
		// coordinator refuses: nothing is stored for partitions that may
		// have moved on.
		if err := inner.Stop(ctx); err != nil {
			b.log.Debug("kafka: stopping the consumer of a fenced membership", "error", err)
		}
	}
	m.mu.Lock()
	m.owned, m.lost = nil, false
	m.mu.Unlock()
	b.resume(nil, nil)
}

// pauseDelivery pauses Consume as revoke does, without revoking: Consume
// calls waiting for a message go back to waiting, and it returns once no
// call is inside the SimpleConsumer, so its positions stay put while the
// assignment changes.
func (b *BalancedConsumer) pauseDelivery(ctx context.Context) error {
	b.mu.Lock()
	b.paused = true
	for _, cancel := range b.calls {
		cancel()
	}
	busy := b.active > 0
	if busy {
		b.idle.Clear() // set by the last call to leave, under mu
	}
	b.mu.Unlock()
	if busy {
		return b.idle.Wait(ctx)
	}
	return nil
}
