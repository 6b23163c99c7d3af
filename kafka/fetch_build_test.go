package kafka

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildLoop is a consumer of parts partitions, all fetching from offset 0,
// and the fetch loop of their one leader.
func buildLoop(t testing.TB, parts int) (*SimpleConsumer, *fetchLoop) {
	topic := offlineTopic(t, parts)
	cfg, err := ConsumerConfig{}.withDefaults(topic)
	require.NoError(t, err)
	c := newSimpleConsumer(topic, cfg)
	c.started.Store(true) // no supervisor: nothing dials
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	c.mu.Lock()
	for id := range int32(parts) {
		c.moveLocked(c.byID[id], 0)
	}
	c.mu.Unlock()
	return c, &fetchLoop{c: c, broker: topic.Partition(0).Leader(), index: map[int32]int{}}
}

// sentIDs are the partitions of l's request in flight, in request order,
// and takes them out of flight.
func sentIDs(c *SimpleConsumer, l *fetchLoop) []int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []int32
	for _, s := range l.sent {
		ids = append(ids, s.op.id)
		s.op.inflight, s.op.owner = false, nil
	}
	c.unreserveLocked(l)
	return ids
}

func TestBuildPutsFirstPartitionsAhead(t *testing.T) {
	c, l := buildLoop(t, 6)
	c.mu.Lock()
	c.byID[4].first, c.byID[0].first = true, true
	c.mu.Unlock()
	req, done := l.build()
	require.False(t, done)
	require.NotNil(t, req)
	// Those marked first lead, in the rotation's order; the rest follow it.
	assert.Equal(t, []int32{0, 4, 1, 2, 3, 5}, sentIDs(c, l))
	assert.Len(t, req.Topics[0].Partitions, 6)
	for i, id := range []int32{0, 4, 1, 2, 3, 5} {
		assert.Equal(t, id, req.Topics[0].Partitions[i].Partition)
	}

	// The next request starts its rotation one partition on.
	req, _ = l.build()
	require.NotNil(t, req)
	assert.Equal(t, []int32{4, 0, 1, 2, 3, 5}, sentIDs(c, l))
	assert.Nil(t, l.firsts[:cap(l.firsts)][0].op, "the scratch keeps no partition alive")
}

// BenchmarkBuildAllFirst builds the request of a consumer whose every
// partition is marked first, as after a response that filled up before
// reaching most of a large topic's partitions.
func BenchmarkBuildAllFirst(b *testing.B) {
	for _, parts := range []int{100, 3000} {
		b.Run(fmt.Sprint("partitions=", parts), func(b *testing.B) {
			c, l := buildLoop(b, parts)
			for b.Loop() {
				c.mu.Lock()
				for _, op := range c.parts {
					op.first = true
				}
				c.mu.Unlock()
				if req, _ := l.build(); req == nil {
					b.Fatal("no request")
				}
				sentIDs(c, l)
			}
		})
	}
}

func TestBuildDoesNotLongPollAheadOfHeldPartitions(t *testing.T) {
	c, l := buildLoop(t, 3)
	c.mu.Lock()
	for _, op := range c.parts {
		op.fetchAt, op.highWatermark = 10, 10 // at their end
	}
	c.mu.Unlock()
	// All at their end: a long poll, which new records answer.
	req, _ := l.build()
	require.NotNil(t, req)
	assert.Equal(t, []int32{0, 1, 2}, sentIDs(c, l))

	// Partition 1 has records left but no room for them: a Fetch of the
	// other two would be held by the broker, and 1 would wait behind it.
	c.mu.Lock()
	held := c.byID[1]
	held.highWatermark = 50
	held.pendingMsgs = c.cfg.QueuedMaxMessages
	c.mu.Unlock()
	req, done := l.build()
	assert.False(t, done)
	assert.Nil(t, req, "no Fetch while the only partitions with room are at their end")
	assert.Empty(t, l.sent)

	// One of those with room gets records: fetch it (and the other).
	c.mu.Lock()
	c.byID[2].highWatermark = 11
	c.mu.Unlock()
	req, _ = l.build()
	require.NotNil(t, req)
	assert.ElementsMatch(t, []int32{0, 2}, sentIDs(c, l))

	// Room again: partition 1 goes too.
	c.mu.Lock()
	c.byID[2].highWatermark = 10
	held.pendingMsgs = 0
	c.mu.Unlock()
	req, _ = l.build()
	require.NotNil(t, req)
	assert.ElementsMatch(t, []int32{0, 1, 2}, sentIDs(c, l))
}

// A consumer far behind on many partitions names only as many as fill a
// Fetch, since the broker reads every partition named; the next Fetch
// starts where that one stopped. Partitions at their end cost nothing.
func TestBuildNamesPartitionsUntilTheFetchIsFull(t *testing.T) {
	c, l := buildLoop(t, 60)
	c.mu.Lock()
	for _, op := range c.parts {
		op.highWatermark, op.recordBytes = 1000, 10240
	}
	c.byID[3].highWatermark, c.byID[7].highWatermark = 0, 0 // at their end
	c.byID[9].highWatermark = 2                             // two records left
	share := c.fetchSizeLocked(c.byID[0])
	room, _ := c.fetchRoomLocked()
	budget := c.fetchMaxBytes(math.MaxInt32, room, 0)
	c.mu.Unlock()
	require.Equal(t, 1<<20, share, "test assumes the default 1 MiB share")
	require.Equal(t, 16<<20, budget, "test assumes a quarter of the default QueuedMaxBytes")

	// Partitions 0-18 but 3, 7 and 9 bring a share each, 16 MiB, and 9
	// two records: the Fetch is full with partition 18.
	req, _ := l.build()
	require.NotNil(t, req)
	var want []int32
	for id := range int32(19) {
		want = append(want, id)
	}
	assert.Equal(t, want, sentIDs(c, l))
	assert.Equal(t, int32(budget), req.MaxBytes)

	// The next Fetch starts with partition 19.
	req, _ = l.build()
	require.NotNil(t, req)
	assert.Equal(t, int32(19), sentIDs(c, l)[0])

	// Once the ends are unknown or reached, a Fetch names them all.
	c.mu.Lock()
	for _, op := range c.parts {
		op.highWatermark = -1
	}
	c.mu.Unlock()
	req, _ = l.build()
	require.NotNil(t, req)
	assert.Len(t, sentIDs(c, l), 60)
}

// A consumer whose shared bound others fill has no room for even one
// partition: its loop must wait on the shared list, or nothing wakes it
// once they make room (the application may read none of its partitions
// meanwhile, since it holds none of their records).
func TestBuildWaitsForRoomOthersHold(t *testing.T) {
	c, l := buildLoop(t, 4)
	other, _ := buildLoop(t, 1)
	s := &sharedBytes{}
	c.mu.Lock()
	for _, op := range c.parts {
		op.highWatermark, op.recordBytes = 1000, 1024
	}
	c.shareBytes(s)
	c.mu.Unlock()
	other.mu.Lock()
	other.shareBytes(s)
	other.addQueuedLocked(other.byID[0], other.cfg.QueuedMaxBytes) // the other holds the whole bound
	other.mu.Unlock()

	req, done := l.build()
	assert.False(t, done)
	assert.Nil(t, req, "no room for a Fetch")
	c.mu.Lock()
	s.mu.Lock()
	assert.True(t, l.waitingRoom, "waits for room on the shared list")
	assert.Equal(t, []*fetchLoop{l}, []*fetchLoop(s.waiting))
	s.mu.Unlock()
	c.mu.Unlock()

	// The other's records are consumed: the room freed kicks the loop.
	other.mu.Lock()
	other.addQueuedLocked(other.byID[0], -other.cfg.QueuedMaxBytes)
	kick := other.roomFreedLocked()
	other.mu.Unlock()
	assert.Equal(t, []*fetchLoop{l}, kick)
	req, _ = l.build()
	require.NotNil(t, req)
	assert.NotEmpty(t, sentIDs(c, l))
}

// The same alone: a consumer whose own records fill its bound waits on
// its own list, and reading them kicks the loop.
func TestBuildWaitsForRoomItHolds(t *testing.T) {
	c, l := buildLoop(t, 4)
	c.mu.Lock()
	for _, op := range c.parts {
		op.highWatermark, op.recordBytes = 1000, 1024
	}
	c.addQueuedLocked(c.byID[0], c.cfg.QueuedMaxBytes)
	c.mu.Unlock()

	req, _ := l.build()
	assert.Nil(t, req, "no room for a Fetch")
	c.mu.Lock()
	assert.True(t, l.waitingRoom, "waits for room")
	assert.Len(t, c.bytes.waiting, 1)
	c.addQueuedLocked(c.byID[0], -c.cfg.QueuedMaxBytes)
	kick := c.roomFreedLocked()
	c.mu.Unlock()
	assert.Equal(t, []*fetchLoop{l}, kick)
}
