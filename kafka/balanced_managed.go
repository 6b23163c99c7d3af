package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// consumerProtocolType is the protocol type of consumer groups in
// JoinGroup, which the broker and other clients recognise.
const consumerProtocolType = "consumer"

// managedMembership is a member of a broker-managed consumer group: the
// classic group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup). With
// eager assignors (range, round-robin, sticky) every rebalance makes each
// member pause and, with AutoCommit or CommitOnRebalance, commit, then
// rejoin; with cooperative ones (KIP-429) members keep consuming and give
// up only what moves (see join). The coordinator elects a leader, which
// computes the whole group's assignment and hands it out through SyncGroup.
//
// Heartbeats go out in the background every HeartbeatInterval, also while
// the application does not call Consume and while a new assignment is
// being set up. The member recovers by itself from every error a healthy
// group produces: a rebalance under way or a missed generation makes it
// rejoin, an unknown member id makes it rejoin as a new member, and a
// coordinator that moved or died is looked up again. Every failure is
// logged; only configuration and authorization errors, which no retry can
// cure, end membership (Consume then returns a *GroupError).
type managedMembership struct {
	b         *BalancedConsumer
	assignors []Assignor // offered, in order of preference
	// cooperative: every assignor offered is, so the member keeps its
	// partitions through a rebalance (KIP-429).
	cooperative bool
	connKey     connKey
	instance    *string // GroupInstanceID, nil for a dynamic member

	// io orders the group requests on the member's connection: no
	// heartbeat goes out while a JoinGroup or SyncGroup is under way, where
	// it would wait behind a request the broker may hold for a whole
	// rebalance.
	io handler.Lock

	mu         sync.Mutex
	member     string
	gen        int32 // -1 without a generation
	stable     bool  // gen is current: heartbeats go out
	prevStable bool  // a generation was completed before ...
	prevGen    int32 // ... this one ...
	prevMember string
	owned      map[string][]int32 // the last assignment, nil before one ...
	ownedGen   int32              // ... and its generation, for sticky assignors' user data
	lastBeat   time.Time          // when the last heartbeat the coordinator answered went out
	leader     bool               // the member led the current generation ...
	assigned   map[string]int32   // ... and assigned these topics' partitions (0: topic missing)

	beat   handler.Event // set while stable
	rejoin handler.Event // the heartbeat found the generation over
}

func newManagedMembership(b *BalancedConsumer) *managedMembership {
	m := &managedMembership{
		b:           b,
		assignors:   assignorsOf(b.cfg),
		cooperative: true,
		connKey:     groupConnFor(b.group),
		io:          b.h.NewLock(),
		gen:         -1,
		beat:        b.h.NewEvent(),
		rejoin:      b.h.NewEvent(),
	}
	for _, a := range m.assignors {
		m.cooperative = m.cooperative && isCooperative(a)
	}
	b.coop = m.cooperative
	m.instance = instanceIDOf(b.cfg)
	return m
}

// open matches a TopicPattern for the first subscription.
func (m *managedMembership) open(ctx context.Context) error {
	if m.b.pattern != nil {
		return m.subscribePattern(ctx)
	}
	return nil
}

func (m *managedMembership) memberID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.member
}

func (m *managedMembership) generation() func() (int32, string) {
	return func() (int32, string) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.gen, m.member
	}
}

// errRejoin marks join failures answered by joining again at once: the
// group moved on to a new generation while this member was joining.
var errRejoin = errors.New("kafka: the group is rebalancing again")

// run joins the group, and joins it again whenever the heartbeat finds the
// generation over, until ctx ends.
func (m *managedMembership) run(ctx context.Context) {
	b := m.b
	b.tasks.Go("kafka-group-heartbeat", func() { m.heartbeatLoop(ctx) })
	b.tasks.Go("kafka-group-metadata", func() { m.watchMetadata(ctx) })
	failures := 0
	for ctx.Err() == nil {
		m.rejoin.Clear()
		err := m.join(ctx)
		if err == nil {
			failures = 0
			b.setReady()
			if m.rejoin.Wait(ctx) != nil {
				return
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		var gerr *GroupError
		if errors.As(err, &gerr) || errors.Is(err, ErrClosed) || authFailed(err) {
			b.fail(err)
			return
		}
		if errors.Is(err, errRejoin) {
			b.log.Debug("kafka: rejoining the group", "member", m.memberID(), "reason", err)
			continue
		}
		failures++
		backoff := time.Duration(min(failures, b.cfg.RebalanceMaxRetries+1)) * b.cfg.RebalanceBackoff
		switch {
		case failures > b.cfg.RebalanceMaxRetries:
			b.log.Error("kafka: joining the group keeps failing, retrying", "attempts", failures, "error", err)
		case retriableCoordinatorError(err):
			// The coordinator is moving or loading the group (as when the
			// cluster's first group creates the offsets topic): soon over.
			b.log.Debug("kafka: group coordinator not ready, retrying", "attempt", failures, "error", err)
			backoff = min(time.Duration(failures)*coordinatorBackoff, b.cfg.RebalanceBackoff)
		default:
			b.log.Warn("kafka: joining the group failed, retrying", "attempt", failures, "error", err)
		}
		if b.h.Sleep(ctx, backoff) != nil {
			return
		}
	}
}

// current returns the generation heartbeats are for, if any.
func (m *managedMembership) current() (gen int32, member string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gen, m.member, m.stable
}

// setUnstable stops heartbeats ahead of a join.
func (m *managedMembership) setUnstable() {
	m.mu.Lock()
	m.stable = false
	m.beat.Clear()
	m.mu.Unlock()
}

// setStable records a completed generation and starts heartbeats. It
// reports whether the member went straight from its previous generation to
// this one, so that no other member can have owned its partitions in
// between.
func (m *managedMembership) setStable(gen int32, member string) (continuous bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	continuous = m.prevStable && m.prevMember == member && gen == m.prevGen+1
	m.gen, m.member, m.stable = gen, member, true
	m.prevStable, m.prevGen, m.prevMember = true, gen, member
	m.lastBeat = m.b.h.Now()
	m.beat.Set()
	return continuous
}

// lose ends the member's claim to its partitions: the coordinator no
// longer counts it in the generation they came with (it forgot the member,
// fenced it, or the session ran out), so they may be another member's
// already. The consumer drops them, uncommitted, before joining again, and
// the member reports none in its next subscription.
func (m *managedMembership) lose(err error) {
	m.mu.Lock()
	m.owned, m.prevStable = nil, false
	m.mu.Unlock()
	m.b.markLost()
	m.b.groupEvent(GroupLost, nil, err)
}

// setMember records a member id the coordinator handed out, or "" to join
// as a new member; either way the member has no generation.
func (m *managedMembership) setMember(id string) {
	m.mu.Lock()
	m.member, m.gen, m.stable = id, -1, false
	m.beat.Clear()
	m.mu.Unlock()
}

// requestRejoin ends generation gen, if it is still current, and wakes run.
func (m *managedMembership) requestRejoin(gen int32) {
	m.mu.Lock()
	if m.stable && m.gen == gen {
		m.stable = false
		m.beat.Clear()
		m.rejoin.Set()
	}
	m.mu.Unlock()
}

// heartbeatLoop sends a heartbeat every HeartbeatInterval while the member
// has a generation, until ctx ends. It never stops on an error: each is
// logged, and handled by rejoining or finding the coordinator again.
func (m *managedMembership) heartbeatLoop(ctx context.Context) {
	b := m.b
	failures := 0 // in a row
	for {
		if m.beat.Wait(ctx) != nil || b.h.Sleep(ctx, b.cfg.HeartbeatInterval) != nil {
			return
		}
		if m.io.LockContext(ctx) != nil {
			return
		}
		gen, member, ok := m.current()
		var err error
		sent := b.h.Now()
		if ok {
			err = m.sendHeartbeat(ctx, gen, member)
		}
		m.io.Unlock()
		if err == nil || ctx.Err() != nil {
			if ok && err == nil {
				m.mu.Lock()
				if m.gen == gen {
					m.lastBeat = sent // the coordinator's session clock restarted after this
				}
				m.mu.Unlock()
			}
			failures = 0
			continue
		}
		if errors.Is(err, ErrClosed) {
			b.fail(err)
			return
		}
		failures++
		m.onHeartbeatError(gen, err, failures)
	}
}

// onHeartbeatError handles a failed heartbeat, the failures'th in a row.
// Every failure is logged; while the coordinator stays unreachable, only
// the first and every tenth at warning level.
func (m *managedMembership) onHeartbeatError(gen int32, err error, failures int) {
	b := m.b
	log := b.log.With("member", m.memberID(), "generation", gen, "error", err, "failures", failures)
	switch {
	case errors.Is(err, protocol.ErrRebalanceInProgress):
		log.Debug("kafka: the group is rebalancing")
		m.requestRejoin(gen)
	case errors.Is(err, protocol.ErrIllegalGeneration):
		log.Warn("kafka: heartbeat for a past generation, rejoining")
		m.lose(err)
		m.requestRejoin(gen)
	case errors.Is(err, protocol.ErrUnknownMemberID):
		log.Warn("kafka: the coordinator no longer knows this member, rejoining as a new one")
		m.lose(err)
		m.mu.Lock()
		if m.gen == gen {
			m.member = ""
		}
		m.mu.Unlock()
		m.requestRejoin(gen)
	case errors.Is(err, protocol.ErrFencedInstanceID):
		m.lose(err)
		b.fail(&GroupError{Group: b.group, Err: err})
	case m.sessionExpired(gen):
		// The coordinator has dropped the member by now, as far as it
		// can tell: another member may own its partitions.
		log.Warn("kafka: no heartbeat got through for the session timeout, partitions lost")
		m.lose(fmt.Errorf("kafka: no heartbeat answered for %v: %w", b.cfg.SessionTimeout, err))
		b.cl.invalidateCoordinator(b.group)
		m.requestRejoin(gen)
	default:
		// The coordinator moved, died or is unreachable: look it up again
		// for the next heartbeat. A member that missed its session timeout
		// meanwhile hears so from the new coordinator.
		if failures%10 == 1 {
			log.Warn("kafka: heartbeat failed")
		} else {
			log.Debug("kafka: heartbeat failed")
		}
		b.cl.invalidateCoordinator(b.group)
	}
}

// sessionExpired reports whether generation gen is still current and the
// coordinator's session for it may run out before the next heartbeat: the
// last one it answered went out SessionTimeout less one HeartbeatInterval
// ago. Giving the partitions up that early means the member has stopped
// consuming them by the time the coordinator hands them to another.
func (m *managedMembership) sessionExpired(gen int32) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	cfg := m.b.cfg
	return m.stable && m.gen == gen && m.b.h.Now().Sub(m.lastBeat) >= cfg.SessionTimeout-cfg.HeartbeatInterval
}

func (m *managedMembership) sendHeartbeat(ctx context.Context, gen int32, member string) error {
	b := m.b
	coord, err := b.cl.GroupCoordinator(ctx, b.group)
	if err != nil {
		return err
	}
	req := protocol.NewHeartbeatRequest()
	req.GroupID, req.GenerationID, req.MemberID, req.GroupInstanceID = b.group, gen, member, m.instance
	resp, err := m.heartbeat(ctx, coord, req)
	if err != nil {
		return err
	}
	return brokerError(resp.ErrorCode, nil)
}

// close leaves the group, so that the others take over at once rather than
// after SessionTimeout. A static member does not leave: its instance id
// keeps its partitions until it is back or its session times out.
func (m *managedMembership) close(ctx context.Context) error {
	b := m.b
	dropAll := func() {
		for _, br := range b.cl.Brokers() {
			br.dropConn(m.connKey)
		}
	}
	// A JoinGroup abandoned by Stop may still occupy the connection at the
	// broker; LeaveGroup goes out on a fresh one.
	dropAll()
	defer dropAll()
	member := m.memberID()
	m.setMember("")
	if member == "" || m.instance != nil {
		return nil
	}
	coord, err := b.cl.GroupCoordinator(ctx, b.group)
	if err != nil {
		return fmt.Errorf("kafka: leaving group %q: %w", b.group, err)
	}
	reason := "the consumer is stopping"
	req := protocol.NewLeaveGroupRequest()
	req.GroupID = b.group
	req.MemberID = member // up to v2; later versions list members
	req.Members = []protocol.LeaveGroupRequestMemberIdentity{{MemberID: member, Reason: &reason}}
	resp, err := m.leaveGroup(ctx, coord, req)
	if err == nil {
		err = brokerError(resp.ErrorCode, nil)
		for _, lm := range resp.Members {
			err = errors.Join(err, brokerError(lm.ErrorCode, nil))
		}
	}
	if err != nil && !errors.Is(err, protocol.ErrUnknownMemberID) {
		return fmt.Errorf("kafka: leaving group %q: %w", b.group, err)
	}
	b.log.Debug("kafka: left the group", "member", member)
	return nil
}

// instanceIDOf is the static member id the config gives, nil for a
// dynamic member.
func instanceIDOf(cfg BalancedConsumerConfig) *string {
	if cfg.GroupInstanceID == "" {
		return nil
	}
	id := cfg.GroupInstanceID
	return &id
}
