package kafka

import (
	"context"
	"errors"
)

// ResetOffsets moves partitions the consumer owns to new positions and,
// the consumer being in a group, commits them: pykafka's
// BalancedConsumer.reset_offsets, over SimpleConsumer.ResetOffsets (see
// it for the targets). With no targets every partition owned goes to
// AutoOffsetReset. A partition the consumer does not own now fails with a
// *PartitionError wrapping ErrPartitionNotConsumed, the others are moved
// regardless. A rebalance replacing the partitions under way finishes
// first, so the reset applies to the partitions owned after it. It may be
// called from AfterAssignCallback, to start newly assigned partitions
// elsewhere (Java's seek in onPartitionsAssigned). It serves a consumer of
// one topic: with several it returns ErrSeveralTopics.
func (b *BalancedConsumer) ResetOffsets(ctx context.Context, targets map[int32]OffsetTarget) error {
	if b.single == "" && !b.isStopped() {
		return ErrSeveralTopics
	}
	return b.ResetTopicOffsets(ctx, map[string]map[int32]OffsetTarget{b.single: targets})
}

// ResetTopicOffsets is ResetOffsets by topic, for consumers of several
// topics: topic → partition → target. A topic given no targets (nil or
// empty) moves every partition owned of it to AutoOffsetReset, and an
// empty targets every partition owned.
func (b *BalancedConsumer) ResetTopicOffsets(ctx context.Context, targets map[string]map[int32]OffsetTarget) error {
	if b.isStopped() {
		return ErrConsumerStopped
	}
	if err := b.swap.LockContext(ctx); err != nil {
		return err
	}
	defer b.swap.Unlock()
	b.mu.Lock()
	inners := b.inners
	b.mu.Unlock()
	if len(targets) == 0 {
		targets = map[string]map[int32]OffsetTarget{}
		for topic := range inners {
			targets[topic] = nil
		}
	}
	var errs []error
	for topic, ts := range targets {
		if inner := inners[topic]; inner != nil {
			errs = append(errs, inner.ResetOffsets(ctx, ts))
			continue
		}
		for id := range ts {
			errs = append(errs, &PartitionError{Topic: topic, Partition: id, Err: ErrPartitionNotConsumed})
		}
	}
	return errors.Join(errs...)
}
