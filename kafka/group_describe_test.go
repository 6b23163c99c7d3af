package kafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/protocol"
)

func TestDescribedGroupDecodesConsumerProtocol(t *testing.T) {
	sub, err := protocol.EncodeConsumerSubscription(&protocol.ConsumerProtocolSubscription{
		Topics: []string{"orders", "audit"}, GenerationID: -1}, 0)
	require.NoError(t, err)
	asg, err := protocol.EncodeConsumerAssignment(&protocol.ConsumerProtocolAssignment{
		AssignedPartitions: []protocol.ConsumerProtocolAssignmentTopicPartition{
			{Topic: "orders", Partitions: []int32{2, 0}}, {Topic: "audit", Partitions: []int32{1}},
		}}, 0)
	require.NoError(t, err)
	instance := "static-1"
	rg := &protocol.DescribeGroupsResponseGroup{
		GroupID: "g", GroupState: GroupStateStable, ProtocolType: "consumer", ProtocolData: "range",
		Members: []protocol.DescribeGroupsResponseMember{
			{MemberID: "m2", ClientID: "c2", ClientHost: "/10.0.0.2", MemberMetadata: []byte{0, 9}, MemberAssignment: nil},
			{MemberID: "m1", ClientID: "c1", ClientHost: "/10.0.0.1", GroupInstanceID: &instance,
				MemberMetadata: sub, MemberAssignment: asg},
		},
	}
	d, err := describedGroup(rg, 3)
	require.NoError(t, err)
	assert.Equal(t, "g", d.Group)
	assert.Equal(t, GroupStateStable, d.State)
	assert.Equal(t, GroupTypeClassic, d.Type)
	assert.Equal(t, "range", d.Protocol)
	assert.Equal(t, int32(3), d.Coordinator)
	require.Len(t, d.Members, 2)
	m1, m2 := d.Members[0], d.Members[1]
	assert.Equal(t, "m1", m1.MemberID, "sorted by member id")
	assert.Equal(t, "static-1", m1.GroupInstanceID)
	assert.Equal(t, "/10.0.0.1", m1.Host)
	assert.Equal(t, []string{"audit", "orders"}, m1.Subscription)
	assert.Equal(t, []TopicPartitions{{"audit", []int32{1}}, {"orders", []int32{0, 2}}}, m1.Assignment)
	assert.Empty(t, m1.DecodeError)
	assert.Contains(t, m2.DecodeError, "subscription", "a corrupt subscription is reported, not fatal")
	assert.Empty(t, m2.Assignment)
}

func TestDescribedGroupOtherProtocolAndDead(t *testing.T) {
	rg := &protocol.DescribeGroupsResponseGroup{GroupID: "conn", GroupState: GroupStateStable, ProtocolType: "connect",
		Members: []protocol.DescribeGroupsResponseMember{{MemberID: "w1", MemberMetadata: []byte("opaque")}}}
	d, err := describedGroup(rg, 1)
	require.NoError(t, err)
	require.Len(t, d.Members, 1)
	assert.Contains(t, d.Members[0].DecodeError, `"connect"`)
	assert.Empty(t, d.Members[0].Subscription)

	d, err = describedGroup(&protocol.DescribeGroupsResponseGroup{GroupID: "gone",
		ErrorCode: protocol.ErrGroupIDNotFound.Code}, 1)
	require.NoError(t, err)
	assert.Equal(t, GroupStateDead, d.State)
	assert.Empty(t, d.Type, "a group the coordinator does not know has no type")
	assert.Empty(t, d.Members)

	_, err = describedGroup(&protocol.DescribeGroupsResponseGroup{GroupID: "g",
		ErrorCode: protocol.ErrCoordinatorLoadInProgress.Code}, 1)
	require.ErrorIs(t, err, protocol.ErrCoordinatorLoadInProgress)
	assert.True(t, coordinatorBusy(err), "retried by onCoordinator")
}
