package kafka

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// Admin calls are plain requests: the full tests run on the goroutine
// handler, and TestAdminSmoke runs a few on both.

func findEntry(t *testing.T, rc ResourceConfigs, name string) ConfigEntry {
	t.Helper()
	for _, e := range rc.Entries {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("%v has no config %s", rc.Resource, name)
	return ConfigEntry{}
}

// waitLeading waits until p's leader answers for it: a broker may learn it
// leads a just-created partition after the metadata says so.
func waitLeading(t *testing.T, ctx context.Context, h handler.Handler, p *Partition) {
	t.Helper()
	eventually(t, ctx, h, "the leader of "+p.String(), func() bool {
		_, err := p.LatestOffset(ctx)
		return err == nil
	})
}

func TestAdminConfigs(t *testing.T) {
	for _, kind := range []testcluster.Config{testcluster.KRaftSingle, testcluster.ZooKeeperSingle} {
		t.Run(kind.Name(), func(t *testing.T) {
			c := testcluster.Shared(t, kind)
			ctx := testCtx(t)
			h := newHandler(t, "goroutine")
			cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()}).Cluster()
			name := uniqueTopic(t, "configs")
			require.NoError(t, cl.CreateTopics(ctx, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}))
			topic := ConfigResource{Type: ConfigTopic, Name: name}
			broker := ConfigResource{Type: ConfigBroker, Name: strconv.Itoa(int(cl.Brokers()[0].ID()))}
			missing := ConfigResource{Type: ConfigTopic, Name: name + "-missing"}

			got, err := cl.DescribeConfigs(ctx, topic, broker, missing, ConfigResource{Type: ConfigBroker, Name: "nine"})
			require.NoError(t, err)
			require.Len(t, got, 4)
			require.NoError(t, got[0].Err)
			ret := findEntry(t, got[0], "retention.ms")
			assert.True(t, ret.IsDefault, "%+v", ret)
			require.NoError(t, got[1].Err)
			assert.Equal(t, ConfigSourceStaticBroker, findEntry(t, got[1], "log.dirs").Source, "the broker itself reports its static settings")
			assert.ErrorIs(t, got[2].Err, protocol.ErrUnknownTopicOrPartition)
			assert.ErrorIs(t, got[3].Err, protocol.ErrInvalidRequest)

			res, err := cl.IncrementalAlterConfigs(ctx, map[ConfigResource][]ConfigAlteration{
				topic:   {{Name: "retention.ms", Op: ConfigSet, Value: "123456"}},
				missing: {{Name: "retention.ms", Op: ConfigSet, Value: "1"}},
			}, false)
			require.NoError(t, err)
			require.NoError(t, res[topic])
			assert.ErrorIs(t, res[missing], protocol.ErrUnknownTopicOrPartition)
			// KRaft brokers apply the controller's record asynchronously.
			eventually(t, ctx, h, "the change to show", func() bool {
				got, err = cl.DescribeConfigs(ctx, topic)
				require.NoError(t, err)
				return !findEntry(t, got[0], "retention.ms").IsDefault
			})
			ret = findEntry(t, got[0], "retention.ms")
			require.NotNil(t, ret.Value)
			assert.Equal(t, "123456", *ret.Value)
			assert.Equal(t, ConfigSourceDynamicTopic, ret.Source)
			assert.False(t, ret.IsDefault)

			res, err = cl.IncrementalAlterConfigs(ctx, map[ConfigResource][]ConfigAlteration{
				topic: {{Name: "retention.ms", Op: ConfigDelete}}}, false)
			require.NoError(t, err)
			require.NoError(t, res[topic])
			eventually(t, ctx, h, "the default to return", func() bool {
				got, err = cl.DescribeConfigs(ctx, topic)
				require.NoError(t, err)
				return findEntry(t, got[0], "retention.ms").IsDefault
			})
		})
	}
}

func TestAdminPartitionsAndRecords(t *testing.T) {
	for _, kind := range []testcluster.Config{testcluster.KRaftSingle, testcluster.ZooKeeperSingle} {
		t.Run(kind.Name(), func(t *testing.T) {
			c := testcluster.Shared(t, kind)
			ctx := testCtx(t)
			h := newHandler(t, "goroutine")
			cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()}).Cluster()
			name := uniqueTopic(t, "partitions")
			require.NoError(t, cl.CreateTopics(ctx, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}))

			res, err := cl.CreatePartitions(ctx, map[string]int32{name: 3, name + "-missing": 2})
			require.NoError(t, err)
			require.NoError(t, res[name])
			assert.ErrorIs(t, res[name+"-missing"], protocol.ErrUnknownTopicOrPartition)
			topic, err := cl.Topic(ctx, name)
			require.NoError(t, err)
			require.Len(t, topic.Partitions(), 3, "the metadata shows the new partitions when CreatePartitions returns")
			res, err = cl.CreatePartitions(ctx, map[string]int32{name: 2})
			require.NoError(t, err)
			assert.ErrorIs(t, res[name], protocol.ErrInvalidPartitions, "fewer partitions than now")

			p0 := topic.Partition(0)
			waitLeading(t, ctx, h, p0)
			produceRecords(t, ctx, p0, 1, 1, 2, 3, 4, 5)
			del, err := cl.DeleteRecords(ctx, map[string]map[int32]int64{name: {0: 3, 7: 1}})
			require.NoError(t, err)
			require.NoError(t, del[TopicPartition{name, 0}].Err)
			assert.Equal(t, int64(3), del[TopicPartition{name, 0}].LowWatermark)
			var pe *PartitionError
			require.ErrorAs(t, del[TopicPartition{name, 7}].Err, &pe)
			assert.ErrorIs(t, pe, protocol.ErrUnknownTopicOrPartition)
			earliest, err := p0.EarliestOffset(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(3), earliest)

			del, err = cl.DeleteRecords(ctx, map[string]map[int32]int64{name: {0: 99}})
			require.NoError(t, err)
			assert.ErrorIs(t, del[TopicPartition{name, 0}].Err, protocol.ErrOffsetOutOfRange)

			// A single broker leads everything already.
			el, err := cl.ElectLeaders(ctx, ElectPreferred, map[string][]int32{name: {0}})
			require.NoError(t, err)
			assert.ErrorIs(t, el[TopicPartition{name, 0}], protocol.ErrElectionNotNeeded)
		})
	}
}

func TestAdminGroups(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	ctx := testCtx(t)
	cl := newTestClient(t, ctx, newHandler(t, "goroutine"), Config{Hosts: c.Bootstrap()}).Cluster()
	name := uniqueTopic(t, "groupadmin")
	group := name + "-g"
	require.NoError(t, cl.CreateTopics(ctx, TopicSpec{Name: name, Partitions: 2, ReplicationFactor: 1}))
	require.NoError(t, cl.CommitGroupOffsets(ctx, group, map[string]map[int32]int64{name: {0: 5, 1: 7}}))

	res, err := cl.DeleteGroupOffsets(ctx, group, map[string][]int32{name: {0}})
	require.NoError(t, err)
	require.NoError(t, res[TopicPartition{name, 0}])
	offs, err := cl.FetchGroupOffsets(ctx, group, nil)
	require.NoError(t, err)
	assert.NotContains(t, offs[name], int32(0), "deleted")
	assert.Equal(t, int64(7), offs[name][1].Offset, "kept")

	_, err = cl.DeleteGroupOffsets(ctx, group+"-missing", map[string][]int32{name: {0}})
	assert.ErrorIs(t, err, protocol.ErrGroupIDNotFound)

	gone, err := cl.DeleteGroups(ctx, group, group+"-missing")
	require.NoError(t, err)
	require.NoError(t, gone[group])
	assert.ErrorIs(t, gone[group+"-missing"], protocol.ErrGroupIDNotFound)
	offs, err = cl.FetchGroupOffsets(ctx, group, nil)
	require.NoError(t, err)
	assert.Empty(t, offs, "the offsets went with the group")
}

func TestAdminClusterAndLogDirs(t *testing.T) {
	for _, kind := range []testcluster.Config{testcluster.KRaftSingle, testcluster.ZooKeeperSingle} {
		t.Run(kind.Name(), func(t *testing.T) {
			c := testcluster.Shared(t, kind)
			ctx := testCtx(t)
			h := newHandler(t, "goroutine")
			cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()}).Cluster()
			d, err := cl.DescribeCluster(ctx)
			require.NoError(t, err)
			assert.Equal(t, cl.ClusterID(), d.ClusterID)
			require.Len(t, d.Brokers, 1)
			b := cl.Brokers()[0]
			assert.Equal(t, BrokerDescription{ID: b.ID(), Host: b.Host(), Port: b.Port()}, d.Brokers[0])
			assert.Equal(t, b.ID(), d.ControllerID)

			name := uniqueTopic(t, "logdirs")
			require.NoError(t, cl.CreateTopics(ctx, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}))
			topic, err := cl.Topic(ctx, name)
			require.NoError(t, err)
			waitLeading(t, ctx, h, topic.Partition(0))
			produceRecords(t, ctx, topic.Partition(0), 1, 1, 2)
			dirs, err := cl.DescribeLogDirs(ctx, nil, map[string][]int32{name: {0}})
			require.NoError(t, err)
			require.Len(t, dirs, 1)
			bd := dirs[b.ID()]
			require.NoError(t, bd.Err)
			require.NotEmpty(t, bd.Dirs)
			var found bool
			for _, dir := range bd.Dirs {
				require.NoError(t, dir.Err)
				assert.NotEmpty(t, dir.Path)
				for _, r := range dir.Partitions {
					if r.TopicPartition == (TopicPartition{name, 0}) {
						found = true
						assert.Positive(t, r.Size, "two records were written")
					}
				}
			}
			assert.True(t, found, "%+v", bd)
			dirs, err = cl.DescribeLogDirs(ctx, []int32{999}, nil)
			require.NoError(t, err)
			assert.ErrorIs(t, dirs[999].Err, protocol.ErrBrokerNotAvailable)
		})
	}
}

func TestAdminQuotas(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	ctx := testCtx(t)
	h := newHandler(t, "goroutine")
	cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()}).Cluster()
	user := uniqueTopic(t, "user")
	entity := QuotaEntity{"user": &user}
	errs, err := cl.AlterClientQuotas(ctx, []QuotaAlteration{
		{Entity: entity, Set: map[string]float64{"producer_byte_rate": 1024}},
		{Entity: QuotaEntity{"no-such-type": nil}, Set: map[string]float64{"producer_byte_rate": 1}},
	}, false)
	require.NoError(t, err)
	require.Len(t, errs, 2)
	require.NoError(t, errs[0])
	assert.ErrorIs(t, errs[1], protocol.ErrInvalidRequest)

	filter := []QuotaFilter{{EntityType: "user", Match: &user}}
	// Brokers apply the controller's record asynchronously.
	var got []ClientQuotas
	eventually(t, ctx, h, "the quota to show", func() bool {
		got, err = cl.DescribeClientQuotas(ctx, filter, false)
		require.NoError(t, err)
		return len(got) == 1
	})
	assert.Equal(t, map[string]float64{"producer_byte_rate": 1024}, got[0].Values)
	assert.Equal(t, user, *got[0].Entity["user"])

	errs, err = cl.AlterClientQuotas(ctx, []QuotaAlteration{{Entity: entity, Remove: []string{"producer_byte_rate"}}}, false)
	require.NoError(t, err)
	require.NoError(t, errs[0])
	eventually(t, ctx, h, "the quota to go", func() bool {
		got, err = cl.DescribeClientQuotas(ctx, filter, false)
		require.NoError(t, err)
		return len(got) == 0
	})
}

func TestAdminACLsWithoutAuthorizer(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	ctx := testCtx(t)
	cl := newTestClient(t, ctx, newHandler(t, "goroutine"), Config{Hosts: c.Bootstrap()}).Cluster()
	_, err := cl.DescribeACLs(ctx, ACLFilter{})
	assert.ErrorIs(t, err, protocol.ErrSecurityDisabled)
	errs, err := cl.CreateACLs(ctx, ACL{ResourceType: ACLResourceTopic, ResourceName: "t", Principal: "User:alice",
		Operation: ACLOperationRead, Permission: ACLPermissionAllow})
	require.NoError(t, err)
	assert.ErrorIs(t, errs[0], protocol.ErrSecurityDisabled)
}

func TestAdminProducersAndTransactions(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	ctx := testCtx(t)
	h := newHandler(t, "goroutine")
	cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()}).Cluster()
	name := uniqueTopic(t, "producers")
	require.NoError(t, cl.CreateTopics(ctx, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}))
	topic, err := cl.Topic(ctx, name)
	require.NoError(t, err)
	p0 := topic.Partition(0)
	waitLeading(t, ctx, h, p0)

	// An idempotent producer: a producer id, then a batch carrying it.
	init := protocol.NewInitProducerIDRequest()
	init.TransactionTimeoutMs = -1
	var initResp *protocol.InitProducerIDResponse
	eventually(t, ctx, h, "a producer id", func() bool { // the coordinator may still be loading
		initResp, err = adminCall[*protocol.InitProducerIDResponse](ctx, p0.Leader(), init)
		require.NoError(t, err)
		return initResp.ErrorCode == 0
	})
	batch := &protocol.RecordBatch{ProducerID: initResp.ProducerID, ProducerEpoch: initResp.ProducerEpoch, BaseSequence: 0,
		Records: []protocol.Record{{Value: []byte("a")}, {Offset: 1, Value: []byte("b")}}}
	records, err := protocol.AppendRecordBatch(nil, batch, protocol.CompressionNone)
	require.NoError(t, err)
	req := protocol.NewProduceRequest()
	req.Acks, req.TimeoutMs = -1, 10000
	req.TopicData = []protocol.ProduceRequestTopic{{Name: name,
		PartitionData: []protocol.ProduceRequestPartition{{Index: 0, Records: records}}}}
	presp, err := p0.Leader().Produce(ctx, req)
	require.NoError(t, err)
	require.NoError(t, protocol.ErrorForCode(presp.Responses[0].PartitionResponses[0].ErrorCode))

	got, err := cl.DescribeProducers(ctx, map[string][]int32{name: {0}, name + "-missing": {0}})
	require.NoError(t, err)
	pp := got[TopicPartition{name, 0}]
	require.NoError(t, pp.Err)
	require.Len(t, pp.Producers, 1)
	assert.Equal(t, initResp.ProducerID, pp.Producers[0].ProducerID)
	assert.Equal(t, int32(1), pp.Producers[0].LastSequence, "two records, sequences 0 and 1")
	assert.Equal(t, int64(-1), pp.Producers[0].CurrentTxnStartOffset, "not transactional")
	assert.ErrorIs(t, got[TopicPartition{name + "-missing", 0}].Err, ErrUnknownTopic)

	_, err = cl.ListTransactions(ctx, nil)
	require.NoError(t, err)
	desc, err := cl.DescribeTransactions(ctx, name+"-txn")
	require.NoError(t, err)
	require.Len(t, desc, 1)
	assert.ErrorIs(t, desc[0].Err, protocol.ErrTransactionalIDNotFound)
	assert.Equal(t, cl.Brokers()[0].ID(), desc[0].Coordinator)
}

func TestAdminReassign(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftTriple)
	ctx := testCtx(t)
	h := newHandler(t, "goroutine")
	cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()}).Cluster()
	name := uniqueTopic(t, "reassign")
	require.NoError(t, cl.CreateTopics(ctx, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}))
	topic, err := cl.Topic(ctx, name)
	require.NoError(t, err)
	from := topic.Partition(0).LeaderID()
	var to int32 = -1
	for _, b := range cl.Brokers() {
		if b.ID() != from {
			to = b.ID()
			break
		}
	}
	require.NotEqual(t, int32(-1), to)

	res, err := cl.AlterPartitionReassignments(ctx, map[string]map[int32][]int32{name: {0: {to}}})
	require.NoError(t, err)
	require.NoError(t, res[TopicPartition{name, 0}])
	eventually(t, ctx, h, "the replica to move", func() bool {
		ongoing, err := cl.ListPartitionReassignments(ctx, map[string][]int32{name: {0}})
		require.NoError(t, err)
		require.NoError(t, cl.Update(ctx))
		_, still := ongoing[TopicPartition{name, 0}]
		return !still && topic.Partition(0).LeaderID() == to
	})
	assert.Equal(t, []int32{to}, topic.Partition(0).Replicas())

	res, err = cl.AlterPartitionReassignments(ctx, map[string]map[int32][]int32{name: {0: nil}})
	require.NoError(t, err)
	assert.ErrorIs(t, res[TopicPartition{name, 0}], protocol.ErrNoReassignmentInProgress, "nothing to cancel")
}

// TestAdminSmoke runs admin calls on both handlers.
func TestAdminSmoke(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()}).Cluster()
		d, err := cl.DescribeCluster(ctx)
		require.NoError(t, err)
		assert.Equal(t, cl.ClusterID(), d.ClusterID)
		name := uniqueTopic(t, "smoke")
		require.NoError(t, cl.CreateTopics(ctx, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}))
		got, err := cl.DescribeConfigs(ctx, ConfigResource{Type: ConfigTopic, Name: name})
		require.NoError(t, err)
		require.NoError(t, got[0].Err)
		res, err := cl.CreatePartitions(ctx, map[string]int32{name: 2})
		require.NoError(t, err)
		require.NoError(t, res[name])
	})
}

// aclCluster is a KRaft broker with Kafka's StandardAuthorizer; the
// harness's PLAINTEXT clients are User:ANONYMOUS, made a super user so the
// other requests still pass.
var aclCluster = testcluster.Config{Mode: testcluster.KRaft, Brokers: 1, BrokerProps: map[string]string{
	"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
	"super.users":           "User:ANONYMOUS",
}}

func TestAdminACLs(t *testing.T) {
	c := testcluster.ForTest(t, aclCluster)
	ctx := testCtx(t)
	h := newHandler(t, "goroutine")
	cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()}).Cluster()
	read := ACL{ResourceType: ACLResourceTopic, ResourceName: "orders", Principal: "User:alice",
		Operation: ACLOperationRead, Permission: ACLPermissionAllow}
	write := ACL{ResourceType: ACLResourceGroup, ResourceName: "billing-", PatternType: ACLPatternPrefixed,
		Principal: "User:bob", Host: "10.0.0.1", Operation: ACLOperationRead, Permission: ACLPermissionDeny}
	bad := ACL{ResourceType: ACLResourceTopic, ResourceName: "x", Principal: "alice", // no "User:" type
		Operation: ACLOperationRead, Permission: ACLPermissionAllow}
	errs, err := cl.CreateACLs(ctx, read, write, bad)
	require.NoError(t, err)
	require.Len(t, errs, 3)
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	assert.ErrorIs(t, errs[2], protocol.ErrInvalidRequest)

	want := []ACL{read, write}
	want[0].PatternType, want[0].Host = ACLPatternLiteral, "*"
	var got []ACL
	eventually(t, ctx, h, "the ACLs to show", func() bool { // brokers apply the controller's records asynchronously
		got, err = cl.DescribeACLs(ctx, ACLFilter{})
		require.NoError(t, err)
		return len(got) == 2
	})
	assert.ElementsMatch(t, want, got)
	got, err = cl.DescribeACLs(ctx, ACLFilter{Principal: "User:bob"})
	require.NoError(t, err)
	assert.Equal(t, []ACL{write}, got)

	deleted, err := cl.DeleteACLs(ctx, ACLFilter{ResourceType: ACLResourceTopic}, ACLFilter{Principal: "User:nobody"})
	require.NoError(t, err)
	require.Len(t, deleted, 2)
	require.NoError(t, deleted[0].Err)
	assert.Equal(t, []ACL{want[0]}, deleted[0].Deleted)
	require.NoError(t, deleted[1].Err)
	assert.Empty(t, deleted[1].Deleted)
	eventually(t, ctx, h, "the deletion to show", func() bool {
		got, err = cl.DescribeACLs(ctx, ACLFilter{})
		require.NoError(t, err)
		return len(got) == 1
	})
	assert.Equal(t, []ACL{write}, got)
}
