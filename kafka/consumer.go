package kafka

import (
	"context"
	"errors"
	"iter"
)

// Consumer is what every kind of consumer offers: *SimpleConsumer, and the
// balanced consumers that share a topic's partitions among a group's
// members. Code that only reads messages and commits should take a
// Consumer.
type Consumer interface {
	// Consume returns the next message; see SimpleConsumer.Consume.
	Consume(ctx context.Context) (*Message, error)
	// Messages ranges over the messages; see SimpleConsumer.Messages.
	Messages(ctx context.Context) iter.Seq2[*Message, error]
	// CommitOffsets stores the consumer's positions in its group.
	CommitOffsets(ctx context.Context) error
	// HeldOffsets returns, per partition, the offset of the message
	// delivered last (pykafka's held_offsets; -1 before the first). Its
	// other form, the next offset to deliver, which is what CommitOffsets
	// stores, is NextOffsets on both consumers (not part of this interface,
	// so that fakes written against it keep compiling).
	HeldOffsets() map[int32]int64
	// Stop stops the consumer; see SimpleConsumer.Stop.
	Stop(ctx context.Context) error
}

var _ Consumer = (*SimpleConsumer)(nil)

// messages turns a Consume function into the iterator both consumers offer:
// when ctx ends it yields ctx.Err() and ends, so a caller can tell a
// cancelled loop from a finished one; it ends quietly when the consumer
// times out or is stopped; a *PartitionError is yielded and the iteration
// goes on; any other error is yielded and ends it.
func messages(ctx context.Context, consume func(context.Context) (*Message, error)) iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		for {
			msg, err := consume(ctx)
			if err == nil {
				if !yield(msg, nil) {
					return
				}
				continue
			}
			if cerr := ctx.Err(); cerr != nil {
				yield(nil, cerr)
				return
			}
			if errors.Is(err, ErrConsumerTimeout) || errors.Is(err, ErrConsumerStopped) {
				return
			}
			if !yield(nil, err) {
				return
			}
			var pe *PartitionError
			if !errors.As(err, &pe) {
				return
			}
		}
	}
}
