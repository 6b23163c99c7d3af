package kafka

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// Group administration runs against the broker-managed kinds, on Kafka 4.3
// (KRaft, the new group coordinator) and 3.9 (ZooKeeper, the old one).
var groupAdminKinds = []balancedKind{managedKRaft, managedZKMode}

// TestGroupOffsetsAdmin commits offsets of two topics as an administrator
// and reads them back: by partition, by whole topic and for every topic; a
// group nobody used has none, and a deleted topic's offsets are none too.
func TestGroupOffsetsAdmin(t *testing.T) {
	forEachKind(t, groupAdminKinds, 3, func(t *testing.T, env *groupEnv) {
		ctx, cl := env.ctx, env.cl.Cluster()
		topic := env.topic.Name()
		other := makeTopic(t, ctx, env.cl, TopicSpec{Name: uniqueTopic(t, "group-admin-other"), Partitions: 2, ReplicationFactor: 1}).Name()

		unknown := env.group + "-unknown"
		got, err := cl.FetchGroupOffsets(ctx, unknown, nil)
		require.NoError(t, err)
		assert.Empty(t, got)
		got, err = cl.FetchGroupOffsets(ctx, unknown, map[string][]int32{topic: {0, 1, 2}})
		require.NoError(t, err)
		assert.Empty(t, got)
		d, err := cl.DescribeGroup(ctx, unknown)
		require.NoError(t, err)
		assert.Equal(t, GroupStateDead, d.State)
		assert.Empty(t, d.Type)
		assert.Empty(t, d.Members)

		require.NoError(t, cl.CommitGroupOffsets(ctx, env.group, map[string]map[int32]int64{
			topic: {0: 5, 2: 7},
			other: {0: 0, 1: 3},
		}))
		want := GroupOffsets{
			topic: {0: {Offset: 5}, 2: {Offset: 7}},
			other: {0: {Offset: 0}, 1: {Offset: 3}},
		}
		got, err = cl.FetchGroupOffsets(ctx, env.group, map[string][]int32{topic: {0, 1, 2}, other: {0, 1}})
		require.NoError(t, err)
		assert.Equal(t, want, got, "partition 1 of the first topic has no commit: absent")

		got, err = cl.FetchGroupOffsets(ctx, env.group, nil)
		require.NoError(t, err)
		assert.Equal(t, want, got, "nil topics: every topic the group committed")

		got, err = cl.FetchGroupOffsets(ctx, env.group, map[string][]int32{other: nil, topic: {2}})
		require.NoError(t, err)
		assert.Equal(t, GroupOffsets{topic: {2: {Offset: 7}}, other: want[other]}, got)

		// The group's SimpleConsumer reads the same commits, -1 where none.
		sc, err := env.topic.SimpleConsumer(ConsumerConfig{ConsumerGroup: env.group, ManualStart: true})
		require.NoError(t, err)
		scGot, err := sc.FetchOffsets(ctx)
		require.NoError(t, err)
		require.NoError(t, sc.Stop(ctx))
		assert.Equal(t, int64(5), scGot[0].Offset)
		assert.Equal(t, int64(-1), scGot[1].Offset)
		assert.Equal(t, int64(7), scGot[2].Offset)

		// A group with offsets and no members exists, Empty.
		d, err = cl.DescribeGroup(ctx, env.group)
		require.NoError(t, err)
		assert.Equal(t, GroupStateEmpty, d.State)
		assert.Empty(t, d.Members)

		// A deleted topic's offsets read as none, never as an error.
		require.NoError(t, cl.DeleteTopics(ctx, other))
		eventually(t, ctx, env.h, "the deleted topic's offsets to go", func() bool {
			got, err := cl.FetchGroupOffsets(ctx, env.group, map[string][]int32{other: {0, 1}, topic: {0}})
			require.NoError(t, err)
			require.Equal(t, want[topic][0], got[topic][0])
			return len(got[other]) == 0
		})
	})
}

// TestGroupAdminLiveMember describes and lists a group with a live managed
// member, and checks that the coordinator refuses an administrative commit
// while the member lives and accepts it once it has left.
func TestGroupAdminLiveMember(t *testing.T) {
	forEachKind(t, groupAdminKinds, 4, func(t *testing.T, env *groupEnv) {
		ctx, cl := env.ctx, env.cl.Cluster()
		topic := env.topic.Name()
		c := env.consumer(t, BalancedConsumerConfig{})
		require.NoError(t, c.Start(ctx))
		env.waitSplit(t, c)

		coord, err := cl.GroupCoordinator(ctx, env.group)
		require.NoError(t, err)
		d, err := cl.DescribeGroup(ctx, env.group)
		require.NoError(t, err)
		assert.Equal(t, env.group, d.Group)
		assert.Equal(t, GroupStateStable, d.State)
		assert.Equal(t, GroupTypeClassic, d.Type)
		assert.Equal(t, "consumer", d.ProtocolType)
		assert.Equal(t, "range", d.Protocol)
		assert.Equal(t, coord.ID(), d.Coordinator)
		require.Len(t, d.Members, 1)
		m := d.Members[0]
		assert.Equal(t, c.MemberID(), m.MemberID)
		assert.NotEmpty(t, m.ClientID)
		assert.NotEmpty(t, m.Host)
		assert.Empty(t, m.DecodeError)
		assert.Equal(t, []string{topic}, m.Subscription)
		assert.Equal(t, []TopicPartitions{{Topic: topic, Partitions: []int32{0, 1, 2, 3}}}, m.Assignment)

		listed, err := cl.ListGroups(ctx)
		require.NoError(t, err)
		i := slices.IndexFunc(listed, func(g GroupListing) bool { return g.Group == env.group })
		require.GreaterOrEqual(t, i, 0, "%v", listed)
		assert.Equal(t, "consumer", listed[i].ProtocolType)
		assert.Equal(t, GroupStateStable, listed[i].State)
		assert.Equal(t, coord.ID(), listed[i].Coordinator)
		assert.True(t, slices.IsSortedFunc(listed, func(a, b GroupListing) int {
			return strings.Compare(a.Group, b.Group)
		}))

		before, err := cl.FetchGroupOffsets(ctx, env.group, nil)
		require.NoError(t, err)
		err = cl.CommitGroupOffsets(ctx, env.group, map[string]map[int32]int64{topic: {0: 1}})
		var live *GroupHasMembersError
		require.ErrorAs(t, err, &live)
		assert.Equal(t, env.group, live.Group)
		assert.ErrorIs(t, err, protocol.ErrUnknownMemberID, "a stable group does not know the empty member id")
		assert.Contains(t, err.Error(), "live members")
		after, err := cl.FetchGroupOffsets(ctx, env.group, nil)
		require.NoError(t, err)
		assert.Equal(t, before, after, "nothing committed")

		stopConsumer(t, ctx, c)
		eventually(t, ctx, env.h, "the group to be empty", func() bool {
			d, err := cl.DescribeGroup(ctx, env.group)
			require.NoError(t, err)
			return d.State == GroupStateEmpty
		})
		require.NoError(t, cl.CommitGroupOffsets(ctx, env.group, map[string]map[int32]int64{topic: {0: 1}}))
		got, err := cl.FetchGroupOffsets(ctx, env.group, map[string][]int32{topic: {0}})
		require.NoError(t, err)
		assert.Equal(t, GroupOffsets{topic: {0: {Offset: 1}}}, got)
	})
}

// TestOnCoordinatorRetries checks the retry helper every group request
// goes through: a busy coordinator is looked up again and asked again, a
// refusal of another kind is final at once, and a coordinator that never
// settles ends in a *CoordinatorError after coordinatorAttempts tries.
func TestOnCoordinatorRetries(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()}).Cluster()
		group := uniqueTopic(t, "on-coordinator")

		calls := 0
		err := cl.onCoordinator(ctx, group, func(b *Broker) error {
			calls++
			if calls < 3 {
				return &PartitionError{Topic: "t", Partition: 0, Err: protocol.ErrNotCoordinator}
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 3, calls)

		calls = 0
		err = cl.onCoordinator(ctx, group, func(b *Broker) error {
			calls++
			return protocol.ErrGroupAuthorizationFailed
		})
		assert.Equal(t, 1, calls)
		assert.ErrorIs(t, err, protocol.ErrGroupAuthorizationFailed)
		var ce *CoordinatorError
		assert.False(t, errors.As(err, &ce), "the broker's own answer, not a coordinator failure")

		calls = 0
		err = cl.onCoordinator(ctx, group, func(b *Broker) error {
			calls++
			return protocol.ErrCoordinatorLoadInProgress
		})
		assert.Equal(t, coordinatorAttempts, calls)
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, group, ce.Group)
		assert.ErrorIs(t, err, protocol.ErrCoordinatorLoadInProgress)
	})
}

// TestDescribeConsumerProtocolGroup describes a Kafka 4.3 consumer group
// (KIP-848) of two Java consumers: DescribeGroups alone reports such a
// group as Dead, so DescribeGroup must ask ConsumerGroupDescribe, and the
// members' assignments, by topic name, must split the topic between them.
func TestDescribeConsumerProtocolGroup(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	h := newHandler(t, "goroutine")
	env := newGroupEnv(t, managedKRaft, tc, h, 4, 1)
	ctx, cl, topic := env.ctx, env.cl.Cluster(), env.topic.Name()
	sent := env.produceRound(t, "kip848", 2)
	a := startConsoleConsumer(t, env, "--command-property", "group.protocol=consumer", "--command-property", "client.id=java-kip848-a")
	b := startConsoleConsumer(t, env, "--command-property", "group.protocol=consumer", "--command-property", "client.id=java-kip848-b")

	var d *GroupDescription
	eventually(t, ctx, h, "two members splitting the topic", func() bool {
		var err error
		d, err = cl.DescribeGroup(ctx, env.group)
		require.NoError(t, err)
		if d.State != GroupStateStable || len(d.Members) != 2 {
			return false
		}
		var all []int32
		for _, m := range d.Members {
			for _, tp := range m.Assignment {
				all = append(all, tp.Partitions...)
			}
		}
		slices.Sort(all)
		return slices.Equal(all, []int32{0, 1, 2, 3})
	})
	coord, err := cl.GroupCoordinator(ctx, env.group)
	require.NoError(t, err)
	assert.Equal(t, env.group, d.Group)
	assert.Equal(t, GroupTypeConsumer, d.Type)
	assert.Equal(t, "consumer", d.ProtocolType)
	assert.NotEmpty(t, d.Protocol, "the coordinator's assignor")
	assert.Equal(t, coord.ID(), d.Coordinator)
	var clients []string
	for _, m := range d.Members {
		clients = append(clients, m.ClientID)
		assert.NotEmpty(t, m.MemberID)
		assert.NotEmpty(t, m.Host)
		assert.Empty(t, m.DecodeError)
		assert.Empty(t, m.GroupInstanceID)
		assert.Equal(t, []string{topic}, m.Subscription)
		require.Len(t, m.Assignment, 1, "%+v", m)
		assert.Equal(t, topic, m.Assignment[0].Topic)
		assert.Len(t, m.Assignment[0].Partitions, 2, "the uniform assignor balances: %+v", m)
		assert.True(t, slices.IsSorted(m.Assignment[0].Partitions))
	}
	slices.Sort(clients)
	assert.Equal(t, []string{"java-kip848-a", "java-kip848-b"}, clients)
	assert.True(t, slices.IsSortedFunc(d.Members, func(x, y GroupMember) int { return strings.Compare(x.MemberID, y.MemberID) }))

	listed, err := cl.ListGroups(ctx)
	require.NoError(t, err)
	i := slices.IndexFunc(listed, func(g GroupListing) bool { return g.Group == env.group })
	require.GreaterOrEqual(t, i, 0, "%v", listed)
	assert.Equal(t, GroupTypeConsumer, listed[i].Type)
	assert.Equal(t, "consumer", listed[i].ProtocolType)

	// The members consume what they were assigned: the description is
	// of a working group, not of a half-joined one.
	eventually(t, ctx, h, "the Java consumers to read everything", func() bool {
		a.mu.Lock()
		n := len(a.got)
		a.mu.Unlock()
		b.mu.Lock()
		n += len(b.got)
		b.mu.Unlock()
		return n == len(sent)
	})
}
