package kafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/protocol"
)

// TestConsumerGroupDescription converts a ConsumerGroupDescribe answer:
// members sorted, subscriptions and assignments sorted, topic names taken
// from the answer or else from the id map, and an id neither names left
// out of the assignment and reported in DecodeError.
func TestConsumerGroupDescription(t *testing.T) {
	orders, audit, gone := protocol.UUID{1}, protocol.UUID{2}, protocol.UUID{3}
	instance, pattern := "static-1", "aud.*"
	rg := &protocol.ConsumerGroupDescribeResponseGroup{
		GroupID: "g", GroupState: GroupStateReconciling, GroupEpoch: 7, AssignmentEpoch: 6, AssignorName: "uniform",
		Members: []protocol.ConsumerGroupDescribeResponseMember{
			{MemberID: "m2", ClientID: "c2", ClientHost: "/10.0.0.2", SubscribedTopicNames: []string{"orders"},
				Assignment: protocol.ConsumerGroupDescribeResponseAssignment{
					TopicPartitions: []protocol.ConsumerGroupDescribeResponseTopicPartitions{
						{TopicID: gone, Partitions: []int32{0}},
						{TopicID: orders, Partitions: []int32{3, 1}},
					}}},
			{MemberID: "m1", InstanceID: &instance, ClientID: "c1", ClientHost: "/10.0.0.1",
				SubscribedTopicNames: []string{"orders", "audit"}, SubscribedTopicRegex: &pattern,
				Assignment: protocol.ConsumerGroupDescribeResponseAssignment{
					TopicPartitions: []protocol.ConsumerGroupDescribeResponseTopicPartitions{
						{TopicID: orders, TopicName: "orders", Partitions: []int32{2, 0}},
						{TopicID: audit, Partitions: []int32{0}},
					}},
				// The target is where the member goes, not what it owns.
				TargetAssignment: protocol.ConsumerGroupDescribeResponseAssignment{
					TopicPartitions: []protocol.ConsumerGroupDescribeResponseTopicPartitions{
						{TopicID: orders, TopicName: "orders", Partitions: []int32{0, 1, 2, 3}},
					}}},
		},
	}
	d := consumerGroupDescription(rg, 4, map[protocol.UUID]string{orders: "orders", audit: "audit"})
	assert.Equal(t, "g", d.Group)
	assert.Equal(t, GroupTypeConsumer, d.Type)
	assert.Equal(t, GroupStateReconciling, d.State)
	assert.Equal(t, "consumer", d.ProtocolType)
	assert.Equal(t, "uniform", d.Protocol)
	assert.Equal(t, int32(4), d.Coordinator)
	require.Len(t, d.Members, 2)
	m1, m2 := d.Members[0], d.Members[1]
	assert.Equal(t, GroupMember{
		MemberID: "m1", GroupInstanceID: "static-1", ClientID: "c1", Host: "/10.0.0.1",
		Subscription: []string{"audit", "orders"}, SubscriptionPattern: "aud.*",
		Assignment: []TopicPartitions{{"audit", []int32{0}}, {"orders", []int32{0, 2}}},
	}, m1)
	assert.Equal(t, "m2", m2.MemberID)
	assert.Empty(t, m2.SubscriptionPattern)
	assert.Equal(t, []TopicPartitions{{"orders", []int32{1, 3}}}, m2.Assignment, "the unknown id is left out")
	assert.Equal(t, "assignment: unknown topic id "+gone.String(), m2.DecodeError)
}

// TestConsumerGroupDescriptionEmpty is a consumer group whose members all
// left: it exists, Empty, without members.
func TestConsumerGroupDescriptionEmpty(t *testing.T) {
	d := consumerGroupDescription(&protocol.ConsumerGroupDescribeResponseGroup{GroupID: "g", GroupState: GroupStateEmpty}, 1, nil)
	assert.Equal(t, &GroupDescription{Group: "g", Type: GroupTypeConsumer, State: GroupStateEmpty,
		ProtocolType: "consumer", Coordinator: 1}, d)
}

// TestConsumerGroupTopicNamesFromModel maps the ids the broker sent without
// a name through the topics the client knows, with no request when it
// knows them all; ids that come with a name are not looked up.
func TestConsumerGroupTopicNamesFromModel(t *testing.T) {
	c := offlineCluster(t, Config{Hosts: []string{"unused:9092"}})
	resp := md{brokers: []int32{1}, controller: 1, topics: []mdTopic{
		{name: "orders", parts: []mdPart{{0, 1, []int32{1}}}},
		{name: "audit", parts: []mdPart{{0, 1, []int32{1}}}},
	}}.response()
	orders, audit := protocol.UUID{1}, protocol.UUID{2}
	resp.Topics[0].TopicID, resp.Topics[1].TopicID = orders, audit
	c.apply(resp, true)

	rg := &protocol.ConsumerGroupDescribeResponseGroup{Members: []protocol.ConsumerGroupDescribeResponseMember{{
		Assignment: protocol.ConsumerGroupDescribeResponseAssignment{
			TopicPartitions: []protocol.ConsumerGroupDescribeResponseTopicPartitions{
				{TopicID: orders, Partitions: []int32{0}},
				{TopicID: audit, TopicName: "audit", Partitions: []int32{0}},
			}}}}}
	names, err := c.consumerGroupTopicNames(t.Context(), rg)
	require.NoError(t, err)
	assert.Equal(t, map[protocol.UUID]string{orders: "orders"}, names)
}
