package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/protocol"
)

// a member of several topics subscribes to all of them, reports what it
// owns by topic (cooperative), and its sticky user data carries every
// topic's partitions; Java's leader reads exactly this layout.
func TestSubscriptionSeveralTopics(t *testing.T) {
	cl := groupTestTopic(t, 3).cl
	b, err := newBalancedConsumer(cl, nil, "g", BalancedConsumerConfig{
		Topics:         []string{"zeta", "alpha", "mid"},
		Assignor:       CooperativeStickyAssignor(),
		ConsumerConfig: ConsumerConfig{ManualStart: true},
	})
	require.NoError(t, err)
	m := b.member.(*managedMembership)
	assert.Equal(t, []string{"alpha", "mid", "zeta"}, b.Topics(), "sorted")

	data, err := m.subscription(m.assignors[0])
	require.NoError(t, err)
	s, v, err := protocol.DecodeConsumerSubscription(data)
	require.NoError(t, err)
	assert.Equal(t, int16(consumerProtocolVersion), v)
	assert.Equal(t, []string{"alpha", "mid", "zeta"}, s.Topics)
	assert.Empty(t, s.OwnedPartitions)
	assert.Equal(t, int32(-1), s.GenerationID)

	m.mu.Lock()
	m.owned, m.ownedGen = topicParts{"alpha": {0, 2}, "zeta": {1}}, 4
	m.prevStable, m.prevGen = true, 4
	m.mu.Unlock()
	data, err = m.subscription(m.assignors[0])
	require.NoError(t, err)
	s, _, err = protocol.DecodeConsumerSubscription(data)
	require.NoError(t, err)
	assert.Equal(t, []protocol.ConsumerProtocolSubscriptionTopicPartition{
		{Topic: "alpha", Partitions: []int32{0, 2}},
		{Topic: "zeta", Partitions: []int32{1}},
	}, s.OwnedPartitions)
	assert.Equal(t, int32(4), s.GenerationID)
}

// a consumer-protocol member sends every topic, or the pattern alone, and
// its owned partitions by topic id.
func TestConsumerHeartbeatSubscription(t *testing.T) {
	cl := groupTestTopic(t, 3).cl
	b, err := newBalancedConsumer(cl, nil, "g", BalancedConsumerConfig{
		Topics: []string{"b", "a"}, GroupProtocol: GroupProtocolConsumer,
		ConsumerConfig: ConsumerConfig{ManualStart: true},
	})
	require.NoError(t, err)
	m := b.member.(*consumerMembership)
	id1, id2 := protocol.UUID{1}, protocol.UUID{2}
	m.owned = idParts{id2: {3}, id1: {0, 1}}
	req := m.request()
	assert.Equal(t, []string{"a", "b"}, req.SubscribedTopicNames)
	assert.Nil(t, req.SubscribedTopicRegex)
	assert.Equal(t, []protocol.ConsumerGroupHeartbeatRequestTopicPartitions{
		{TopicID: id1, Partitions: []int32{0, 1}}, {TopicID: id2, Partitions: []int32{3}},
	}, req.TopicPartitions)

	b, err = newBalancedConsumer(cl, nil, "g", BalancedConsumerConfig{
		TopicPattern: "orders-.*", GroupProtocol: GroupProtocolConsumer,
		ConsumerConfig: ConsumerConfig{ManualStart: true},
	})
	require.NoError(t, err)
	req = b.member.(*consumerMembership).request()
	assert.Nil(t, req.SubscribedTopicNames)
	require.NotNil(t, req.SubscribedTopicRegex)
	assert.Equal(t, "orders-.*", *req.SubscribedTopicRegex, "sent as written: the broker anchors it")
}

// the pattern matches whole names, as Java's does.
func TestTopicPatternMatchesWholeNames(t *testing.T) {
	cl := groupTestTopic(t, 3).cl
	b, err := newBalancedConsumer(cl, nil, "g", BalancedConsumerConfig{
		TopicPattern: "orders|audit-.*", ConsumerConfig: ConsumerConfig{ManualStart: true},
	})
	require.NoError(t, err)
	for name, want := range map[string]bool{
		"orders": true, "audit-1": true, "orders-2": false, "old-orders": false, "audit": false,
	} {
		assert.Equal(t, want, b.pattern.MatchString(name), name)
	}
}

func TestSeveralTopicsConfigErrors(t *testing.T) {
	topic := groupTestTopic(t, 3)
	cl := topic.cl
	noop := func(context.Context, []int32) {}
	for _, tc := range []struct {
		name  string
		t     *Topic
		cfg   BalancedConsumerConfig
		field string
	}{
		{"nothing to subscribe to", nil, BalancedConsumerConfig{}, "Topics"},
		{"both", nil, BalancedConsumerConfig{Topics: []string{"a"}, TopicPattern: "a"}, "TopicPattern"},
		{"empty name", nil, BalancedConsumerConfig{Topics: []string{"a", ""}}, "Topics[1]"},
		{"twice", nil, BalancedConsumerConfig{Topics: []string{"a", "b", "a"}}, "Topics[2]"},
		{"bad pattern", nil, BalancedConsumerConfig{TopicPattern: "a("}, "TopicPattern"},
		{"topics on a topic", topic, BalancedConsumerConfig{Topics: []string{"a"}}, "Topics"},
		{"pattern on a topic", topic, BalancedConsumerConfig{TopicPattern: "a"}, "TopicPattern"},
		{"one-topic callback", nil, BalancedConsumerConfig{Topics: []string{"a", "b"}, BeforeRevokeCallback: noop}, "BeforeRevokeCallback"},
		{"one-topic lost callback", nil, BalancedConsumerConfig{TopicPattern: "a.*", LostCallback: noop}, "LostCallback"},
		{"post-rebalance callback", nil, BalancedConsumerConfig{Topics: []string{"a", "b"},
			PostRebalanceCallback: func(map[int32]int64, map[int32]int64) map[int32]OffsetTarget { return nil }}, "PostRebalanceCallback"},
		{"zookeeper", nil, BalancedConsumerConfig{Topics: []string{"a", "b"}, ZooKeeperConnect: "zk:2181"}, "Topics"},
		{"negative interval", nil, BalancedConsumerConfig{TopicPattern: "a", MetadataRefreshInterval: -1}, "MetadataRefreshInterval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cfg.withDefaultsOn(cl, tc.t, "g")
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "BalancedConsumerConfig."+tc.field, ce.Field)
		})
	}
	// One topic named in Topics keeps the one-topic callbacks.
	cfg, err := BalancedConsumerConfig{Topics: []string{"a"}, BeforeRevokeCallback: noop}.withDefaultsOn(cl, nil, "g")
	require.NoError(t, err)
	assert.Equal(t, DefaultMetadataRefreshInterval, cfg.MetadataRefreshInterval)
}

// the one-topic methods refuse a consumer of several topics with a typed
// error instead of guessing a topic.
func TestSeveralTopicsOneTopicMethods(t *testing.T) {
	cl := groupTestTopic(t, 3).cl
	b, err := newBalancedConsumer(cl, nil, "g", BalancedConsumerConfig{
		Topics: []string{"a", "b"}, ConsumerConfig: ConsumerConfig{ManualStart: true},
	})
	require.NoError(t, err)
	assert.ErrorIs(t, b.Pause(0), ErrSeveralTopics)
	assert.ErrorIs(t, b.Resume(0), ErrSeveralTopics)
	assert.Empty(t, b.PausedTopics())
	assert.ErrorIs(t, b.ResetOffsets(context.Background(), nil), ErrSeveralTopics)
	assert.Empty(t, b.Partitions())
	assert.Empty(t, b.HeldOffsets())
}

func TestTopicParts(t *testing.T) {
	a := topicParts{"x": {3, 1, 1}, "y": {}, "z": {2}}.normalized()
	assert.Equal(t, topicParts{"x": {1, 3}, "z": {2}}, a)
	assert.Equal(t, topicParts{"x": {3}}, a.minus(topicParts{"x": {1}, "z": {2}}))
	assert.True(t, a.has("x", 3))
	assert.False(t, a.has("y", 0))
	assert.Equal(t, 3, a.len())
	assert.Equal(t, []string{"x", "z"}, sortedTopics(a))
	assert.True(t, a.equal(a.clone()))
}
