package kafka

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/protocol"
)

func strp(s string) *string { return &s }

// offsetFetchV7 is an answer in the layout of OffsetFetch v0–7: topics at
// the top level.
func offsetFetchV7(groupCode int16, topics ...protocol.OffsetFetchResponseTopic) *protocol.OffsetFetchResponse {
	resp := protocol.NewOffsetFetchResponse()
	resp.ErrorCode = groupCode
	resp.Topics = topics
	return resp
}

// offsetFetchV8 is an answer in the layout of OffsetFetch v8+: per group.
func offsetFetchV8(groups ...protocol.OffsetFetchResponseGroup) *protocol.OffsetFetchResponse {
	resp := protocol.NewOffsetFetchResponse()
	resp.Groups = groups
	return resp
}

func TestReadGroupOffsetsBothLayouts(t *testing.T) {
	want := GroupOffsets{
		"orders": {0: {Offset: 5, Metadata: "m0"}, 2: {Offset: 0}},
		"audit":  {1: {Offset: 7}},
	}
	v7 := offsetFetchV7(0,
		protocol.OffsetFetchResponseTopic{Name: "orders", Partitions: []protocol.OffsetFetchResponsePartition{
			{PartitionIndex: 0, CommittedOffset: 5, Metadata: strp("m0")},
			{PartitionIndex: 1, CommittedOffset: -1, Metadata: strp("")}, // no commit
			{PartitionIndex: 2, CommittedOffset: 0},
		}},
		protocol.OffsetFetchResponseTopic{Name: "audit", Partitions: []protocol.OffsetFetchResponsePartition{
			{PartitionIndex: 1, CommittedOffset: 7},
		}},
		protocol.OffsetFetchResponseTopic{Name: "deleted", Partitions: []protocol.OffsetFetchResponsePartition{
			{PartitionIndex: 0, CommittedOffset: -1, ErrorCode: protocol.ErrUnknownTopicOrPartition.Code},
		}},
	)
	v8 := offsetFetchV8(
		protocol.OffsetFetchResponseGroup{GroupID: "other", ErrorCode: protocol.ErrGroupAuthorizationFailed.Code},
		protocol.OffsetFetchResponseGroup{GroupID: "g", Topics: []protocol.OffsetFetchResponseTopics{
			{Name: "orders", Partitions: []protocol.OffsetFetchResponsePartitions{
				{PartitionIndex: 0, CommittedOffset: 5, Metadata: strp("m0")},
				{PartitionIndex: 1, CommittedOffset: -1},
				{PartitionIndex: 2, CommittedOffset: 0},
			}},
			{Name: "audit", Partitions: []protocol.OffsetFetchResponsePartitions{
				{PartitionIndex: 1, CommittedOffset: 7},
			}},
			{Name: "deleted", Partitions: []protocol.OffsetFetchResponsePartitions{
				{PartitionIndex: 0, CommittedOffset: -1, ErrorCode: protocol.ErrUnknownTopicOrPartition.Code},
			}},
		}},
	)
	for name, resp := range map[string]*protocol.OffsetFetchResponse{"v7": v7, "v8": v8} {
		t.Run(name, func(t *testing.T) {
			got, err := readGroupOffsets(resp, "g")
			require.NoError(t, err)
			assert.Equal(t, want, got)

			fetched, err := fetchedOffsets(resp, "g")
			require.NoError(t, err)
			assert.Len(t, fetched, 5, "every partition, whatever its outcome")
		})
	}
}

func TestReadGroupOffsetsErrors(t *testing.T) {
	// An unknown group has no offsets, in either layout.
	for _, resp := range []*protocol.OffsetFetchResponse{
		offsetFetchV7(protocol.ErrGroupIDNotFound.Code),
		offsetFetchV8(protocol.OffsetFetchResponseGroup{GroupID: "g", ErrorCode: protocol.ErrGroupIDNotFound.Code}),
	} {
		got, err := readGroupOffsets(resp, "g")
		require.NoError(t, err)
		assert.Empty(t, got)
		assert.NotNil(t, got)
	}

	// A coordinator that moved is a group-level error the caller retries.
	for _, resp := range []*protocol.OffsetFetchResponse{
		offsetFetchV7(protocol.ErrNotCoordinator.Code),
		offsetFetchV8(protocol.OffsetFetchResponseGroup{GroupID: "g", ErrorCode: protocol.ErrNotCoordinator.Code}),
	} {
		_, err := readGroupOffsets(resp, "g")
		require.ErrorIs(t, err, protocol.ErrNotCoordinator)
		assert.True(t, coordinatorBusy(err))
	}

	// Partition errors name the partition.
	resp := offsetFetchV7(0, protocol.OffsetFetchResponseTopic{Name: "orders",
		Partitions: []protocol.OffsetFetchResponsePartition{
			{PartitionIndex: 3, CommittedOffset: -1, ErrorCode: protocol.ErrUnstableOffsetCommit.Code},
		}})
	_, err := readGroupOffsets(resp, "g")
	var perr *PartitionError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, "orders", perr.Topic)
	assert.Equal(t, int32(3), perr.Partition)
	assert.ErrorIs(t, err, protocol.ErrUnstableOffsetCommit)

	// A v8+ answer must speak of the group asked about.
	_, err = readGroupOffsets(offsetFetchV8(protocol.OffsetFetchResponseGroup{GroupID: "other"}), "g")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"g"`)
}

func TestOffsetFetchRequestLayouts(t *testing.T) {
	req := offsetFetchRequest("g", map[string][]int32{"b": {1}, "a": {0, 2}})
	assert.Equal(t, "g", req.GroupID)
	require.Len(t, req.Topics, 2)
	assert.Equal(t, "a", req.Topics[0].Name, "sorted")
	assert.Equal(t, []int32{0, 2}, req.Topics[0].PartitionIndexes)
	require.Len(t, req.Groups, 1)
	assert.Equal(t, "g", req.Groups[0].GroupID)
	assert.Equal(t, int32(-1), req.Groups[0].MemberEpoch)
	require.Len(t, req.Groups[0].Topics, 2)
	assert.Equal(t, "b", req.Groups[0].Topics[1].Name)

	all := offsetFetchRequest("g", nil)
	assert.Nil(t, all.Topics, "null: every topic (v2–7)")
	assert.Nil(t, all.Groups[0].Topics, "null: every topic (v8+)")
}

func TestGroupOffsetsOnly(t *testing.T) {
	all := GroupOffsets{
		"orders": {0: {Offset: 1}, 1: {Offset: 2}},
		"audit":  {0: {Offset: 3}},
		"other":  {0: {Offset: 4}},
	}
	got := all.only(map[string][]int32{"orders": {1, 5}, "audit": nil, "missing": nil})
	assert.Equal(t, GroupOffsets{"orders": {1: {Offset: 2}}, "audit": {0: {Offset: 3}}}, got)
}

func TestOffsetCommitRequestAndResults(t *testing.T) {
	meta := "m"
	req := offsetCommitRequest("g", -1, "", map[string]map[int32]int64{"b": {1: 10}, "a": {2: 20, 0: 0}}, &meta)
	assert.Equal(t, int32(-1), req.GenerationIDOrMemberEpoch)
	assert.Empty(t, req.MemberID)
	require.Len(t, req.Topics, 2)
	assert.Equal(t, "a", req.Topics[0].Name)
	require.Len(t, req.Topics[0].Partitions, 2)
	p := req.Topics[0].Partitions[1]
	assert.Equal(t, int32(2), p.PartitionIndex)
	assert.Equal(t, int64(20), p.CommittedOffset)
	assert.Equal(t, int32(-1), p.CommittedLeaderEpoch)
	assert.Equal(t, int64(-1), p.CommitTimestamp)
	assert.Equal(t, &meta, p.CommittedMetadata)

	resp := protocol.NewOffsetCommitResponse()
	resp.Topics = []protocol.OffsetCommitResponseTopic{{Name: "a", Partitions: []protocol.OffsetCommitResponsePartition{
		{PartitionIndex: 0}, {PartitionIndex: 2, ErrorCode: protocol.ErrUnknownMemberID.Code},
	}}}
	got := commitResults(resp)
	require.Contains(t, got, "a")
	assert.NoError(t, got["a"][0])
	assert.True(t, errors.Is(got["a"][2], protocol.ErrUnknownMemberID))
	assert.NotContains(t, got, "b")
}

// A consumer's start asks for stable offsets (a new coordinator answers
// with what it acknowledged, not what its high watermark covers yet), and
// a refusal while a transaction's commits are pending is retried; the
// admin reads leave RequireStable off, as Java's admin client does.
func TestConsumerOffsetFetchRequiresStable(t *testing.T) {
	req := consumerOffsetFetchRequest("g", "orders", []int32{0, 1})
	assert.True(t, req.RequireStable)
	require.Len(t, req.Groups, 1)
	assert.Equal(t, []int32{0, 1}, req.Groups[0].Topics[0].PartitionIndexes)
	assert.False(t, offsetFetchRequest("g", nil).RequireStable)

	unstable := errors.Join(&PartitionError{Topic: "orders", Partition: 0, Err: protocol.ErrUnstableOffsetCommit})
	assert.True(t, retriableOffsetError(unstable))
}
