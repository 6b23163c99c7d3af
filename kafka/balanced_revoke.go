package kafka

import (
	"context"
	"slices"
	"time"
)

// RevokeCallback is called before a balanced consumer gives up partitions:
// in every rebalance and in Stop. Eager rebalances (ZooKeeper groups, and
// managed groups with eager assignors) revoke every partition owned at the
// start of the rebalance (those the member gets back keep their
// positions); cooperative ones revoke only the partitions the new
// assignment moves elsewhere, once it is known, as do GroupProtocolConsumer
// groups when the coordinator takes partitions away. partitions are those given
// up, sorted; it is not called with none.
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

// PartitionsCallback is told of partitions a balanced consumer gained or
// lost (see AfterAssignCallback and LostCallback), sorted. It runs on the
// rebalancing task while delivery is paused, bounded by RebalanceTimeout
// through ctx: it must not call the consumer's Consume or Stop.
type PartitionsCallback func(ctx context.Context, partitions []int32)

// beforeRevoke runs BeforeRevokeCallback over parts, or with nil over the
// partitions owned, once for them: a retried rebalance (a failed join) or
// a Stop during one finds it run already.
func (b *BalancedConsumer) beforeRevoke(ctx context.Context, parts topicParts) {
	if b.cfg.BeforeRevokeCallback == nil && b.cfg.BeforeRevokeTopics == nil {
		return
	}
	b.mu.Lock()
	all := parts == nil
	if all {
		parts = b.owned.clone()
	}
	run := len(b.inners) > 0 && parts.len() > 0 && !b.revoked
	b.revoked = b.revoked || all
	b.mu.Unlock()
	if !run {
		return
	}
	b.callbacks(ctx, b.cfg.BeforeRevokeCallback, b.cfg.BeforeRevokeTopics, parts)
}

// callbacks runs one over the partitions of the consumer's one topic (if
// it has one) and topics over all of parts, each bounded as RevokeCallback
// says; neither with no partitions.
func (b *BalancedConsumer) callbacks(ctx context.Context, one func(context.Context, []int32),
	topics TopicPartitionsCallback, parts topicParts) {
	if one != nil && b.single != "" && len(parts[b.single]) > 0 {
		b.callback(ctx, one, slices.Clone(parts[b.single]))
	}
	if topics != nil && parts.len() > 0 {
		wb := waitBound{h: b.h, after: b.revokeTimeout()}
		defer wb.end()
		topics(wb.ctx(ctx), parts.clone())
	}
}

// callback runs cb over parts, bounded as RevokeCallback says.
func (b *BalancedConsumer) callback(ctx context.Context, cb func(context.Context, []int32), parts []int32) {
	wb := waitBound{h: b.h, after: b.revokeTimeout()}
	defer wb.end()
	cb(wb.ctx(ctx), parts)
}

// revokeTimeout bounds BeforeRevokeCallback.
func (b *BalancedConsumer) revokeTimeout() time.Duration {
	if b.cfg.Managed {
		return b.cfg.RebalanceTimeout
	}
	return DefaultRebalanceTimeout
}
