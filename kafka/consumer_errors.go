package kafka

import (
	"errors"
	"strconv"
	"time"
)

var (
	// ErrConsumerTimeout matches every *ConsumerTimeoutError: Consume waited
	// ConsumerConfig.ConsumerTimeout without a message arriving.
	ErrConsumerTimeout = errors.New("kafka: consumer timed out waiting for a message")

	// ErrConsumerStopped reports use of a consumer after Stop.
	ErrConsumerStopped = errors.New("kafka: consumer stopped")

	// ErrNoConsumerGroup reports an offset commit or fetch by a consumer
	// configured without ConsumerConfig.ConsumerGroup.
	ErrNoConsumerGroup = errors.New("kafka: consumer has no consumer group to store offsets in")

	// ErrPartitionNotConsumed reports a partition passed to ResetOffsets
	// that the consumer does not consume.
	ErrPartitionNotConsumed = errors.New("kafka: partition not consumed by this consumer")
)

// ConsumerTimeoutError is returned by Consume when no message arrived
// within ConsumerConfig.ConsumerTimeout. errors.Is(err, ErrConsumerTimeout)
// holds for it, and it reports Timeout() == true like a net.Error.
type ConsumerTimeoutError struct {
	After time.Duration // the configured ConsumerTimeout
}

func (e *ConsumerTimeoutError) Error() string {
	return "kafka: no message within the consumer timeout of " + e.After.String()
}

// Is makes errors.Is(err, ErrConsumerTimeout) hold.
func (e *ConsumerTimeoutError) Is(target error) bool { return target == ErrConsumerTimeout }

// Timeout reports true, as net.Error's method does.
func (e *ConsumerTimeoutError) Timeout() bool { return true }

// MessageTooLargeError reports a record the consumer cannot fetch: even a
// request grown to MaxBytes could not hold it. It arrives from Consume
// wrapped in a *PartitionError, in the partition's place in the stream; the
// partition is not fetched again until ResetOffsets moves it (OffsetAfter
// of Offset skips the record).
type MessageTooLargeError struct {
	Offset   int64 // where the record starts
	Size     int   // bytes the broker says the record's batch takes
	MaxBytes int   // the largest fetch the consumer will make for one partition
}

func (e *MessageTooLargeError) Error() string {
	return "kafka: record batch at offset " + strconv.FormatInt(e.Offset, 10) + " takes " +
		strconv.Itoa(e.Size) + " bytes, more than the largest fetch (" + strconv.Itoa(e.MaxBytes) + " bytes)"
}
