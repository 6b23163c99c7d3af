package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/internal/zookeeper"
	"github.com/gregorkafka/gregor/protocol"
)

// balancedKind is one way to run a balanced consumer group in the tests:
// coordinated by the broker (on Kafka 4.3 KRaft or 3.9) or by ZooKeeper.
type balancedKind struct {
	name    string
	cluster testcluster.Config
	managed bool
}

var (
	managedKRaft  = balancedKind{"managed-kraft", testcluster.KRaftSingle, true}
	managedZKMode = balancedKind{"managed-kafka3.9", testcluster.ZooKeeperSingle, true}
	zkGroup       = balancedKind{"zookeeper", testcluster.ZooKeeperSingle, false}
)

// groupEnv is what a balanced-consumer test works with: a cluster, a
// handler, a client and a topic.
type groupEnv struct {
	kind  balancedKind
	tc    *testcluster.Cluster
	h     handler.Handler
	ctx   context.Context
	cl    *Client
	topic *Topic
	group string
}

// forEachKind runs fn on each kind and handler, with a fresh topic of
// partitions partitions.
func forEachKind(t *testing.T, kinds []balancedKind, partitions int32, fn func(t *testing.T, env *groupEnv)) {
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			tc := testcluster.Shared(t, kind.cluster)
			forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
				env := newGroupEnv(t, kind, tc, h, partitions, 1)
				fn(t, env)
			})
		})
	}
}

func newGroupEnv(t *testing.T, kind balancedKind, tc *testcluster.Cluster, h handler.Handler, partitions int32, rf int16) *groupEnv {
	ctx := testCtx(t)
	cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
	topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "balanced"), Partitions: partitions, ReplicationFactor: rf})
	return &groupEnv{kind: kind, tc: tc, h: h, ctx: ctx, cl: cl, topic: topic, group: topic.Name() + "-group"}
}

// config returns a test configuration for the env's kind: short timeouts
// and backoffs, so rebalances take a fraction of a second.
func (e *groupEnv) config(cfg BalancedConsumerConfig) BalancedConsumerConfig {
	cfg.Managed = e.kind.managed
	if cfg.RebalanceBackoff == 0 {
		cfg.RebalanceBackoff = 200 * time.Millisecond
	}
	if cfg.OffsetsChannelBackoff == 0 {
		cfg.OffsetsChannelBackoff = 200 * time.Millisecond
	}
	if e.kind.managed {
		if cfg.SessionTimeout == 0 {
			cfg.SessionTimeout = 3 * time.Second
		}
		if cfg.HeartbeatInterval == 0 {
			cfg.HeartbeatInterval = 200 * time.Millisecond
		}
		if cfg.RebalanceTimeout == 0 {
			cfg.RebalanceTimeout = 20 * time.Second
		}
	} else {
		if cfg.ZooKeeperConnect == "" {
			cfg.ZooKeeperConnect = e.tc.ZooKeeperConnect()
		}
		if cfg.ZooKeeperTimeout == 0 {
			cfg.ZooKeeperTimeout = 4 * time.Second
		}
	}
	return cfg
}

// consumer starts a member of the env's group on the env's client,
// stopped when the test ends.
func (e *groupEnv) consumer(t *testing.T, cfg BalancedConsumerConfig) *BalancedConsumer {
	return e.consumerOn(t, e.topic, cfg)
}

// consumerOn starts a member over topic, which may belong to another
// client (one the test kills).
func (e *groupEnv) consumerOn(t *testing.T, topic *Topic, cfg BalancedConsumerConfig) *BalancedConsumer {
	t.Helper()
	c, err := topic.BalancedConsumer(e.group, e.config(cfg))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return c
}

// waitSplit waits until the consumers own every partition of the topic
// between them, each partition once, in shares that differ by at most one
// (so no member is still missing its share), and returns who owns what.
func (e *groupEnv) waitSplit(t *testing.T, consumers ...*BalancedConsumer) map[int32]*BalancedConsumer {
	t.Helper()
	n := len(e.topic.Partitions())
	var owners map[int32]*BalancedConsumer
	eventually(t, e.ctx, e.h, "a complete split", func() bool {
		owners = map[int32]*BalancedConsumer{}
		sizes := make([]int, len(consumers))
		for i, c := range consumers {
			ps := c.Partitions()
			sizes[i] = len(ps)
			for _, p := range ps {
				if owners[p] != nil {
					return false
				}
				owners[p] = c
			}
		}
		return len(owners) == n && slices.Max(sizes)-slices.Min(sizes) <= 1
	})
	return owners
}

// msgID identifies a message by partition and offset.
type msgID struct {
	p   int32
	off int64
}

// produceRound writes count records to every partition, through the raw
// protocol, and returns their ids.
func (e *groupEnv) produceRound(t *testing.T, tag string, count int) map[msgID]string {
	t.Helper()
	out := map[msgID]string{}
	for _, p := range e.topic.Partitions() {
		values := make([]string, count)
		for i := range values {
			values[i] = fmt.Sprintf("%s-%d-%d", tag, p.ID(), i)
		}
		base := e.produceTo(t, p, recordsOf(t, values...))
		for i, v := range values {
			out[msgID{p.ID(), base + int64(i)}] = v
		}
	}
	return out
}

func (e *groupEnv) produceTo(t *testing.T, p *Partition, records []byte) int64 {
	t.Helper()
	req := protocol.NewProduceRequest()
	req.Acks, req.TimeoutMs = -1, 10000
	req.TopicData = []protocol.ProduceRequestTopic{{Name: p.Topic().Name(),
		PartitionData: []protocol.ProduceRequestPartition{{Index: p.ID(), Records: records}}}}
	for {
		var err error
		if leader := p.Leader(); leader == nil {
			err = ErrNoLeader
		} else if resp, perr := leader.Produce(e.ctx, req); perr != nil {
			err = perr
		} else {
			err = protocol.ErrorForCode(resp.Responses[0].PartitionResponses[0].ErrorCode)
			if err == nil {
				return resp.Responses[0].PartitionResponses[0].BaseOffset
			}
		}
		// A leader that died is replaced once the controller notices,
		// which takes seconds; the test's context bounds the wait.
		require.NoError(t, e.h.Sleep(e.ctx, 200*time.Millisecond), "producing to %v: %v", p, err)
		_ = e.cl.Update(e.ctx)
	}
}

// collector consumes with several consumers at once and records who got
// what.
type collector struct {
	t  *testing.T
	mu sync.Mutex
	by map[Consumer][]*Message
	n  map[msgID]int
	wg sync.WaitGroup
}

func newCollector(t *testing.T) *collector {
	return &collector{t: t, by: map[Consumer][]*Message{}, n: map[msgID]int{}}
}

// run consumes with c until it is stopped or ctx ends.
func (col *collector) run(ctx context.Context, c Consumer) {
	col.wg.Add(1)
	go func() {
		defer col.wg.Done()
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
			col.n[msgID{m.Partition, m.Offset}]++
			col.mu.Unlock()
		}
	}()
}

// waitAll waits until every message of want has been consumed.
func (col *collector) waitAll(t *testing.T, env *groupEnv, want map[msgID]string) {
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

func (col *collector) count(id msgID) int {
	col.mu.Lock()
	defer col.mu.Unlock()
	return col.n[id]
}

func (col *collector) messages(c Consumer) []*Message {
	col.mu.Lock()
	defer col.mu.Unlock()
	return slices.Clone(col.by[c])
}

func stopConsumer(t *testing.T, ctx context.Context, c *BalancedConsumer) {
	t.Helper()
	require.NoError(t, c.Stop(ctx))
}

// committed returns the group's committed offsets of every partition (-1
// for none).
func (e *groupEnv) committed(t *testing.T) map[int32]int64 {
	t.Helper()
	out := map[int32]int64{}
	for p, co := range e.committedOffsets(t) {
		out[p] = co.Offset
	}
	return out
}

// committedOffsets returns what the group stored for every partition.
func (e *groupEnv) committedOffsets(t *testing.T) map[int32]CommittedOffset {
	t.Helper()
	sc, err := e.topic.SimpleConsumer(ConsumerConfig{ConsumerGroup: e.group, ManualStart: true})
	require.NoError(t, err)
	defer func() { _ = sc.Stop(e.ctx) }()
	got, err := sc.FetchOffsets(e.ctx)
	require.NoError(t, err)
	return got
}

// newVictimClient returns a second client to the env's cluster, for a
// member the test kills by closing the client under it.
func (e *groupEnv) newVictimClient(t *testing.T) (*Client, *Topic) {
	t.Helper()
	cl := newTestClient(t, e.ctx, e.h, Config{Hosts: e.tc.Bootstrap()})
	topic, err := cl.Topic(e.ctx, e.topic.Name())
	require.NoError(t, err)
	return cl, topic
}

// dialZooKeeper opens a ZooKeeper session for the test, closed when it ends.
func dialZooKeeper(t *testing.T, connect string) *zk.Conn {
	t.Helper()
	zc, err := zookeeper.ParseConnect(connect)
	require.NoError(t, err)
	conn, _, err := zk.Connect(zc.Servers, 4*time.Second, zk.WithLogger(zookeeper.Logger{L: testLogger()}),
		zk.WithLogInfo(false), zk.WithEventCallback(func(zk.Event) {}))
	require.NoError(t, err)
	t.Cleanup(conn.Close)
	return conn
}

// recordsOf encodes values as one record batch.
func recordsOf(t *testing.T, values ...string) []byte {
	t.Helper()
	var bb protocol.RecordBatchBuilder
	bb.Reset(&protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1})
	for _, v := range values {
		bb.Add(time.Now().UnixMilli(), nil, []byte(v), nil)
	}
	records, err := bb.Build(nil, protocol.CompressionNone)
	require.NoError(t, err)
	return records
}

// resumeOne installs inner, the consumer of parts of the balanced
// consumer's one topic, as a rebalance would.
func resumeOne(b *BalancedConsumer, inner *SimpleConsumer, parts []int32) {
	if inner == nil {
		b.resume(nil, topicParts{})
		return
	}
	inner.avail = b.avail
	b.resume(map[string]*SimpleConsumer{b.single: inner}, topicParts{b.single: parts})
}
