package kafka

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

var allCodecs = []protocol.Compression{protocol.CompressionNone, protocol.CompressionGzip,
	protocol.CompressionSnappy, protocol.CompressionLZ4, protocol.CompressionZstd}

// TestSimpleConsumerConsumesEverything produces batches with every codec to
// three partitions (and, on Kafka 3.9, legacy message sets of both old
// formats) and reads them all back: each record once, in offset order per
// partition, with key, value, headers and timestamp intact.
func TestSimpleConsumerConsumesEverything(t *testing.T) {
	for _, kind := range []testcluster.Config{testcluster.KRaftSingle, testcluster.ZooKeeperSingle} {
		t.Run(kind.Name(), func(t *testing.T) {
			tc := testcluster.Shared(t, kind)
			forEachHandler(t, func(t *testing.T, h handler.Handler) {
				ctx := testCtx(t)
				cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
				topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "consume-all"), Partitions: 3, ReplicationFactor: 1})

				want := map[int32]map[int64]sent{}
				ts := time.Now().Add(-time.Hour).UnixMilli()
				for _, p := range topic.Partitions() {
					want[p.ID()] = map[int64]sent{}
					add := func(m map[int64]sent) {
						for off, s := range m {
							want[p.ID()][off] = s
						}
					}
					for i, codec := range allCodecs {
						add(produceBatch(t, ctx, p, codec, ts+int64(i), seqValues(fmt.Sprintf("p%d-%s", p.ID(), codec), 0, 20)...))
					}
					if kind.Mode == testcluster.ZooKeeper {
						add(produceLegacy(t, ctx, h, p, 0, 0, protocol.CompressionNone, ts, seqValues(fmt.Sprintf("p%d-m0", p.ID()), 0, 5)...))
						add(produceLegacy(t, ctx, h, p, 1, 0, protocol.CompressionGzip, ts, seqValues(fmt.Sprintf("p%d-m0gz", p.ID()), 0, 5)...))
						add(produceLegacy(t, ctx, h, p, 2, 1, protocol.CompressionSnappy, ts, seqValues(fmt.Sprintf("p%d-m1", p.ID()), 0, 5)...))
						add(produceBatch(t, ctx, p, protocol.CompressionLZ4, ts, seqValues(fmt.Sprintf("p%d-after", p.ID()), 0, 5)...))
					}
				}
				total := 0
				for _, m := range want {
					total += len(m)
				}

				// Small fetches, so that batches are cut and fetched again.
				c := newConsumer(t, topic, ConsumerConfig{FetchMessageMaxBytes: 2048, ConsumerTimeout: 300 * time.Millisecond})
				msgs := consumeMessages(t, ctx, c, total)
				requireNoMore(t, ctx, c)
				byPart := requireInOrder(t, msgs)
				for id, offs := range byPart {
					assert.Len(t, offs, len(want[id]), "partition %d", id)
				}
				for _, m := range msgs {
					s, ok := want[m.Partition][m.Offset]
					require.True(t, ok, "unexpected %d/%d", m.Partition, m.Offset)
					assert.Equal(t, topic.Name(), m.Topic)
					assert.Equal(t, s.value, string(m.Value))
					assert.Equal(t, s.key, string(m.Key))
					if s.headers != nil {
						assert.Equal(t, s.headers, m.Headers)
					}
					if s.ts >= 0 {
						assert.Equal(t, s.ts, m.Timestamp.UnixMilli(), "%d/%d", m.Partition, m.Offset)
					}
				}
				held := c.HeldOffsets()
				for id, offs := range byPart {
					assert.Equal(t, offs[len(offs)-1], held[id], "held offset of partition %d is the last delivered", id)
				}
				require.NoError(t, c.Stop(ctx))
				_, err := c.Consume(ctx)
				assert.ErrorIs(t, err, ErrConsumerStopped)
			})
		})
	}
}

// TestSimpleConsumerOffsetRules follows the usage guide: a new group starts
// at AutoOffsetReset, an existing one right after its last committed
// message, ResetOffsetOnStart starts at AutoOffsetReset again and commits.
func TestSimpleConsumerOffsetRules(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "offset-rules"), Partitions: 1, ReplicationFactor: 1})
		p := topic.Partition(0)
		produceBatch(t, ctx, p, protocol.CompressionNone, time.Now().UnixMilli(), seqValues("m", 0, 10)...)
		group := uniqueTopic(t, "group")

		// A new group starts at AutoOffsetReset (earliest by default) and
		// commits that start.
		a := newConsumer(t, topic, ConsumerConfig{ConsumerGroup: group})
		got := consumeMessages(t, ctx, a, 5)
		assert.Equal(t, []int64{0, 1, 2, 3, 4}, requireInOrder(t, got)[0])
		assert.Equal(t, map[int32]int64{0: 4}, a.HeldOffsets())
		require.NoError(t, a.CommitOffsets(ctx))
		committed, err := a.FetchOffsets(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(5), committed[0].Offset, "the broker stores the next offset to consume")
		assert.Contains(t, committed[0].Metadata, `"hostname"`, "pykafka's commit metadata")
		require.NoError(t, a.Stop(ctx))

		// An existing group resumes right after the last committed message.
		b := newConsumer(t, topic, ConsumerConfig{ConsumerGroup: group})
		got = consumeMessages(t, ctx, b, 1)
		assert.Equal(t, int64(5), got[0].Offset)
		assert.Equal(t, "m-5", string(got[0].Value))
		require.NoError(t, b.Stop(ctx))

		// ResetOffsetOnStart starts at AutoOffsetReset and commits it.
		r := newConsumer(t, topic, ConsumerConfig{ConsumerGroup: group, ResetOffsetOnStart: true, ManualStart: true})
		require.NoError(t, r.Start(ctx))
		committed, err = r.FetchOffsets(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(0), committed[0].Offset)
		got = consumeMessages(t, ctx, r, 1)
		assert.Equal(t, int64(0), got[0].Offset)
		require.NoError(t, r.Stop(ctx))

		// The guide's example: a new group at LATEST consumes, commits; the
		// next consumer of the group starts from that commit.
		latestGroup := group + "-latest"
		l := newConsumer(t, topic, ConsumerConfig{ConsumerGroup: latestGroup, AutoOffsetReset: OffsetLatest})
		require.NoError(t, l.Start(ctx))
		assert.Equal(t, map[int32]int64{0: 9}, l.HeldOffsets(), "latest: the next message is the next produced")
		produceBatch(t, ctx, p, protocol.CompressionNone, time.Now().UnixMilli(), "n-10", "n-11")
		got = consumeMessages(t, ctx, l, 1)
		assert.Equal(t, int64(10), got[0].Offset)
		require.NoError(t, l.CommitOffsets(ctx))
		require.NoError(t, l.Stop(ctx))
		l2 := newConsumer(t, topic, ConsumerConfig{ConsumerGroup: latestGroup})
		got = consumeMessages(t, ctx, l2, 1)
		assert.Equal(t, int64(11), got[0].Offset)

		// Auto-commit commits on Stop.
		s, err := topic.Subscribe(group + "-sub")
		require.NoError(t, err)
		n := 0
		for m, err := range s.Messages(ctx) {
			require.NoError(t, err)
			assert.Equal(t, int64(n), m.Offset)
			if n++; n == 3 {
				break
			}
		}
		require.NoError(t, s.Stop(ctx))
		s2, err := topic.Subscribe(group + "-sub")
		require.NoError(t, err)
		t.Cleanup(func() { _ = s2.Stop(ctx) })
		got = consumeMessages(t, ctx, s2, 1)
		assert.Equal(t, int64(3), got[0].Offset, "the next subscriber resumes after the last message delivered")
	})
}

// TestSimpleConsumerResetOffsets checks that every kind of target makes
// the documented message the next one.
func TestSimpleConsumerResetOffsets(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "reset"), Partitions: 1, ReplicationFactor: 1})
		p := topic.Partition(0)
		t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
		for i := range 20 {
			produceBatch(t, ctx, p, protocol.CompressionNone, t0.Add(time.Duration(i)*time.Second).UnixMilli(), fmt.Sprint("m-", i))
		}
		group := uniqueTopic(t, "reset-group")
		c := newConsumer(t, topic, ConsumerConfig{ConsumerGroup: group})
		next := func() int64 {
			t.Helper()
			return consumeMessages(t, ctx, c, 1)[0].Offset
		}
		assert.Equal(t, int64(0), next())
		assert.Equal(t, int64(1), next())

		for _, tt := range []struct {
			target OffsetTarget
			next   int64
		}{
			{OffsetAfter(7), 8},
			{OffsetAt(7), 7},
			{OffsetEarliest, 0},
			{OffsetAtTime(t0.Add(5 * time.Second)), 5},
			{OffsetAtTime(t0.Add(4500 * time.Millisecond)), 5},
			{OffsetAfter(-1), 0},
		} {
			require.NoError(t, c.ResetOffsets(ctx, map[int32]OffsetTarget{0: tt.target}))
			assert.Equal(t, tt.next-1, c.HeldOffsets()[0], "%v", tt.target)
			committed, err := c.FetchOffsets(ctx)
			require.NoError(t, err)
			assert.Equal(t, tt.next, committed[0].Offset, "%v is committed", tt.target)
			assert.Equal(t, tt.next, next(), "%v", tt.target)
		}

		require.NoError(t, c.ResetOffsets(ctx, map[int32]OffsetTarget{0: OffsetLatest}))
		assert.Equal(t, int64(19), c.HeldOffsets()[0])
		produceBatch(t, ctx, p, protocol.CompressionNone, time.Now().UnixMilli(), "m-20")
		assert.Equal(t, int64(20), next(), "latest: the next message is the next produced")

		// An offset past the end is out of range: the consumer moves to
		// AutoOffsetReset (earliest).
		require.NoError(t, c.ResetOffsets(ctx, map[int32]OffsetTarget{0: OffsetAt(1000)}))
		assert.Equal(t, int64(0), next())
	})
}

// TestSimpleConsumerCompactedTopic reads a topic after the log cleaner
// compacted it: offsets have gaps, and every survivor comes once, in order.
func TestSimpleConsumerCompactedTopic(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	ctx := testCtx(t)
	h := newHandler(t, "goroutine")
	cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
	topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "compacted"), Partitions: 1, ReplicationFactor: 1,
		Configs: map[string]string{
			"cleanup.policy":            "compact",
			"segment.ms":                "100",
			"min.cleanable.dirty.ratio": "0.01",
			"min.compaction.lag.ms":     "0",
			"max.compaction.lag.ms":     "100",
			"delete.retention.ms":       "100",
		}})
	p := topic.Partition(0)
	// Three rounds in segments of their own (segment.ms rolls the segment
	// at the next append), then one more record to roll the last. The
	// cleaner keeps each key's latest record: whole batches go, and so do
	// records from the middle of batches that keep others.
	rounds := [][]string{{"k0", "k1", "k2", "k3", "k4"}, {"k0", "k1"}, {"k3"}}
	latest := map[string]int64{}
	for r, keys := range rounds {
		base := produceRaw(t, ctx, p, keyedBatch(t, r, keys...))
		for i, k := range keys {
			latest[k] = base + int64(i)
		}
		require.NoError(t, h.Sleep(ctx, 150*time.Millisecond))
	}
	rollAt := produceRaw(t, ctx, p, keyedBatch(t, 9, "roll"))
	latest["roll"] = rollAt

	var msgs []*Message
	eventually(t, ctx, h, "the cleaner to compact the log", func() bool {
		c, err := topic.SimpleConsumer(ConsumerConfig{CompactedTopic: true, ConsumerTimeout: 500 * time.Millisecond})
		require.NoError(t, err)
		defer c.Stop(ctx)
		msgs = msgs[:0]
		for m, err := range c.Messages(ctx) {
			require.NoError(t, err)
			msgs = append(msgs, m)
		}
		return len(msgs) == len(latest)
	})
	offs := requireInOrder(t, msgs)[0]
	assert.Equal(t, []int64{2, 4, 5, 6, 7, 8}, offs, "survivors, with gaps between and inside batches")
	for _, m := range msgs {
		assert.Equal(t, latest[string(m.Key)], m.Offset, "the latest record of %s", m.Key)
		assert.Contains(t, string(m.Value), string(m.Key))
	}
}

// keyedBatch is one batch of a record per key, valued "<key>-round-<r>".
func keyedBatch(t testing.TB, round int, keys ...string) []byte {
	t.Helper()
	var bb protocol.RecordBatchBuilder
	bb.Reset(&protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1})
	for _, k := range keys {
		bb.Add(time.Now().UnixMilli(), []byte(k), []byte(fmt.Sprintf("%s-round-%d", k, round)), nil)
	}
	b, err := bb.Build(nil, protocol.CompressionNone)
	require.NoError(t, err)
	return b
}

// TestSimpleConsumerLargeRecord puts a record bigger than
// FetchMessageMaxBytes at the head of one partition while another has
// plenty to read: it is delivered whole, and nothing stalls.
func TestSimpleConsumerLargeRecord(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "large"), Partitions: 2, ReplicationFactor: 1,
			Configs: map[string]string{"max.message.bytes": "4194304"}})
		for i := range 5 {
			produceBatch(t, ctx, topic.Partition(0), protocol.CompressionNone, time.Now().UnixMilli(), seqValues(fmt.Sprint("small-", i), 0, 50)...)
		}
		big := strings.Repeat("x", 1<<20+12345)
		produceBatch(t, ctx, topic.Partition(1), protocol.CompressionNone, time.Now().UnixMilli(), big)
		produceBatch(t, ctx, topic.Partition(1), protocol.CompressionNone, time.Now().UnixMilli(), "after")

		c := newConsumer(t, topic, ConsumerConfig{FetchMessageMaxBytes: 4096, ConsumerTimeout: time.Second})
		msgs := consumeMessages(t, ctx, c, 252)
		requireNoMore(t, ctx, c)
		byPart := requireInOrder(t, msgs)
		assert.Len(t, byPart[0], 250)
		assert.Equal(t, []int64{0, 1}, byPart[1])
		for _, m := range msgs {
			if m.Partition == 1 && m.Offset == 0 {
				assert.Equal(t, len(big), len(m.Value))
				assert.Equal(t, big, string(m.Value))
			}
		}
	})
}

// TestSimpleConsumerTransactions reads transactions written by Kafka's own
// producer (its perf tool, with a transactional id): the commit markers
// take offsets but are never delivered, in either isolation level.
func TestSimpleConsumerTransactions(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	ctx := testCtx(t)
	h := newHandler(t, "goroutine")
	cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
	topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "txn"), Partitions: 1, ReplicationFactor: 1})
	const n = 300
	java, err := exec.LookPath("java")
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, java, "-cp", tc.Classpath(), "org.apache.kafka.tools.ProducerPerformance",
		"--topic", topic.Name(), "--num-records", fmt.Sprint(n), "--record-size", "16", "--throughput", "-1",
		"--transactional-id", "gregor-"+filepath.Base(topic.Name()), "--transaction-duration-ms", "10",
		"--producer-props", "bootstrap.servers="+tc.Bootstrap()[0], "linger.ms=5")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	latest, err := topic.Partition(0).LatestOffset(ctx)
	require.NoError(t, err)
	require.Greater(t, latest, int64(n), "commit markers take offsets")
	for _, level := range []IsolationLevel{ReadCommitted, ReadUncommitted} {
		c := newConsumer(t, topic, ConsumerConfig{IsolationLevel: level, ConsumerTimeout: 500 * time.Millisecond})
		msgs := consumeMessages(t, ctx, c, n)
		requireNoMore(t, ctx, c)
		requireInOrder(t, msgs)
		for _, m := range msgs {
			assert.Len(t, m.Value, 16, "a data record, not a marker")
		}
		// The final marker follows the last message; the position moved
		// past it, as Java's consumer's does.
		assert.Equal(t, latest, c.NextOffsets()[0], "past the final marker")
	}
}
