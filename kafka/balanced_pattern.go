package kafka

import (
	"context"
	"maps"
	"slices"
)

// A TopicPattern consumer of the classic protocol matches its pattern
// itself, as the Java client's does: against every topic in the cluster's
// metadata, internal ones excepted, when it starts and every
// MetadataRefreshInterval after. A changed set is the member's new
// subscription, and it rejoins the group so that the leader assigns by it.
// The leader also watches the topics it assigned, so that a subscribed
// topic created later, or partitions added, are assigned. (With the
// consumer group protocol the broker does both; see consumerMembership.)

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

// watchMetadata looks at the cluster's metadata every
// MetadataRefreshInterval until ctx ends, and has the member rejoin when
// its pattern matches another set of topics or, as the group's leader,
// when a topic it assigned gained partitions or came into (or went out
// of) existence since: the Java client's leader rejoins then too, so that
// the new partitions get an owner.
func (m *managedMembership) watchMetadata(ctx context.Context) {
	b := m.b
	for b.h.Sleep(ctx, b.cfg.MetadataRefreshInterval) == nil {
		why := ""
		if b.pattern != nil {
			topics, err := b.matchPattern(ctx)
			switch {
			case err != nil:
				if ctx.Err() == nil {
					b.log.Debug("kafka: matching the topic pattern failed", "error", err)
				}
			case b.setSubscribed(topics):
				why = "the topics matching the pattern changed"
			}
		}
		if why == "" && m.assignedChanged(ctx) {
			why = "the partitions of the topics assigned changed"
		}
		if why == "" {
			continue
		}
		b.log.Debug("kafka: rejoining the group: "+why, "member", m.memberID())
		// A join under way may have used what was: the event, cleared when
		// a join starts, makes run join once more after it.
		m.mu.Lock()
		m.stable = false
		m.beat.Clear()
		m.rejoin.Set()
		m.mu.Unlock()
	}
}

// assignedChanged reports whether the member led the group's last
// assignment and a topic it assigned has another partition count now (0:
// none, the topic missing).
func (m *managedMembership) assignedChanged(ctx context.Context) bool {
	m.mu.Lock()
	counts, lead := m.assigned, m.leader && m.stable
	m.mu.Unlock()
	if !lead || len(counts) == 0 {
		return false
	}
	cl := m.b.cl
	names := slices.Sorted(maps.Keys(counts))
	if _, err := cl.metadata(ctx, metadataRequest(names, false), false); err != nil {
		return false // looked at again next time
	}
	topics := cl.state.Load().topics
	for name, n := range counts {
		now := int32(0)
		if t := topics[name]; t != nil {
			now = int32(len(t.Partitions()))
		}
		if now != n {
			return true
		}
	}
	return false
}
