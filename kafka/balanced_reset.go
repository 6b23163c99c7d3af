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
	if b.isStopped() {
		return ErrConsumerStopped
	}
	if err := b.swap.LockContext(ctx); err != nil {
		return err
	}
	defer b.swap.Unlock()
	if b.single == "" {
		return ErrSeveralTopics
	}
	b.mu.Lock()
	inner := b.inners[b.single]
	b.mu.Unlock()
	if inner != nil {
		return inner.ResetOffsets(ctx, targets)
	}
	var errs []error
	for id := range targets {
		errs = append(errs, &PartitionError{Topic: b.single, Partition: id, Err: ErrPartitionNotConsumed})
	}
	return errors.Join(errs...)
}
