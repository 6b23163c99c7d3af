package kafka

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/fakeclock"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// consumerKRaft runs KIP-848 consumer groups on Kafka 4.3.
var consumerKRaft = balancedKind{"consumer-protocol", testcluster.KRaftSingle, true}

// kip848Config fills cfg for a consumer-protocol member with the tests'
// short backoffs; the broker's group.consumer.* settings give heartbeat
// interval and session timeout.
func kip848Config(cfg BalancedConsumerConfig) BalancedConsumerConfig {
	cfg.GroupProtocol = GroupProtocolConsumer
	if cfg.RebalanceBackoff == 0 {
		cfg.RebalanceBackoff = 200 * time.Millisecond
	}
	if cfg.OffsetsChannelBackoff == 0 {
		cfg.OffsetsChannelBackoff = 200 * time.Millisecond
	}
	if cfg.RebalanceTimeout == 0 {
		cfg.RebalanceTimeout = 20 * time.Second
	}
	return cfg
}

// kip848Consumer starts a consumer-protocol member of the env's group,
// stopped when the test ends.
func (e *groupEnv) kip848Consumer(t *testing.T, cfg BalancedConsumerConfig) *BalancedConsumer {
	t.Helper()
	c, err := e.topic.BalancedConsumer(e.group, kip848Config(cfg))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return c
}

// assertOnce fails for every message of want not consumed exactly once,
// counting got.
func assertOnce(t *testing.T, want map[msgID]string, got func(msgID) int) {
	t.Helper()
	bad := 0
	for _, id := range slices.SortedFunc(maps.Keys(want), func(a, b msgID) int {
		if a.p != b.p {
			return int(a.p - b.p)
		}
		return int(a.off - b.off)
	}) {
		if n := got(id); n != 1 {
			bad++
			if bad <= 10 {
				t.Errorf("message %d/%d consumed %d times", id.p, id.off, n)
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d messages in all not consumed exactly once", bad)
	}
}

// TestConsumerProtocolGroup runs gregor members of a KIP-848 group as they
// join and leave: the coordinator's assignment covers every partition
// once, every message is consumed exactly once across the members (they
// commit before giving partitions up, and the coordinator hands a
// partition on only after that), and the group is a consumer group.
func TestConsumerProtocolGroup(t *testing.T) {
	tc := testcluster.Shared(t, consumerKRaft.cluster)
	forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
		env := newGroupEnv(t, consumerKRaft, tc, h, 6, 1)
		cfg := BalancedConsumerConfig{ConsumerConfig: ConsumerConfig{AutoCommit: true, AutoOffsetReset: OffsetEarliest}}
		want := env.produceRound(t, "first", 3)

		g1 := env.kip848Consumer(t, cfg)
		require.NoError(t, g1.Start(env.ctx))
		col := newCollector(t)
		col.run(env.ctx, g1)
		env.waitSplit(t, g1)
		col.waitAll(t, env, want)
		assert.NotEmpty(t, g1.MemberID())

		g2 := env.kip848Consumer(t, cfg)
		col.run(env.ctx, g2)
		env.waitSplit(t, g1, g2)
		maps.Copy(want, env.produceRound(t, "second", 3))
		col.waitAll(t, env, want)

		g3 := env.kip848Consumer(t, cfg)
		col.run(env.ctx, g3)
		env.waitSplit(t, g1, g2, g3)
		desc, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
		require.NoError(t, err)
		assert.Equal(t, GroupTypeConsumer, desc.Type)
		assert.Len(t, desc.Members, 3)

		stopConsumer(t, env.ctx, g1)
		env.waitSplit(t, g2, g3)
		maps.Copy(want, env.produceRound(t, "third", 3))
		col.waitAll(t, env, want)
		assertOnce(t, want, col.count)

		// Commits carried the member epoch: the group stored them.
		stopConsumer(t, env.ctx, g2)
		stopConsumer(t, env.ctx, g3)
		for p, off := range env.committed(t) {
			assert.Equal(t, int64(9), off, "partition %d committed", p)
		}
	})
}

// TestConsumerProtocolServerAssignor has the coordinator assign with the
// range assignor the members name, which gives each of two members a
// contiguous half of the topic, and fails members naming an assignor the
// brokers lack with a *GroupError.
func TestConsumerProtocolServerAssignor(t *testing.T) {
	tc := testcluster.Shared(t, consumerKRaft.cluster)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newGroupEnv(t, consumerKRaft, tc, h, 6, 1)
		cfg := BalancedConsumerConfig{ServerAssignor: ServerAssignorRange}
		g1, g2 := env.kip848Consumer(t, cfg), env.kip848Consumer(t, cfg)
		env.waitSplit(t, g1, g2)
		halves := [][]int32{g1.Partitions(), g2.Partitions()}
		slices.SortFunc(halves, func(a, b []int32) int { return int(a[0] - b[0]) })
		assert.Equal(t, [][]int32{{0, 1, 2}, {3, 4, 5}}, halves)
		desc, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
		require.NoError(t, err)
		assert.Equal(t, ServerAssignorRange, desc.Protocol)

		bad, err := env.topic.BalancedConsumer(env.group+"-bad", kip848Config(BalancedConsumerConfig{ServerAssignor: "no-such-assignor"}))
		require.NoError(t, err)
		defer func() { _ = bad.Stop(env.ctx) }()
		err = bad.Start(env.ctx)
		var gerr *GroupError
		require.ErrorAs(t, err, &gerr)
		assert.ErrorIs(t, err, protocol.ErrUnsupportedAssignor)
		_, err = bad.Consume(env.ctx)
		assert.ErrorIs(t, err, protocol.ErrUnsupportedAssignor, "Consume reports it too")
	})
}

// TestConsumerProtocolStaticMember bounces a static member: it leaves with
// epoch -2, so the coordinator keeps its partitions for its instance id,
// and its successor gets them back while the other member's partitions
// never move.
func TestConsumerProtocolStaticMember(t *testing.T) {
	tc := testcluster.Shared(t, consumerKRaft.cluster)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newGroupEnv(t, consumerKRaft, tc, h, 4, 1)
		static := BalancedConsumerConfig{GroupInstanceID: "static-" + env.group}
		s1 := env.kip848Consumer(t, static)
		other := env.kip848Consumer(t, BalancedConsumerConfig{})
		env.waitSplit(t, s1, other)
		mine, theirs := s1.Partitions(), other.Partitions()

		stopConsumer(t, env.ctx, s1)
		s2 := env.kip848Consumer(t, static)
		require.NoError(t, s2.Start(env.ctx))
		assert.NotEqual(t, s1.MemberID(), s2.MemberID(), "a new member id under the same instance id")
		assert.Equal(t, mine, s2.Partitions(), "the static member's partitions came back")
		assert.Equal(t, theirs, other.Partitions(), "the other member kept its partitions")
		desc, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
		require.NoError(t, err)
		require.Len(t, desc.Members, 2)
	})
}

// TestConsumerProtocolUnsupportedBroker asks Kafka 3.9 in ZooKeeper mode,
// which lacks ConsumerGroupHeartbeat, for a consumer-protocol group: Start
// fails at once with ErrGroupProtocolUnsupported.
func TestConsumerProtocolUnsupportedBroker(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newGroupEnv(t, managedZKMode, tc, h, 2, 1)
		c, err := env.topic.BalancedConsumer(env.group, kip848Config(BalancedConsumerConfig{}))
		require.NoError(t, err)
		defer func() { _ = c.Stop(env.ctx) }()
		err = c.Start(env.ctx)
		assert.ErrorIs(t, err, ErrGroupProtocolUnsupported)
		assert.ErrorIs(t, err, protocol.ErrUnsupportedVersion)
		var gerr *GroupError
		assert.ErrorAs(t, err, &gerr)
	})
}

// countingJavaConsumer is Kafka's console consumer in a group, counting
// how often it printed each message.
type countingJavaConsumer struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	n   map[msgID]int
}

// startKIP848JavaConsumer runs Kafka's ConsoleConsumer from the harness's
// classpath in env's group with group.protocol=consumer, until it is
// stopped or the test ends.
func startKIP848JavaConsumer(t *testing.T, env *groupEnv, clientID string) *countingJavaConsumer {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java not installed")
	}
	cmd := exec.CommandContext(env.ctx, java, "-cp", env.tc.Classpath(), "org.apache.kafka.tools.consumer.ConsoleConsumer",
		"--bootstrap-server", env.tc.Bootstrap()[0], "--topic", env.topic.Name(), "--group", env.group, "--from-beginning",
		"--formatter-property", "print.partition=true",
		"--formatter-property", "print.offset=true",
		"--consumer-property", "group.protocol=consumer",
		"--consumer-property", "client.id="+clientID)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	jc := &countingJavaConsumer{cmd: cmd, n: map[msgID]int{}}
	done := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		_ = cmd.Wait()
	})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			m := consoleLine.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			p, _ := strconv.Atoi(m[1])
			off, _ := strconv.ParseInt(m[2], 10, 64)
			jc.mu.Lock()
			jc.n[msgID{int32(p), off}]++
			jc.mu.Unlock()
		}
	}()
	return jc
}

// stop ends the Java consumer as an operator would (SIGTERM): its shutdown
// hook commits and leaves the group.
func (jc *countingJavaConsumer) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, jc.cmd.Process.Signal(syscall.SIGTERM))
	_ = jc.cmd.Wait()
}

func (jc *countingJavaConsumer) count(id msgID) int {
	jc.mu.Lock()
	defer jc.mu.Unlock()
	return jc.n[id]
}

// waitGroupSettled waits until the coordinator describes members members
// whose assignments cover every partition of the topic once.
func waitGroupSettled(t *testing.T, env *groupEnv, members int) {
	t.Helper()
	n := len(env.topic.Partitions())
	eventually(t, env.ctx, env.h, fmt.Sprintf("a settled group of %d", members), func() bool {
		desc, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
		if err != nil || len(desc.Members) != members {
			return false
		}
		seen := map[int32]bool{}
		for _, m := range desc.Members {
			for _, tp := range m.Assignment {
				for _, p := range tp.Partitions {
					if seen[p] {
						return false
					}
					seen[p] = true
				}
			}
		}
		return len(seen) == n
	})
}

// TestConsumerProtocolWithJavaConsumers shares a KIP-848 group between
// gregor members and Java consumers with group.protocol=consumer while
// members of both kinds join and leave: every message is consumed exactly
// once across the members, since each side commits before it
// acknowledges giving a partition up.
func TestConsumerProtocolWithJavaConsumers(t *testing.T) {
	tc := testcluster.Shared(t, consumerKRaft.cluster)
	forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
		env := newGroupEnv(t, consumerKRaft, tc, h, 6, 1)
		cfg := BalancedConsumerConfig{ConsumerConfig: ConsumerConfig{AutoCommit: true, AutoOffsetReset: OffsetEarliest}}
		col := newCollector(t)
		var javas []*countingJavaConsumer
		count := func(id msgID) int {
			n := col.count(id)
			for _, jc := range javas {
				n += jc.count(id)
			}
			return n
		}
		want := map[msgID]string{}
		round := func(tag string) {
			maps.Copy(want, env.produceRound(t, tag, 4))
			eventually(t, env.ctx, h, "every message "+tag, func() bool {
				for id := range want {
					if count(id) == 0 {
						return false
					}
				}
				return true
			})
		}

		javas = append(javas, startKIP848JavaConsumer(t, env, "java-1"))
		round("java-alone")
		g1 := env.kip848Consumer(t, cfg)
		col.run(env.ctx, g1)
		waitGroupSettled(t, env, 2)
		round("one-each")
		g2 := env.kip848Consumer(t, cfg)
		col.run(env.ctx, g2)
		javas = append(javas, startKIP848JavaConsumer(t, env, "java-2"))
		waitGroupSettled(t, env, 4)
		round("four")
		stopConsumer(t, env.ctx, g1)
		javas[0].stop(t)
		waitGroupSettled(t, env, 2)
		round("after-leaving")
		assert.NotEmpty(t, g2.Partitions(), "the gregor member that stayed has a share")
		assertOnce(t, want, count)
	})
}

// TestGroupProtocolHandover measures, for the classic protocol (eager,
// range) and the consumer protocol, how long a fourth member joining a
// group of three takes until the four share the topic, and for how long
// meanwhile some partition had no owner; then the same for a member
// leaving. Ownership is sampled from Partitions, which an eager classic
// member keeps through its rebalance's pause, so the classic protocol's
// unowned time is understated. It logs the times (go test -v) and asserts
// only that every partition ends up owned once.
func TestGroupProtocolHandover(t *testing.T) {
	tc := testcluster.Shared(t, consumerKRaft.cluster)
	forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
		for _, kind := range []balancedKind{managedKRaft, consumerKRaft} {
			env := newGroupEnv(t, kind, tc, h, 12, 1)
			start := func() *BalancedConsumer {
				if kind.name == consumerKRaft.name {
					return env.kip848Consumer(t, BalancedConsumerConfig{})
				}
				return env.consumer(t, BalancedConsumerConfig{})
			}
			members := []*BalancedConsumer{start(), start(), start()}
			env.waitSplit(t, members...)

			// measure runs change, then samples who owns what until the
			// members after returns share every partition evenly.
			measure := func(change func(), after func() []*BalancedConsumer) (total, unowned time.Duration) {
				began := time.Now()
				change()
				last := began
				for {
					ms := after()
					owned := map[int32]int{}
					for _, m := range ms {
						for _, p := range m.Partitions() {
							owned[p]++
						}
					}
					now := time.Now()
					if len(owned) < len(env.topic.Partitions()) {
						unowned += now.Sub(last)
					}
					last = now
					done := len(owned) == len(env.topic.Partitions())
					for _, m := range ms {
						done = done && len(m.Partitions()) == len(owned)/len(ms)
					}
					if done {
						return now.Sub(began), unowned
					}
					require.NoError(t, h.Sleep(env.ctx, 10*time.Millisecond), "waiting for the hand-over")
				}
			}
			var fourth *BalancedConsumer
			joinTotal, joinUnowned := measure(func() { fourth = start() },
				func() []*BalancedConsumer { return append(slices.Clone(members), fourth) })
			leaveTotal, leaveUnowned := measure(func() { stopConsumer(t, env.ctx, members[0]) },
				func() []*BalancedConsumer { return append(slices.Clone(members[1:]), fourth) })
			t.Logf("%s: a fourth member joining: %v until shared, partitions unowned %v; one leaving: %v, unowned %v",
				kind.name, joinTotal.Round(time.Millisecond), joinUnowned.Round(time.Millisecond),
				leaveTotal.Round(time.Millisecond), leaveUnowned.Round(time.Millisecond))
			env.waitSplit(t, append(slices.Clone(members[1:]), fourth)...)
		}
	})
}

// groupEvents records a client's group events.
type groupEvents struct {
	mu     sync.Mutex
	events []GroupEvent
}

func (g *groupEvents) OnGroupEvent(e GroupEvent) {
	g.mu.Lock()
	g.events = append(g.events, e)
	g.mu.Unlock()
}

func (g *groupEvents) count(kind GroupEventKind) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, e := range g.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// TestConsumerProtocolFencedMember has the coordinator forget a live
// member (an operator's leave request in its name): its next heartbeat
// hears UNKNOWN_MEMBER_ID, and as the Java client does it reports its
// partitions lost, drops them without committing, and rejoins with epoch 0
// under the same member id, after which the group shares the topic again
// and consumption goes on.
func TestConsumerProtocolFencedMember(t *testing.T) {
	tc := testcluster.Shared(t, consumerKRaft.cluster)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		env := newGroupEnv(t, consumerKRaft, tc, h, 4, 1)
		events := &groupEvents{}
		cl := newTestClient(t, env.ctx, h, Config{Hosts: tc.Bootstrap(), Hooks: []Hook{events}})
		topic, err := cl.Topic(env.ctx, env.topic.Name())
		require.NoError(t, err)
		cfg := kip848Config(BalancedConsumerConfig{ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest}})
		var mu sync.Mutex
		var lost, revoked [][]int32
		vcfg := cfg
		vcfg.LostCallback = func(_ context.Context, parts []int32) {
			mu.Lock()
			lost = append(lost, parts)
			mu.Unlock()
		}
		vcfg.BeforeRevokeCallback = func(_ context.Context, parts []int32) {
			mu.Lock()
			revoked = append(revoked, parts)
			mu.Unlock()
		}
		victim, err := topic.BalancedConsumer(env.group, vcfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = victim.Stop(context.Background()) })
		other := env.kip848Consumer(t, cfg)
		col := newCollector(t)
		col.run(env.ctx, victim)
		col.run(env.ctx, other)
		env.waitSplit(t, victim, other)
		col.waitAll(t, env, env.produceRound(t, "before", 2))
		require.Equal(t, 1, events.count(GroupJoined))
		member := victim.MemberID()
		owned := victim.Partitions()
		mu.Lock()
		revoked = nil // the split may have revoked some
		mu.Unlock()

		coord, err := env.cl.Cluster().GroupCoordinator(env.ctx, env.group)
		require.NoError(t, err)
		req := protocol.NewConsumerGroupHeartbeatRequest()
		req.GroupID, req.MemberID, req.MemberEpoch = env.group, member, epochLeave
		resp, err := call[*protocol.ConsumerGroupHeartbeatResponse](env.ctx, coord, connGeneral, req, 0)
		require.NoError(t, err)
		require.NoError(t, brokerError(resp.ErrorCode, resp.ErrorMessage))

		eventually(t, env.ctx, h, "the member's loss", func() bool { return events.count(GroupLost) == 1 })
		eventually(t, env.ctx, h, "the rejoin", func() bool { return events.count(GroupJoined) == 2 })
		assert.Equal(t, member, victim.MemberID(), "rejoined under the same member id")
		mu.Lock()
		assert.Equal(t, [][]int32{owned}, lost, "LostCallback over what it owned")
		assert.Empty(t, revoked, "lost partitions are not revoked")
		mu.Unlock()
		env.waitSplit(t, victim, other)
		col.waitAll(t, env, env.produceRound(t, "after", 2))
	})
}

// A consumer-protocol member heartbeats at the interval the coordinator
// gives (the harness's 500ms), on the handler's clock: on a virtual clock
// over a real broker, not a nanosecond early.
func TestConsumerProtocolHeartbeatOnVirtualClock(t *testing.T) {
	tc := testcluster.Shared(t, consumerKRaft.cluster)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		admin := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		name := uniqueTopic(t, "kip848-clock")
		p := makeTopic(t, ctx, admin, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}).Partitions()[0]
		produceBatch(t, ctx, p, protocol.CompressionNone, time.Now().UnixMilli(), "one")
		group := name + "-group"
		// Settles the coordinator, so joining needs no backoff.
		_, err := admin.Cluster().FetchGroupOffsets(ctx, group, map[string][]int32{name: {0}})
		require.NoError(t, err)

		fc := fakeclock.New(h)
		beats := &apiCounter{Handler: fc, key: protocol.APIKeyConsumerGroupHeartbeat}
		cl := newTestClient(t, ctx, beats, Config{Hosts: tc.Bootstrap()})
		topic, err := cl.Topic(ctx, name)
		require.NoError(t, err)
		c, err := topic.BalancedConsumer(group, BalancedConsumerConfig{GroupProtocol: GroupProtocolConsumer,
			ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest}})
		require.NoError(t, err)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = c.Stop(ctx)
		})
		m, err := c.Consume(ctx) // joined, assigned, acknowledged, fetching
		require.NoError(t, err)
		assert.Equal(t, "one", string(m.Value))

		const interval = 500 * time.Millisecond
		for round := range 2 {
			require.Equal(t, interval, nextDue(t, fc, interval), "the heartbeat timer")
			n := beats.n.Load()
			fc.Advance(interval - time.Nanosecond)
			assert.Equal(t, n, beats.n.Load(), "round %d: a heartbeat before the interval ended", round)
			fc.Advance(time.Nanosecond)
			eventually(t, ctx, h, "the heartbeat", func() bool { return beats.n.Load() == n+1 })
		}
	})
}
