package kafka

import (
	"context"
	"errors"
	"slices"
)

// revoke pauses delivery ahead of an eager rebalance and gives up every
// partition owned; see revokeSome.
func (b *BalancedConsumer) revoke(ctx context.Context) error { return b.revokeSome(ctx, nil) }

// revokeSome pauses delivery and gives up parts (nil: every partition
// owned): Consume calls waiting for a message return to waiting for the
// rebalance to end, new ones wait, and once no call is inside the
// SimpleConsumer (its positions stay put until assign)
// BeforeRevokeCallback runs; with AutoCommit or CommitOnRebalance the
// positions are committed after it, so that whoever gets a partition next
// resumes right after the last message delivered here. The fetchers keep
// running meanwhile: if the partitions stay, nothing is fetched twice.
func (b *BalancedConsumer) revokeSome(ctx context.Context, parts []int32) error {
	inner, owned, err := b.pause(ctx)
	going := parts
	if going == nil {
		going = owned
	}
	if len(going) > 0 {
		b.groupEvent(GroupRevoked, going, nil)
	}
	if err != nil {
		return err
	}
	b.beforeRevoke(ctx, parts)
	if inner != nil && len(going) > 0 && (b.cfg.AutoCommit || b.cfg.CommitOnRebalance) {
		if err := inner.commitPartitions(ctx, going, true); err != nil && ctx.Err() == nil {
			b.log.Warn("kafka: committing offsets before a rebalance failed", "error", err)
		}
	}
	return nil
}

// pause stops delivery until resume and returns, once no Consume call is
// inside it, the SimpleConsumer and the partitions owned.
func (b *BalancedConsumer) pause(ctx context.Context) (*SimpleConsumer, []int32, error) {
	b.mu.Lock()
	b.paused = true
	for _, cancel := range b.calls {
		cancel()
	}
	inner := b.inner
	owned := b.owned
	busy := b.active > 0
	if busy {
		b.idle.Clear() // set by the last call to leave, under mu
	}
	b.mu.Unlock()
	if busy {
		if err := b.idle.Wait(ctx); err != nil {
			return inner, owned, err
		}
	}
	return inner, owned, nil
}

// markLost records that the partitions owned were lost rather than given
// up: the membership ended behind the consumer's back, and another member
// may own them now. The next rebalance, or Stop, drops them (dropLost).
func (b *BalancedConsumer) markLost() {
	b.mu.Lock()
	b.lost = b.lost || len(b.owned) > 0
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
	inner, owned, _ := b.pause(ctx)
	b.mu.Lock()
	revoked := b.revoked
	b.mu.Unlock()
	b.log.Warn("kafka: partitions lost with the group membership", "member", b.member.memberID(), "partitions", owned)
	if cb := b.cfg.LostCallback; cb != nil && len(owned) > 0 && !revoked {
		b.callback(ctx, cb, owned)
	}
	b.swap.Lock()
	defer b.swap.Unlock()
	if inner != nil {
		inner.dropCommit.Store(true)
		if err := inner.Stop(ctx); err != nil && ctx.Err() == nil {
			b.log.Debug("kafka: stopping the consumer of lost partitions", "error", err)
		}
	}
	b.mu.Lock()
	b.inner, b.owned, b.revoked = nil, nil, false
	b.mu.Unlock()
}

// assign makes parts (sorted) the partitions the consumer owns and resumes
// delivery. A partition in carry has been owned without interruption since
// the current SimpleConsumer started it, so no other member can have
// consumed it meanwhile. When every partition is carried and the set did
// not change, consumption simply resumes. Otherwise the SimpleConsumer is
// replaced: the old one stops (its undelivered messages are dropped), a new
// one starts over parts, carried partitions at their old positions and the
// others at the group's committed offsets, and PostRebalanceCallback runs.
func (b *BalancedConsumer) assign(ctx context.Context, parts []int32, carry map[int32]bool) {
	parts = b.knownPartitions(ctx, parts)
	b.groupEvent(GroupAssigned, parts, nil)
	b.mu.Lock()
	old, oldParts, first, coop := b.inner, b.owned, !b.assigned, b.coop
	b.mu.Unlock()
	added := parts
	if coop {
		added = slices.DeleteFunc(slices.Clone(parts), func(p int32) bool { return slices.Contains(oldParts, p) })
	}
	if !first && slices.Equal(parts, oldParts) && allCarried(parts, carry) {
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

	oldHeld := map[int32]int64{}
	if old != nil {
		if err := old.Stop(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("kafka: stopping the consumer of the previous assignment", "error", err)
		}
		oldHeld = old.HeldOffsets()
	}
	var inner *SimpleConsumer
	newHeld := map[int32]int64{}
	if len(parts) == 0 {
		b.keepPaused(nil)
	} else {
		cfg := b.cfg.ConsumerConfig
		cfg.ConsumerGroup = b.group
		cfg.Partitions = parts
		cfg.generation = b.member.generation()
		cfg.groupInstanceID = instanceIDOf(b.cfg)
		cfg.ManualStart = true
		cfg.ConsumerTimeout = 0 // Consume's own wait bounds the whole call
		cfg.ResetOffsetOnStart = b.cfg.ResetOffsetOnStart && first
		var err error
		if inner, err = b.topic.SimpleConsumer(cfg); err != nil {
			// Only a closed client gets here: parts are known partitions
			// and the rest of cfg was validated with the consumer.
			b.fail(err)
			return
		}
		seed := map[int32]int64{}
		for _, id := range parts {
			if held, ok := oldHeld[id]; ok && carry[id] {
				seed[id] = held + 1
			}
		}
		inner.seedPositions(seed)
		if err := inner.setPaused(b.keepPaused(parts), true); err != nil {
			b.log.Warn("kafka: keeping partitions paused", "error", err) // parts are inner's: not expected
		}
		if err := b.startInner(ctx, inner); err != nil && ctx.Err() == nil {
			// Consume retries the start and reports what keeps failing.
			b.log.Warn("kafka: starting the consumer of a new assignment failed", "error", err)
		} else if err == nil {
			newHeld = inner.HeldOffsets()
		}
	}
	if cb := b.cfg.PostRebalanceCallback; cb != nil {
		if targets := cb(oldHeld, newHeld); len(targets) > 0 && inner != nil {
			if err := inner.ResetOffsets(ctx, targets); err != nil {
				b.log.Warn("kafka: moving partitions as the rebalance callback asked failed", "error", err)
			}
		}
	}
	b.mu.Lock()
	b.assigned = true
	b.inner, b.owned, b.revoked = inner, parts, false
	b.mu.Unlock()
	locked = false
	b.swap.Unlock()
	// Installed but still paused: the callback may move what it was given
	// with ResetOffsets before anything is delivered.
	b.afterAssign(ctx, added)
	b.resume(inner, parts)
}

// afterAssign runs AfterAssignCallback over the partitions added.
func (b *BalancedConsumer) afterAssign(ctx context.Context, added []int32) {
	if cb := b.cfg.AfterAssignCallback; cb != nil && len(added) > 0 {
		b.callback(ctx, cb, added)
	}
}

func allCarried(parts []int32, carry map[int32]bool) bool {
	for _, p := range parts {
		if !carry[p] {
			return false
		}
	}
	return true
}

// resume installs inner over parts and lets Consume deliver again.
func (b *BalancedConsumer) resume(inner *SimpleConsumer, parts []int32) {
	b.mu.Lock()
	b.inner, b.owned, b.paused, b.revoked = inner, parts, false, false
	b.mu.Unlock()
	b.changed.Set()
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

// knownPartitions returns the partitions of parts the topic has,
// refreshing metadata once when some are missing (partitions added since
// the last refresh); those still unknown are dropped with a warning.
func (b *BalancedConsumer) knownPartitions(ctx context.Context, parts []int32) []int32 {
	known := func() []int32 {
		var out []int32
		for _, id := range parts {
			if b.topic.Partition(id) != nil {
				out = append(out, id)
			}
		}
		return out
	}
	out := known()
	if len(out) == len(parts) {
		return parts
	}
	if err := b.cl.Update(ctx); err != nil {
		b.log.Debug("kafka: metadata refresh failed", "error", err)
	}
	if out = known(); len(out) < len(parts) {
		b.log.Warn("kafka: assigned partitions the topic does not have", "assigned", parts, "known", out)
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
