package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/protocol"
)

// Group requests go to the group's coordinator; one that moved or is still
// loading the group (on a new cluster, creating the offsets topic takes
// seconds) is looked up again after a growing pause, this many times.
const (
	coordinatorAttempts   = 10
	coordinatorBackoff    = 100 * time.Millisecond
	coordinatorMaxBackoff = time.Second
)

// Group states as DescribeGroups reports them.
const (
	stateDead  = "Dead"
	stateEmpty = "Empty"
)

// groupDescription is a group as its coordinator describes it, with the
// classic consumer protocol's subscriptions and assignments decoded.
type groupDescription struct {
	GroupID      string        `json:"group_id"`
	State        string        `json:"state"`
	ProtocolType string        `json:"protocol_type"`
	Protocol     string        `json:"protocol"`
	Coordinator  int32         `json:"coordinator"`
	Members      []groupMember `json:"members"`
}

type groupMember struct {
	MemberID        string            `json:"member_id"`
	GroupInstanceID string            `json:"group_instance_id,omitempty"`
	ClientID        string            `json:"client_id"`
	Host            string            `json:"host"`
	Subscription    []string          `json:"subscription"`
	Assignment      []topicPartitions `json:"assignment"`
	// DecodeError says why the member's subscription or assignment could
	// not be read (a protocol other than Kafka's consumer protocol).
	DecodeError string `json:"decode_error,omitempty"`
}

type topicPartitions struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

// exists reports whether the coordinator knows the group: Dead is what it
// answers for a group it has never seen (or has deleted).
func (d *groupDescription) exists() bool { return d.State != stateDead }

// live reports whether the group has members, or is between generations.
func (d *groupDescription) live() bool {
	return len(d.Members) > 0 || d.State != stateEmpty && d.State != stateDead
}

// owners maps the partitions of topic to the member they are assigned to.
func (d *groupDescription) owners(topic string) map[int32]*groupMember {
	out := map[int32]*groupMember{}
	for i := range d.Members {
		m := &d.Members[i]
		for _, tp := range m.Assignment {
			if tp.Topic == topic {
				for _, p := range tp.Partitions {
					out[p] = m
				}
			}
		}
	}
	return out
}

// coordinatorMoved reports the errors after which the coordinator is
// looked up again and the request retried.
func coordinatorMoved(err error) bool {
	return errors.Is(err, protocol.ErrNotCoordinator) ||
		errors.Is(err, protocol.ErrCoordinatorNotAvailable) ||
		errors.Is(err, protocol.ErrCoordinatorLoadInProgress)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// onCoordinator runs fn on the group's coordinator, finding it again and
// retrying when fn's error says it moved or is loading.
func onCoordinator(ctx context.Context, cl *kafka.Client, group string, fn func(*kafka.Broker) error) error {
	backoff := coordinatorBackoff
	for attempt := 1; ; attempt++ {
		b, err := cl.Cluster().GroupCoordinator(ctx, group)
		if err != nil {
			return err
		}
		err = fn(b)
		if err == nil || attempt == coordinatorAttempts || !coordinatorMoved(err) {
			return err
		}
		cl.Cluster().InvalidateCoordinator(group)
		if err := sleepCtx(ctx, backoff); err != nil {
			return err
		}
		backoff = min(2*backoff, coordinatorMaxBackoff)
	}
}

// describeGroup describes one group on its coordinator.
func describeGroup(ctx context.Context, cl *kafka.Client, group string) (*groupDescription, error) {
	var out *groupDescription
	err := onCoordinator(ctx, cl, group, func(b *kafka.Broker) error {
		req := protocol.NewDescribeGroupsRequest()
		req.Groups = []string{group}
		resp, err := b.DescribeGroups(ctx, req)
		if err != nil {
			return err
		}
		for i := range resp.Groups {
			if rg := &resp.Groups[i]; rg.GroupID == group {
				out, err = newGroupDescription(rg, b.ID())
				return err
			}
		}
		return fmt.Errorf("coordinator %v did not describe group %q", b, group)
	})
	if err != nil {
		return nil, fmt.Errorf("describing group %q: %w", group, err)
	}
	return out, nil
}

func newGroupDescription(rg *protocol.DescribeGroupsResponseGroup, coordinator int32) (*groupDescription, error) {
	d := &groupDescription{GroupID: rg.GroupID, Coordinator: coordinator, Members: []groupMember{}}
	switch err := protocol.ErrorForCode(rg.ErrorCode); {
	case errors.Is(err, protocol.ErrGroupIDNotFound):
		d.State = stateDead
		return d, nil
	case err != nil:
		return nil, err
	}
	d.State, d.ProtocolType, d.Protocol = rg.GroupState, rg.ProtocolType, rg.ProtocolData
	for i := range rg.Members {
		rm := &rg.Members[i]
		m := groupMember{
			MemberID: rm.MemberID, ClientID: rm.ClientID, Host: rm.ClientHost,
			Subscription: []string{}, Assignment: []topicPartitions{},
		}
		if rm.GroupInstanceID != nil {
			m.GroupInstanceID = *rm.GroupInstanceID
		}
		if d.ProtocolType == "consumer" {
			decodeMember(&m, rm.MemberMetadata, rm.MemberAssignment)
		} else {
			m.DecodeError = fmt.Sprintf("protocol type %q is not the consumer protocol", d.ProtocolType)
		}
		d.Members = append(d.Members, m)
	}
	sort.Slice(d.Members, func(i, j int) bool { return d.Members[i].MemberID < d.Members[j].MemberID })
	return d, nil
}

// decodeMember reads a consumer protocol member's subscription and
// assignment. Both are empty while a rebalance is under way.
func decodeMember(m *groupMember, metadata, assignment []byte) {
	if len(metadata) > 0 {
		s, _, err := protocol.DecodeConsumerSubscription(metadata)
		if err != nil {
			m.DecodeError = "subscription: " + err.Error()
		} else {
			m.Subscription = append(m.Subscription, s.Topics...)
			sort.Strings(m.Subscription)
		}
	}
	if len(assignment) > 0 {
		a, _, err := protocol.DecodeConsumerAssignment(assignment)
		if err != nil {
			m.DecodeError = "assignment: " + err.Error()
			return
		}
		for _, tp := range a.AssignedPartitions {
			parts := append([]int32(nil), tp.Partitions...)
			sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
			m.Assignment = append(m.Assignment, topicPartitions{Topic: tp.Topic, Partitions: parts})
		}
		sort.Slice(m.Assignment, func(i, j int) bool { return m.Assignment[i].Topic < m.Assignment[j].Topic })
	}
}

// committedOffsets maps topic -> partition -> committed offset (the next
// offset the group will read). Partitions without a commit are absent.
type committedOffsets map[string]map[int32]int64

func (c committedOffsets) set(topic string, partition int32, offset int64) {
	if c[topic] == nil {
		c[topic] = map[int32]int64{}
	}
	c[topic][partition] = offset
}

// fetchOffsets reads the group's committed offsets for the given topics'
// partitions, or for every topic when topics is nil.
func fetchOffsets(ctx context.Context, cl *kafka.Client, group string, topics map[string][]int32) (committedOffsets, error) {
	req := protocol.NewOffsetFetchRequest()
	// The negotiated version decides which layout is sent: GroupID and
	// Topics up to v7, Groups from v8. Nil topics asks for all.
	req.GroupID = group
	rg := protocol.OffsetFetchRequestGroup{GroupID: group, MemberEpoch: -1}
	names := make([]string, 0, len(topics))
	for name := range topics {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		req.Topics = append(req.Topics, protocol.OffsetFetchRequestTopic{Name: name, PartitionIndexes: topics[name]})
		rg.Topics = append(rg.Topics, protocol.OffsetFetchRequestTopics{Name: name, PartitionIndexes: topics[name]})
	}
	req.Groups = []protocol.OffsetFetchRequestGroup{rg}

	var out committedOffsets
	err := onCoordinator(ctx, cl, group, func(b *kafka.Broker) error {
		resp, err := b.OffsetFetch(ctx, req)
		if err != nil {
			return err
		}
		out, err = readOffsetFetch(resp, group)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fetching the offsets of group %q: %w", group, err)
	}
	return out, nil
}

func readOffsetFetch(resp *protocol.OffsetFetchResponse, group string) (committedOffsets, error) {
	out := committedOffsets{}
	var errs []error
	add := func(topic string, partition int32, offset int64, code int16) {
		switch err := protocol.ErrorForCode(code); {
		case err == nil:
			if offset >= 0 { // -1: nothing committed
				out.set(topic, partition, offset)
			}
		case errors.Is(err, protocol.ErrUnknownTopicOrPartition):
			// A deleted topic's offsets are as good as none.
		default:
			errs = append(errs, fmt.Errorf("%s/%d: %w", topic, partition, err))
		}
	}
	groupErr := func(code int16) error {
		err := protocol.ErrorForCode(code)
		if errors.Is(err, protocol.ErrGroupIDNotFound) {
			return nil // no such group: no offsets
		}
		return err
	}
	if len(resp.Groups) == 0 { // up to v7
		if err := groupErr(resp.ErrorCode); err != nil {
			return nil, err
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				add(t.Name, p.PartitionIndex, p.CommittedOffset, p.ErrorCode)
			}
		}
		return out, errors.Join(errs...)
	}
	for _, g := range resp.Groups {
		if g.GroupID != group {
			continue
		}
		if err := groupErr(g.ErrorCode); err != nil {
			return nil, err
		}
		for _, t := range g.Topics {
			for _, p := range t.Partitions {
				add(t.Name, p.PartitionIndex, p.CommittedOffset, p.ErrorCode)
			}
		}
	}
	return out, errors.Join(errs...)
}

// commitOffsets stores offsets for the group's partitions of topic as an
// administrator does: with no member id or generation, which coordinators
// accept only while the group has no members.
func commitOffsets(ctx context.Context, cl *kafka.Client, group, topic string, offsets map[int32]int64) error {
	req := protocol.NewOffsetCommitRequest()
	req.GroupID = group
	rt := protocol.OffsetCommitRequestTopic{Name: topic}
	for _, id := range sortedIDs(offsets) {
		p := protocol.OffsetCommitRequestPartition{}
		p.Default()
		p.PartitionIndex, p.CommittedOffset = id, offsets[id]
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = []protocol.OffsetCommitRequestTopic{rt}

	err := onCoordinator(ctx, cl, group, func(b *kafka.Broker) error {
		resp, err := b.OffsetCommit(ctx, req)
		if err != nil {
			return err
		}
		var errs []error
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := protocol.ErrorForCode(p.ErrorCode); err != nil {
					errs = append(errs, fmt.Errorf("%s/%d: %w", t.Name, p.PartitionIndex, err))
				}
			}
		}
		return errors.Join(errs...)
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, protocol.ErrUnknownMemberID), errors.Is(err, protocol.ErrIllegalGeneration),
		errors.Is(err, protocol.ErrRebalanceInProgress):
		return fmt.Errorf("the coordinator refused the commit because group %q has live members; stop them first: %w", group, err)
	default:
		return fmt.Errorf("committing offsets of group %q: %w", group, err)
	}
}

// groupListing is a group as ListGroups reports it.
type groupListing struct {
	GroupID      string `json:"group_id"`
	ProtocolType string `json:"protocol_type"`
	State        string `json:"state"`
	Type         string `json:"type"`
	Coordinator  int32  `json:"coordinator"`
}

// listGroups asks every broker for the groups it coordinates.
func listGroups(ctx context.Context, cl *kafka.Client) ([]groupListing, error) {
	if err := cl.Update(ctx); err != nil {
		return nil, err
	}
	var out []groupListing
	for _, b := range cl.Brokers() {
		var resp *protocol.ListGroupsResponse
		for attempt := 1; ; attempt++ {
			var err error
			resp, err = b.ListGroups(ctx, protocol.NewListGroupsRequest())
			if err == nil {
				err = protocol.ErrorForCode(resp.ErrorCode)
			}
			if err == nil {
				break
			}
			if attempt == coordinatorAttempts || !coordinatorMoved(err) {
				return nil, fmt.Errorf("listing the groups of %v: %w", b, err)
			}
			if err := sleepCtx(ctx, coordinatorBackoff); err != nil {
				return nil, err
			}
		}
		for _, g := range resp.Groups {
			out = append(out, groupListing{
				GroupID: g.GroupID, ProtocolType: g.ProtocolType, State: g.GroupState, Type: g.GroupType,
				Coordinator: b.ID(),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GroupID < out[j].GroupID })
	return out, nil
}

func sortedIDs[V any](m map[int32]V) []int32 {
	ids := make([]int32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
