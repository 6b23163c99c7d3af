package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gregorkafka/gregor/protocol"
)

// consumerProtocolVersion is the version of the subscription gregor sends
// and the highest it encodes assignments at: the Java client's current one.
const consumerProtocolVersion = 3

// memberIDAttempts bounds the JoinGroups of one join: the first, one more
// with the member id a JoinGroup v4+ hands out (MEMBER_ID_REQUIRED), and a
// few more for a member id the coordinator forgot meanwhile.
const memberIDAttempts = 4

// join is one eager rebalance: pause and commit, JoinGroup, the leader's
// assignment, SyncGroup, then consume the new assignment.
//
// Cooperative rebalancing would change this function only: send the
// partitions still owned in the subscription, keep consuming them through
// the join, and revoke only what the new assignment takes away (joining
// once more if it took any), with an assignor that respects ownership.
func (m *managedMembership) join(ctx context.Context) error {
	b := m.b
	if err := b.revoke(ctx); err != nil {
		return err
	}
	if err := m.io.LockContext(ctx); err != nil {
		return err
	}
	parts, continuous, err := m.joinAndSync(ctx)
	m.io.Unlock()
	if err != nil {
		return err
	}
	carry := make(map[int32]bool, len(parts))
	for _, p := range parts {
		carry[p] = continuous
	}
	b.assign(ctx, parts, carry)
	return nil
}

func (m *managedMembership) joinAndSync(ctx context.Context) (parts []int32, continuous bool, err error) {
	b := m.b
	m.setUnstable()
	coord, err := b.cl.GroupCoordinator(ctx, b.group)
	if err != nil {
		return nil, false, err
	}
	resp, err := m.sendJoin(ctx, coord)
	if err != nil {
		return nil, false, err
	}
	var assignments []protocol.SyncGroupRequestAssignment
	if resp.Leader == resp.MemberID && !resp.SkipAssignment {
		if assignments, err = m.leaderAssign(ctx, resp); err != nil {
			return nil, false, err
		}
	}
	parts, err = m.sendSync(ctx, coord, resp.GenerationID, resp.MemberID, assignments)
	if err != nil {
		return nil, false, err
	}
	continuous = m.setStable(resp.GenerationID, resp.MemberID)
	m.mu.Lock()
	claimed := m.owned[b.topic.name]
	m.owned, m.ownedGen = map[string][]int32{b.topic.name: parts}, resp.GenerationID
	m.mu.Unlock()
	if reportsOwned(m.assignor) && slices.ContainsFunc(claimed, func(p int32) bool { return !slices.Contains(parts, p) }) {
		// A cooperative leader withholds a partition moving between
		// members for one generation: the member that gave it up rejoins
		// at once so that the next one hands it out, as Java's does.
		m.requestRejoin(resp.GenerationID)
	}
	b.groupEvent(GroupJoined, nil, nil)
	b.log.Debug("kafka: joined the group", "member", resp.MemberID, "generation", resp.GenerationID,
		"leader", resp.Leader == resp.MemberID, "partitions", parts)
	return parts, continuous, nil
}

// subscription is the member's JoinGroup protocol metadata.
func (m *managedMembership) subscription() ([]byte, error) {
	s := protocol.NewConsumerProtocolSubscription()
	s.Topics = []string{m.b.topic.name}
	m.mu.Lock()
	s.GenerationID = m.prevGen
	if !m.prevStable {
		s.GenerationID = -1
	}
	if reportsOwned(m.assignor) {
		// Given up before joining, but reported so that a cooperative
		// assignor can keep them here.
		for _, t := range sortedKeys(m.owned) {
			s.OwnedPartitions = append(s.OwnedPartitions,
				protocol.ConsumerProtocolSubscriptionTopicPartition{Topic: t, Partitions: m.owned[t]})
		}
	}
	if m.owned == nil {
		s.UserData = m.assignor.UserData(nil, -1)
	} else {
		s.UserData = m.assignor.UserData(m.owned, m.ownedGen)
	}
	m.mu.Unlock()
	return protocol.EncodeConsumerSubscription(s, consumerProtocolVersion)
}

// sendJoin sends JoinGroup until the coordinator accepts the member,
// handling the member-id handshake of JoinGroup v4+.
func (m *managedMembership) sendJoin(ctx context.Context, coord *Broker) (*protocol.JoinGroupResponse, error) {
	b := m.b
	meta, err := m.subscription()
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		req := protocol.NewJoinGroupRequest()
		req.GroupID = b.group
		req.SessionTimeoutMs = int32(b.cfg.SessionTimeout.Milliseconds())
		req.RebalanceTimeoutMs = int32(b.cfg.RebalanceTimeout.Milliseconds())
		req.MemberID = m.memberID()
		req.GroupInstanceID = m.instance
		req.ProtocolType = consumerProtocolType
		req.Protocols = []protocol.JoinGroupRequestProtocol{{Name: m.assignor.Name(), Metadata: meta}}
		resp, err := m.joinGroup(ctx, coord, req)
		if err != nil {
			b.cl.invalidateCoordinatorOn(b.group, err)
			return nil, err
		}
		kerr := brokerError(resp.ErrorCode, nil)
		switch {
		case kerr == nil:
			if resp.ProtocolName != nil && *resp.ProtocolName != m.assignor.Name() {
				return nil, &GroupError{Group: b.group, Err: fmt.Errorf("kafka: the group chose protocol %q, not %q",
					*resp.ProtocolName, m.assignor.Name())}
			}
			m.setMember(resp.MemberID)
			return resp, nil
		case attempt >= memberIDAttempts:
			return nil, fmt.Errorf("kafka: JoinGroup: %w", kerr)
		case errors.Is(kerr, protocol.ErrMemberIDRequired):
			m.setMember(resp.MemberID)
		case errors.Is(kerr, protocol.ErrUnknownMemberID):
			m.setMember("")
		case errors.Is(kerr, protocol.ErrRebalanceInProgress):
			return nil, fmt.Errorf("%w: JoinGroup: %w", errRejoin, kerr)
		case isFatalGroupError(kerr):
			return nil, &GroupError{Group: b.group, Err: kerr}
		default:
			b.cl.invalidateCoordinatorOn(b.group, kerr)
			return nil, fmt.Errorf("kafka: JoinGroup: %w", kerr)
		}
	}
}

// isFatalGroupError reports errors no retry can cure: the group's members
// disagree on the protocol, the configuration is refused, or the member
// may not join.
func isFatalGroupError(err error) bool {
	for _, target := range []error{
		protocol.ErrInconsistentGroupProtocol,
		protocol.ErrInvalidSessionTimeout,
		protocol.ErrGroupAuthorizationFailed,
		protocol.ErrInvalidGroupID,
		protocol.ErrFencedInstanceID,
		protocol.ErrGroupMaxSizeReached,
		protocol.ErrUnsupportedVersion,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// leaderAssign computes the whole group's assignment, as the leader: over
// every topic any member subscribes to (members of a mixed group may
// consume other topics too), with partition counts from fresh metadata.
func (m *managedMembership) leaderAssign(ctx context.Context, resp *protocol.JoinGroupResponse) ([]protocol.SyncGroupRequestAssignment, error) {
	b := m.b
	members := make([]AssignorMember, 0, len(resp.Members))
	version := int16(consumerProtocolVersion)
	topics := map[string]bool{}
	pykafka := map[string]bool{}
	for _, jm := range resp.Members {
		gm := AssignorMember{MemberID: jm.MemberID, Generation: -1}
		if jm.GroupInstanceID != nil {
			gm.GroupInstanceID = *jm.GroupInstanceID
		}
		sub, v, err := protocol.DecodeConsumerSubscription(jm.Metadata)
		switch {
		case err != nil:
			// It gets nothing; the others still get their share.
			b.log.Warn("kafka: unreadable subscription of a group member", "member", jm.MemberID, "error", err)
		case isPykafkaSubscription(sub):
			gm.Topics = []string{b.topic.name}
			pykafka[jm.MemberID] = true
			version = min(version, v)
		default:
			gm.Topics, gm.UserData, gm.Generation = sub.Topics, sub.UserData, sub.GenerationID
			if len(sub.OwnedPartitions) > 0 {
				gm.OwnedPartitions = map[string][]int32{}
				for _, tp := range sub.OwnedPartitions {
					gm.OwnedPartitions[tp.Topic] = append(gm.OwnedPartitions[tp.Topic], tp.Partitions...)
				}
			}
			version = min(version, v)
		}
		for _, t := range gm.Topics {
			topics[t] = true
		}
		members = append(members, gm)
	}
	if err := b.cl.Update(ctx); err != nil {
		if errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return nil, err
		}
		b.log.Debug("kafka: metadata refresh before assigning failed", "error", err)
	}
	counts := map[string]int32{}
	for name := range topics {
		t, err := b.cl.Topic(ctx, name)
		if err != nil {
			if errors.Is(err, ErrClosed) || ctx.Err() != nil {
				return nil, err
			}
			b.log.Warn("kafka: a subscribed topic cannot be assigned", "subscribed", name, "error", err)
			continue
		}
		counts[name] = int32(len(t.Partitions()))
	}
	result, err := m.assignor.Assign(members, counts)
	if err == nil {
		err = checkAssignment(m.assignor.Name(), members, counts, result)
	}
	if err != nil {
		return nil, fmt.Errorf("kafka: assignor %q: %w", m.assignor.Name(), err)
	}

	out := make([]protocol.SyncGroupRequestAssignment, 0, len(members))
	for _, gm := range members {
		a := protocol.NewConsumerProtocolAssignment()
		names := make([]string, 0, len(result[gm.MemberID]))
		for name, ps := range result[gm.MemberID] {
			if len(ps) > 0 {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		if pykafka[gm.MemberID] && len(names) == 0 {
			// pykafka reads the partitions of the first topic listed and
			// fails on an assignment that lists none.
			names = append(names, b.topic.name)
		}
		for _, name := range names {
			a.AssignedPartitions = append(a.AssignedPartitions,
				protocol.ConsumerProtocolAssignmentTopicPartition{Topic: name, Partitions: result[gm.MemberID][name]})
		}
		data, err := protocol.EncodeConsumerAssignment(a, version)
		if err != nil {
			return nil, err
		}
		out = append(out, protocol.SyncGroupRequestAssignment{MemberID: gm.MemberID, Assignment: data})
	}
	b.log.Debug("kafka: computed the group's assignment", "members", len(members), "topics", counts)
	return out, nil
}

// sendSync sends SyncGroup and returns the member's partitions of the
// topic.
func (m *managedMembership) sendSync(ctx context.Context, coord *Broker, gen int32, member string,
	assignments []protocol.SyncGroupRequestAssignment) ([]int32, error) {
	b := m.b
	ptype, pname := consumerProtocolType, m.assignor.Name()
	req := protocol.NewSyncGroupRequest()
	req.GroupID, req.GenerationID, req.MemberID, req.GroupInstanceID = b.group, gen, member, m.instance
	req.ProtocolType, req.ProtocolName = &ptype, &pname
	req.Assignments = assignments
	resp, err := m.syncGroup(ctx, coord, req)
	if err != nil {
		b.cl.invalidateCoordinatorOn(b.group, err)
		return nil, err
	}
	kerr := brokerError(resp.ErrorCode, nil)
	switch {
	case kerr == nil:
	case errors.Is(kerr, protocol.ErrRebalanceInProgress), errors.Is(kerr, protocol.ErrIllegalGeneration):
		return nil, fmt.Errorf("%w: SyncGroup: %w", errRejoin, kerr)
	case errors.Is(kerr, protocol.ErrUnknownMemberID):
		m.setMember("")
		return nil, fmt.Errorf("%w: SyncGroup: %w", errRejoin, kerr)
	case isFatalGroupError(kerr):
		return nil, &GroupError{Group: b.group, Err: kerr}
	default:
		b.cl.invalidateCoordinatorOn(b.group, kerr)
		return nil, fmt.Errorf("kafka: SyncGroup: %w", kerr)
	}
	if len(resp.Assignment) == 0 {
		return nil, nil // the leader gave this member nothing
	}
	a, _, err := protocol.DecodeConsumerAssignment(resp.Assignment)
	if err != nil {
		return nil, fmt.Errorf("kafka: the group leader's assignment: %w", err)
	}
	var parts []int32
	for _, tp := range a.AssignedPartitions {
		if tp.Topic == b.topic.name {
			parts = append(parts, tp.Partitions...)
		}
	}
	slices.Sort(parts)
	return slices.Compact(parts), nil
}

// isPykafkaSubscription tells pykafka 2.8's JoinGroup metadata, which names a
// placeholder topic instead of the one it consumes: such a member consumes
// the group's topic, the one this consumer was made for.
func isPykafkaSubscription(s *protocol.ConsumerProtocolSubscription) bool {
	return len(s.Topics) == 1 && s.Topics[0] == "dummytopic" && string(s.UserData) == "testuserdata"
}
