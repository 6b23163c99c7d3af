package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/protocol"
)

// fetchVersions is what a broker offering Fetch up to maxFetch negotiates.
func fetchVersions(maxFetch int16) *protocol.Versions {
	resp := protocol.NewAPIVersionsResponse()
	resp.APIKeys = []protocol.APIVersionsResponseAPIKey{{APIKey: protocol.APIKeyFetch, MinVersion: 4, MaxVersion: maxFetch}}
	return protocol.NewVersions(resp)
}

// fullFetch is a request for partitions at the offsets given, as build
// makes it (every partition the loop fetches now).
func fullFetch(offsets map[int32]int64) *protocol.FetchRequest {
	req := protocol.NewFetchRequest()
	t := protocol.FetchRequestTopic{Topic: "t", TopicID: protocol.UUID{1}}
	for id := range int32(len(offsets) + 8) {
		if off, ok := offsets[id]; ok {
			t.Partitions = append(t.Partitions, protocol.FetchRequestPartition{Partition: id, FetchOffset: off,
				CurrentLeaderEpoch: 0, PartitionMaxBytes: 1 << 20, LastFetchedEpoch: -1, LogStartOffset: -1})
		}
	}
	req.Topics = []protocol.FetchRequestTopic{t}
	return req
}

func requestedOffsets(req *protocol.FetchRequest) map[int32]int64 {
	out := map[int32]int64{}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			out[p.Partition] = p.FetchOffset
		}
	}
	return out
}

func TestFetchSessionRequests(t *testing.T) {
	v := fetchVersions(17)
	var s fetchSession

	req := fullFetch(map[int32]int64{0: 0, 1: 0, 2: 0})
	s.prepare(req, v)
	assert.Equal(t, int32(0), req.SessionID)
	assert.Equal(t, int32(0), req.SessionEpoch, "the first request asks for a session")
	assert.Len(t, requestedOffsets(req), 3, "and is full")
	s.answered(9, nil)

	// Partition 0 got records: only its new offset is sent.
	req = fullFetch(map[int32]int64{0: 5, 1: 0, 2: 0})
	s.prepare(req, v)
	assert.Equal(t, int32(9), req.SessionID)
	assert.Equal(t, int32(1), req.SessionEpoch)
	assert.Equal(t, map[int32]int64{0: 5}, requestedOffsets(req))
	assert.Empty(t, req.ForgottenTopicsData)
	s.answered(9, nil)

	// Nothing changed: no partitions at all; the broker fetches the session's.
	req = fullFetch(map[int32]int64{0: 5, 1: 0, 2: 0})
	s.prepare(req, v)
	assert.Equal(t, int32(2), req.SessionEpoch)
	assert.Empty(t, req.Topics)
	s.answered(9, nil)

	// Partition 2 leaves, 3 comes, 1's size changes.
	req = fullFetch(map[int32]int64{0: 5, 1: 0, 3: 7})
	req.Topics[0].Partitions[1].PartitionMaxBytes = 2 << 20
	s.prepare(req, v)
	assert.Equal(t, int32(3), req.SessionEpoch)
	assert.Equal(t, map[int32]int64{1: 0, 3: 7}, requestedOffsets(req))
	require.Len(t, req.ForgottenTopicsData, 1)
	assert.Equal(t, []int32{2}, req.ForgottenTopicsData[0].Partitions)
	assert.Equal(t, protocol.UUID{1}, req.ForgottenTopicsData[0].TopicID)
	assert.Equal(t, "t", req.ForgottenTopicsData[0].Topic)

	// A stale epoch: full again, closing the session it names.
	s.answered(0, protocol.ErrInvalidFetchSessionEpoch)
	req = fullFetch(map[int32]int64{0: 5, 1: 0, 3: 7})
	s.prepare(req, v)
	assert.Equal(t, int32(9), req.SessionID)
	assert.Equal(t, int32(0), req.SessionEpoch)
	assert.Len(t, requestedOffsets(req), 3)

	// The session is unknown: full, asking for a new one.
	s.answered(0, protocol.ErrFetchSessionIDNotFound)
	req = fullFetch(map[int32]int64{0: 5})
	s.prepare(req, v)
	assert.Equal(t, int32(0), req.SessionID)
	assert.Equal(t, int32(0), req.SessionEpoch)

	// The broker's session cache is full: it answers with id 0, and every
	// request stays full.
	s.answered(0, nil)
	for range 2 {
		req = fullFetch(map[int32]int64{0: 5, 1: 0})
		s.prepare(req, v)
		assert.Equal(t, int32(0), req.SessionID)
		assert.Equal(t, int32(0), req.SessionEpoch)
		assert.Len(t, requestedOffsets(req), 2)
		s.answered(0, nil)
	}

	// A session again; then the request fails on the way: full next.
	s.answered(0, nil)
	req = fullFetch(map[int32]int64{0: 5})
	s.prepare(req, v)
	s.answered(11, nil)
	req = fullFetch(map[int32]int64{0: 6})
	s.prepare(req, v)
	assert.Equal(t, int32(1), req.SessionEpoch)
	s.failed()
	req = fullFetch(map[int32]int64{0: 6})
	s.prepare(req, v)
	assert.Equal(t, int32(11), req.SessionID)
	assert.Equal(t, int32(0), req.SessionEpoch)
	s.answered(11, nil)

	// A new socket starts over too.
	v2 := fetchVersions(17)
	req = fullFetch(map[int32]int64{0: 6})
	s.prepare(req, v2)
	assert.Equal(t, int32(0), req.SessionEpoch)
	assert.Len(t, requestedOffsets(req), 1)
	s.answered(11, nil)

	// A recreated topic (a new id) starts over too.
	req = fullFetch(map[int32]int64{0: 6})
	s.prepare(req, v2)
	assert.Equal(t, int32(1), req.SessionEpoch)
	s.answered(11, nil)
	req = fullFetch(map[int32]int64{0: 6})
	req.Topics[0].TopicID = protocol.UUID{2}
	s.prepare(req, v2)
	assert.Equal(t, int32(11), req.SessionID)
	assert.Equal(t, int32(0), req.SessionEpoch)
	s.answered(11, nil)

	// Closing: epoch -1 for the session, no partitions.
	cl := s.closeRequest()
	require.NotNil(t, cl)
	assert.Equal(t, int32(11), cl.SessionID)
	assert.Equal(t, int32(-1), cl.SessionEpoch)
	assert.Empty(t, cl.Topics)
	assert.Nil(t, s.closeRequest(), "closed once")
}

func TestFetchSessionOldBroker(t *testing.T) {
	var s fetchSession
	for range 3 {
		req := fullFetch(map[int32]int64{0: 1, 1: 2})
		s.prepare(req, fetchVersions(6))
		assert.Equal(t, int32(-1), req.SessionEpoch, "Fetch v6 has no sessions")
		assert.Len(t, requestedOffsets(req), 2)
		s.answered(0, nil)
	}
	assert.Nil(t, s.closeRequest())
}

func TestFetchSessionEpochWraps(t *testing.T) {
	assert.Equal(t, int32(1), nextFetchSessionEpoch(1<<31-1))
	assert.Equal(t, int32(8), nextFetchSessionEpoch(7))
}

// TestFetchLoopSessionAbsentPartitions drives a fetch loop's build and
// take with the answers a broker gives in a session: partitions left out
// of an incremental response are unchanged (not failed, not refetched),
// every record is delivered once, a paused partition leaves the session
// and comes back, and a session error brings a full request at once.
func TestFetchLoopSessionAbsentPartitions(t *testing.T) {
	c, l := buildLoop(t, 4)
	var d fetchDecoder
	v := fetchVersions(12)

	next := func() *protocol.FetchRequest {
		t.Helper()
		req, done := l.build()
		require.False(t, done)
		require.NotNil(t, req)
		l.sess.prepare(req, v)
		return req
	}
	answer := func(sessionID int32, code int16, parts ...protocol.FetchResponsePartition) takeOutcome {
		t.Helper()
		resp := protocol.NewFetchResponse()
		resp.SessionID, resp.ErrorCode = sessionID, code
		if len(parts) > 0 {
			resp.Responses = []protocol.FetchResponseTopic{{Topic: "t", Partitions: parts}}
		}
		res, o := l.apply(resp)
		c.deliver(l, &d, res)
		return o
	}
	withRecords := func(id int32, from, to int64) protocol.FetchResponsePartition {
		return protocol.FetchResponsePartition{PartitionIndex: id, HighWatermark: to, LastStableOffset: to,
			PreferredReadReplica: -1, Records: batchAt(t, protocol.CompressionNone, offsetRange(from, to)...)}
	}
	empty := func(id int32, hw int64) protocol.FetchResponsePartition {
		return protocol.FetchResponsePartition{PartitionIndex: id, HighWatermark: hw, LastStableOffset: hw, PreferredReadReplica: -1}
	}

	req := next()
	assert.Equal(t, int32(0), req.SessionEpoch)
	assert.Equal(t, map[int32]int64{0: 0, 1: 0, 2: 0, 3: 0}, requestedOffsets(req))
	answer(42, 0, withRecords(0, 0, 3), empty(1, 0), empty(2, 0), empty(3, 0))

	req = next()
	assert.Equal(t, int32(42), req.SessionID)
	assert.Equal(t, int32(1), req.SessionEpoch)
	assert.Equal(t, map[int32]int64{0: 3}, requestedOffsets(req), "only the partition that moved")
	// Partitions 0, 2 and 3 left out: unchanged.
	o := answer(42, 0, withRecords(1, 0, 5))
	assert.False(t, o.failed)
	c.mu.Lock()
	assert.Equal(t, int64(3), c.byID[0].fetchAt, "a partition left out keeps its offset")
	assert.False(t, c.byID[0].inflight)
	assert.False(t, c.byID[0].stalled)
	c.mu.Unlock()

	require.NoError(t, c.Pause(2))
	req = next()
	assert.Equal(t, int32(2), req.SessionEpoch)
	assert.Equal(t, map[int32]int64{1: 5}, requestedOffsets(req))
	require.Len(t, req.ForgottenTopicsData, 1)
	assert.Equal(t, []int32{2}, req.ForgottenTopicsData[0].Partitions, "a paused partition leaves the session")
	answer(42, 0, withRecords(3, 0, 2))

	require.NoError(t, c.Resume(2))
	req = next()
	assert.Equal(t, int32(3), req.SessionEpoch)
	assert.Equal(t, map[int32]int64{2: 0, 3: 2}, requestedOffsets(req), "a resumed partition comes back")
	o = answer(0, protocol.ErrInvalidFetchSessionEpoch.Code)
	assert.False(t, o.failed, "a session error is no reason to wait")

	req = next()
	assert.Equal(t, int32(42), req.SessionID)
	assert.Equal(t, int32(0), req.SessionEpoch)
	assert.Equal(t, map[int32]int64{0: 3, 1: 5, 2: 0, 3: 2}, requestedOffsets(req), "full after a session error")
	answer(43, 0, empty(0, 3), empty(1, 5), withRecords(2, 0, 4), empty(3, 2))

	req = next()
	assert.Equal(t, int32(43), req.SessionID)
	assert.Equal(t, map[int32]int64{2: 4}, requestedOffsets(req))
	o = answer(0, protocol.ErrFetchSessionTopicIDError.Code)
	assert.False(t, o.failed)
	assert.True(t, o.stale, "topic ids disagree: refresh metadata")
	req = next()
	assert.Equal(t, int32(0), req.SessionEpoch)
	assert.Len(t, requestedOffsets(req), 4)

	// Throttled (KIP-219): an empty full answer; the next is full again.
	resp := protocol.NewFetchResponse()
	resp.SessionID, resp.ThrottleTimeMs = 44, 100
	res, _ := l.apply(resp)
	c.deliver(l, &d, res)
	req = next()
	assert.Equal(t, int32(0), req.SessionEpoch)
	answer(45, 0, empty(0, 3), empty(1, 5), empty(2, 4), empty(3, 2))
	req = next()
	assert.Equal(t, int32(1), req.SessionEpoch)
	assert.Empty(t, req.Topics)
	// A partition outside the session: start over.
	answer(45, 0, withRecords(9, 0, 1))
	req = next()
	assert.Equal(t, int32(45), req.SessionID)
	assert.Equal(t, int32(0), req.SessionEpoch)
	assert.Len(t, requestedOffsets(req), 4)

	// Every record once, in order per partition.
	got := map[int32][]int64{}
	for range 3 + 5 + 2 + 4 {
		ctx, cancel := context.WithTimeout(context.Background(), 5e9)
		m, err := c.Consume(ctx)
		cancel()
		require.NoError(t, err)
		got[m.Partition] = append(got[m.Partition], m.Offset)
	}
	assert.Equal(t, map[int32][]int64{0: offsetRange(0, 3), 1: offsetRange(0, 5), 2: offsetRange(0, 4), 3: offsetRange(0, 2)}, got)
}
