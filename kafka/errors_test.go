package kafka

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/protocol"
)

func TestNoBrokersAvailableError(t *testing.T) {
	err := error(&NoBrokersAvailableError{Attempts: []BrokerAttempt{
		{Addr: "a:1", Err: errors.New("refused")},
		{Addr: "b:2", Err: context.DeadlineExceeded},
	}})
	wrapped := fmt.Errorf("bootstrap: %w", err)
	assert.ErrorIs(t, wrapped, ErrNoBrokersAvailable)
	assert.ErrorIs(t, wrapped, context.DeadlineExceeded, "attempt errors unwrap")
	assert.Equal(t, "kafka: no brokers available: a:1: refused; b:2: context deadline exceeded", err.Error())
	assert.Equal(t, "kafka: no brokers available (none to try)", (&NoBrokersAvailableError{}).Error())
}

func TestErrorAliases(t *testing.T) {
	err := fmt.Errorf("lookup: %w", &TopicError{Topic: "t", Err: protocol.ErrorForCode(3)})
	assert.ErrorIs(t, err, ErrUnknownTopic)
	var kerr *Error
	require.ErrorAs(t, err, &kerr, "kafka.Error works with errors.As")
	assert.Equal(t, int16(3), kerr.Code)
	assert.Same(t, protocol.ErrUnknownTopicOrPartition, ErrUnknownTopic)
	assert.Equal(t, `lookup: kafka: topic "t" does not exist (kafka: UNKNOWN_TOPIC_OR_PARTITION (3))`, err.Error())
	assert.Equal(t, `kafka: topic "t": kafka: TOPIC_AUTHORIZATION_FAILED (29)`,
		(&TopicError{Topic: "t", Err: protocol.ErrTopicAuthorizationFailed}).Error())

	perr := &PartitionError{Topic: "t", Partition: 2, Err: protocol.ErrNotLeaderOrFollower}
	assert.Equal(t, "kafka: partition t/2: kafka: NOT_LEADER_OR_FOLLOWER (6)", perr.Error())
	assert.ErrorIs(t, perr, protocol.ErrNotLeaderOrFollower)
}

func TestBrokerErrorKeepsCode(t *testing.T) {
	assert.NoError(t, brokerError(0, nil))
	msg := "Topic 'x' already exists."
	err := brokerError(protocol.ErrTopicAlreadyExists.Code, &msg)
	assert.ErrorIs(t, err, ErrTopicAlreadyExists)
	assert.Equal(t, "kafka: TOPIC_ALREADY_EXISTS (36): Topic 'x' already exists.", err.Error())
	empty := ""
	assert.Same(t, protocol.ErrTopicAlreadyExists, brokerError(36, &empty))
}

func TestIsStaleMetadata(t *testing.T) {
	for _, err := range []error{
		protocol.ErrNotLeaderOrFollower,
		protocol.ErrUnknownTopicOrPartition,
		protocol.ErrLeaderNotAvailable,
		fmt.Errorf("x: %w", &conn.DisconnectedError{Address: "a:1", Err: conn.ErrClosed}),
		&PartitionError{Topic: "t", Err: ErrNoLeader},
	} {
		assert.True(t, isStaleMetadata(err), "%v", err)
	}
	for _, err := range []error{
		nil,
		protocol.ErrOffsetOutOfRange,
		protocol.ErrTopicAuthorizationFailed,
		context.Canceled,
		errors.New("other"),
	} {
		assert.False(t, isStaleMetadata(err), "%v", err)
	}
}

func TestCoordinatorFrom(t *testing.T) {
	// v4+: the batched list.
	resp := protocol.NewFindCoordinatorResponse()
	resp.Coordinators = []protocol.FindCoordinatorResponseCoordinator{
		{Key: "other", NodeID: 1, Host: "h", Port: 1},
		{Key: "g", NodeID: 2, Host: "h", Port: 2},
	}
	id, err := coordinatorFrom(resp, "g")
	require.NoError(t, err)
	assert.Equal(t, int32(2), id)

	resp.Coordinators[1].ErrorCode = protocol.ErrCoordinatorLoadInProgress.Code
	_, err = coordinatorFrom(resp, "g")
	assert.ErrorIs(t, err, protocol.ErrCoordinatorLoadInProgress)
	assert.True(t, retriableCoordinatorError(err))

	resp.Coordinators = resp.Coordinators[:1]
	_, err = coordinatorFrom(resp, "g")
	assert.Error(t, err, "group missing from the list")

	// v0-3: top-level fields.
	old := protocol.NewFindCoordinatorResponse()
	old.NodeID, old.Host, old.Port = 3, "h", 9092
	id, err = coordinatorFrom(old, "g")
	require.NoError(t, err)
	assert.Equal(t, int32(3), id)

	old.ErrorCode = protocol.ErrGroupAuthorizationFailed.Code
	_, err = coordinatorFrom(old, "g")
	assert.ErrorIs(t, err, protocol.ErrGroupAuthorizationFailed)
	assert.False(t, retriableCoordinatorError(err))

	_, err = coordinatorFrom(protocol.NewFindCoordinatorResponse(), "g")
	assert.Error(t, err, "empty answer names nobody")
}

func TestCreateTopicRequestDefaults(t *testing.T) {
	rt := createTopic(TopicSpec{Name: "t", Configs: map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"}})
	assert.Equal(t, int32(-1), rt.NumPartitions, "broker default")
	assert.Equal(t, int16(-1), rt.ReplicationFactor, "broker default")
	require.Len(t, rt.Configs, 2)
	assert.Equal(t, "cleanup.policy", rt.Configs[0].Name, "sorted, so requests are reproducible")
	assert.Equal(t, "compact", *rt.Configs[0].Value)

	rt = createTopic(TopicSpec{Name: "t", Partitions: 3, ReplicationFactor: 2})
	assert.Equal(t, int32(3), rt.NumPartitions)
	assert.Equal(t, int16(2), rt.ReplicationFactor)
	assert.Empty(t, rt.Configs)
}
