package kafka

import (
	"context"
	"errors"
	"maps"
	"slices"
)

// revoke pauses delivery ahead of an eager rebalance and gives up every
// partition owned; see revokeSome.
func (b *BalancedConsumer) revoke(ctx context.Context) error { return b.revokeSome(ctx, nil) }

// revokeSome pauses delivery and gives up parts (nil: every partition
// owned): Consume calls waiting for a message return to waiting for the
// rebalance to end, new ones wait, and once no call is inside the
// SimpleConsumers (their positions stay put until assign)
// BeforeRevokeCallback runs; with AutoCommit or CommitOnRebalance the
// positions are committed after it, so that whoever gets a partition next
// resumes right after the last message delivered here. The fetchers keep
// running meanwhile: if the partitions stay, nothing is fetched twice.
func (b *BalancedConsumer) revokeSome(ctx context.Context, parts topicParts) error {
	inners, owned, err := b.pause(ctx)
	going := parts
	if going == nil {
		going = owned
	}
	b.groupEvents(GroupRevoked, going, nil)
	if err != nil {
		return err
	}
	b.beforeRevoke(ctx, parts)
	if b.cfg.AutoCommit || b.cfg.CommitOnRebalance {
		for _, topic := range sortedTopics(going) {
			inner := inners[topic]
			if inner == nil {
				continue
			}
			if err := inner.commitPartitions(ctx, going[topic], true); err != nil && ctx.Err() == nil {
				b.log.Warn("kafka: committing offsets before a rebalance failed", "topic", topic, "error", err)
			}
		}
	}
	return nil
}

// pause stops delivery until resume and returns, once no Consume call is
// inside them, the SimpleConsumers and the partitions owned.
func (b *BalancedConsumer) pause(ctx context.Context) (map[string]*SimpleConsumer, topicParts, error) {
	b.mu.Lock()
	b.paused = true
	for _, cancel := range b.calls {
		cancel()
	}
	inners := b.inners
	owned := b.owned
	busy := b.active > 0
	if busy {
		b.idle.Clear() // set by the last call to leave, under mu
	}
	b.mu.Unlock()
	if busy {
		if err := b.idle.Wait(ctx); err != nil {
			return inners, owned, err
		}
	}
	return inners, owned, nil
}

// markLost records that the partitions owned were lost rather than given
// up: the membership ended behind the consumer's back, and another member
// may own them now. The next rebalance, or Stop, drops them (dropLost).
func (b *BalancedConsumer) markLost() {
	b.mu.Lock()
	b.lost = b.lost || b.owned.len() > 0
	b.mu.Unlock()
}

// takeLost reports, once, that the partitions owned were marked lost.
func (b *BalancedConsumer) takeLost() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	lost := b.lost
	b.lost = false
	return lost
}

// dropLost stops delivering the partitions owned and drops them: no
// BeforeRevokeCallback and no commit (a commit would be refused, or would
// overwrite the new owner's), but LostCallback unless they were already
// revoked. Delivery stays paused until the next assignment.
func (b *BalancedConsumer) dropLost(ctx context.Context) {
	inners, owned, _ := b.pause(ctx)
	b.mu.Lock()
	revoked := b.revoked
	b.mu.Unlock()
	b.log.Warn("kafka: partitions lost with the group membership", "member", b.member.memberID(), "partitions", owned)
	if !revoked {
		b.callbacks(ctx, b.cfg.LostCallback, b.cfg.LostTopics, owned)
	}
	b.swap.Lock()
	defer b.swap.Unlock()
	for _, inner := range inners {
		inner.dropCommit.Store(true)
		if err := inner.Stop(ctx); err != nil && ctx.Err() == nil {
			b.log.Debug("kafka: stopping the consumer of lost partitions", "error", err)
		}
	}
	b.mu.Lock()
	b.setInnersLocked(nil)
	b.owned, b.revoked = topicParts{}, false
	b.mu.Unlock()
}

// setInnersLocked installs the consumers of the partitions owned. b.mu is
// held.
func (b *BalancedConsumer) setInnersLocked(inners map[string]*SimpleConsumer) {
	if inners == nil {
		inners = map[string]*SimpleConsumer{}
	}
	b.inners = inners
	b.innerList = b.innerList[:0:0]
	for _, t := range slices.Sorted(maps.Keys(inners)) {
		b.innerList = append(b.innerList, inners[t])
	}
	b.innerGen++
}

// assign makes parts the partitions the consumer owns and resumes
// delivery. A partition in carry has been owned without interruption since
// the current SimpleConsumer of its topic started it, so no other member
// can have consumed it meanwhile. When every partition is carried and the
// set did not change, consumption simply resumes. Otherwise each topic
// whose partitions changed (or are not all carried) gets a new
// SimpleConsumer: the old one stops (its undelivered messages are
// dropped), a new one starts over the topic's partitions, carried ones at
// their old positions and the others at the group's committed offsets;
// the consumers of other topics go on untouched. PostRebalanceCallback
// runs last.
func (b *BalancedConsumer) assign(ctx context.Context, parts topicParts, carry map[TopicPartition]bool) {
	parts = b.knownPartitions(ctx, parts.normalized())
	b.groupEvents(GroupAssigned, parts, nil)
	b.mu.Lock()
	old, oldParts, first, coop := b.inners, b.owned, !b.assigned, b.coop
	b.mu.Unlock()
	added := parts
	if coop {
		added = parts.minus(oldParts)
	}
	if !first && parts.equal(oldParts) && allCarried(parts, carry) {
		b.keepPaused(parts)
		b.afterAssign(ctx, added)
		b.resume(old, parts)
		return
	}
	b.log.Debug("kafka: balanced consumer assignment", "member", b.member.memberID(), "partitions", parts,
		"previous", oldParts)
	// Cooperative rebalances reach here still delivering.
	if _, _, err := b.pause(ctx); err != nil {
		b.log.Debug("kafka: assignment interrupted", "error", err)
	}
	b.swap.Lock()
	locked := true
	defer func() {
		if locked {
			b.swap.Unlock()
		}
	}()

	paused := b.keepPaused(parts)
	next := map[string]*SimpleConsumer{}
	oldHeld := map[string]map[int32]int64{}
	for topic, inner := range old {
		if ids := parts[topic]; slices.Equal(ids, oldParts[topic]) && allCarried(topicParts{topic: ids}, carry) {
			next[topic] = inner // unchanged: it goes on as it is
			continue
		}
		if err := inner.Stop(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("kafka: stopping the consumer of the previous assignment", "topic", topic, "error", err)
		}
		oldHeld[topic] = inner.HeldOffsets()
	}
	for _, topic := range sortedTopics(parts) {
		if next[topic] != nil {
			continue
		}
		inner, err := b.newInner(ctx, topic, parts[topic], first)
		if err != nil {
			// Only a closed client gets here: parts are known partitions
			// and the rest of cfg was validated with the consumer.
			b.fail(err)
			return
		}
		seed := map[int32]int64{}
		for _, id := range parts[topic] {
			if held, ok := oldHeld[topic][id]; ok && carry[TopicPartition{topic, id}] {
				seed[id] = held + 1
			}
		}
		inner.seedPositions(seed)
		if err := inner.setPaused(paused[topic], true); err != nil {
			b.log.Warn("kafka: keeping partitions paused", "error", err) // parts are inner's: not expected
		}
		if err := b.startInner(ctx, inner); err != nil && ctx.Err() == nil {
			// Consume retries the start and reports what keeps failing.
			b.log.Warn("kafka: starting the consumer of a new assignment failed", "topic", topic, "error", err)
		}
		next[topic] = inner
	}
	if cb := b.cfg.PostRebalanceCallback; cb != nil && b.single != "" {
		heldBefore, heldNow := oldHeld[b.single], map[int32]int64{}
		if heldBefore == nil {
			heldBefore = map[int32]int64{}
		}
		inner := next[b.single]
		if inner != nil && inner.started.Load() {
			heldNow = inner.HeldOffsets()
		}
		if targets := cb(heldBefore, heldNow); len(targets) > 0 && inner != nil {
			if err := inner.ResetOffsets(ctx, targets); err != nil {
				b.log.Warn("kafka: moving partitions as the rebalance callback asked failed", "error", err)
			}
		}
	}
	b.mu.Lock()
	b.assigned = true
	b.setInnersLocked(next)
	b.owned, b.revoked = parts, false
	b.mu.Unlock()
	locked = false
	b.swap.Unlock()
	// Installed but still paused: the callback may move what it was given
	// with ResetOffsets before anything is delivered.
	b.afterAssign(ctx, added)
	b.resume(next, parts)
}

// newInner makes the SimpleConsumer of the partitions ids of topic, not
// started, sharing b.avail.
func (b *BalancedConsumer) newInner(ctx context.Context, topic string, ids []int32, first bool) (*SimpleConsumer, error) {
	t, err := b.cl.Topic(ctx, topic)
	if err != nil {
		return nil, err
	}
	cfg := b.cfg.ConsumerConfig
	cfg.ConsumerGroup = b.group
	cfg.Partitions = ids
	cfg.generation = b.member.generation()
	cfg.groupInstanceID = instanceIDOf(b.cfg)
	cfg.ManualStart = true
	cfg.ConsumerTimeout = 0 // Consume's own wait bounds the whole call
	cfg.ResetOffsetOnStart = b.cfg.ResetOffsetOnStart && first
	inner, err := t.SimpleConsumer(cfg)
	if err != nil {
		return nil, err
	}
	inner.avail = b.avail // nothing runs before Start
	if inner.cfg.QueuedMaxBytes >= 0 {
		inner.shareBytes(b.bytes) // one bound over every topic's partitions
	}
	return inner, nil
}

// afterAssign runs AfterAssignCallback over the partitions added.
func (b *BalancedConsumer) afterAssign(ctx context.Context, added topicParts) {
	b.callbacks(ctx, b.cfg.AfterAssignCallback, b.cfg.AfterAssignTopics, added)
}

func allCarried(parts topicParts, carry map[TopicPartition]bool) bool {
	for t, ids := range parts {
		for _, id := range ids {
			if !carry[TopicPartition{t, id}] {
				return false
			}
		}
	}
	return true
}

// resume installs inners over parts and lets Consume deliver again.
func (b *BalancedConsumer) resume(inners map[string]*SimpleConsumer, parts topicParts) {
	b.mu.Lock()
	if !sameInners(b.inners, inners) {
		b.setInnersLocked(inners)
	}
	b.owned, b.paused, b.revoked = parts, false, false
	b.mu.Unlock()
	b.changed.Set()
}

func sameInners(a, b map[string]*SimpleConsumer) bool {
	if len(a) != len(b) {
		return false
	}
	for t, c := range a {
		if b[t] != c {
			return false
		}
	}
	return true
}

// startInner starts a new SimpleConsumer, retrying a failed start (the
// coordinator may be moving) OffsetsCommitMaxRetries times.
func (b *BalancedConsumer) startInner(ctx context.Context, inner *SimpleConsumer) error {
	var err error
	for attempt := 0; attempt <= b.cfg.OffsetsCommitMaxRetries; attempt++ {
		if attempt > 0 {
			if serr := b.h.Sleep(ctx, b.cfg.OffsetsChannelBackoff); serr != nil {
				return errors.Join(err, serr)
			}
		}
		if err = inner.Start(ctx); err == nil || ctx.Err() != nil || errors.Is(err, ErrClosed) {
			return err
		}
	}
	return err
}

// knownPartitions returns the partitions of parts the cluster's topics
// have, refreshing metadata once when some are missing (topics or
// partitions added since the last refresh); those still unknown are
// dropped with a warning.
func (b *BalancedConsumer) knownPartitions(ctx context.Context, parts topicParts) topicParts {
	known := func() topicParts {
		out := topicParts{}
		topics := b.cl.state.Load().topics
		for name, ids := range parts {
			t := topics[name]
			if t == nil {
				continue
			}
			for _, id := range ids {
				if t.Partition(id) != nil {
					out[name] = append(out[name], id)
				}
			}
		}
		return out
	}
	out := known()
	if out.len() == parts.len() {
		return parts
	}
	if err := b.cl.Update(ctx); err != nil {
		b.log.Debug("kafka: metadata refresh failed", "error", err)
	}
	for name := range parts {
		if b.cl.state.Load().topics[name] == nil {
			// Not known to the client yet (a topic the group's leader or the
			// coordinator knew of first): looked up by name.
			if _, err := b.cl.Topic(ctx, name); err != nil {
				b.log.Debug("kafka: assigned topic lookup failed", "topic", name, "error", err)
			}
		}
	}
	if out = known(); out.len() < parts.len() {
		b.log.Warn("kafka: assigned partitions the cluster does not have", "assigned", parts, "known", out)
	}
	return out
}

// setReady marks the end of the first rebalance, which Start waits for.
func (b *BalancedConsumer) setReady() { b.ready.Set() }

// seedPositions gives partitions of a consumer not started yet their next
// offsets, so that Start keeps those positions instead of looking up the
// group's committed offsets. Negative offsets are ignored.
func (c *SimpleConsumer) seedPositions(next map[int32]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, off := range next {
		if op := c.byID[id]; op != nil && op.position < 0 && off >= 0 {
			c.moveLocked(op, off)
		}
	}
}
