package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/gregorkafka/gregor/handler"
)

// zkMembership coordinates a BalancedConsumer through ZooKeeper, as
// pykafka's BalancedConsumer does: every member registers, watches the
// group's members, the brokers and the topic, and on any change decides its
// own share with the same algorithm as the others (assign_pykafka.go),
// releases what it no longer owns and claims what it now owns.
//
// The ZooKeeper library runs its own goroutines and dials outside the
// handler, the one exception to gregor's rule, as for bootstrapping from
// ZooKeeper (zookeeper.go). Its calls take no context; they fail on their
// own when the session is lost.
type zkMembership struct {
	b        *BalancedConsumer
	id       string
	external bool // the session was given in the config: not ours to close
	conn     *zk.Conn
	paths    zkPaths

	trigger   handler.Event // something changed: rebalance
	connected handler.Event // the session is up
	expired   atomic.Bool   // the session expired and has not been replaced yet
}

func newZKMembership(b *BalancedConsumer) *zkMembership {
	m := &zkMembership{
		b:         b,
		id:        newZKConsumerID(),
		trigger:   b.h.NewEvent(),
		connected: b.h.NewEvent(),
	}
	chroot := b.cfg.ZooKeeperChroot
	if b.cfg.ZooKeeper == nil {
		zc, _ := parseZooKeeperConnect(b.cfg.ZooKeeperConnect) // validated with the config
		chroot = zc.chroot
	}
	m.paths = newZKPaths(chroot, b.group, b.topic.name, m.id)
	return m
}

func (m *zkMembership) memberID() string                   { return m.id }
func (m *zkMembership) generation() func() (int32, string) { return nil }

// open connects (unless given a session) and registers the consumer.
func (m *zkMembership) open(ctx context.Context) error {
	cfg := &m.b.cfg
	if cfg.ZooKeeper != nil {
		m.conn, m.external = cfg.ZooKeeper, true
		m.connected.Set()
	} else if m.conn == nil {
		zc, _ := parseZooKeeperConnect(cfg.ZooKeeperConnect)
		conn, _, err := zk.Connect(zc.servers, cfg.ZooKeeperTimeout,
			zk.WithLogger(zkLogger{m.b.log}), zk.WithLogInfo(false), zk.WithEventCallback(m.onSessionEvent),
			zk.WithDialer(zkDialer(m.b.h)))
		if err != nil {
			return fmt.Errorf("kafka: zookeeper %s: %w", cfg.ZooKeeperConnect, err)
		}
		wctx, cancel := handler.WithTimeout(ctx, m.b.h, cfg.ZooKeeperTimeout)
		err = m.connected.Wait(wctx)
		cancel()
		if err != nil {
			conn.Close()
			return m.unreachable(err)
		}
		m.conn = conn
	}
	if err := m.register(); err != nil {
		if !m.external {
			m.conn.Close()
			m.conn = nil
			m.connected.Clear()
		}
		return fmt.Errorf("kafka: zookeeper: %w", err)
	}
	m.b.log.Debug("kafka: registered in zookeeper", "member", m.id)
	return nil
}

// unreachable explains a ZooKeeper that gave no session: which setting
// chose ZooKeeper coordination and what to set instead.
func (m *zkMembership) unreachable(err error) error {
	cfg := &m.b.cfg
	from := "BalancedConsumerConfig.ZooKeeperConnect"
	if hosts := m.b.cl.cfg.ZooKeeperHosts; hosts != "" && hosts == cfg.ZooKeeperConnect {
		from = "Config.ZooKeeperHosts"
	}
	return &ZooKeeperUnreachableError{Connect: cfg.ZooKeeperConnect, Timeout: cfg.ZooKeeperTimeout, From: from, Err: err}
}

// run rebalances on every change until ctx ends. A rebalance that fails
// (a partition still owned by another member, ZooKeeper unreachable) is
// retried RebalanceMaxRetries times, backing off RebalanceBackoff times the
// attempt number; then the failure is logged as an error and the whole
// cycle starts over, so that no partition stays unowned for good.
func (m *zkMembership) run(ctx context.Context) {
	b := m.b
	for _, w := range []struct {
		path     string
		children bool
	}{
		{m.paths.ids, true},
		{m.paths.brokerIDs, true},
		{m.paths.topics, true},
		{m.paths.topic, false}, // partitions added
	} {
		b.tasks.Go("kafka-zookeeper-watch", func() { m.watch(ctx, w.path, w.children) })
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
			if errors.Is(err, ErrClosed) {
				b.fail(err)
				return
			}
			if attempt > b.cfg.RebalanceMaxRetries {
				b.log.Error("kafka: rebalance failed; starting over", "member", m.id, "attempts", attempt, "error", err)
				if b.h.Sleep(ctx, b.cfg.RebalanceBackoff) != nil {
					return
				}
				m.trigger.Set()
				break
			}
			msg := "kafka: rebalance incomplete, retrying"
			if errors.Is(err, ErrPartitionOwned) {
				b.log.Debug(msg, "member", m.id, "attempt", attempt, "error", err)
			} else {
				b.log.Warn(msg, "member", m.id, "attempt", attempt, "error", err)
			}
			if b.h.Sleep(ctx, time.Duration(attempt)*b.cfg.RebalanceBackoff) != nil {
				return
			}
		}
		b.setReady()
	}
}

// rebalance runs one round: pause, decide, release, claim, resume with
// what is held. It returns a *PartitionOwnedError (joined, one per
// partition) for partitions another member still holds; the consumer
// consumes the others meanwhile. Any other failure leaves the consumer
// paused: it may no longer own what it held.
func (m *zkMembership) rebalance(ctx context.Context) error {
	b := m.b
	if err := b.revoke(ctx); err != nil {
		return err
	}
	// Every member must decide from the same leaders, since they are part
	// of pykafka's sort key.
	if err := b.cl.Update(ctx); err != nil {
		if errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return err
		}
		b.log.Debug("kafka: metadata refresh before rebalancing failed", "error", err)
	}
	participants, err := m.participants()
	if err != nil {
		return err
	}
	if !slices.Contains(participants, m.id) {
		// The session expired (or the node was deleted): register again.
		b.log.Debug("kafka: consumer not registered in zookeeper; registering again", "member", m.id)
		if err := m.register(); err != nil {
			return err
		}
		participants = append(participants, m.id)
	}
	parts := b.topic.Partitions()
	slots := make([]zkSlot, len(parts))
	leaders := make(map[int32]int32, len(parts))
	for i, p := range parts {
		slots[i] = newZKSlot(b.topic.name, p.LeaderID(), p.ID())
		leaders[p.ID()] = p.LeaderID()
	}
	want := decidePartitions(b.cfg.Strategy, participants, slots, m.id)

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
		paths := m.ownerPaths(ownerSlug(leaders[p], p))
		held := mine[p]
		if !containsAll(held, paths) {
			if owner, ok := others[p]; ok {
				busy = append(busy, &PartitionOwnedError{Topic: b.topic.name, Partition: p, Owner: owner})
				continue
			}
			if err := m.claim(ownerSlug(leaders[p], p), p); err != nil {
				if errors.Is(err, ErrPartitionOwned) {
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
	b.log.Debug("kafka: zookeeper rebalance", "member", m.id, "participants", len(participants),
		"decided", want, "owned", owned)
	b.assign(ctx, owned, carry)
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

// close releases the consumer's nodes: by closing its own session, which
// drops every ephemeral node at once, or, on a session it was given, by
// deleting them.
func (m *zkMembership) close(context.Context) error {
	if m.conn == nil {
		return nil
	}
	if !m.external {
		m.conn.Close()
		return nil
	}
	var errs []error
	nodes, err := m.ownerNodes()
	if err != nil {
		errs = append(errs, err)
	}
	for _, n := range nodes {
		if n.owner == m.id {
			if err := m.deleteOwner(n.path); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := m.conn.Delete(m.paths.self, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		errs = append(errs, fmt.Errorf("deleting %s: %w", m.paths.self, err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafka: releasing zookeeper nodes: %w", err)
	}
	return nil
}
