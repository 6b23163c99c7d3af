package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gregorkafka/gregor/protocol"
)

// Group types as ListGroups (GroupListing.Type) and DescribeGroup
// (GroupDescription.Type) report them.
const (
	// GroupTypeClassic is a group of the JoinGroup/SyncGroup protocol,
	// which gregor's managed BalancedConsumer speaks.
	GroupTypeClassic = "classic"
	// GroupTypeConsumer is a group of Kafka 4's consumer protocol
	// (KIP-848), where the coordinator computes the assignment.
	GroupTypeConsumer = "consumer"
)

// States only consumer (KIP-848) groups take; see also the GroupState
// constants classic groups share with them.
const (
	// GroupStateAssigning is a consumer group whose coordinator is
	// computing a new target assignment.
	GroupStateAssigning = "Assigning"
	// GroupStateReconciling is a consumer group whose members are moving
	// to the target assignment.
	GroupStateReconciling = "Reconciling"
)

// describeConsumerGroup asks the coordinator b for group as a consumer
// (KIP-848) group. It returns nil and no error when b knows no such group:
// GROUP_ID_NOT_FOUND, which Kafka 4 answers for unknown and classic groups
// alike, or UNSUPPORTED_VERSION, which Kafka 3.9 answers per group although
// it lists the API (its old group coordinator has no consumer groups), and
// which older brokers, not listing the API, give without a request sent.
func describeConsumerGroup(ctx context.Context, b *Broker, group string) (*protocol.ConsumerGroupDescribeResponseGroup, error) {
	req := protocol.NewConsumerGroupDescribeRequest()
	req.GroupIDs = []string{group}
	resp, err := b.ConsumerGroupDescribe(ctx, req)
	if errors.Is(err, protocol.ErrUnsupportedVersion) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for i := range resp.Groups {
		rg := &resp.Groups[i]
		if rg.GroupID != group {
			continue
		}
		switch err := protocol.ErrorForCode(rg.ErrorCode); {
		case errors.Is(err, protocol.ErrGroupIDNotFound), errors.Is(err, protocol.ErrUnsupportedVersion):
			return nil, nil
		case err != nil:
			if rg.ErrorMessage != nil && *rg.ErrorMessage != "" {
				return nil, fmt.Errorf("%w: %s", err, *rg.ErrorMessage)
			}
			return nil, err
		}
		return rg, nil
	}
	return nil, fmt.Errorf("kafka: broker %d did not describe the group", b.ID())
}

// consumerGroupTopicNames maps the ids of the assigned topics of rg that
// the broker sent without a name to names: from the topics the client
// knows, and for the rest from the metadata of every topic. An id no topic
// has (a topic deleted meanwhile) is left out.
func (c *Cluster) consumerGroupTopicNames(ctx context.Context, rg *protocol.ConsumerGroupDescribeResponseGroup) (map[protocol.UUID]string, error) {
	missing := map[protocol.UUID]bool{}
	for i := range rg.Members {
		for _, tp := range rg.Members[i].Assignment.TopicPartitions {
			if tp.TopicName == "" && !tp.TopicID.IsZero() {
				missing[tp.TopicID] = true
			}
		}
	}
	names := map[protocol.UUID]string{}
	if len(missing) == 0 {
		return names, nil
	}
	for name, t := range c.state.Load().topics {
		if id := t.ID(); missing[id] {
			names[id] = name
		}
	}
	if len(names) == len(missing) {
		return names, nil
	}
	md, err := c.metadata(ctx, metadataRequest(nil, false), true)
	if err != nil {
		return nil, err
	}
	for i := range md.Topics {
		if mt := &md.Topics[i]; mt.Name != nil && missing[mt.TopicID] {
			names[mt.TopicID] = *mt.Name
		}
	}
	return names, nil
}

// consumerGroupDescription reads a ConsumerGroupDescribe answer for a group
// that exists. names resolves the topic ids the broker sent without a name
// (Kafka 4 sends both); an assigned topic whose name is unknown is left out
// of the member's Assignment and named by its id in DecodeError, so that
// Assignment holds topic names only.
func consumerGroupDescription(rg *protocol.ConsumerGroupDescribeResponseGroup, coordinator int32, names map[protocol.UUID]string) *GroupDescription {
	d := &GroupDescription{
		Group: rg.GroupID, Type: GroupTypeConsumer, State: rg.GroupState,
		ProtocolType: consumerProtocolType, Protocol: rg.AssignorName, Coordinator: coordinator,
	}
	for i := range rg.Members {
		rm := &rg.Members[i]
		m := GroupMember{MemberID: rm.MemberID, ClientID: rm.ClientID, Host: rm.ClientHost}
		if rm.InstanceID != nil {
			m.GroupInstanceID = *rm.InstanceID
		}
		if len(rm.SubscribedTopicNames) > 0 {
			m.Subscription = slices.Sorted(slices.Values(rm.SubscribedTopicNames))
		}
		if rm.SubscribedTopicRegex != nil {
			m.SubscriptionPattern = *rm.SubscribedTopicRegex
		}
		var unknown []string
		for _, tp := range rm.Assignment.TopicPartitions {
			name := tp.TopicName
			if name == "" {
				name = names[tp.TopicID]
			}
			if name == "" {
				unknown = append(unknown, tp.TopicID.String())
				continue
			}
			m.Assignment = append(m.Assignment, TopicPartitions{Topic: name, Partitions: slices.Sorted(slices.Values(tp.Partitions))})
		}
		slices.SortFunc(m.Assignment, func(a, b TopicPartitions) int { return strings.Compare(a.Topic, b.Topic) })
		if len(unknown) > 0 {
			m.DecodeError = "assignment: unknown topic id " + strings.Join(unknown, ", ")
		}
		d.Members = append(d.Members, m)
	}
	slices.SortFunc(d.Members, func(a, b GroupMember) int { return strings.Compare(a.MemberID, b.MemberID) })
	return d
}
