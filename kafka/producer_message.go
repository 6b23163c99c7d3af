package kafka

import (
	"errors"

	"github.com/gregorkafka/gregor/protocol"
)

// Producers take the package's Message: Key, Value, Headers and Timestamp
// are sent. A zero Timestamp means the time the message's batch is formed,
// read once per batch: the time of Produce when the broker is idle, later
// by the Linger or the request in flight ahead of it under load (so a batch
// of such messages shares one timestamp); Partition is read by
// ManualPartitioner only; Topic and Offset are ignored. The producer keeps
// the slices until the message is reported: do not modify them before.

// DeliveryReport is the outcome of producing one message. Every message a
// Producer accepted gets exactly one.
type DeliveryReport struct {
	// Message is the message as produced, with Topic, Partition and
	// Timestamp filled in, and Offset: the message's offset, or -1 when it
	// failed, was produced with AcksNone, or (an idempotent producer, after
	// a lost answer) is known to be written only because a later batch of
	// its partition was acknowledged.
	Message Message
	// Err is nil when the message was acknowledged. Broker errors come as
	// a *PartitionError wrapping the broker's *Error, so errors.Is(err,
	// protocol.ErrNotEnoughReplicas) and the like work.
	Err error
}

var (
	// ErrQueueFull is returned by Produce when the producer holds
	// MaxQueuedMessages and ErrorOnQueueFull is set.
	ErrQueueFull = errors.New("kafka: producer queue full")

	// ErrProducerClosed is returned by Produce after Close began, and
	// reported for messages Stop gave up on (their fate is unknown: a
	// broker may still have written them).
	ErrProducerClosed = errors.New("kafka: producer closed")

	// ErrNilKey is returned by Produce when a hashing partitioner gets a
	// message with a nil key.
	ErrNilKey = errors.New("kafka: hashing partitioner needs a non-nil key")

	// ErrInvalidPartition is returned by Produce when the partitioner
	// picks a partition the topic does not have.
	ErrInvalidPartition = errors.New("kafka: partitioner chose a partition the topic does not have")

	// ErrMessageTooLarge is protocol.ErrMessageTooLarge: a message larger
	// than ProducerConfig.MaxBatchSize, or one the broker refused as too
	// large.
	ErrMessageTooLarge = protocol.ErrMessageTooLarge
)
