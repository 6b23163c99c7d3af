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

// join is one rebalance. Partitions lost with the membership (see lose)
// are dropped first, uncommitted.
//
// Eager (some assignor offered is not cooperative): pause and revoke every
// partition (BeforeRevokeCallback, commit), JoinGroup, the leader's
// assignment, SyncGroup, then consume the new assignment.
//
// Cooperative (KIP-429): the member goes on consuming through JoinGroup and
// SyncGroup and reports what it owns in its subscription, so the leader
// leaves those partitions with it or withholds them from their next owner.
// Then it revokes only what the new assignment dropped and, if it dropped
// any, joins once more so that the next generation hands them out.
func (m *managedMembership) join(ctx context.Context) error {
	b := m.b
	if b.takeLost() {
		b.dropLost(ctx)
	}
	if !m.cooperative {
		if err := b.revoke(ctx); err != nil {
			return err
		}
	}
	if err := m.io.LockContext(ctx); err != nil {
		return err
	}
	parts, gen, continuous, err := m.joinAndSync(ctx)
	m.io.Unlock()
	if err != nil {
		return err
	}
	if m.cooperative {
		gone := topicParts(b.Assignment()).minus(parts)
		if gone.len() > 0 {
			if err := b.revokeSome(ctx, gone); err != nil {
				return err
			}
			b.log.Debug("kafka: revoked partitions moving to other members, rejoining", "partitions", gone)
			m.requestRejoin(gen)
		}
	}
	carry := make(map[TopicPartition]bool, parts.len())
	for t, ids := range parts {
		for _, id := range ids {
			carry[TopicPartition{t, id}] = continuous
		}
	}
	b.assign(ctx, parts, carry)
	return nil
}

func (m *managedMembership) joinAndSync(ctx context.Context) (parts topicParts, gen int32, continuous bool, err error) {
	b := m.b
	m.setUnstable()
	coord, err := b.cl.GroupCoordinator(ctx, b.group)
	if err != nil {
		return nil, 0, false, err
	}
	resp, chosen, err := m.sendJoin(ctx, coord)
	if err != nil {
		return nil, 0, false, err
	}
	var assignments []protocol.SyncGroupRequestAssignment
	if resp.Leader == resp.MemberID && !resp.SkipAssignment {
		if assignments, err = m.leaderAssign(ctx, resp, chosen); err != nil {
			return nil, 0, false, err
		}
	}
	parts, err = m.sendSync(ctx, coord, resp.GenerationID, resp.MemberID, chosen, assignments)
	if err != nil {
		return nil, 0, false, err
	}
	continuous = m.setStable(resp.GenerationID, resp.MemberID)
	m.mu.Lock()
	m.owned, m.ownedGen = parts.clone(), resp.GenerationID
	m.leader = resp.Leader == resp.MemberID
	m.mu.Unlock()
	b.groupEvent(GroupJoined, nil, nil)
	b.log.Debug("kafka: joined the group", "member", resp.MemberID, "generation", resp.GenerationID,
		"leader", resp.Leader == resp.MemberID, "protocol", chosen.Name(), "partitions", parts)
	return parts, resp.GenerationID, continuous, nil
}

// subscription is the member's JoinGroup protocol metadata for assignor
// a. A cooperative member reports the partitions it owns (and keeps
// consuming); an eager one gave them up before joining and reports none,
// as Java's do.
func (m *managedMembership) subscription(a Assignor) ([]byte, error) {
	s := protocol.NewConsumerProtocolSubscription()
	s.Topics = m.b.Topics()
	m.mu.Lock()
	s.GenerationID = m.prevGen
	if !m.prevStable {
		s.GenerationID = -1
	}
	if m.cooperative {
		for _, t := range sortedKeys(m.owned) {
			s.OwnedPartitions = append(s.OwnedPartitions,
				protocol.ConsumerProtocolSubscriptionTopicPartition{Topic: t, Partitions: m.owned[t]})
		}
	}
	if m.owned == nil {
		s.UserData = a.UserData(nil, -1)
	} else {
		s.UserData = a.UserData(m.owned, m.ownedGen)
	}
	m.mu.Unlock()
	return protocol.EncodeConsumerSubscription(s, consumerProtocolVersion)
}

// sendJoin sends JoinGroup until the coordinator accepts the member,
// handling the member-id handshake of JoinGroup v4+.
func (m *managedMembership) sendJoin(ctx context.Context, coord *Broker) (*protocol.JoinGroupResponse, Assignor, error) {
	b := m.b
	protocols := make([]protocol.JoinGroupRequestProtocol, 0, len(m.assignors))
	for _, a := range m.assignors {
		meta, err := m.subscription(a)
		if err != nil {
			return nil, nil, err
		}
		protocols = append(protocols, protocol.JoinGroupRequestProtocol{Name: a.Name(), Metadata: meta})
	}
	for attempt := 1; ; attempt++ {
		req := protocol.NewJoinGroupRequest()
		req.GroupID = b.group
		req.SessionTimeoutMs = int32(b.cfg.SessionTimeout.Milliseconds())
		req.RebalanceTimeoutMs = int32(b.cfg.RebalanceTimeout.Milliseconds())
		req.MemberID = m.memberID()
		req.GroupInstanceID = m.instance
		req.ProtocolType = consumerProtocolType
		req.Protocols = protocols
		resp, err := m.joinGroup(ctx, coord, req)
		if err != nil {
			b.cl.invalidateCoordinatorOn(b.group, err)
			return nil, nil, err
		}
		kerr := brokerError(resp.ErrorCode, nil)
		switch {
		case kerr == nil:
			chosen := m.assignors[0]
			if resp.ProtocolName != nil {
				i := slices.IndexFunc(m.assignors, func(a Assignor) bool { return a.Name() == *resp.ProtocolName })
				if i < 0 {
					return nil, nil, &GroupError{Group: b.group, Err: fmt.Errorf("kafka: the group chose protocol %q, not one of %q",
						*resp.ProtocolName, m.protocolNames())}
				}
				chosen = m.assignors[i]
			}
			m.setMember(resp.MemberID)
			return resp, chosen, nil
		case attempt >= memberIDAttempts:
			return nil, nil, fmt.Errorf("kafka: JoinGroup: %w", kerr)
		case errors.Is(kerr, protocol.ErrMemberIDRequired):
			m.setMember(resp.MemberID)
		case errors.Is(kerr, protocol.ErrUnknownMemberID):
			m.setMember("")
			if m.holds() {
				// Dropped by the coordinator while still consuming.
				m.lose(kerr)
				return nil, nil, fmt.Errorf("%w: JoinGroup: %w", errRejoin, kerr)
			}
		case errors.Is(kerr, protocol.ErrRebalanceInProgress):
			return nil, nil, fmt.Errorf("%w: JoinGroup: %w", errRejoin, kerr)
		case isFatalGroupError(kerr):
			if errors.Is(kerr, protocol.ErrFencedInstanceID) {
				m.lose(kerr)
			}
			return nil, nil, &GroupError{Group: b.group, Err: kerr}
		default:
			b.cl.invalidateCoordinatorOn(b.group, kerr)
			return nil, nil, fmt.Errorf("kafka: JoinGroup: %w", kerr)
		}
	}
}

// holds reports whether the member still consumes partitions of a past
// generation (cooperative members keep them while joining).
func (m *managedMembership) holds() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cooperative && topicParts(m.owned).len() > 0
}

func (m *managedMembership) protocolNames() []string {
	names := make([]string, len(m.assignors))
	for i, a := range m.assignors {
		names[i] = a.Name()
	}
	return names
}

// isFatalGroupError reports errors no retry can cure: the group's members
// disagree on the protocol, the configuration is refused, or the member
// may not join.
func isFatalGroupError(err error) bool {
	return isAny(err, fatalGroupErrors)
}

// fatalGroupErrors are the errors isFatalGroupError looks for.
var fatalGroupErrors = []error{
	protocol.ErrInconsistentGroupProtocol,
	protocol.ErrInvalidSessionTimeout,
	protocol.ErrGroupAuthorizationFailed,
	protocol.ErrInvalidGroupID,
	protocol.ErrFencedInstanceID,
	protocol.ErrGroupMaxSizeReached,
	protocol.ErrUnsupportedVersion,
}

// leaderAssign computes the whole group's assignment, as the leader: over
// every topic any member subscribes to (members of a mixed group may
// consume other topics too), with partition counts from fresh metadata.
func (m *managedMembership) leaderAssign(ctx context.Context, resp *protocol.JoinGroupResponse,
	assignor Assignor) ([]protocol.SyncGroupRequestAssignment, error) {
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
			gm.Topics = m.pykafkaTopics()
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
	assigned := make(map[string]int32, len(topics))
	for name := range topics {
		assigned[name] = counts[name]
	}
	m.mu.Lock()
	m.assigned = assigned
	m.mu.Unlock()
	result, err := assignor.Assign(members, counts)
	if err == nil {
		err = checkAssignment(assignor.Name(), members, counts, result)
	}
	if err == nil && isCooperative(assignor) {
		err = checkCooperative(assignor.Name(), members, result)
	}
	if err != nil {
		return nil, fmt.Errorf("kafka: assignor %q: %w", assignor.Name(), err)
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
			names = append(names, m.pykafkaTopics()...)
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

// sendSync sends SyncGroup and returns the member's partitions.
func (m *managedMembership) sendSync(ctx context.Context, coord *Broker, gen int32, member string,
	assignor Assignor, assignments []protocol.SyncGroupRequestAssignment) (topicParts, error) {
	b := m.b
	ptype, pname := consumerProtocolType, assignor.Name()
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
	case errors.Is(kerr, protocol.ErrRebalanceInProgress):
		return nil, fmt.Errorf("%w: SyncGroup: %w", errRejoin, kerr)
	case errors.Is(kerr, protocol.ErrIllegalGeneration):
		// The generation joined is over before it began; what the member
		// held is no longer counted as its own.
		if m.holds() {
			m.lose(kerr)
		}
		return nil, fmt.Errorf("%w: SyncGroup: %w", errRejoin, kerr)
	case errors.Is(kerr, protocol.ErrUnknownMemberID):
		m.setMember("")
		if m.holds() {
			m.lose(kerr)
		}
		return nil, fmt.Errorf("%w: SyncGroup: %w", errRejoin, kerr)
	case isFatalGroupError(kerr):
		return nil, &GroupError{Group: b.group, Err: kerr}
	default:
		b.cl.invalidateCoordinatorOn(b.group, kerr)
		return nil, fmt.Errorf("kafka: SyncGroup: %w", kerr)
	}
	if len(resp.Assignment) == 0 {
		return topicParts{}, nil // the leader gave this member nothing
	}
	a, _, err := protocol.DecodeConsumerAssignment(resp.Assignment)
	if err != nil {
		return nil, fmt.Errorf("kafka: the group leader's assignment: %w", err)
	}
	parts := topicParts{}
	for _, tp := range a.AssignedPartitions {
		parts[tp.Topic] = append(parts[tp.Topic], tp.Partitions...)
	}
	return parts.normalized(), nil
}

// pykafkaTopics is what a pykafka member, whose subscription names a
// placeholder, is taken to consume: this consumer's topic (pykafka reads
// the first topic of its assignment), or with several the first of them.
func (m *managedMembership) pykafkaTopics() []string {
	if m.b.single != "" {
		return []string{m.b.single}
	}
	if topics := m.b.Topics(); len(topics) > 0 {
		return topics[:1]
	}
	return nil
}

// isPykafkaSubscription tells pykafka 2.8's JoinGroup metadata, which names a
// placeholder topic instead of the one it consumes: such a member consumes
// the group's topic, the one this consumer was made for.
func isPykafkaSubscription(s *protocol.ConsumerProtocolSubscription) bool {
	return len(s.Topics) == 1 && s.Topics[0] == "dummytopic" && string(s.UserData) == "testuserdata"
}
