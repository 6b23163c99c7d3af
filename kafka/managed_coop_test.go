package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// partitionLog records what a member's rebalance callbacks were told.
type partitionLog struct {
	mu       sync.Mutex
	revoked  []int32 // every partition revoked, once per revocation
	assigned []int32
	lost     []int32
	onRevoke func([]int32)
}

func (l *partitionLog) config(cfg BalancedConsumerConfig) BalancedConsumerConfig {
	cfg.BeforeRevokeCallback = func(_ context.Context, ps []int32) {
		l.mu.Lock()
		l.revoked = append(l.revoked, ps...)
		hook := l.onRevoke
		l.mu.Unlock()
		if hook != nil {
			hook(ps)
		}
	}
	cfg.AfterAssignCallback = func(_ context.Context, ps []int32) {
		l.mu.Lock()
		l.assigned = append(l.assigned, ps...)
		l.mu.Unlock()
	}
	cfg.LostCallback = func(_ context.Context, ps []int32) {
		l.mu.Lock()
		l.lost = append(l.lost, ps...)
		l.mu.Unlock()
	}
	return cfg
}

// since returns what was revoked, assigned and lost after the counts in
// mark.
func (l *partitionLog) since(m logMark) (revoked, assigned, lost []int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.revoked[m.revoked:]), slices.Clone(l.assigned[m.assigned:]), slices.Clone(l.lost[m.lost:])
}

type logMark struct{ revoked, assigned, lost int }

func (l *partitionLog) mark() logMark {
	l.mu.Lock()
	defer l.mu.Unlock()
	return logMark{len(l.revoked), len(l.assigned), len(l.lost)}
}

func minus(a, b []int32) []int32 {
	return slices.DeleteFunc(slices.Clone(a), func(p int32) bool { return slices.Contains(b, p) })
}

func sorted(ps []int32) []int32 {
	out := slices.Clone(ps)
	slices.Sort(out)
	return out
}

// startJavaCooperative runs a Java client member with the
// cooperative-sticky assignor and the classic protocol.
func startJavaCooperative(t *testing.T, env *groupEnv, sessionMs int) *javaConsumer {
	return startConsoleConsumer(t, env,
		"--consumer-property", "group.protocol=classic",
		"--consumer-property", "partition.assignment.strategy=org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
		"--consumer-property", "client.id=java-member",
		"--consumer-property", "heartbeat.interval.ms=300",
		"--consumer-property", fmt.Sprintf("session.timeout.ms=%d", sessionMs))
}

// settledGroup waits until the coordinator reports a stable group of
// members members sharing every partition, and returns each member's
// partitions by client id.
func (e *groupEnv) settledGroup(t *testing.T, members int) map[string][]int32 {
	t.Helper()
	n := len(e.topic.Partitions())
	var owned map[string][]int32
	eventually(t, e.ctx, e.h, fmt.Sprintf("%d members sharing every partition", members), func() bool {
		d, err := e.cl.Cluster().DescribeGroup(e.ctx, e.group)
		if err != nil || d.State != GroupStateStable || len(d.Members) != members {
			return false
		}
		owned = map[string][]int32{}
		seen := map[int32]bool{}
		for _, m := range d.Members {
			for _, tp := range m.Assignment {
				for _, p := range tp.Partitions {
					if seen[p] {
						return false
					}
					seen[p] = true
					owned[m.ClientID] = append(owned[m.ClientID], p)
				}
			}
		}
		return len(seen) == n
	})
	return owned
}

// TestCooperativeRebalanceWithJavaMember: gregor members under
// cooperative-sticky, joined and left by a cooperative Java member. When
// the Java member joins, each gregor member revokes exactly the partitions
// that move to it, once, and keeps the others; when it leaves, nothing is
// revoked and each gregor member is told only of the partitions it gains.
// Every message is consumed, by the member owning its partition.
func TestCooperativeRebalanceWithJavaMember(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Java consumers")
	}
	forEachKind(t, []balancedKind{managedKRaft}, 6, func(t *testing.T, env *groupEnv) {
		var la, lb partitionLog
		a := env.consumer(t, la.config(BalancedConsumerConfig{Assignor: CooperativeStickyAssignor()}))
		env.waitSplit(t, a)
		b := env.consumer(t, lb.config(BalancedConsumerConfig{Assignor: CooperativeStickyAssignor()}))
		env.waitSplit(t, a, b)
		env.settledGroup(t, 2)
		// b's arrival cost a only the partitions b got.
		revoked, _, lost := la.since(logMark{})
		assert.ElementsMatch(t, b.Partitions(), revoked, "a revoked what b got")
		assert.Empty(t, lost)
		col := newCollector(t)
		col.run(env.ctx, a)
		col.run(env.ctx, b)

		aParts, bParts := a.Partitions(), b.Partitions()
		ma, mb := la.mark(), lb.mark()
		jc := startJavaCooperative(t, env, 6000)
		owned := env.settledGroup(t, 3)
		javaParts := firstJava(owned)
		require.Len(t, javaParts, 2, "the Java member's share: %v", owned)
		env.waitSplitOf(t, 4, a, b)
		for _, m := range []struct {
			name   string
			c      *BalancedConsumer
			log    *partitionLog
			mark   logMark
			before []int32
		}{{"a", a, &la, ma, aParts}, {"b", b, &lb, mb, bParts}} {
			revoked, assigned, lost := m.log.since(m.mark)
			now := m.c.Partitions()
			assert.Subset(t, m.before, now, "%s keeps what it does not give up", m.name)
			assert.Equal(t, minus(m.before, now), sorted(revoked), "%s revokes only what moved, once each", m.name)
			assert.Empty(t, assigned, "%s gains nothing", m.name)
			assert.Empty(t, lost, "%s loses nothing", m.name)
		}
		round := env.produceRound(t, "three", 2)
		mine, theirs := map[msgID]string{}, map[msgID]string{}
		for id, v := range round {
			if slices.Contains(javaParts, id.p) {
				theirs[id] = v
			} else {
				mine[id] = v
			}
		}
		col.waitAll(t, env, mine)
		eventually(t, env.ctx, env.h, "the Java member's share", func() bool { return jc.has(theirs) })

		// The Java member leaves (SIGTERM: it closes its consumer).
		aParts, bParts = a.Partitions(), b.Partitions()
		ma, mb = la.mark(), lb.mark()
		require.NoError(t, jc.cmd.Process.Signal(syscall.SIGTERM))
		env.settledGroup(t, 2)
		env.waitSplit(t, a, b)
		for _, m := range []struct {
			name   string
			c      *BalancedConsumer
			log    *partitionLog
			mark   logMark
			before []int32
		}{{"a", a, &la, ma, aParts}, {"b", b, &lb, mb, bParts}} {
			revoked, assigned, lost := m.log.since(m.mark)
			assert.Empty(t, revoked, "%s revokes nothing when a member leaves", m.name)
			assert.Empty(t, lost, "%s loses nothing", m.name)
			assert.Subset(t, m.c.Partitions(), m.before, "%s keeps what it had", m.name)
			assert.Equal(t, minus(m.c.Partitions(), m.before), sorted(assigned), "%s is told only of its gains", m.name)
		}
		col.waitAll(t, env, env.produceRound(t, "two", 2))
	})
}

// TestCooperativeUpgradeFromEager moves a running group of range members
// to cooperative-sticky by two rolling bounces, as the Java client
// documents: first every member offers cooperative-sticky and range (the
// group switches assignor once all offer it, still rebalancing eagerly),
// then cooperative-sticky alone. Nothing produced meanwhile goes
// unconsumed, and afterwards a joining member costs the others only the
// partitions it takes.
func TestCooperativeUpgradeFromEager(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft, managedZKMode}, 6, func(t *testing.T, env *groupEnv) {
		col := newCollector(t)
		start := func(cfg BalancedConsumerConfig) *BalancedConsumer {
			cfg.AutoCommit = true
			c := env.consumer(t, cfg)
			col.run(env.ctx, c)
			return c
		}
		protocol := func() string {
			d, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
			require.NoError(t, err)
			return d.Protocol
		}
		step := func(stage string, keep, old *BalancedConsumer, cfg BalancedConsumerConfig) *BalancedConsumer {
			t.Helper()
			stopConsumer(t, env.ctx, old)
			c := start(cfg)
			env.waitSplit(t, keep, c)
			col.waitAll(t, env, env.produceRound(t, stage, 1))
			return c
		}
		a := start(BalancedConsumerConfig{})
		b := start(BalancedConsumerConfig{})
		env.waitSplit(t, a, b)
		col.waitAll(t, env, env.produceRound(t, "eager", 1))
		assert.Equal(t, "range", protocol())

		both := BalancedConsumerConfig{Assignors: []Assignor{CooperativeStickyAssignor(), RangeAssignor()}}
		a = step("first-a", b, a, both)
		assert.Equal(t, "range", protocol(), "a range-only member remains")
		b = step("first-b", a, b, both)
		assert.Equal(t, "cooperative-sticky", protocol(), "every member offers cooperative-sticky")

		var la, lb partitionLog
		coop := BalancedConsumerConfig{Assignors: []Assignor{CooperativeStickyAssignor()}}
		a = step("second-a", b, a, la.config(coop))
		b = step("second-b", a, b, lb.config(coop))
		assert.Equal(t, "cooperative-sticky", protocol())

		aParts, bParts := a.Partitions(), b.Partitions()
		ma, mb := la.mark(), lb.mark()
		c := start(coop)
		env.waitSplit(t, a, b, c)
		for _, m := range []struct {
			name   string
			c      *BalancedConsumer
			log    *partitionLog
			mark   logMark
			before []int32
		}{{"a", a, &la, ma, aParts}, {"b", b, &lb, mb, bParts}} {
			revoked, _, lost := m.log.since(m.mark)
			assert.Subset(t, m.before, m.c.Partitions(), "%s keeps what it does not give up", m.name)
			assert.Equal(t, minus(m.before, m.c.Partitions()), sorted(revoked), "%s revokes only what moved", m.name)
			assert.Empty(t, lost)
		}
		col.waitAll(t, env, env.produceRound(t, "cooperative", 1))
	})
}

// TestCooperativeMemberKilledDuringRebalance kills a member while the
// group rebalances cooperatively for a new member: a Java member by
// SIGKILL, a gregor member by dropping its client's connections. The
// survivors own every partition again within the victim's session
// timeout, plus the time to notice and rebalance (a few heartbeats).
func TestCooperativeMemberKilledDuringRebalance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Java consumers")
	}
	const session = 3 * time.Second
	forEachKind(t, []balancedKind{managedKRaft}, 6, func(t *testing.T, env *groupEnv) {
		for _, victim := range []string{"java", "gregor"} {
			t.Run(victim, func(t *testing.T) {
				env.group = fmt.Sprintf("%s-%s", env.topic.Name(), victim)
				coop := BalancedConsumerConfig{Assignor: CooperativeStickyAssignor(), SessionTimeout: session}
				var la, lb partitionLog
				a := env.consumer(t, la.config(coop))
				b := env.consumer(t, lb.config(coop))
				var kill func()
				if victim == "java" {
					jc := startJavaCooperative(t, env, int(session.Milliseconds()))
					kill = func() { _ = jc.cmd.Process.Kill() }
				} else {
					vcl, vtopic := env.newVictimClient(t)
					env.consumerOn(t, vtopic, coop)
					kill = func() { _ = vcl.Close() }
				}
				env.settledGroup(t, 3)

				// A fourth member joins; the victim dies while the group
				// rebalances for it: in its first generation, or once members
				// revoked what moves and before the follow-up hands it out.
				c := env.consumer(t, coop)
				for {
					d, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
					if err == nil && (d.State == GroupStatePreparingRebalance || d.State == GroupStateCompletingRebalance) {
						break
					}
					require.NoError(t, env.h.Sleep(env.ctx, 10*time.Millisecond), "waiting for the rebalance")
				}
				killed := env.h.Now()
				kill()
				env.waitSplit(t, a, b, c)
				took := env.h.Now().Sub(killed)
				t.Logf("every partition owned again %v after the kill", took)
				assert.Less(t, took, session+time.Second+10*env.config(coop).HeartbeatInterval,
					"partitions unowned longer than the session timeout")
				for _, l := range []*partitionLog{&la, &lb} {
					_, _, lost := l.since(logMark{})
					assert.Empty(t, lost, "the survivors lose nothing")
				}
				col := newCollector(t)
				for _, m := range []*BalancedConsumer{a, b, c} {
					col.run(env.ctx, m)
				}
				col.waitAll(t, env, env.produceRound(t, victim, 1))
			})
		}
	})
}

// heartbeatCutter is a handler whose connections fail every Heartbeat,
// JoinGroup and SyncGroup write while on, breaking the connection as a
// network cut off from the group coordinator would.
type heartbeatCutter struct {
	handler.Handler
	on atomic.Bool
}

func (h *heartbeatCutter) Dial(ctx context.Context, cfg handler.DialConfig) (handler.Conn, error) {
	c, err := h.Handler.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &cutConn{Conn: c, h: h}, nil
}

type cutConn struct {
	handler.Conn
	h *heartbeatCutter
}

func (c *cutConn) Write(b []byte) error {
	if c.h.on.Load() {
		for i := 0; i+6 <= len(b); i += 4 + int(binary.BigEndian.Uint32(b[i:])) {
			switch int16(binary.BigEndian.Uint16(b[i+4:])) {
			case protocol.APIKeyHeartbeat, protocol.APIKeyJoinGroup, protocol.APIKeySyncGroup:
				return errors.New("test: group request cut")
			}
		}
	}
	return c.Conn.Write(b)
}

// TestCooperativeSessionLost: a cooperative member cut off from the group
// coordinator loses its partitions: LostCallback, not
// BeforeRevokeCallback, and no commit; it stops consuming them before the
// coordinator hands them to the other member, and rejoins once it can.
func TestCooperativeSessionLost(t *testing.T) {
	forEachKind(t, []balancedKind{managedKRaft, managedZKMode}, 4, func(t *testing.T, env *groupEnv) {
		cut := &heartbeatCutter{Handler: env.h}
		cl := newTestClient(t, env.ctx, cut, Config{Hosts: env.tc.Bootstrap()})
		topic, err := cl.Topic(env.ctx, env.topic.Name())
		require.NoError(t, err)
		var la, lb partitionLog
		var mu sync.Mutex
		var lostAt time.Time
		// AutoCommit commits on revocation and Stop only (the interval is
		// longer than the test): a commit when a loses its partitions
		// would show.
		cfg := la.config(BalancedConsumerConfig{Assignor: CooperativeStickyAssignor(),
			ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest, AutoCommit: true, AutoCommitInterval: time.Hour}})
		lostCB := cfg.LostCallback
		cfg.LostCallback = func(ctx context.Context, ps []int32) {
			mu.Lock()
			lostAt = time.Now()
			mu.Unlock()
			lostCB(ctx, ps)
		}
		gainedAt := map[int32]time.Time{}
		bcfg := lb.config(BalancedConsumerConfig{Assignor: CooperativeStickyAssignor(),
			ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest}})
		assigned := bcfg.AfterAssignCallback
		bcfg.AfterAssignCallback = func(ctx context.Context, ps []int32) {
			mu.Lock()
			for _, p := range ps {
				gainedAt[p] = time.Now()
			}
			mu.Unlock()
			assigned(ctx, ps)
		}
		a := env.consumerOn(t, topic, cfg)
		b := env.consumer(t, bcfg)
		env.waitSplit(t, a, b)
		aParts := a.Partitions()
		col := newCollector(t)
		col.run(env.ctx, a)
		col.run(env.ctx, b)
		col.waitAll(t, env, env.produceRound(t, "before", 1))
		committed := env.committed(t)

		mark := la.mark()
		cut.on.Store(true)
		eventually(t, env.ctx, env.h, "b alone", func() bool { return len(b.Partitions()) == 4 })
		revoked, _, lost := la.since(mark)
		assert.Equal(t, aParts, sorted(lost), "a lost what it had")
		assert.Empty(t, revoked, "lost, not revoked")
		mu.Lock()
		for _, p := range aParts {
			assert.True(t, lostAt.Before(gainedAt[p]), "a dropped %d before b got it", p)
		}
		mu.Unlock()
		for _, p := range aParts {
			assert.Equal(t, committed[p], env.committed(t)[p], "no commit for lost partition %d", p)
		}

		cut.on.Store(false)
		env.waitSplit(t, a, b)
		col.waitAll(t, env, env.produceRound(t, "after", 1))
	})
}
