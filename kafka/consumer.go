package kafka

import (
	"context"
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
	// HeldOffsets returns, per partition, the offset delivered last.
	HeldOffsets() map[int32]int64
	// Stop stops the consumer; see SimpleConsumer.Stop.
	Stop(ctx context.Context) error
}

var _ Consumer = (*SimpleConsumer)(nil)
