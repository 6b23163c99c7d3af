package kafka

import (
	"context"
	"slices"
)

// A TopicPattern consumer of the classic protocol matches its pattern
// itself, as the Java client's does: against every topic in the cluster's
// metadata, internal ones excepted, when it starts and every
// MetadataRefreshInterval after. A changed set is the member's new
// subscription, and it rejoins the group so that the leader assigns by it.
// (With the consumer group protocol the broker matches; see
// consumerMembership.)

// matchPattern returns the topics the pattern matches now, sorted.
func (b *BalancedConsumer) matchPattern(ctx context.Context) ([]string, error) {
	names, err := b.cl.topicNames(ctx, false)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(names, func(n string) bool { return !b.pattern.MatchString(n) }), nil
}

// setSubscribed makes topics the subscription and reports whether it
// changed.
func (b *BalancedConsumer) setSubscribed(topics []string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if slices.Equal(topics, b.subscribed) && b.subscribed != nil {
		return false
	}
	b.subscribed = topics
	if topics == nil {
		b.subscribed = []string{}
	}
	return true
}

// subscribePattern matches the pattern for the first subscription.
func (m *managedMembership) subscribePattern(ctx context.Context) error {
	topics, err := m.b.matchPattern(ctx)
	if err != nil {
		return err
	}
	if m.b.setSubscribed(topics) {
		m.b.log.Debug("kafka: topic pattern matched", "topics", topics)
	}
	return nil
}

// watchPattern matches the pattern every MetadataRefreshInterval until ctx
// ends, and has the member rejoin when the set changed.
func (m *managedMembership) watchPattern(ctx context.Context) {
	b := m.b
	for b.h.Sleep(ctx, b.cfg.MetadataRefreshInterval) == nil {
		topics, err := b.matchPattern(ctx)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Debug("kafka: matching the topic pattern failed", "error", err)
			}
			continue
		}
		if !b.setSubscribed(topics) {
			continue
		}
		b.log.Debug("kafka: the topics matching the pattern changed, rejoining", "topics", topics)
		// A join under way may have sent the old subscription: the event,
		// cleared when a join starts, makes run join once more after it.
		m.mu.Lock()
		m.stable = false
		m.beat.Clear()
		m.rejoin.Set()
		m.mu.Unlock()
	}
}
