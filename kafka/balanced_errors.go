package kafka

import (
	"errors"
	"strconv"
	"time"
)

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

// ErrZooKeeperUnreachable matches every *ZooKeeperUnreachableError.
var ErrZooKeeperUnreachable = errors.New("kafka: zookeeper unreachable")

// ZooKeeperUnreachableError reports a ZooKeeper-coordinated consumer that
// got no ZooKeeper session. Its message names the setting that chose
// ZooKeeper and the way to the brokers' group coordinator instead, which
// is what Kafka 4 clusters (no ZooKeeper) need.
type ZooKeeperUnreachableError struct {
	Connect string        // the connect string tried
	Timeout time.Duration // how long a session was waited for
	From    string        // the setting that named this ZooKeeper
	Err     error
}

func (e *ZooKeeperUnreachableError) Error() string {
	return "kafka: no ZooKeeper session at " + e.Connect + " within " + e.Timeout.String() + " (" + e.Err.Error() +
		"); ZooKeeper coordination was chosen because " + e.From + " is set: check that ZooKeeper runs there, " +
		"or leave the ZooKeeper settings empty to have the group coordinated by the brokers (Kafka 4 has no ZooKeeper)"
}

func (e *ZooKeeperUnreachableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrZooKeeperUnreachable) hold.
func (e *ZooKeeperUnreachableError) Is(target error) bool { return target == ErrZooKeeperUnreachable }

// ErrSeveralTopics is returned by the BalancedConsumer methods that name
// partitions of one topic (ResetOffsets, Pause, Resume) when the consumer
// subscribes to several topics or a pattern: ResetTopicOffsets,
// PauseTopics and ResumeTopics name the topic.
var ErrSeveralTopics = errors.New("kafka: the balanced consumer has several topics: partitions need their topic")

// ErrTopicPatternUnsupported matches the *GroupError of a
// GroupProtocolConsumer member with a TopicPattern whose coordinator
// cannot resolve patterns (ConsumerGroupHeartbeat before v1); such a group
// needs GroupProtocolClassic, where the client matches the pattern.
var ErrTopicPatternUnsupported = errors.New("kafka: the group coordinator cannot resolve topic patterns (ConsumerGroupHeartbeat v1, Kafka 4.0+); use GroupProtocolClassic")
