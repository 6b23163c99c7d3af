package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// startPosition applies the usage guide's start rules to one partition:
// a committed offset (the next offset to consume, -1 when the group has
// none) is resumed unless resetOnStart; otherwise the partition starts at
// AutoOffsetReset, and reset is true.
func startPosition(committed int64, resetOnStart bool) (next int64, reset bool) {
	if committed >= 0 && !resetOnStart {
		return committed, false
	}
	return -1, true
}

// initPositions gives every partition without a position its starting
// one; see the SimpleConsumer doc for the rules.
func (c *SimpleConsumer) initPositions(ctx context.Context) error {
	c.mu.Lock()
	var need []int32
	for _, op := range c.parts {
		if op.position < 0 {
			need = append(need, op.id)
		}
	}
	c.mu.Unlock()
	if len(need) == 0 {
		return nil
	}

	var committed map[int32]CommittedOffset
	if c.cfg.ConsumerGroup != "" && !c.cfg.ResetOffsetOnStart {
		var err error
		if committed, err = c.fetchOffsets(ctx, need); err != nil {
			return err
		}
	}
	next := make(map[int32]int64, len(need))
	var reset []int32
	for _, id := range need {
		co, ok := committed[id]
		if !ok {
			co.Offset = -1
		}
		off, r := startPosition(co.Offset, c.cfg.ResetOffsetOnStart)
		if r {
			reset = append(reset, id)
		} else {
			next[id] = off
		}
	}
	if len(reset) > 0 {
		resolved, err := c.resolveTargets(ctx, targetsFor(reset, c.cfg.AutoOffsetReset))
		if err != nil {
			return err
		}
		maps.Copy(next, resolved)
	}

	c.mu.Lock()
	for id, off := range next {
		// A ResetOffsets that ran meanwhile wins.
		if op := c.byID[id]; op.position < 0 {
			c.moveLocked(op, off)
			if co, ok := committed[id]; ok && co.Offset == off {
				op.committed = off
			}
		}
	}
	freed := c.roomFreedLocked()
	c.mu.Unlock()
	kickAll(freed)
	c.log.Debug("kafka: consumer start positions", "offsets", next, "reset", reset)
	if c.cfg.ConsumerGroup != "" && len(reset) > 0 {
		return c.commitPartitions(ctx, reset, false)
	}
	return nil
}

func targetsFor(ids []int32, t OffsetTarget) map[int32]OffsetTarget {
	m := make(map[int32]OffsetTarget, len(ids))
	for _, id := range ids {
		m[id] = t
	}
	return m
}

// ResetOffsets moves partitions to new positions: each id in targets to
// its OffsetTarget, or, when targets is empty, every partition to
// AutoOffsetReset. A target names the next message delivered:
// OffsetAfter(n) makes n the most recently consumed offset, so the next
// message consumed is n+1, as an integer does in pykafka's reset_offsets;
// OffsetAt(n) delivers offset n next; OffsetEarliest, OffsetLatest and
// OffsetAtTime are looked up with ListOffsets.
//
// Messages already fetched for a moved partition are dropped, and a
// partition stopped by an error is fetched again. With a ConsumerGroup the
// new positions are then committed, as pykafka does. The error joins a
// *PartitionError for each partition that could not be moved (one not
// consumed wraps ErrPartitionNotConsumed); the others are moved regardless.
func (c *SimpleConsumer) ResetOffsets(ctx context.Context, targets map[int32]OffsetTarget) error {
	if c.isStopped() {
		return ErrConsumerStopped
	}
	if len(targets) == 0 {
		targets = targetsFor(c.Partitions(), c.cfg.AutoOffsetReset)
	}
	var errs []error
	valid := make(map[int32]OffsetTarget, len(targets))
	for id, t := range targets {
		if c.byID[id] == nil {
			errs = append(errs, &PartitionError{Topic: c.topic.name, Partition: id, Err: ErrPartitionNotConsumed})
			continue
		}
		valid[id] = t
	}
	// Let a start in progress finish first, so that it does not commit over
	// these positions.
	if err := c.startLock.LockContext(ctx); err != nil {
		return err
	}
	next, err := c.resolveTargets(ctx, valid)
	if err != nil {
		errs = append(errs, err)
	}
	moved := make([]int32, 0, len(next))
	c.mu.Lock()
	for id, off := range next {
		c.log.Debug("kafka: consumer offset reset", "partition", id, "target", valid[id].String(), "next", off)
		c.moveLocked(c.byID[id], off)
		moved = append(moved, id)
	}
	freed := c.roomFreedLocked() // what the partitions held is dropped
	c.mu.Unlock()
	kickAll(freed)
	c.startLock.Unlock()
	c.supervisor.kick()
	slices.Sort(moved)
	if c.cfg.ConsumerGroup != "" && len(moved) > 0 {
		if err := c.commitPartitions(ctx, moved, false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// resolveTargets turns targets into next offsets, looking up what needs a
// ListOffsets. The map holds the partitions that succeeded; the error
// joins a *PartitionError for each one that did not.
func (c *SimpleConsumer) resolveTargets(ctx context.Context, targets map[int32]OffsetTarget) (map[int32]int64, error) {
	out := make(map[int32]int64, len(targets))
	var errs []error
	lookups := map[OffsetTarget][]int32{}
	for id, t := range targets {
		if next, ok := t.explicit(); ok {
			if next < 0 {
				errs = append(errs, &PartitionError{Topic: c.topic.name, Partition: id,
					Err: fmt.Errorf("kafka: reset target %v is before offset 0", t)})
				continue
			}
			out[id] = next
			continue
		}
		lookups[t] = append(lookups[t], id)
	}
	for t, ids := range lookups {
		slices.Sort(ids)
		var got map[int32]int64
		var err error
		if t.kind == targetTime {
			got, err = c.cl.offsetsBefore(ctx, c.topic, ids, time.UnixMilli(t.value))
		} else {
			got, err = c.cl.listOffsets(ctx, c.topic, ids, t.listOffsetsTimestamp())
		}
		maps.Copy(out, got)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// moveLocked sets a partition's position to next: queued messages are
// dropped, and fetch results in flight are ignored when they arrive. The
// caller kicks the loops that roomFreedLocked then returns.
func (c *SimpleConsumer) moveLocked(op *ownedPartition, next int64) {
	op.epoch++
	op.queue.clear()
	c.addQueuedLocked(op, -op.queuedBytes)
	op.position = next
	op.fetchAt = next
	op.stalled = false
	op.first = false
	op.maxBytes = c.cfg.FetchMessageMaxBytes
}
