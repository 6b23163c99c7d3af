package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gregorkafka/gregor/protocol"
)

// Group states as coordinators report them (GroupDescription.State,
// GroupListing.State).
const (
	// GroupStateDead is a group the coordinator does not know: never
	// created, or deleted.
	GroupStateDead = "Dead"
	// GroupStateEmpty is a group without members that has committed
	// offsets.
	GroupStateEmpty = "Empty"
	// GroupStateStable is a group whose members hold their assignments.
	GroupStateStable = "Stable"
	// GroupStatePreparingRebalance is a group waiting for its members to
	// join a new generation.
	GroupStatePreparingRebalance = "PreparingRebalance"
	// GroupStateCompletingRebalance is a group waiting for its leader's
	// assignment.
	GroupStateCompletingRebalance = "CompletingRebalance"
)

// GroupDescription is a consumer group as its coordinator describes it
// (DescribeGroups, or ConsumerGroupDescribe for Kafka 4's consumer groups),
// with the consumer protocol's subscriptions and assignments decoded.
type GroupDescription struct {
	Group string
	// Type is GroupTypeClassic or GroupTypeConsumer (KIP-848); "" for a
	// group the coordinator does not know.
	Type string
	// State is one of the GroupState constants (or a state a newer broker
	// knows); GroupStateDead for a group the coordinator does not know.
	State string
	// ProtocolType is "consumer" for Kafka's consumer protocol, which
	// gregor's managed BalancedConsumer and Java's consumers speak, and
	// for every consumer (KIP-848) group.
	ProtocolType string
	// Protocol is the assignor the members agreed on, such as "range"; in
	// a consumer (KIP-848) group the coordinator's, such as "uniform".
	Protocol string
	// Coordinator is the id of the broker that answered.
	Coordinator int32
	// Members is sorted by MemberID.
	Members []GroupMember
}

// GroupMember is one member of a GroupDescription.
type GroupMember struct {
	MemberID        string
	GroupInstanceID string // "" unless the member is static
	ClientID        string
	Host            string
	// Subscription lists the topics the member subscribes to by name,
	// sorted.
	Subscription []string
	// SubscriptionPattern is the regular expression a member of a
	// consumer (KIP-848) group subscribes with, "" if none.
	SubscriptionPattern string
	// Assignment lists the partitions the member was assigned, by topic in
	// name order, partitions ascending. Subscription and Assignment are
	// both empty while a rebalance is under way.
	Assignment []TopicPartitions
	// DecodeError says why Subscription or Assignment could not be read,
	// such as a protocol other than the consumer protocol, or an assigned
	// topic id that names no topic (the topic is then left out of
	// Assignment); "" when both were read.
	DecodeError string
}

// TopicPartitions is a topic and some of its partitions.
type TopicPartitions struct {
	Topic      string
	Partitions []int32
}

// GroupListing is a group as ListGroups reports it.
type GroupListing struct {
	Group        string
	ProtocolType string
	// State is the group's state, from Kafka 2.6 on ("" before).
	State string
	// Type is "classic" or "consumer" (KIP-848), from Kafka 4.0 on (""
	// before).
	Type string
	// Coordinator is the id of the broker that listed the group.
	Coordinator int32
}

// DescribeGroup describes the consumer group (pykafka's describe_groups):
// its state, protocol and members, with what each subscribes to and was
// assigned. A group the coordinator does not know is not an error: its
// State is GroupStateDead and it has no members. A member whose protocol
// is not the consumer protocol carries a DecodeError instead of failing
// the call. Kafka 4's consumer (KIP-848) groups are described too, with
// the assigned topics' ids mapped to names.
//
// It runs on the group's coordinator and retries as FetchGroupOffsets
// does.
func (c *Cluster) DescribeGroup(ctx context.Context, group string) (*GroupDescription, error) {
	req := protocol.NewDescribeGroupsRequest()
	req.Groups = []string{group}
	var out *GroupDescription
	var consumer *protocol.ConsumerGroupDescribeResponseGroup
	err := c.onCoordinator(ctx, group, func(b *Broker) error {
		out, consumer = nil, nil
		resp, err := b.DescribeGroups(ctx, req)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(resp.Groups, func(rg protocol.DescribeGroupsResponseGroup) bool { return rg.GroupID == group })
		if i < 0 {
			return fmt.Errorf("kafka: broker %d did not describe the group", b.ID())
		}
		if out, err = describedGroup(&resp.Groups[i], b.ID()); err != nil || out.State != GroupStateDead {
			return err
		}
		// Kafka 4 answers DescribeGroups (v0-v5) for a consumer group
		// as for an unknown one: Dead, no error. Only then is it asked
		// as a consumer group, so that classic groups, and every group
		// of a broker without consumer groups, cost one request.
		consumer, err = describeConsumerGroup(ctx, b, group)
		return err
	})
	if err == nil && consumer != nil {
		var names map[protocol.UUID]string
		if names, err = c.consumerGroupTopicNames(ctx, consumer); err == nil {
			out = consumerGroupDescription(consumer, out.Coordinator, names)
		}
	}
	if err != nil {
		return nil, groupOpError("describing group", group, err)
	}
	return out, nil
}

// describedGroup reads one group of a DescribeGroups answer.
func describedGroup(rg *protocol.DescribeGroupsResponseGroup, coordinator int32) (*GroupDescription, error) {
	d := &GroupDescription{Group: rg.GroupID, Coordinator: coordinator}
	switch err := protocol.ErrorForCode(rg.ErrorCode); {
	case errors.Is(err, protocol.ErrGroupIDNotFound):
		d.State = GroupStateDead
		return d, nil
	case err != nil:
		return nil, err
	}
	d.State, d.ProtocolType, d.Protocol = rg.GroupState, rg.ProtocolType, rg.ProtocolData
	if d.State != GroupStateDead {
		d.Type = GroupTypeClassic
	}
	for i := range rg.Members {
		rm := &rg.Members[i]
		m := GroupMember{MemberID: rm.MemberID, ClientID: rm.ClientID, Host: rm.ClientHost}
		if rm.GroupInstanceID != nil {
			m.GroupInstanceID = *rm.GroupInstanceID
		}
		if d.ProtocolType == consumerProtocolType {
			decodeConsumerMember(&m, rm.MemberMetadata, rm.MemberAssignment)
		} else {
			m.DecodeError = fmt.Sprintf("protocol type %q is not the consumer protocol", d.ProtocolType)
		}
		d.Members = append(d.Members, m)
	}
	slices.SortFunc(d.Members, func(a, b GroupMember) int { return strings.Compare(a.MemberID, b.MemberID) })
	return d, nil
}

// decodeConsumerMember reads a consumer protocol member's subscription and
// assignment, each empty while a rebalance is under way.
func decodeConsumerMember(m *GroupMember, metadata, assignment []byte) {
	if len(metadata) > 0 {
		s, _, err := protocol.DecodeConsumerSubscription(metadata)
		if err != nil {
			m.DecodeError = "subscription: " + err.Error()
		} else {
			m.Subscription = slices.Sorted(slices.Values(s.Topics))
		}
	}
	if len(assignment) > 0 {
		a, _, err := protocol.DecodeConsumerAssignment(assignment)
		if err != nil {
			m.DecodeError = "assignment: " + err.Error()
			return
		}
		for _, tp := range a.AssignedPartitions {
			m.Assignment = append(m.Assignment, TopicPartitions{Topic: tp.Topic, Partitions: slices.Sorted(slices.Values(tp.Partitions))})
		}
		slices.SortFunc(m.Assignment, func(a, b TopicPartitions) int { return strings.Compare(a.Topic, b.Topic) })
	}
}

// ListGroups lists the groups of every broker in the cluster (pykafka's
// list_groups), each with the broker that coordinates it, sorted by group.
// A broker still loading its groups is asked again as group requests are;
// a broker that cannot answer fails the call, since the list would miss its
// groups.
func (c *Cluster) ListGroups(ctx context.Context) ([]GroupListing, error) {
	if err := c.Update(ctx); err != nil {
		return nil, err
	}
	var out []GroupListing
	for _, b := range c.Brokers() {
		var resp *protocol.ListGroupsResponse
		err := c.retryCoordinator(ctx, func() error {
			var err error
			if resp, err = b.ListGroups(ctx, protocol.NewListGroupsRequest()); err != nil {
				return err
			}
			return protocol.ErrorForCode(resp.ErrorCode)
		})
		if err != nil {
			return nil, fmt.Errorf("kafka: listing the groups of broker %d (%s): %w", b.ID(), b.Addr(), err)
		}
		for _, g := range resp.Groups {
			out = append(out, GroupListing{Group: g.GroupID, ProtocolType: g.ProtocolType, State: g.GroupState,
				Type: g.GroupType, Coordinator: b.ID()})
		}
	}
	slices.SortFunc(out, func(a, b GroupListing) int { return strings.Compare(a.Group, b.Group) })
	return out, nil
}
