package kafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// TestBrokerRequests drives every kind of broker connection with the typed
// request methods: a group's life on the coordinator (group and offsets
// connections), a fetch, and the general connection.
func TestBrokerRequests(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		name := uniqueTopic(t, "requests")
		require.NoError(t, cl.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: 1, ReplicationFactor: 1}))
		topic, err := cl.Topic(ctx, name)
		require.NoError(t, err)
		p := topic.Partition(0)
		produceRecords(t, ctx, p, -1, 1000)

		// Fetch the record back.
		freq := protocol.NewFetchRequest()
		freq.MaxWaitMs, freq.MinBytes, freq.MaxBytes = 100, 1, 1<<20
		freq.Topics = []protocol.FetchRequestTopic{{
			Topic: name, TopicID: topic.ID(),
			Partitions: []protocol.FetchRequestPartition{{
				Partition: 0, FetchOffset: 0, PartitionMaxBytes: 1 << 20,
				CurrentLeaderEpoch: -1, LastFetchedEpoch: -1, LogStartOffset: -1,
			}},
		}}
		fresp, err := p.Leader().Fetch(ctx, freq)
		require.NoError(t, err)
		require.NoError(t, protocol.ErrorForCode(fresp.ErrorCode))
		require.Len(t, fresp.Responses, 1)
		fp := fresp.Responses[0].Partitions[0]
		require.NoError(t, protocol.ErrorForCode(fp.ErrorCode))
		assert.Equal(t, int64(1), fp.HighWatermark)
		var values []string
		_, err = protocol.DecodeRecordBatches(fp.Records, func(b *protocol.RecordBatch) error {
			for _, r := range b.Records {
				values = append(values, string(r.Value))
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, []string{"record 0"}, values)

		// A group of one member: join (twice: the broker hands out the
		// member id first), sync, heartbeat, commit, fetch offsets, leave.
		group := uniqueTopic(t, "requests-group")
		protoType, protoName := "gregor-test", "only"
		join := &protocol.JoinGroupRequest{
			GroupID: group, SessionTimeoutMs: 10000, RebalanceTimeoutMs: 10000, ProtocolType: protoType,
			Protocols: []protocol.JoinGroupRequestProtocol{{Name: protoName, Metadata: []byte("meta")}},
		}
		var coord *Broker
		var jresp *protocol.JoinGroupResponse
		eventually(t, ctx, h, "joining the group", func() bool {
			coord, err = cl.Cluster().GroupCoordinator(ctx, group)
			require.NoError(t, err)
			jresp, err = coord.JoinGroup(ctx, join)
			require.NoError(t, err)
			switch err := protocol.ErrorForCode(jresp.ErrorCode); {
			case err == nil:
				return true
			case err == protocol.ErrMemberIDRequired:
				join.MemberID = jresp.MemberID
			default:
				require.True(t, cl.Cluster().invalidateCoordinatorOn(group, err) || protocol.IsRetriable(err), "%v", err)
			}
			return false
		})
		member, gen := jresp.MemberID, jresp.GenerationID
		assert.Equal(t, member, jresp.Leader, "the only member leads")
		require.Len(t, jresp.Members, 1)

		sresp, err := coord.SyncGroup(ctx, &protocol.SyncGroupRequest{
			GroupID: group, GenerationID: gen, MemberID: member, ProtocolType: &protoType, ProtocolName: &protoName,
			Assignments: []protocol.SyncGroupRequestAssignment{{MemberID: member, Assignment: []byte("yours")}},
		})
		require.NoError(t, err)
		require.NoError(t, protocol.ErrorForCode(sresp.ErrorCode))
		assert.Equal(t, "yours", string(sresp.Assignment))

		hresp, err := coord.Heartbeat(ctx, &protocol.HeartbeatRequest{GroupID: group, GenerationID: gen, MemberID: member})
		require.NoError(t, err)
		require.NoError(t, protocol.ErrorForCode(hresp.ErrorCode))

		meta := "gregor"
		cresp, err := coord.OffsetCommit(ctx, &protocol.OffsetCommitRequest{
			GroupID: group, GenerationIDOrMemberEpoch: gen, MemberID: member, RetentionTimeMs: -1,
			Topics: []protocol.OffsetCommitRequestTopic{{Name: name, Partitions: []protocol.OffsetCommitRequestPartition{{
				PartitionIndex: 0, CommittedOffset: 1, CommittedLeaderEpoch: -1, CommitTimestamp: -1, CommittedMetadata: &meta,
			}}}},
		})
		require.NoError(t, err)
		require.NoError(t, protocol.ErrorForCode(cresp.Topics[0].Partitions[0].ErrorCode))

		// Versions up to 7 carry one group at the top level, later ones a
		// list: fill both, read whichever came back.
		oresp, err := coord.OffsetFetch(ctx, &protocol.OffsetFetchRequest{
			GroupID: group, Topics: []protocol.OffsetFetchRequestTopic{{Name: name, PartitionIndexes: []int32{0}}},
			Groups: []protocol.OffsetFetchRequestGroup{{GroupID: group, MemberEpoch: -1,
				Topics: []protocol.OffsetFetchRequestTopics{{Name: name, PartitionIndexes: []int32{0}}}}},
		})
		require.NoError(t, err)
		if len(oresp.Groups) > 0 {
			g := oresp.Groups[0]
			require.NoError(t, protocol.ErrorForCode(g.ErrorCode))
			op := g.Topics[0].Partitions[0]
			assert.Equal(t, int64(1), op.CommittedOffset)
			assert.Equal(t, meta, *op.Metadata)
		} else {
			op := oresp.Topics[0].Partitions[0]
			assert.Equal(t, int64(1), op.CommittedOffset)
			assert.Equal(t, meta, *op.Metadata)
		}

		lresp, err := coord.ListGroups(ctx, &protocol.ListGroupsRequest{})
		require.NoError(t, err)
		require.NoError(t, protocol.ErrorForCode(lresp.ErrorCode))
		var listed bool
		for _, g := range lresp.Groups {
			listed = listed || g.GroupID == group
		}
		assert.True(t, listed, "ListGroups shows the group")

		leave, err := coord.LeaveGroup(ctx, &protocol.LeaveGroupRequest{
			GroupID: group, MemberID: member, Members: []protocol.LeaveGroupRequestMemberIdentity{{MemberID: member}},
		})
		require.NoError(t, err)
		require.NoError(t, protocol.ErrorForCode(leave.ErrorCode))

		// Each kind of work went over a connection of its own.
		b := p.Leader()
		require.Same(t, coord, b, "one broker")
		b.mu.Lock()
		var keys []connKey
		for k := range b.conns {
			keys = append(keys, k)
		}
		b.mu.Unlock()
		assert.ElementsMatch(t, []connKey{connGeneral, connProduce, connFetch, connOffsets, groupConn(group)}, keys)
	})
}

// TestBrokerRequestGeneric sends requests through the generic Request: one
// with no typed method (DescribeCluster), whose response type is inferred
// from the request; one that has a typed method, with the same answer; one
// on a group connection; and one the broker does not serve, which fails
// with a typed error without reaching the broker.
func TestBrokerRequestGeneric(t *testing.T) {
	c := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandler(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: c.Bootstrap()})
		name := uniqueTopic(t, "generic")
		require.NoError(t, cl.Cluster().CreateTopics(ctx, TopicSpec{Name: name, Partitions: 2, ReplicationFactor: 1}))
		b := cl.Cluster().Brokers()[0]

		dc, err := Request(ctx, b, protocol.NewDescribeClusterRequest())
		require.NoError(t, err)
		require.NoError(t, protocol.ErrorForCode(dc.ErrorCode))
		assert.Equal(t, cl.Cluster().ClusterID(), dc.ClusterID)
		require.Len(t, dc.Brokers, 1)
		assert.Equal(t, b.ID(), dc.Brokers[0].BrokerID)

		mreq := protocol.NewMetadataRequest()
		mreq.Topics = []protocol.MetadataRequestTopic{{Name: &name}}
		viaRequest, err := Request(ctx, b, mreq)
		require.NoError(t, err)
		viaMethod, err := b.Metadata(ctx, mreq)
		require.NoError(t, err)
		require.Len(t, viaRequest.Topics, 1)
		assert.Len(t, viaRequest.Topics[0].Partitions, 2)
		assert.Equal(t, viaMethod.Topics[0].Partitions, viaRequest.Topics[0].Partitions)

		// A heartbeat from a member the coordinator does not know.
		coord, err := cl.Cluster().GroupCoordinator(ctx, name+"-group")
		require.NoError(t, err)
		hb, err := Request(ctx, coord, &protocol.HeartbeatRequest{GroupID: name + "-group", GenerationID: 1, MemberID: "nobody"})
		require.NoError(t, err)
		assert.Error(t, protocol.ErrorForCode(hb.ErrorCode), "a heartbeat of no member is refused")

		// Controller-only APIs are not in a broker's ApiVersions.
		_, err = Request(ctx, b, protocol.NewBrokerHeartbeatRequest())
		require.ErrorIs(t, err, protocol.ErrUnsupportedVersion)
	})
}
