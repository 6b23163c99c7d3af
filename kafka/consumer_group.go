package kafka

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// Member epochs with a meaning of their own in ConsumerGroupHeartbeat.
const (
	epochJoin        = 0  // join (or rejoin after being fenced)
	epochLeave       = -1 // a dynamic member leaves
	epochLeaveStatic = -2 // a static member leaves, to come back under its instance id
)

// consumerMembership is a member of a group speaking KIP-848's consumer
// group protocol: one ConsumerGroupHeartbeat request carries the
// subscription and the partitions owned, and its answer the member epoch,
// the heartbeat interval and the target assignment. The coordinator runs
// the assignor and hands a partition to its next owner only once the
// previous one acknowledged giving it up, so reconciliation is revoke
// (committing first), acknowledge, then consume what is assigned.
//
// Two tasks: the heartbeat loop (run) keeps the session alive at the
// broker's interval, and the reconciler applies target assignments, which
// can take as long as BeforeRevokeCallback does, without holding the
// heartbeats up. Errors are handled as the Java client's
// ConsumerMembershipManager does: a fenced or forgotten member gives up
// its partitions without committing and rejoins with epoch 0 under the
// same member id; a coordinator that moved is looked up again; errors no
// retry can cure (authorization, an unknown assignor, an instance id in
// use, a broker without the protocol) end membership with a *GroupError.
type consumerMembership struct {
	b        *BalancedConsumer
	connKey  connKey
	instance *string
	assignor *string

	mu        sync.Mutex
	member    string        // generated here (ConsumerGroupHeartbeat v1+), or the coordinator's
	epoch     int32         // epochJoin until the coordinator gives one
	interval  time.Duration // the coordinator's heartbeat interval
	owned     idParts       // what the heartbeats report owning
	target    idParts       // the last assignment received ...
	hasTarget bool          // ... once one was
	lost      bool          // fenced: drop every partition, commit nothing, then rejoin
	joined    bool          // an epoch was received: Stop has a membership to leave

	wake handler.Event // send a heartbeat now (an acknowledgement is due)
	work handler.Event // the reconciler has something to do
	idle handler.Event // set while the reconciler has nothing to do
}

func newConsumerMembership(b *BalancedConsumer) *consumerMembership {
	var id protocol.UUID
	_, _ = rand.Read(id[:])
	m := &consumerMembership{
		b:        b,
		connKey:  groupConnFor(b.group),
		instance: instanceIDOf(b.cfg),
		member:   id.String(), // as the Java client's Uuid.randomUuid().toString()
		interval: DefaultHeartbeatInterval,
		wake:     b.h.NewEvent(),
		work:     b.h.NewEvent(),
		idle:     b.h.NewEvent(),
	}
	if b.cfg.ServerAssignor != "" {
		a := b.cfg.ServerAssignor
		m.assignor = &a
	}
	m.idle.Set()
	b.coop = true // the coordinator moves only what changes hands
	return m
}

func (m *consumerMembership) open(context.Context) error { return nil }

func (m *consumerMembership) memberID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.member
}

// generation supplies offset commits with the member epoch, which the
// coordinator checks as it checks a classic generation.
func (m *consumerMembership) generation() func() (int32, string) {
	return func() (int32, string) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.epoch, m.member
	}
}

// run heartbeats until ctx ends or membership fails for good.
func (m *consumerMembership) run(ctx context.Context) {
	b := m.b
	b.tasks.Go("kafka-group-reconcile", func() { m.reconcileLoop(ctx) })
	failures := 0
	for ctx.Err() == nil {
		m.wake.Clear()
		err := m.heartbeatOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		switch {
		case err == nil:
			failures = 0
			m.mu.Lock()
			wait = m.interval
			m.mu.Unlock()
		case errors.Is(err, protocol.ErrFencedMemberEpoch), errors.Is(err, protocol.ErrUnknownMemberID):
			b.log.Warn("kafka: fenced from the group, rejoining", "member", m.memberID(), "error", err)
			b.groupEvent(GroupLost, nil, err)
			if m.fence(ctx) != nil {
				return
			}
			continue // rejoin at once
		case isFatalConsumerGroupError(err) || errors.Is(err, ErrClosed) || authFailed(err):
			var gerr *GroupError
			if !errors.As(err, &gerr) && !errors.Is(err, ErrClosed) && !authFailed(err) {
				err = &GroupError{Group: b.group, Err: err}
			}
			b.groupEvent(GroupLost, nil, err)
			b.fail(err)
			return
		default:
			failures++
			b.cl.invalidateCoordinatorOn(b.group, err)
			wait = min(time.Duration(failures)*coordinatorBackoff, b.cfg.RebalanceBackoff)
			log := b.log.With("member", m.memberID(), "error", err, "failures", failures)
			if failures%10 == 1 && !retriableCoordinatorError(err) {
				log.Warn("kafka: group heartbeat failed, retrying")
			} else {
				log.Debug("kafka: group heartbeat failed, retrying")
			}
		}
		wctx, cancel := handler.WithTimeout(ctx, b.h, wait)
		_ = m.wake.Wait(wctx)
		cancel()
	}
}

// heartbeatOnce sends one ConsumerGroupHeartbeat reporting the current
// state and takes in the answer.
func (m *consumerMembership) heartbeatOnce(ctx context.Context) error {
	b := m.b
	coord, err := b.cl.GroupCoordinator(ctx, b.group)
	if err != nil {
		return err
	}
	if b.pattern != nil {
		if err := m.checkPatternSupport(ctx, coord); err != nil {
			return err
		}
	}
	req := m.request()
	resp, err := call[*protocol.ConsumerGroupHeartbeatResponse](ctx, coord, m.connKey, req, 0)
	if err != nil {
		if errors.Is(err, protocol.ErrUnsupportedVersion) {
			return &GroupError{Group: b.group, Err: fmt.Errorf("%w: %w", ErrGroupProtocolUnsupported, err)}
		}
		return err
	}
	if kerr := brokerError(resp.ErrorCode, resp.ErrorMessage); kerr != nil {
		if errors.Is(kerr, protocol.ErrUnsupportedVersion) {
			return &GroupError{Group: b.group, Err: fmt.Errorf("%w: %w", ErrGroupProtocolUnsupported, kerr)}
		}
		return fmt.Errorf("kafka: ConsumerGroupHeartbeat: %w", kerr)
	}

	joined, err := m.take(req, resp)
	if joined {
		b.groupEvent(GroupJoined, nil, nil)
	}
	return err
}

// take records a heartbeat's answer and reports whether it made the member
// join (a first epoch).
func (m *consumerMembership) take(req *protocol.ConsumerGroupHeartbeatRequest, resp *protocol.ConsumerGroupHeartbeatResponse) (joined bool, err error) {
	b := m.b
	m.mu.Lock()
	defer m.mu.Unlock()
	if req.MemberEpoch != m.epoch || m.lost {
		return false, nil // fenced meanwhile: this answer is for a membership that is over
	}
	joined = req.MemberEpoch == epochJoin && resp.MemberEpoch > 0
	if resp.MemberID != nil && *resp.MemberID != "" {
		m.member = *resp.MemberID
	}
	if resp.MemberEpoch != m.epoch {
		b.log.Debug("kafka: new member epoch", "member", m.member, "epoch", resp.MemberEpoch, "previous", m.epoch,
			"heartbeat", resp.HeartbeatIntervalMs)
	}
	m.epoch = resp.MemberEpoch
	m.joined = true
	if resp.HeartbeatIntervalMs > 0 {
		m.interval = time.Duration(resp.HeartbeatIntervalMs) * time.Millisecond
	}
	if a := resp.Assignment; a != nil {
		parts := idParts{}
		for _, tp := range a.TopicPartitions {
			parts[tp.TopicID] = append(parts[tp.TopicID], tp.Partitions...)
		}
		parts = parts.normalized()
		if !m.hasTarget || !parts.equal(m.target) {
			b.log.Debug("kafka: new target assignment", "member", m.member, "epoch", m.epoch, "partitions", parts)
		}
		m.target, m.hasTarget = parts, true
		m.work.Set()
	}
	return joined, nil
}

// request builds the member's heartbeat. Every one is a full request
// (subscription, rebalance timeout and owned partitions every time), which
// the coordinator accepts as well as the incremental form and which lets
// it tell a retried request from a stale one.
func (m *consumerMembership) request() *protocol.ConsumerGroupHeartbeatRequest {
	b := m.b
	req := protocol.NewConsumerGroupHeartbeatRequest()
	req.GroupID = b.group
	req.InstanceID = m.instance
	req.RebalanceTimeoutMs = int32(b.cfg.RebalanceTimeout.Milliseconds())
	if b.pattern != nil {
		// The broker resolves it, and subscribes the member to topics
		// created later too.
		pattern := b.cfg.TopicPattern
		req.SubscribedTopicRegex = &pattern
	} else {
		req.SubscribedTopicNames = b.Topics()
	}
	req.ServerAssignor = m.assignor
	m.mu.Lock()
	req.MemberID, req.MemberEpoch = m.member, m.epoch
	req.TopicPartitions = []protocol.ConsumerGroupHeartbeatRequestTopicPartitions{}
	for _, id := range sortedIDs(m.owned) {
		req.TopicPartitions = append(req.TopicPartitions,
			protocol.ConsumerGroupHeartbeatRequestTopicPartitions{TopicID: id, Partitions: slices.Clone(m.owned[id])})
	}
	m.mu.Unlock()
	return req
}

// checkPatternSupport fails a TopicPattern member whose coordinator would
// ignore the pattern: SubscribedTopicRegex came with
// ConsumerGroupHeartbeat v1 (Kafka 4.0). The client does not match the
// pattern itself here, as the classic protocol does, because the broker
// resolving it is what keeps every member's view of it the same.
func (m *consumerMembership) checkPatternSupport(ctx context.Context, coord *Broker) error {
	c, err := coord.conn(ctx, m.connKey)
	if err != nil {
		return err
	}
	v := c.Versions()
	if v == nil {
		return nil // reconnecting: the request itself will tell
	}
	if ver, err := v.Pick(protocol.APIKeyConsumerGroupHeartbeat); err == nil && ver < 1 {
		return &GroupError{Group: m.b.group, Err: fmt.Errorf("%w (the coordinator speaks version %d)", ErrTopicPatternUnsupported, ver)}
	}
	return nil
}

// fence ends the membership the coordinator fenced: the reconciler drops
// every partition without committing (the commits would be refused, and
// the partitions may already be someone else's), and once it has, the
// member rejoins with epoch 0 under the same member id.
func (m *consumerMembership) fence(ctx context.Context) error {
	m.mu.Lock()
	m.lost = true
	m.epoch = epochJoin
	m.target, m.hasTarget = nil, false
	m.idle.Clear()
	m.work.Set()
	m.mu.Unlock()
	return m.idle.Wait(ctx)
}

// isFatalConsumerGroupError reports the heartbeat errors that end
// membership, as they do the Java client's.
func isFatalConsumerGroupError(err error) bool {
	var gerr *GroupError
	return errors.As(err, &gerr) || isAny(err, fatalConsumerGroupErrors)
}

// fatalConsumerGroupErrors are the codes isFatalConsumerGroupError looks for.
var fatalConsumerGroupErrors = []error{
	protocol.ErrGroupAuthorizationFailed,
	protocol.ErrInvalidRequest,
	protocol.ErrGroupMaxSizeReached,
	protocol.ErrUnsupportedAssignor,
	protocol.ErrUnsupportedVersion,
	protocol.ErrFencedInstanceID,
	protocol.ErrUnreleasedInstanceID,
	protocol.ErrInvalidGroupID,
	protocol.ErrGroupIDNotFound,
}

// close leaves the group after the consumer stopped consuming: epoch -1,
// or -2 for a static member, which keeps its assignment for its instance
// id until it comes back or its session times out.
func (m *consumerMembership) close(ctx context.Context) error {
	b := m.b
	defer func() {
		for _, br := range b.cl.Brokers() {
			br.dropConn(m.connKey)
		}
	}()
	m.mu.Lock()
	member, joined := m.member, m.joined
	m.joined, m.epoch, m.owned = false, epochJoin, nil
	m.mu.Unlock()
	if !joined {
		return nil
	}
	req := protocol.NewConsumerGroupHeartbeatRequest()
	req.GroupID, req.MemberID, req.InstanceID = b.group, member, m.instance
	req.MemberEpoch = epochLeave
	if m.instance != nil {
		req.MemberEpoch = epochLeaveStatic
	}
	err := b.cl.onCoordinator(ctx, b.group, func(coord *Broker) error {
		resp, err := call[*protocol.ConsumerGroupHeartbeatResponse](ctx, coord, m.connKey, req, 0)
		if err != nil {
			return err
		}
		return brokerError(resp.ErrorCode, resp.ErrorMessage)
	})
	if err != nil && !errors.Is(err, protocol.ErrUnknownMemberID) && !errors.Is(err, protocol.ErrFencedMemberEpoch) {
		return fmt.Errorf("kafka: leaving group %q: %w", b.group, err)
	}
	b.log.Debug("kafka: left the group", "member", member, "epoch", req.MemberEpoch)
	return nil
}
