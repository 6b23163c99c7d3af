package kafka

import (
	"context"
	"slices"
	"time"
)

// RevokeCallback is called before a balanced consumer gives up partitions:
// at the start of every rebalance (gregor's rebalances are eager: each one
// revokes every partition owned, and those the member gets back keep their
// positions; in a GroupProtocolConsumer group, whenever the coordinator
// takes any partition away, with every partition owned too) and in Stop. partitions are those owned, sorted; it is not
// called while the consumer owns none.
//
// It runs after delivery paused (no Consume call is inside the consumer,
// so HeldOffsets and NextOffsets stay put), before AutoCommit's commit and
// before the partitions go, so it can finish the work of the messages
// delivered (flush a Producer of results, say) and commit with
// CommitOffsets, which still carries the current generation. The
// application may still be handling the last message Consume returned in
// another goroutine: coordinate with it (see the README's example). ctx is
// bounded by RebalanceTimeout (DefaultRebalanceTimeout for ZooKeeper
// groups, and by Stop's context in Stop): a managed group's coordinator
// drops a member that takes longer than RebalanceTimeout to rejoin. It
// runs on the rebalancing task: it must not call the consumer's Consume or
// Stop.
type RevokeCallback func(ctx context.Context, partitions []int32)

// beforeRevoke runs BeforeRevokeCallback over the partitions owned, once
// for them: a retried rebalance (a failed join) or a Stop during one finds
// it run already.
func (b *BalancedConsumer) beforeRevoke(ctx context.Context) {
	cb := b.cfg.BeforeRevokeCallback
	if cb == nil {
		return
	}
	b.mu.Lock()
	owned := slices.Clone(b.owned)
	run := b.inner != nil && len(owned) > 0 && !b.revoked
	b.revoked = true
	b.mu.Unlock()
	if !run {
		return
	}
	wb := waitBound{h: b.h, after: b.revokeTimeout()}
	defer wb.end()
	cb(wb.ctx(ctx), owned)
}

// revokeTimeout bounds BeforeRevokeCallback.
func (b *BalancedConsumer) revokeTimeout() time.Duration {
	if b.cfg.Managed {
		return b.cfg.RebalanceTimeout
	}
	return DefaultRebalanceTimeout
}
