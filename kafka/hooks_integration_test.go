package kafka

import (
	"errors"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/conn"
	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// TestIntegrationHooksAndLag runs a producer, a balanced consumer and a
// simple consumer on a client with a recording hook, and checks what the
// hook saw against what happened; then the lag the consumers and the
// cluster report.
func TestIntegrationHooksAndLag(t *testing.T) {
	for _, kind := range []balancedKind{managedKRaft, zkGroup} {
		t.Run(kind.name, func(t *testing.T) {
			tc := testcluster.Shared(t, kind.cluster)
			forEachHandler(t, func(t *testing.T, h handler.Handler) {
				testHooksAndLag(t, kind, tc, h)
			})
		})
	}
}

func testHooksAndLag(t *testing.T, kind balancedKind, tc *testcluster.Cluster, h handler.Handler) {
	ctx := testCtx(t)
	rec := &hookRecorder{}
	cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap(), Hooks: []Hook{rec}})
	topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "hooks"), Partitions: 2, ReplicationFactor: 1})
	env := &groupEnv{kind: kind, tc: tc, h: h, ctx: ctx, cl: cl, topic: topic, group: topic.Name() + "-group"}

	sp, err := topic.SyncProducer(ProducerConfig{Compression: CompressionLZ4})
	require.NoError(t, err)
	defer sp.Close()
	produce := func(n int) (payload int) {
		for i := range n {
			m := Message{Key: []byte(fmt.Sprint("k", i)), Value: []byte(fmt.Sprintf("value %d of a hooked producer", i))}
			payload += len(m.Key) + len(m.Value)
			_, _, err := sp.Produce(ctx, m)
			require.NoError(t, err)
		}
		return payload
	}
	payload := produce(10)

	bc := env.consumer(t, BalancedConsumerConfig{ConsumerConfig: ConsumerConfig{AutoOffsetReset: OffsetEarliest}})
	consumeMessages(t, ctx, bc, 10)
	require.NoError(t, bc.CommitOffsets(ctx))
	produce(5)
	// The consumer prefetches the five without delivering them: its lag.
	eventually(t, ctx, h, "the balanced consumer's lag to reach 5", func() bool {
		return sumLag(bc.Lag()) == 5
	})
	lag, err := cl.Cluster().GroupLag(ctx, env.group, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(5), lag.Total())
	require.Len(t, lag[topic.Name()], 2)
	for _, id := range lag.Partitions(topic.Name()) {
		l := lag[topic.Name()][id]
		assert.Equal(t, l.End-l.Committed, l.Lag, "partition %d", id)
	}
	// A partition named without a commit is reported with Committed -1.
	other, err := cl.Cluster().GroupLag(ctx, env.group+"-none", map[string][]int32{topic.Name(): nil})
	require.NoError(t, err)
	require.Len(t, other[topic.Name()], 2)
	for _, l := range other[topic.Name()] {
		assert.Equal(t, PartitionLag{Committed: -1, End: l.End, Lag: -1}, l)
	}

	sc := newConsumer(t, topic, ConsumerConfig{AutoOffsetReset: OffsetEarliest})
	consumeMessages(t, ctx, sc, 12)
	eventually(t, ctx, h, "the simple consumer's lag to reach 3", func() bool {
		return sumLag(sc.Lag()) == 3
	})
	stopConsumer(t, ctx, bc)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	// Connections: every attempt succeeded, seeds and brokers alike.
	require.NotEmpty(t, rec.connects)
	conns := map[string]bool{}
	for _, e := range rec.connects {
		assert.NoError(t, e.Err)
		assert.NotEmpty(t, e.Addr)
		conns[e.Conn] = true
	}
	for _, p := range []string{"general", "produce", "fetch"} {
		assert.True(t, conns[p], "no %s connection reported", p)
	}
	// Requests: each API written was read back, with sizes and times.
	written, read := map[string]int{}, map[string]int{}
	for _, e := range rec.writes {
		assert.NoError(t, e.Err)
		assert.Positive(t, e.Bytes)
		written[e.API()]++
	}
	for _, e := range rec.reads {
		if e.Err == nil {
			assert.Positive(t, e.Bytes, e.API())
			assert.Positive(t, e.Wire, e.API())
			read[e.API()]++
		}
	}
	for _, api := range []string{"ApiVersions", "Metadata", "Produce", "Fetch", "ListOffsets", "OffsetFetch", "OffsetCommit"} {
		assert.Positive(t, written[api], "no %s written", api)
		assert.Positive(t, read[api], "no %s read", api)
	}
	// Produce batches: 15 records, each once but for retries, LZ4, the
	// first ten's payload.
	records, first, retried := 0, 0, 0
	for _, e := range rec.produced {
		assert.Equal(t, topic.Name(), e.Topic)
		assert.Equal(t, CompressionLZ4, e.Compression)
		assert.Positive(t, e.WireBytes)
		records += e.Records - e.Retried
		retried += e.Retried
		if records <= 10 && e.Retried == 0 {
			first += e.UncompressedBytes
		}
	}
	assert.Equal(t, 15, records)
	if retried == 0 {
		assert.Equal(t, payload, first)
	}
	// Fetch batches: both consumers fetched every record; the last batch
	// of a partition leaves nothing behind its high watermark.
	fetched := 0
	last := map[int32]FetchBatchEvent{}
	for _, e := range rec.fetched {
		assert.Equal(t, topic.Name(), e.Topic)
		assert.Positive(t, e.WireBytes)
		assert.GreaterOrEqual(t, e.HighWatermark, int64(e.Records))
		fetched += e.Records
		last[e.Partition] = e
	}
	assert.Equal(t, 30, fetched)
	for id, e := range last {
		assert.Zero(t, e.Lag, "partition %d", id)
	}
	// Group: assigned both partitions (after joining, for a managed group),
	// revoked them when stopping.
	kinds := map[GroupEventKind][]int32{}
	for _, e := range rec.groups {
		assert.Equal(t, env.group, e.Group)
		assert.Equal(t, topic.Name(), e.Topic)
		if e.Kind == GroupRevoked {
			assert.NotEmpty(t, e.Partitions, "a revocation names what it takes")
		}
		kinds[e.Kind] = e.Partitions
	}
	assert.Equal(t, []int32{0, 1}, kinds[GroupAssigned])
	if kind.managed {
		assert.Contains(t, kinds, GroupJoined)
		assert.Empty(t, rec.zk)
	} else {
		require.NotEmpty(t, rec.zk)
		assert.Equal(t, ZooKeeperConnected, rec.zk[0].State)
		assert.Equal(t, env.group, rec.zk[0].Group)
	}
}

func sumLag(m map[int32]int64) int64 {
	var n int64
	for _, l := range m {
		n += l
	}
	return n
}

// TestIntegrationHookSeesDisconnect closes a client and expects every
// connection that was up to be reported gone.
func TestIntegrationHookSeesDisconnect(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		rec := &hookRecorder{}
		cl, err := NewClient(ctx, Config{Hosts: tc.Bootstrap(), Hooks: []Hook{rec}, Handler: h, Logger: testLogger()})
		require.NoError(t, err)
		_, err = cl.Cluster().Brokers()[0].Metadata(ctx, protocol.NewMetadataRequest())
		require.NoError(t, err)
		// The bootstrap connection, adopted as the broker's general one,
		// reported as the seed first and as the broker now.
		rec.mu.Lock()
		first, last := rec.reads[0], rec.reads[len(rec.reads)-1]
		rec.mu.Unlock()
		assert.Equal(t, int32(-1), first.NodeID)
		assert.Equal(t, cl.Cluster().Brokers()[0].ID(), last.NodeID)
		assert.Equal(t, "Metadata", last.API())
		require.NoError(t, cl.Close())
		eventually(t, ctx, h, "disconnects reported", func() bool {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			return len(rec.disconnects) >= 1
		})
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, e := range rec.disconnects {
			assert.ErrorIs(t, e.Err, conn.ErrClosed)
		}
	})
}

// TestIntegrationHooksSeeZooKeeperExpiry expires a ZooKeeper-coordinated
// member's session and expects the hook to hear of the expiry, the lost
// membership, the revocation of what it held, and the new session.
func TestIntegrationHooksSeeZooKeeperExpiry(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.ZooKeeperSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		rec := &hookRecorder{}
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap(), Hooks: []Hook{rec}})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "zkhooks"), Partitions: 2, ReplicationFactor: 1})
		env := &groupEnv{kind: zkGroup, tc: tc, h: h, ctx: ctx, cl: cl, topic: topic, group: topic.Name() + "-group"}
		a := env.consumer(t, BalancedConsumerConfig{})
		env.waitSplit(t, a)
		za := a.member.(*zkMembership).m
		before := za.Session().SessionID()
		for za.Session().SessionID() == before {
			expireSession(t, tc.ZooKeeperConnect(), za.Session())
			eventually(t, ctx, h, "a new session", func() bool { return za.Session().SessionID() != before })
		}
		env.waitSplit(t, a)
		eventually(t, ctx, h, "the expiry, the loss, the revocation and the new session reported", func() bool {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			var expired, reconnected, lost, revoked bool
			for _, e := range rec.zk {
				expired = expired || e.State == ZooKeeperExpired
				reconnected = reconnected || (expired && e.State == ZooKeeperConnected)
			}
			for _, e := range rec.groups {
				lost = lost || (e.Kind == GroupLost && errors.Is(e.Err, ErrZooKeeperSessionExpired))
				revoked = revoked || (lost && e.Kind == GroupRevoked && len(e.Partitions) == 2)
			}
			return expired && reconnected && lost && revoked
		})
	})
}

// TestIntegrationHooksSeeThrottling sets a produce quota for one client id
// on the broker and expects the hook to see the throttle times the broker
// returns once the client exceeds it.
func TestIntegrationHooksSeeThrottling(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	clientID := fmt.Sprintf("throttled-%d", time.Now().UnixNano())
	out, err := exec.Command("java", "-cp", tc.Classpath(), "kafka.admin.ConfigCommand",
		"--bootstrap-server", tc.Bootstrap()[0], "--alter", "--entity-type", "clients", "--entity-name", clientID,
		"--add-config", "producer_byte_rate=1024").CombinedOutput()
	require.NoError(t, err, "%s", out)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		rec := &hookRecorder{}
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap(), ClientID: clientID, Hooks: []Hook{rec}})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "throttled"), Partitions: 1, ReplicationFactor: 1})
		sp, err := topic.SyncProducer(ProducerConfig{})
		require.NoError(t, err)
		defer sp.Close()
		value := make([]byte, 4096)
		for i := 0; ; i++ {
			require.Less(t, i, 200, "the broker never throttled")
			_, _, err := sp.Produce(ctx, Message{Value: value})
			require.NoError(t, err)
			rec.mu.Lock()
			n := len(rec.throttles)
			rec.mu.Unlock()
			if n > 0 {
				break
			}
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		e := rec.throttles[0]
		assert.Equal(t, "Produce", e.API())
		assert.Positive(t, e.Throttle)
		assert.Positive(t, e.NodeID)
		assert.Equal(t, "produce", e.Conn)
	})
}
