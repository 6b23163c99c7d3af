package kafka

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gregorkafka/gregor/protocol"
)

// Error is a Kafka error code returned by a broker. It is protocol.Error, so
// that errors.As(err, &kerr) with a *kafka.Error works without importing
// protocol; compare codes with errors.Is against the protocol sentinels.
type Error = protocol.Error

var (
	// ErrNoBrokersAvailable matches every *NoBrokersAvailableError: no seed
	// and no known broker answered.
	ErrNoBrokersAvailable = errors.New("kafka: no brokers available")

	// ErrClosed reports use of a closed Client.
	ErrClosed = errors.New("kafka: client closed")

	// ErrUnknownTopic is protocol.ErrUnknownTopicOrPartition (the same
	// value): the cluster does not have the topic (or partition).
	ErrUnknownTopic = protocol.ErrUnknownTopicOrPartition

	// ErrTopicAlreadyExists is protocol.ErrTopicAlreadyExists, which
	// CreateTopics returns (inside a *TopicError) for a name in use.
	ErrTopicAlreadyExists = protocol.ErrTopicAlreadyExists

	// ErrInternalTopic reports a lookup of an internal topic (such as
	// __consumer_offsets) while Config.IncludeInternalTopics is false.
	ErrInternalTopic = errors.New("kafka: internal topic hidden (Config.IncludeInternalTopics is false)")

	// ErrNoLeader reports a partition that has no leader the client can
	// reach, even after refreshing metadata.
	ErrNoLeader = errors.New("kafka: partition has no available leader")
)

// NoBrokersAvailableError reports that every broker tried failed. Attempts
// lists each address tried and why, in order.
type NoBrokersAvailableError struct {
	Attempts []BrokerAttempt
}

// BrokerAttempt is one failed try of NoBrokersAvailableError.
type BrokerAttempt struct {
	Addr string
	Err  error
}

func (e *NoBrokersAvailableError) Error() string {
	var b strings.Builder
	b.WriteString("kafka: no brokers available")
	if len(e.Attempts) == 0 {
		b.WriteString(" (none to try)")
	}
	for i, a := range e.Attempts {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(a.Addr)
		b.WriteString(": ")
		b.WriteString(a.Err.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNoBrokersAvailable) hold.
func (e *NoBrokersAvailableError) Is(target error) bool { return target == ErrNoBrokersAvailable }

// Unwrap returns every attempt's error, so errors.Is finds, say, a
// context.DeadlineExceeded behind them.
func (e *NoBrokersAvailableError) Unwrap() []error {
	errs := make([]error, len(e.Attempts))
	for i, a := range e.Attempts {
		errs[i] = a.Err
	}
	return errs
}

// TopicError is an error about one topic: a lookup that failed, or a
// CreateTopics or DeleteTopics that the broker refused for this name. Err is
// usually a *Error (errors.Is(err, ErrUnknownTopic) works through it).
type TopicError struct {
	Topic string
	Err   error
}

func (e *TopicError) Error() string {
	if errors.Is(e.Err, ErrUnknownTopic) {
		return "kafka: topic " + strconv.Quote(e.Topic) + " does not exist (" + e.Err.Error() + ")"
	}
	return "kafka: topic " + strconv.Quote(e.Topic) + ": " + e.Err.Error()
}

func (e *TopicError) Unwrap() error { return e.Err }

// PartitionError is an error about one partition of a topic, such as an
// offset lookup the leader refused.
type PartitionError struct {
	Topic     string
	Partition int32
	Err       error
}

func (e *PartitionError) Error() string {
	return "kafka: partition " + e.Topic + "/" + strconv.Itoa(int(e.Partition)) + ": " + e.Err.Error()
}

func (e *PartitionError) Unwrap() error { return e.Err }

// CoordinatorError reports a failed group coordinator lookup.
type CoordinatorError struct {
	Group string
	Err   error
}

func (e *CoordinatorError) Error() string {
	return "kafka: coordinator of group " + strconv.Quote(e.Group) + ": " + e.Err.Error()
}

func (e *CoordinatorError) Unwrap() error { return e.Err }

// GroupHasMembersError reports an administrative offset commit
// (Cluster.CommitGroupOffsets) that the coordinator refused because the
// group has live members, whose own commits the group's offsets belong to:
// it answered UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION or
// REBALANCE_IN_PROGRESS. Err is that broker error (errors.Is with
// protocol.ErrUnknownMemberID works). Stop the group's consumers and
// commit again.
type GroupHasMembersError struct {
	Group string
	Err   error
}

func (e *GroupHasMembersError) Error() string {
	return "kafka: the coordinator refused the commit because group " + strconv.Quote(e.Group) +
		" has live members (stop them first): " + e.Err.Error()
}

func (e *GroupHasMembersError) Unwrap() error { return e.Err }

// brokerError attaches a broker's message to its error code, keeping the
// code matchable with errors.Is.
func brokerError(code int16, msg *string) error {
	err := protocol.ErrorForCode(code)
	if err == nil || msg == nil || *msg == "" {
		return err
	}
	return &messageError{err: err, msg: *msg}
}

type messageError struct {
	err error
	msg string
}

func (e *messageError) Error() string { return e.err.Error() + ": " + e.msg }

func (e *messageError) Unwrap() error { return e.err }

// isAny reports whether err is (errors.Is) any of targets.
func isAny(err error, targets []error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
