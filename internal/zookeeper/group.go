package zookeeper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/assign"
)

// Consumer is the balanced consumer a Member coordinates: the other side
// of kafka's membership seam. Its methods are called from the Member's
// tasks.
type Consumer interface {
	// Partitions returns the topic's partitions with their leaders' ids,
	// as the consumer's metadata last saw them.
	Partitions() []Partition
	// UpdateMetadata refreshes that metadata.
	UpdateMetadata(ctx context.Context) error
	// Revoke pauses delivery ahead of a rebalance.
	Revoke(ctx context.Context) error
	// Assign makes owned (sorted) the partitions consumed and resumes
	// delivery; a partition in carry was owned without interruption.
	Assign(ctx context.Context, owned []int32, carry map[int32]bool)
	// Ready marks the end of a rebalance.
	Ready()
	// Closed reports whether err means the client closed under the
	// consumer, which ends it; Fail records such an error.
	Closed(err error) bool
	Fail(err error)
	// Go runs fn as one of the consumer's tasks, stopped with it.
	Go(name string, fn func())
	// SessionEvent reports a change of the member's own session. It runs
	// on go-zookeeper's event goroutine and must not block.
	SessionEvent(state State, server string)
}

// Partition is a partition of the consumed topic and its leader's id.
type Partition struct{ ID, Leader int32 }

// State is a ZooKeeper session state, as a Member reports it.
type State uint8

const (
	Connected    State = iota + 1 // the session is established
	Disconnected                  // the connection dropped; the session may survive
	Expired                       // the session is gone, and the member's nodes with it
)

// Config is what a Member needs besides its Consumer. kafka validated it.
type Config struct {
	Handler handler.Handler
	Log     *slog.Logger
	// Connect is the connect string, chroot included.
	Connect string
	// Timeout is the session timeout, and the longest Open waits for one.
	Timeout    time.Duration
	Group      string
	Topic      string
	RoundRobin bool // pykafka's round-robin strategy instead of range
	// RebalanceMaxRetries and RebalanceBackoff bound a rebalance that
	// cannot claim everything it decided (BalancedConsumerConfig's fields).
	RebalanceMaxRetries int
	RebalanceBackoff    time.Duration
}

// NoSessionError is Open's error when ZooKeeper gave no session in time.
type NoSessionError struct{ Err error }

func (e *NoSessionError) Error() string { return "no zookeeper session: " + e.Err.Error() }
func (e *NoSessionError) Unwrap() error { return e.Err }

// errOwned matches every *OwnedError.
var errOwned = errors.New("kafka: partition owned by another consumer")

// OwnedError reports a partition a member decided to own but could not
// claim, because another member of the group still held it (pykafka's
// PartitionOwnedError). It is part of a normal rebalance while members
// release what they no longer own; the member retries and logs it.
type OwnedError struct {
	Topic     string
	Partition int32
	Owner     string // the consumer id holding it, "" if unknown
}

func (e *OwnedError) Error() string {
	s := "kafka: partition " + e.Topic + "/" + strconv.Itoa(int(e.Partition)) + " is owned by another consumer"
	if e.Owner != "" {
		s += " (" + e.Owner + ")"
	}
	return s
}

// Is makes errors.Is(err, errOwned) hold.
func (e *OwnedError) Is(target error) bool { return target == errOwned }

// Member coordinates a balanced consumer through ZooKeeper, as pykafka's
// BalancedConsumer does: every member registers, watches the group's
// members, the brokers and the topic, and on any change decides its own
// share with the same algorithm as the others (assign.DecidePartitions),
// releases what it no longer owns and claims what it now owns.
//
// go-zookeeper dials through the handler (Dialer) but runs its own
// goroutines and timers for the session's life, the one exception to
// gregor's rule (DESIGN.md, "ZooKeeper"). Its calls take no context; they
// fail on their own when the session is lost.
type Member struct {
	c     Consumer
	cfg   Config
	log   *slog.Logger
	id    string
	conn  *zk.Conn
	paths Paths

	trigger   handler.Event // something changed: rebalance
	connected handler.Event // the session is up
	expired   atomic.Bool   // the session expired and has not been replaced yet
}

// NewMember returns the member of cfg.Group that c is, not yet connected.
func NewMember(cfg Config, c Consumer) *Member {
	m := &Member{
		c:         c,
		cfg:       cfg,
		log:       cfg.Log,
		id:        NewConsumerID(),
		trigger:   cfg.Handler.NewEvent(),
		connected: cfg.Handler.NewEvent(),
	}
	zc, _ := ParseConnect(cfg.Connect) // validated with the config
	m.paths = NewPaths(zc.Chroot, cfg.Group, cfg.Topic, m.id)
	return m
}

// ID is the member's "hostname:uuid4" registration name.
func (m *Member) ID() string { return m.id }

// Paths are the member's nodes, for tests.
func (m *Member) Paths() Paths { return m.paths }

// Session is the member's ZooKeeper session (nil before Open), for tests.
func (m *Member) Session() *zk.Conn { return m.conn }

// Open connects and registers the member. A ZooKeeper that gives no
// session within Config.Timeout is a *NoSessionError.
func (m *Member) Open(ctx context.Context) error {
	if m.conn == nil {
		zc, _ := ParseConnect(m.cfg.Connect)
		conn, _, err := zk.Connect(zc.Servers, m.cfg.Timeout,
			zk.WithLogger(Logger{m.log}), zk.WithLogInfo(false), zk.WithEventCallback(m.onSessionEvent),
			zk.WithDialer(Dialer(m.cfg.Handler)))
		if err != nil {
			return fmt.Errorf("kafka: zookeeper %s: %w", m.cfg.Connect, err)
		}
		wctx, cancel := handler.WithTimeout(ctx, m.cfg.Handler, m.cfg.Timeout)
		err = m.connected.Wait(wctx)
		cancel()
		if err != nil {
			conn.Close()
			return &NoSessionError{Err: err}
		}
		m.conn = conn
	}
	if err := m.register(); err != nil {
		m.conn.Close()
		m.conn = nil
		m.connected.Clear()
		return fmt.Errorf("kafka: zookeeper: %w", err)
	}
	m.log.Debug("kafka: registered in zookeeper", "member", m.id)
	return nil
}

// Run rebalances on every change until ctx ends. A rebalance that fails
// (a partition still owned by another member, ZooKeeper unreachable) is
// retried RebalanceMaxRetries times, backing off RebalanceBackoff times the
// attempt number; then the failure is logged as an error and the whole
// cycle starts over, so that no partition stays unowned for good.
func (m *Member) Run(ctx context.Context) {
	for _, w := range []struct {
		path     string
		children bool
	}{
		{m.paths.IDs, true},
		{m.paths.BrokerIDs, true},
		{m.paths.Topics, true},
		{m.paths.Topic, false}, // partitions added
	} {
		m.c.Go("kafka-zookeeper-watch", func() { m.watch(ctx, w.path, w.children) })
	}
	m.trigger.Set()
	for {
		if m.trigger.Wait(ctx) != nil {
			return
		}
		m.trigger.Clear()
		for attempt := 1; ; attempt++ {
			err := m.rebalance(ctx)
			if err == nil || ctx.Err() != nil {
				break
			}
			if m.c.Closed(err) {
				m.c.Fail(err)
				return
			}
			if attempt > m.cfg.RebalanceMaxRetries {
				m.log.Error("kafka: rebalance failed; starting over", "member", m.id, "attempts", attempt, "error", err)
				if m.cfg.Handler.Sleep(ctx, m.cfg.RebalanceBackoff) != nil {
					return
				}
				m.trigger.Set()
				break
			}
			msg := "kafka: rebalance incomplete, retrying"
			if errors.Is(err, errOwned) {
				m.log.Debug(msg, "member", m.id, "attempt", attempt, "error", err)
			} else {
				m.log.Warn(msg, "member", m.id, "attempt", attempt, "error", err)
			}
			if m.cfg.Handler.Sleep(ctx, time.Duration(attempt)*m.cfg.RebalanceBackoff) != nil {
				return
			}
		}
		m.c.Ready()
	}
}

// rebalance runs one round: pause, decide, release, claim, resume with
// what is held. It returns a *OwnedError (joined, one per
// partition) for partitions another member still holds; the consumer
// consumes the others meanwhile. Any other failure leaves the consumer
// paused: it may no longer own what it held.
func (m *Member) rebalance(ctx context.Context) error {
	if err := m.c.Revoke(ctx); err != nil {
		return err
	}
	// Every member must decide from the same leaders, since they are part
	// of pykafka's sort key.
	if err := m.c.UpdateMetadata(ctx); err != nil {
		if m.c.Closed(err) || ctx.Err() != nil {
			return err
		}
		m.log.Debug("kafka: metadata refresh before rebalancing failed", "error", err)
	}
	participants, err := m.participants()
	if err != nil {
		return err
	}
	if !slices.Contains(participants, m.id) {
		// The session expired (or the node was deleted): register again.
		m.log.Debug("kafka: consumer not registered in zookeeper; registering again", "member", m.id)
		if err := m.register(); err != nil {
			return err
		}
		participants = append(participants, m.id)
	}
	parts := m.c.Partitions()
	slots := make([]assign.Slot, len(parts))
	leaders := make(map[int32]int32, len(parts))
	for i, p := range parts {
		slots[i] = assign.NewSlot(m.cfg.Topic, p.Leader, p.ID)
		leaders[p.ID] = p.Leader
	}
	want := assign.DecidePartitions(m.cfg.RoundRobin, participants, slots, m.id)

	nodes, err := m.ownerNodes()
	if err != nil {
		return err
	}
	mine := map[int32][]string{}
	others := map[int32]string{}
	for _, n := range nodes {
		if n.owner == m.id {
			mine[n.partition] = append(mine[n.partition], n.path)
		} else {
			others[n.partition] = n.owner
		}
	}
	// Release first, so that members waiting for these can claim them.
	for p, names := range mine {
		if slices.Contains(want, p) {
			continue
		}
		for _, name := range names {
			if err := m.deleteOwner(name); err != nil {
				return err
			}
		}
		delete(mine, p)
	}
	var owned []int32
	var busy []error
	carry := map[int32]bool{}
	for _, p := range want {
		paths := m.ownerPaths(OwnerSlug(leaders[p], p))
		held := mine[p]
		if !containsAll(held, paths) {
			if owner, ok := others[p]; ok {
				busy = append(busy, &OwnedError{Topic: m.cfg.Topic, Partition: p, Owner: owner})
				continue
			}
			if err := m.claim(OwnerSlug(leaders[p], p), p); err != nil {
				if errors.Is(err, errOwned) {
					busy = append(busy, err)
					continue
				}
				return err
			}
		}
		// A node of ours under an older leader's name goes, so that a
		// pykafka member looking for the current name sees the claim.
		for _, path := range held {
			if !slices.Contains(paths, path) {
				if err := m.deleteOwner(path); err != nil {
					return err
				}
			}
		}
		carry[p] = len(held) > 0
		owned = append(owned, p)
	}
	m.log.Debug("kafka: zookeeper rebalance", "member", m.id, "participants", len(participants),
		"decided", want, "owned", owned)
	m.c.Assign(ctx, owned, carry)
	return errors.Join(busy...)
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Close releases the member's nodes by closing its session, which drops
// every ephemeral node at once.
func (m *Member) Close(context.Context) error {
	if m.conn != nil {
		m.conn.Close()
	}
	return nil
}
