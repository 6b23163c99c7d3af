package kafka

import (
	"context"
	"errors"

	"github.com/gregorkafka/gregor/internal/zookeeper"
)

// zkMembership coordinates a BalancedConsumer through ZooKeeper, as
// pykafka's BalancedConsumer does, over one topic (its node layout has
// one owner directory per topic, and pykafka's members one topic each). The coordination itself (pykafka's node
// layout, watches, claims and decide_partitions) is zookeeper.Member; this
// side of the membership seam only lends it the consumer.
type zkMembership struct {
	b *BalancedConsumer
	m *zookeeper.Member
}

func newZKMembership(b *BalancedConsumer) *zkMembership {
	z := &zkMembership{b: b}
	z.m = zookeeper.NewMember(zookeeper.Config{
		Handler:             b.h,
		Log:                 b.log,
		Connect:             b.cfg.ZooKeeperConnect,
		Timeout:             b.cfg.ZooKeeperTimeout,
		Group:               b.group,
		Topic:               b.topic.name,
		RoundRobin:          b.cfg.Strategy == RoundRobinAssignment,
		RebalanceMaxRetries: b.cfg.RebalanceMaxRetries,
		RebalanceBackoff:    b.cfg.RebalanceBackoff,
	}, z)
	return z
}

func (z *zkMembership) memberID() string                   { return z.m.ID() }
func (z *zkMembership) generation() func() (int32, string) { return nil }
func (z *zkMembership) run(ctx context.Context)            { z.m.Run(ctx) }
func (z *zkMembership) close(ctx context.Context) error    { return z.m.Close(ctx) }

func (z *zkMembership) open(ctx context.Context) error {
	err := z.m.Open(ctx)
	var ns *zookeeper.NoSessionError
	if errors.As(err, &ns) {
		return z.unreachable(ns.Err)
	}
	return err
}

// unreachable explains a ZooKeeper that gave no session: which setting
// chose ZooKeeper coordination and what to set instead.
func (z *zkMembership) unreachable(err error) error {
	cfg := &z.b.cfg
	from := "BalancedConsumerConfig.ZooKeeperConnect"
	if hosts := z.b.cl.cfg.ZooKeeperHosts; hosts != "" && hosts == cfg.ZooKeeperConnect {
		from = "Config.ZooKeeperHosts"
	}
	return &ZooKeeperUnreachableError{Connect: cfg.ZooKeeperConnect, Timeout: cfg.ZooKeeperTimeout, From: from, Err: err}
}

// The zookeeper.Consumer side.

func (z *zkMembership) Partitions() []zookeeper.Partition {
	parts := z.b.topic.Partitions()
	out := make([]zookeeper.Partition, len(parts))
	for i, p := range parts {
		out[i] = zookeeper.Partition{ID: p.ID(), Leader: p.LeaderID()}
	}
	return out
}

func (z *zkMembership) UpdateMetadata(ctx context.Context) error { return z.b.cl.Update(ctx) }
func (z *zkMembership) Revoke(ctx context.Context) error         { return z.b.revoke(ctx) }
func (z *zkMembership) Ready()                                   { z.b.setReady() }
func (z *zkMembership) Closed(err error) bool                    { return errors.Is(err, ErrClosed) }
func (z *zkMembership) Fail(err error)                           { z.b.fail(err) }
func (z *zkMembership) Go(name string, fn func())                { z.b.tasks.Go(name, fn) }

func (z *zkMembership) Assign(ctx context.Context, owned []int32, carry map[int32]bool) {
	t := z.b.single
	tc := make(map[TopicPartition]bool, len(carry))
	for id, c := range carry {
		tc[TopicPartition{t, id}] = c
	}
	z.b.assign(ctx, topicParts{t: owned}, tc)
}

// SessionEvent tells the ZooKeeperHooks, and the GroupHooks of a lost
// session, whose nodes went with it.
func (z *zkMembership) SessionEvent(state zookeeper.State, server string) {
	if len(z.b.cl.hooks.zk) > 0 {
		z.b.zooKeeperEvent(state, server, z.m.ID())
	}
	if state == zookeeper.Expired {
		z.b.groupEvent(GroupLost, nil, ErrZooKeeperSessionExpired)
	}
}
