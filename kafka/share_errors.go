package kafka

import (
	"errors"
	"strconv"
)

var (
	// ErrShareGroupsUnsupported reports a cluster without share groups: a
	// broker older than Kafka 4.1 (no ShareGroupHeartbeat API), or one whose
	// share.version feature is 0. Returned by Client.ShareConsumer, wrapped
	// with the broker's own error (errors.Is(err,
	// protocol.ErrUnsupportedVersion) also holds).
	ErrShareGroupsUnsupported = errors.New("kafka: the cluster does not support share groups (Kafka 4.1+ with share.version=1 needed)")

	// ErrShareUnacknowledged reports a Poll of an AckExplicit consumer while
	// records of the previous Poll are still unacknowledged.
	ErrShareUnacknowledged = errors.New("kafka: records of the previous Poll are not acknowledged (AckExplicit)")

	// ErrShareNotDelivered reports an Acknowledge of a record this consumer
	// does not hold: never delivered by its Poll, delivered before the
	// previous Poll, or already acknowledged.
	ErrShareNotDelivered = errors.New("kafka: record not held by this share consumer (not delivered by the last Poll, or already acknowledged)")

	// ErrShareConsumerClosed reports use of a closed ShareConsumer.
	ErrShareConsumerClosed = errors.New("kafka: share consumer closed")
)

// ShareGroupError is the share group's coordinator refusing the member for
// good (group or topic authorization, a group id in use by another kind of
// group, an unsupported API); Err is the broker's error.
type ShareGroupError struct {
	Group string
	Err   error
}

func (e *ShareGroupError) Error() string {
	return "kafka: share group " + strconv.Quote(e.Group) + ": " + e.Err.Error()
}

func (e *ShareGroupError) Unwrap() error { return e.Err }

// ShareAckError collects the partitions whose acknowledgements Commit or
// Close could not complete.
type ShareAckError struct {
	Failed []ShareAckResult
}

func (e *ShareAckError) Error() string {
	s := "kafka: acknowledgements failed for " + strconv.Itoa(len(e.Failed)) + " partition(s)"
	if len(e.Failed) > 0 {
		f := e.Failed[0]
		s += ", first " + f.Topic + "/" + strconv.Itoa(int(f.Partition)) + ": " + f.Err.Error()
	}
	return s
}

// Unwrap returns every partition's error, so errors.Is(err,
// protocol.ErrInvalidRecordState) finds an acknowledgement refused because
// its records' lock ran out.
func (e *ShareAckError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}
