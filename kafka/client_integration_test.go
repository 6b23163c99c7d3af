package kafka

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

func TestBootstrap(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)

		t.Run("dead seed first", func(t *testing.T) {
			cl := newTestClient(t, ctx, h, Config{Hosts: append([]string{deadAddr(t)}, c.Bootstrap()...)})
			require.Len(t, cl.Brokers(), 1)
			b := cl.Brokers()[0]
			assert.Equal(t, c.Brokers()[0].ID, b.ID())
			assert.Equal(t, c.Bootstrap()[0], b.Addr())
			assert.True(t, b.Connected(), "the seed connection is kept as the broker's")
			assert.NotEmpty(t, cl.Cluster().ClusterID())
			assert.Same(t, b, cl.Cluster().Controller())

			refreshed, err := cl.Cluster().refreshIfStale(ctx, fmt.Errorf("produce: %w", protocol.ErrNotLeaderOrFollower))
			require.NoError(t, err)
			assert.True(t, refreshed)
			refreshed, err = cl.Cluster().refreshIfStale(ctx, protocol.ErrOffsetOutOfRange)
			require.NoError(t, err)
			assert.False(t, refreshed, "not a metadata problem")
		})

		t.Run("all seeds dead", func(t *testing.T) {
			dead := []string{deadAddr(t), deadAddr(t)}
			_, err := NewClient(ctx, Config{Hosts: dead, Handler: h, Logger: testLogger()})
			require.ErrorIs(t, err, ErrNoBrokersAvailable)
			var nb *NoBrokersAvailableError
			require.ErrorAs(t, err, &nb)
			require.Len(t, nb.Attempts, 2, "every seed is tried")
			for i, a := range nb.Attempts {
				assert.Equal(t, dead[i], a.Addr)
				assert.Error(t, a.Err)
			}
		})

		t.Run("closed client", func(t *testing.T) {
			cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
			b := cl.Brokers()[0]
			require.NoError(t, cl.Close())
			require.NoError(t, cl.Close(), "idempotent")
			assert.ErrorIs(t, cl.Update(ctx), ErrClosed)
			_, err := cl.Topic(ctx, "any")
			assert.ErrorIs(t, err, ErrClosed)
			_, err = b.Metadata(ctx, protocol.NewMetadataRequest())
			assert.ErrorIs(t, err, ErrClosed)
			assert.False(t, b.Connected())
		})
	})
}

func TestTopicLifecycle(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		// A second client sees the changes the first one makes.
		other := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		name := uniqueTopic(t, "lifecycle")

		_, err := other.Topic(ctx, name)
		var te *TopicError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, name, te.Topic)
		assert.ErrorIs(t, err, ErrUnknownTopic)

		require.NoError(t, cl.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: 3, ReplicationFactor: 1,
			Configs: map[string]string{"retention.ms": "3600000"}}))
		err = cl.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: 3})
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, ErrTopicAlreadyExists)

		names, err := other.Topics(ctx)
		require.NoError(t, err)
		assert.Contains(t, names, name)
		assert.True(t, slices.IsSorted(names))

		topic, err := other.Topic(ctx, name)
		require.NoError(t, err)
		again, err := other.Topic(ctx, name)
		require.NoError(t, err)
		assert.Same(t, topic, again)
		assert.Equal(t, name, topic.Name())
		assert.False(t, topic.ID().IsZero(), "Kafka 4 has topic ids")
		require.Len(t, topic.Partitions(), 3)
		for _, p := range topic.Partitions() {
			require.NotNil(t, p.Leader(), "%v", p)
			assert.Equal(t, []int32{p.LeaderID()}, p.Replicas())
			assert.Equal(t, []int32{p.LeaderID()}, p.ISR())
		}

		require.NoError(t, cl.Cluster().DeleteTopics(ctx, name))
		names, err = other.Topics(ctx)
		require.NoError(t, err)
		assert.NotContains(t, names, name)
		assert.False(t, topic.Exists(), "the held *Topic sees the deletion")
		assert.Empty(t, topic.Partitions())
		_, err = other.Topic(ctx, name)
		assert.ErrorIs(t, err, ErrUnknownTopic)

		err = cl.Cluster().DeleteTopics(ctx, name)
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, ErrUnknownTopic)
	})
}

func TestAutoCreateTopics(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle) // brokers allow auto-creation
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		name := uniqueTopic(t, "auto")

		plain := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		_, err := plain.Topic(ctx, name)
		require.ErrorIs(t, err, ErrUnknownTopic, "no auto-creation unless asked")
		assert.Equal(t, "kafka: topic "+strconv.Quote(name)+" does not exist (kafka: UNKNOWN_TOPIC_OR_PARTITION (3))", err.Error())

		auto := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap(), AutoCreateTopics: true})
		topic, err := auto.Topic(ctx, name)
		require.NoError(t, err)
		require.Len(t, topic.Partitions(), 1, "num.partitions of the test brokers")
		require.NotNil(t, topic.Partitions()[0].Leader())
		require.NoError(t, auto.Cluster().DeleteTopics(ctx, name))
	})
}

func TestInternalTopics(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		// The first coordinator lookup makes the broker create
		// __consumer_offsets.
		_, err := cl.Cluster().GroupCoordinator(ctx, "internal-topics")
		require.NoError(t, err)

		all := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap(), IncludeInternalTopics: true})
		eventually(t, ctx, h, "__consumer_offsets to be listed", func() bool {
			names, err := all.Topics(ctx)
			require.NoError(t, err)
			return slices.Contains(names, "__consumer_offsets")
		})
		offsetsTopic, err := all.Topic(ctx, "__consumer_offsets")
		require.NoError(t, err)
		assert.True(t, offsetsTopic.Internal())

		names, err := cl.Topics(ctx)
		require.NoError(t, err)
		assert.NotContains(t, names, "__consumer_offsets")
		_, err = cl.Topic(ctx, "__consumer_offsets")
		assert.ErrorIs(t, err, ErrInternalTopic)
	})
}

func TestGroupCoordinator(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		group := uniqueTopic(t, "group")
		b, err := cl.Cluster().GroupCoordinator(ctx, group)
		require.NoError(t, err)
		assert.Same(t, cl.Cluster().Broker(c.Brokers()[0].ID), b)

		again, err := cl.Cluster().GroupCoordinator(ctx, group)
		require.NoError(t, err)
		assert.Same(t, b, again, "cached")

		cl.Cluster().invalidateCoordinator(group)
		assert.True(t, cl.Cluster().invalidateCoordinatorOn(group, protocol.ErrNotCoordinator))
		assert.False(t, cl.Cluster().invalidateCoordinatorOn(group, protocol.ErrOffsetOutOfRange))
		again, err = cl.Cluster().GroupCoordinator(ctx, group)
		require.NoError(t, err)
		assert.Same(t, b, again, "found again after invalidation")

		// The coordinator answers group requests, once it has loaded the
		// group's offsets partition; until then it says NOT_COORDINATOR or
		// COORDINATOR_LOAD_IN_PROGRESS, and callers look it up again.
		eventually(t, ctx, h, "the coordinator to serve the group", func() bool {
			b, err := cl.Cluster().GroupCoordinator(ctx, group)
			require.NoError(t, err)
			resp, err := b.DescribeGroups(ctx, &protocol.DescribeGroupsRequest{Groups: []string{group}})
			require.NoError(t, err)
			require.Len(t, resp.Groups, 1)
			if err := protocol.ErrorForCode(resp.Groups[0].ErrorCode); err != nil {
				require.True(t, protocol.IsRetriable(err), "%v", err)
				cl.Cluster().invalidateCoordinatorOn(group, err)
				return false
			}
			assert.Equal(t, group, resp.Groups[0].GroupID)
			assert.Equal(t, "Dead", resp.Groups[0].GroupState, "a group nobody joined")
			return true
		})
	})
}

func TestOffsets(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		name := uniqueTopic(t, "offsets")
		require.NoError(t, cl.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: 2, ReplicationFactor: 1}))
		topic, err := cl.Topic(ctx, name)
		require.NoError(t, err)
		p0, p1 := topic.Partition(0), topic.Partition(1)

		// Empty partitions: earliest == latest == 0, and a time lookup gives
		// the latest offset.
		earliest, err := topic.EarliestOffsets(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[int32]int64{0: 0, 1: 0}, earliest)
		before, err := topic.OffsetsBefore(ctx, time.Now())
		require.NoError(t, err)
		assert.Equal(t, map[int32]int64{0: 0, 1: 0}, before)

		// Partition 0 gets records stamped at t0, t0+10s, t0+20s, t0+30s,
		// then two more in a second batch; partition 1 gets one, by acks=0.
		t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		ms := func(d time.Duration) int64 { return t0.Add(d).UnixMilli() }
		assert.Equal(t, int64(0), produceRecords(t, ctx, p0, 1, ms(0), ms(10*time.Second), ms(20*time.Second), ms(30*time.Second)))
		assert.Equal(t, int64(4), produceRecords(t, ctx, p0, -1, ms(40*time.Second), ms(50*time.Second)))
		produceRecords(t, ctx, p1, 0, ms(0))

		eventually(t, ctx, h, "the acks=0 record", func() bool {
			off, err := p1.LatestOffset(ctx)
			require.NoError(t, err)
			return off == 1
		})
		latest, err := topic.LatestOffsets(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[int32]int64{0: 6, 1: 1}, latest, "the offset the next record gets")
		earliest, err = topic.EarliestOffsets(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[int32]int64{0: 0, 1: 0}, earliest)

		for _, tc := range []struct {
			at   time.Time
			want int64
		}{
			{t0.Add(-time.Minute), 0},            // before every record
			{time.Unix(0, 0).Add(-time.Hour), 0}, // before the epoch
			{t0, 0},                              // exactly the first
			{t0.Add(time.Millisecond), 1},        // just after: the next record
			{t0.Add(25 * time.Second), 3},        // between batches' records
			{t0.Add(40 * time.Second), 4},        // first record of the second batch
			{t0.Add(50 * time.Second), 5},        // the last record
			{t0.Add(51 * time.Second), 6},        // after every record: latest
			{time.Now().Add(time.Hour), 6},       // in the future: latest
		} {
			got, err := p0.OffsetBefore(ctx, tc.at)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "offset at %v", tc.at.Sub(t0))
		}
		all, err := topic.OffsetsBefore(ctx, t0.Add(time.Second))
		require.NoError(t, err)
		assert.Equal(t, map[int32]int64{0: 1, 1: 1}, all)

		e, err := p0.EarliestOffset(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(0), e)
		l, err := p0.LatestOffset(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(6), l)

		// Deleting records moves the log start offset.
		leader := p0.Leader()
		dr, err := call[*protocol.DeleteRecordsResponse](ctx, leader, connGeneral, &protocol.DeleteRecordsRequest{
			Topics:    []protocol.DeleteRecordsRequestTopic{{Name: name, Partitions: []protocol.DeleteRecordsRequestPartition{{PartitionIndex: 0, Offset: 2}}}},
			TimeoutMs: 10000,
		}, 0)
		require.NoError(t, err)
		require.NoError(t, protocol.ErrorForCode(dr.Topics[0].Partitions[0].ErrorCode))
		e, err = p0.EarliestOffset(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(2), e)

		require.NoError(t, cl.Cluster().DeleteTopics(ctx, name))
		_, err = topic.LatestOffsets(ctx)
		var te *TopicError
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, ErrUnknownTopic)
		_, err = p0.LatestOffset(ctx)
		assert.ErrorIs(t, err, ErrUnknownTopic)
	})
}
