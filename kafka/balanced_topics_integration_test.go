package kafka

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
)

// topicMsgID names a message across topics.
type topicMsgID struct {
	topic string
	p     int32
	off   int64
}

// topicsEnv is a test of consumers over several topics: a client, a
// group, and the topics made for the test.
type topicsEnv struct {
	kind   balancedKind
	h      handler.Handler
	ctx    context.Context
	cl     *Client
	group  string
	base   string // the topics' names start with it
	topics []*Topic
	tc     *testcluster.Cluster

	mu     sync.Mutex
	values map[string]TopicPartition // where each record produced went, by its value
}

// forEachTopicsKind runs fn on each kind and handler, with a fresh topic of
// each of partitions' counts.
func forEachTopicsKind(t *testing.T, kinds []balancedKind, partitions []int32, fn func(t *testing.T, env *topicsEnv)) {
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			tc := testcluster.Shared(t, kind.cluster)
			forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
				ctx := testCtx(t)
				cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
				base := uniqueTopic(t, "subs")
				env := &topicsEnv{kind: kind, h: h, ctx: ctx, cl: cl, group: base + "-group", base: base, tc: tc,
					values: map[string]TopicPartition{}}
				for i, n := range partitions {
					env.addTopic(t, fmt.Sprintf("%s-%d", base, i), n)
				}
				fn(t, env)
			})
		})
	}
}

func (e *topicsEnv) addTopic(t *testing.T, name string, partitions int32) *Topic {
	topic := makeTopic(t, e.ctx, e.cl, TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: 1})
	e.topics = append(e.topics, topic)
	return topic
}

func (e *topicsEnv) names() []string {
	var out []string
	for _, t := range e.topics {
		out = append(out, t.Name())
	}
	return out
}

// config fills cfg for the env's protocol with the tests' short timeouts.
func (e *topicsEnv) config(cfg BalancedConsumerConfig) BalancedConsumerConfig {
	if e.kind.name == consumerKRaft.name {
		return kip848Config(cfg)
	}
	return (&groupEnv{kind: e.kind}).config(cfg)
}

// consumer starts a member of the env's group made by
// Client.BalancedConsumer, stopped when the test ends.
func (e *topicsEnv) consumer(t *testing.T, cfg BalancedConsumerConfig) *BalancedConsumer {
	t.Helper()
	c, err := e.cl.BalancedConsumer(e.group, e.config(cfg))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return c
}

// waitCover waits until the consumers own every partition of topics
// between them, each once, and every consumer some, and returns the
// owners.
func (e *topicsEnv) waitCover(t *testing.T, topics []*Topic, consumers ...*BalancedConsumer) map[TopicPartition]*BalancedConsumer {
	t.Helper()
	var owners map[TopicPartition]*BalancedConsumer
	eventually(t, e.ctx, e.h, "every partition of every topic owned once", func() bool {
		owners = map[TopicPartition]*BalancedConsumer{}
		for _, c := range consumers {
			a := c.Assignment()
			if len(a) == 0 {
				return false
			}
			for topic, ids := range a {
				for _, id := range ids {
					tp := TopicPartition{topic, id}
					if owners[tp] != nil {
						return false
					}
					owners[tp] = c
				}
			}
		}
		want := 0
		for _, topic := range topics {
			want += len(topic.Partitions())
			for _, p := range topic.Partitions() {
				if owners[TopicPartition{topic.Name(), p.ID()}] == nil {
					return false
				}
			}
		}
		return len(owners) == want
	})
	return owners
}

// produce writes count records to every partition of topics and returns
// their ids.
func (e *topicsEnv) produce(t *testing.T, topics []*Topic, tag string, count int) map[topicMsgID]bool {
	t.Helper()
	out := map[topicMsgID]bool{}
	for _, topic := range topics {
		for _, p := range topic.Partitions() {
			values := seqValues(fmt.Sprintf("%s-%s-%d", tag, topic.Name(), p.ID()), 0, count)
			// Known before they are written: a consumer may read them
			// before produceRaw returns.
			e.mu.Lock()
			for _, v := range values {
				e.values[v] = TopicPartition{topic.Name(), p.ID()}
			}
			e.mu.Unlock()
			base := produceRaw(t, e.ctx, p, recordsOf(t, values...))
			for i := range count {
				out[topicMsgID{topic.Name(), p.ID(), base + int64(i)}] = true
			}
		}
	}
	return out
}

// topicsCollector counts messages across topics, by consumer.
type topicsCollector struct {
	t  *testing.T
	mu sync.Mutex
	by map[*BalancedConsumer][]*Message
	n  map[topicMsgID]int
}

func newTopicsCollector(t *testing.T) *topicsCollector {
	return &topicsCollector{t: t, by: map[*BalancedConsumer][]*Message{}, n: map[topicMsgID]int{}}
}

func (col *topicsCollector) run(ctx context.Context, c *BalancedConsumer) {
	done := make(chan struct{})
	col.t.Cleanup(func() { <-done })
	go func() {
		defer close(done)
		for {
			m, err := c.Consume(ctx)
			if errors.Is(err, ErrConsumerTimeout) {
				continue
			}
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, ErrConsumerStopped) && !errors.Is(err, ErrClosed) {
					col.t.Errorf("Consume: %v", err)
				}
				return
			}
			col.mu.Lock()
			col.by[c] = append(col.by[c], m)
			col.n[topicMsgID{m.Topic, m.Partition, m.Offset}]++
			col.mu.Unlock()
		}
	}()
}

func (col *topicsCollector) messages(c *BalancedConsumer) []*Message {
	col.mu.Lock()
	defer col.mu.Unlock()
	return slices.Clone(col.by[c])
}

func (col *topicsCollector) count(id topicMsgID) int {
	col.mu.Lock()
	defer col.mu.Unlock()
	return col.n[id]
}

func (col *topicsCollector) waitAll(t *testing.T, env *topicsEnv, want map[topicMsgID]bool) {
	t.Helper()
	eventually(t, env.ctx, env.h, fmt.Sprintf("%d messages", len(want)), func() bool {
		col.mu.Lock()
		defer col.mu.Unlock()
		for id := range want {
			if col.n[id] == 0 {
				return false
			}
		}
		return true
	})
}

func (col *topicsCollector) assertOnce(t *testing.T, want map[topicMsgID]bool) {
	t.Helper()
	col.mu.Lock()
	defer col.mu.Unlock()
	bad := 0
	for id := range want {
		if n := col.n[id]; n != 1 {
			if bad++; bad <= 10 {
				t.Errorf("message %s/%d/%d consumed %d times", id.topic, id.p, id.off, n)
			}
		}
	}
	for id, n := range col.n {
		if !want[id] {
			t.Errorf("message %s/%d/%d (%d times) not produced by the test", id.topic, id.p, id.off, n)
		}
	}
}

var topicsKinds = []balancedKind{managedKRaft, managedZKMode, consumerKRaft}

// TestBalancedConsumerSeveralTopics has two members of Client.BalancedConsumer
// share three topics: their assignments are disjoint and cover every
// partition of every topic, every record is consumed once, by the member
// owning its partition, the callbacks name topics, and commits go to every
// topic.
func TestBalancedConsumerSeveralTopics(t *testing.T) {
	forEachTopicsKind(t, topicsKinds, []int32{3, 2, 4}, func(t *testing.T, env *topicsEnv) {
		var mu sync.Mutex
		assigned := map[*BalancedConsumer]map[string][]int32{}
		cfg := func(self **BalancedConsumer) BalancedConsumerConfig {
			return BalancedConsumerConfig{
				Topics: env.names(),
				AfterAssignTopics: func(_ context.Context, parts map[string][]int32) {
					mu.Lock()
					defer mu.Unlock()
					if assigned[*self] == nil {
						assigned[*self] = map[string][]int32{}
					}
					for topic, ids := range parts {
						assigned[*self][topic] = append(assigned[*self][topic], ids...)
					}
				},
				ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest},
			}
		}
		var a, b *BalancedConsumer
		a = env.consumer(t, cfg(&a))
		b = env.consumer(t, cfg(&b))
		owners := env.waitCover(t, env.topics, a, b)
		assert.Equal(t, env.names(), a.Topics())
		assert.Nil(t, a.Topic(), "a consumer of several topics has no one Topic")

		want := env.produce(t, env.topics, "r", 5)
		col := newTopicsCollector(t)
		col.run(env.ctx, a)
		col.run(env.ctx, b)
		col.waitAll(t, env, want)
		col.assertOnce(t, want)
		for _, c := range []*BalancedConsumer{a, b} {
			for _, m := range col.messages(c) {
				require.Same(t, c, owners[TopicPartition{m.Topic, m.Partition}],
					"%s/%d delivered by a member that does not own it", m.Topic, m.Partition)
			}
		}
		mu.Lock()
		for _, c := range []*BalancedConsumer{a, b} {
			// Everything a member owns reached AfterAssignTopics by topic
			// (eager members hear of it all again at every rebalance).
			for topic, ids := range c.Assignment() {
				for _, id := range ids {
					assert.Contains(t, assigned[c][topic], id, "%s/%d", topic, id)
				}
			}
		}
		mu.Unlock()

		for _, c := range []*BalancedConsumer{a, b} {
			require.NoError(t, c.CommitOffsets(env.ctx))
		}
		got, err := env.cl.Cluster().FetchGroupOffsets(env.ctx, env.group, nil)
		require.NoError(t, err)
		for _, topic := range env.topics {
			for _, p := range topic.Partitions() {
				assert.Equal(t, int64(5), got[topic.Name()][p.ID()].Offset, "%s/%d", topic.Name(), p.ID())
			}
		}
		next := a.NextTopicOffsets()
		for topic, ids := range a.Assignment() {
			for _, id := range ids {
				assert.Equal(t, int64(5), next[topic][id], "%s/%d", topic, id)
			}
		}
		eventually(t, env.ctx, env.h, "no lag on any topic", func() bool {
			lag := a.TopicLag()
			for topic, ids := range a.Assignment() {
				for _, id := range ids {
					if l, ok := lag[topic][id]; !ok || l != 0 {
						return false
					}
				}
			}
			return true
		})

		// Partitions named by topic: a moves one of its own back (and
		// commits it there), and refuses one it does not own.
		var mine, theirs TopicPartition
		for tp, c := range owners {
			if c == a {
				mine = tp
			} else {
				theirs = tp
			}
		}
		require.NoError(t, a.ResetTopicOffsets(env.ctx, map[string]map[int32]OffsetTarget{mine.Topic: {mine.Partition: OffsetAt(2)}}))
		var pe *PartitionError
		require.ErrorAs(t, a.PauseTopics(map[string][]int32{theirs.Topic: {theirs.Partition}}), &pe)
		assert.ErrorIs(t, pe, ErrPartitionNotConsumed)
		assert.Equal(t, theirs.Topic, pe.Topic)
		assert.ErrorIs(t, a.Pause(0), ErrSeveralTopics)
		again := map[topicMsgID]bool{}
		for off := int64(2); off < 5; off++ {
			again[topicMsgID{mine.Topic, mine.Partition, off}] = true
		}
		eventually(t, env.ctx, env.h, "the moved partition consumed again", func() bool {
			for id := range again {
				if col.count(id) != 2 {
					return false
				}
			}
			return true
		})
		got, err = env.cl.Cluster().FetchGroupOffsets(env.ctx, env.group, nil)
		require.NoError(t, err)
		assert.Equal(t, int64(2), got[mine.Topic][mine.Partition].Offset, "the reset was committed")
	})
}

// TestBalancedConsumerTopicPattern subscribes two members to a pattern,
// then creates a topic it matches: both rejoin (the classic protocol's
// client-side match on its refresh interval; the broker's with KIP-848,
// which Kafka 4.3's coordinator re-resolves no more often than every 10 s,
// hence that case's length) and its records are consumed once, besides
// those of the topics matched at the start; a topic the pattern does not
// match is left alone.
func TestBalancedConsumerTopicPattern(t *testing.T) {
	forEachTopicsKind(t, topicsKinds, []int32{2, 3}, func(t *testing.T, env *topicsEnv) {
		base := env.base
		other := env.addTopic(t, base+"-other", 2)
		matched := env.topics[:2]
		// Each member matches the pattern on its own refresh, so one may
		// take the new topic a rebalance before the other, consume from
		// it, and then hand partitions over in the next rebalance:
		// committing on rebalance keeps their records from being read
		// twice.
		cfg := BalancedConsumerConfig{
			TopicPattern:            regexpQuote(base) + `-[0-9]+`,
			MetadataRefreshInterval: 300 * time.Millisecond,
			CommitOnRebalance:       true,
			ConsumerConfig:          ConsumerConfig{AutoOffsetReset: OffsetEarliest},
		}
		if env.kind.name == consumerKRaft.name {
			cfg.MetadataRefreshInterval = 0
		}
		a := env.consumer(t, cfg)
		b := env.consumer(t, cfg)
		env.waitCover(t, matched, a, b)
		col := newTopicsCollector(t)
		col.run(env.ctx, a)
		col.run(env.ctx, b)
		want := env.produce(t, matched, "before", 3)
		col.waitAll(t, env, want)

		later := env.addTopic(t, base+"-7", 3)
		matched = append(slices.Clone(matched), later)
		if env.kind.name != consumerKRaft.name {
			names := []string{matched[0].Name(), matched[1].Name(), later.Name()}
			eventually(t, env.ctx, env.h, "both members to match the new topic", func() bool {
				return slices.Equal(names, a.Topics()) && slices.Equal(names, b.Topics())
			})
		}
		env.waitCover(t, matched, a, b)
		for k, v := range env.produce(t, matched, "after", 3) {
			want[k] = v
		}
		env.produce(t, []*Topic{other}, "other", 2)
		col.waitAll(t, env, want)
		col.assertOnce(t, want)
		for _, c := range []*BalancedConsumer{a, b} {
			assert.NotContains(t, c.Assignment(), other.Name())
		}
	})
}

// regexpQuote escapes the topic names' metacharacters (dots and dashes are
// all they hold) in the syntax RE2 and RE2/J share.
func regexpQuote(s string) string {
	out := make([]byte, 0, len(s))
	for i := range len(s) {
		if s[i] == '.' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// startPatternJavaConsumer runs Kafka's ConsoleConsumer in env's group on
// the topics the regular expression include matches, with the extra
// consumer properties props, until the test ends. Records are told apart
// by value (the console consumer does not print topics), which
// env.produce makes unique.
func startPatternJavaConsumer(t *testing.T, env *topicsEnv, include string, props ...string) *topicsCollector {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java not installed")
	}
	argv := []string{"-cp", env.tc.Classpath(), "org.apache.kafka.tools.consumer.ConsoleConsumer",
		"--bootstrap-server", env.tc.Bootstrap()[0], "--include", include, "--group", env.group, "--from-beginning",
		"--formatter-property", "print.partition=true",
		"--formatter-property", "print.offset=true"}
	for _, p := range props {
		argv = append(argv, "--consumer-property", p)
	}
	cmd := exec.CommandContext(env.ctx, java, argv...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	col := newTopicsCollector(t)
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
			env.mu.Lock()
			tp, ok := env.values[m[3]]
			env.mu.Unlock()
			if !ok || tp.Partition != int32(p) {
				t.Errorf("the Java consumer read %q from partition %d, which the test did not produce there", m[3], p)
				continue
			}
			id := topicMsgID{tp.Topic, tp.Partition, off}
			col.mu.Lock()
			col.n[id]++
			col.mu.Unlock()
		}
	}()
	return col
}

// TestBalancedConsumerSeveralTopicsWithJava shares three topics between a
// gregor member (Topics) and a Java consumer (a pattern over the same
// topics) in one group, classic (range on both sides) and KIP-848: the
// Java consumer alone first, then both; every record is consumed exactly
// once across the two, and gregor ends up with a share of each kind.
func TestBalancedConsumerSeveralTopicsWithJava(t *testing.T) {
	forEachTopicsKind(t, []balancedKind{managedKRaft, consumerKRaft}, []int32{2, 3, 2}, func(t *testing.T, env *topicsEnv) {
		props := []string{"group.protocol=consumer", "client.id=java-member"}
		if env.kind.name != consumerKRaft.name {
			props = []string{"group.protocol=classic", "client.id=java-member",
				"partition.assignment.strategy=org.apache.kafka.clients.consumer.RangeAssignor",
				"heartbeat.interval.ms=300", "session.timeout.ms=6000", "metadata.max.age.ms=1000"}
		}
		jc := startPatternJavaConsumer(t, env, regexpQuote(env.base)+`-[0-9]+`, props...)
		want := env.produce(t, env.topics, "java-alone", 3)
		jc.waitAll(t, env, want)

		g := env.consumer(t, BalancedConsumerConfig{
			Topics:         env.names(),
			ConsumerConfig: ConsumerConfig{AutoCommit: true, AutoOffsetReset: OffsetEarliest},
		})
		col := newTopicsCollector(t)
		col.run(env.ctx, g)
		eventually(t, env.ctx, env.h, "a settled group of two", func() bool {
			desc, err := env.cl.Cluster().DescribeGroup(env.ctx, env.group)
			if err != nil || len(desc.Members) != 2 {
				return false
			}
			seen := map[TopicPartition]bool{}
			for _, m := range desc.Members {
				for _, tp := range m.Assignment {
					for _, p := range tp.Partitions {
						seen[TopicPartition{tp.Topic, p}] = true
					}
				}
			}
			return len(seen) == 7 && topicParts(g.Assignment()).len() > 0 && topicParts(g.Assignment()).len() < 7
		})
		both := env.produce(t, env.topics, "both", 3)
		for id := range both {
			want[id] = true
		}
		eventually(t, env.ctx, env.h, "every record", func() bool {
			for id := range want {
				if col.count(id)+jc.count(id) == 0 {
					return false
				}
			}
			return true
		})
		for id := range want {
			assert.Equal(t, 1, col.count(id)+jc.count(id), "%s/%d/%d", id.topic, id.p, id.off)
		}
		got := 0
		for id := range both {
			got += col.count(id)
		}
		assert.NotZero(t, got, "gregor consumed its share")
	})
}

// TestTopicPatternConsumerProtocolUnsupported: a KIP-848 pattern member
// whose coordinator lists ConsumerGroupHeartbeat v0 only (Kafka 3.9 does,
// with the protocol not enabled; 3.7 and 3.8 speak it without patterns)
// fails Start with ErrTopicPatternUnsupported before sending a heartbeat
// the broker would answer without resolving the pattern; it does not fall
// back to matching on the client.
func TestTopicPatternConsumerProtocolUnsupported(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		c, err := cl.BalancedConsumer(uniqueTopic(t, "pattern-group"), kip848Config(BalancedConsumerConfig{TopicPattern: "orders-.*"}))
		require.NoError(t, err)
		defer func() { _ = c.Stop(ctx) }()
		err = c.Start(ctx)
		assert.ErrorIs(t, err, ErrTopicPatternUnsupported)
		var gerr *GroupError
		assert.ErrorAs(t, err, &gerr)
	})
}

// TestBalancedConsumerSeveralTopicsCooperative has two members share
// three topics cooperatively (cooperative-sticky, and KIP-848), then a
// third join: the two give up only what moves to it (BeforeRevokeTopics
// sees nothing else), the consumer of a topic whose partitions stay is not
// restarted, and with AutoCommit every record is consumed once across the
// hand-over.
func TestBalancedConsumerSeveralTopicsCooperative(t *testing.T) {
	forEachTopicsKind(t, []balancedKind{managedKRaft, consumerKRaft}, []int32{2, 2, 2}, func(t *testing.T, env *topicsEnv) {
		var mu sync.Mutex
		revoked := map[*BalancedConsumer]topicParts{}
		cfg := func(self **BalancedConsumer) BalancedConsumerConfig {
			c := BalancedConsumerConfig{
				Topics: env.names(),
				BeforeRevokeTopics: func(_ context.Context, parts map[string][]int32) {
					mu.Lock()
					defer mu.Unlock()
					if revoked[*self] == nil {
						revoked[*self] = topicParts{}
					}
					for topic, ids := range parts {
						revoked[*self][topic] = append(revoked[*self][topic], ids...)
					}
				},
				ConsumerConfig: ConsumerConfig{AutoCommit: true, AutoOffsetReset: OffsetEarliest},
			}
			if env.kind.name != consumerKRaft.name {
				c.Assignor = CooperativeStickyAssignor()
			}
			return c
		}
		var a, b, c *BalancedConsumer
		a = env.consumer(t, cfg(&a))
		b = env.consumer(t, cfg(&b))
		env.waitCover(t, env.topics, a, b)
		col := newTopicsCollector(t)
		col.run(env.ctx, a)
		col.run(env.ctx, b)
		want := env.produce(t, env.topics, "two", 3)
		col.waitAll(t, env, want)

		before := map[*BalancedConsumer]topicParts{a: topicParts(a.Assignment()), b: topicParts(b.Assignment())}
		inners := map[*BalancedConsumer]map[string]*SimpleConsumer{}
		for _, x := range []*BalancedConsumer{a, b} {
			x.mu.Lock()
			inners[x] = maps.Clone(x.inners)
			x.mu.Unlock()
		}
		mu.Lock()
		clear(revoked)
		mu.Unlock()

		c = env.consumer(t, cfg(&c))
		col.run(env.ctx, c)
		env.waitCover(t, env.topics, a, b, c)
		for k := range env.produce(t, env.topics, "three", 3) {
			want[k] = true
		}
		col.waitAll(t, env, want)
		col.assertOnce(t, want)

		kept := 0
		mu.Lock()
		defer mu.Unlock()
		for _, x := range []*BalancedConsumer{a, b} {
			now := topicParts(x.Assignment())
			moved := before[x].minus(now)
			assert.Equal(t, moved, revoked[x].normalized(), "only the partitions that moved were revoked")
			x.mu.Lock()
			for topic, ids := range now {
				if slices.Equal(ids, before[x][topic]) {
					kept++
					assert.Same(t, inners[x][topic], x.inners[topic], "%s kept its partitions: its consumer goes on", topic)
				}
			}
			x.mu.Unlock()
		}
		assert.NotZero(t, kept, "some topic stayed whole with its member")
	})
}

// TestBalancedConsumerTopicsAppearLater subscribes two members to a topic
// that exists and one that does not yet; then the second is created and
// the first gains partitions. The group assigns both changes (the classic
// leader sees them on its metadata refresh, a KIP-848 coordinator by
// itself) and every record is consumed once.
func TestBalancedConsumerTopicsAppearLater(t *testing.T) {
	forEachTopicsKind(t, topicsKinds, []int32{2}, func(t *testing.T, env *topicsEnv) {
		later := env.base + "-later"
		cfg := BalancedConsumerConfig{
			Topics:                  []string{env.topics[0].Name(), later},
			MetadataRefreshInterval: 300 * time.Millisecond,
			ConsumerConfig:          ConsumerConfig{AutoCommit: true, AutoOffsetReset: OffsetEarliest},
		}
		if env.kind.name == consumerKRaft.name {
			cfg.MetadataRefreshInterval = 0
		}
		a := env.consumer(t, cfg)
		b := env.consumer(t, cfg)
		env.waitCover(t, env.topics, a, b)
		col := newTopicsCollector(t)
		col.run(env.ctx, a)
		col.run(env.ctx, b)

		env.addTopic(t, later, 2)
		res, err := env.cl.Cluster().CreatePartitions(env.ctx, map[string]int32{env.topics[0].Name(): 4})
		require.NoError(t, err)
		require.NoError(t, res[env.topics[0].Name()])
		eventually(t, env.ctx, env.h, "the new partitions in metadata", func() bool {
			return env.cl.Update(env.ctx) == nil && len(env.topics[0].Partitions()) == 4
		})
		env.waitCover(t, env.topics, a, b)
		want := env.produce(t, env.topics, "r", 3)
		col.waitAll(t, env, want)
		col.assertOnce(t, want)
	})
}
