package kafka

import (
	"errors"
	"strconv"
)

// ErrPartitionOwned matches every *PartitionOwnedError.
var ErrPartitionOwned = errors.New("kafka: partition owned by another consumer")

// PartitionOwnedError reports a partition a ZooKeeper-coordinated consumer
// was assigned but could not claim, because another member of the group
// still held it (pykafka's PartitionOwnedError). It is part of a normal
// rebalance while members release what they no longer own; the consumer
// retries (RebalanceMaxRetries, RebalanceBackoff) and logs it.
type PartitionOwnedError struct {
	Topic     string
	Partition int32
	Owner     string // the consumer id holding it, "" if unknown
}

func (e *PartitionOwnedError) Error() string {
	s := "kafka: partition " + e.Topic + "/" + strconv.Itoa(int(e.Partition)) + " is owned by another consumer"
	if e.Owner != "" {
		s += " (" + e.Owner + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrPartitionOwned) hold.
func (e *PartitionOwnedError) Is(target error) bool { return target == ErrPartitionOwned }

// GroupError reports a failure of a balanced consumer's group membership
// that it cannot recover from by itself, such as a group whose members use
// incompatible assignment strategies (INCONSISTENT_GROUP_PROTOCOL) or an
// unauthorized group. Consume returns it; Err is usually a *Error.
type GroupError struct {
	Group string
	Err   error
}

func (e *GroupError) Error() string {
	return "kafka: consumer group " + strconv.Quote(e.Group) + ": " + e.Err.Error()
}

func (e *GroupError) Unwrap() error { return e.Err }
