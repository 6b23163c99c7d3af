package kafka

import (
	"context"
	"fmt"

	"github.com/gregorkafka/gregor/protocol"
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
		if !lost && (!has || (applied && target.equal(owned))) {
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
// owner. Partitions kept are carried at their positions. Assignments name
// topics by id; one the client does not know yet (a topic a pattern
// matched) is looked up first.
func (m *consumerMembership) reconcile(ctx context.Context, owned, target idParts) {
	b := m.b
	names, err := m.topicNames(ctx, owned, target)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("kafka: topics of the assignment unknown, retrying", "error", err)
			_ = b.h.Sleep(ctx, b.cfg.RebalanceBackoff)
		}
		return
	}
	revoked := owned.minus(target)
	if len(revoked) > 0 {
		if b.revokeSome(ctx, named(revoked, names)) != nil {
			return // ctx ended
		}
	}
	carry := map[TopicPartition]bool{}
	for id, ps := range owned {
		for _, p := range ps {
			carry[TopicPartition{names[id], p}] = target.has(id, p)
		}
	}
	b.assign(ctx, named(target, names), carry)
	if ctx.Err() != nil {
		return
	}
	m.mu.Lock()
	if !m.lost {
		m.owned = target.clone()
	}
	m.mu.Unlock()
	m.wake.Set()
	b.setReady()
}

// topicNames returns the names of the topics of owned and target, by id,
// refreshing metadata (every topic's: the coordinator may name topics a
// pattern matched that the client never heard of) when some are unknown.
func (m *consumerMembership) topicNames(ctx context.Context, sets ...idParts) (map[protocol.UUID]string, error) {
	cl := m.b.cl
	lookup := func() (map[protocol.UUID]string, []protocol.UUID) {
		byID := map[protocol.UUID]string{}
		for name, t := range cl.state.Load().topics {
			byID[t.ID()] = name
		}
		names := map[protocol.UUID]string{}
		var missing []protocol.UUID
		for _, set := range sets {
			for id := range set {
				if name, ok := byID[id]; ok {
					names[id] = name
				} else {
					missing = append(missing, id)
				}
			}
		}
		return names, missing
	}
	names, missing := lookup()
	if len(missing) == 0 {
		return names, nil
	}
	if _, err := cl.TopicNames(ctx); err != nil {
		return nil, err
	}
	if names, missing = lookup(); len(missing) > 0 {
		return nil, fmt.Errorf("kafka: no topic with id %v in metadata", missing)
	}
	return names, nil
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
