package kafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/protocol"
)

// TestTakePassesTheBatchesCheckedOnArrival: the batches a Fetch's watcher
// verified reach the decoder with their partition, counted in response
// order across topics, another topic's included.
func TestTakePassesTheBatchesCheckedOnArrival(t *testing.T) {
	c, l := offlineConsumer(t, ConsumerConfig{QueuedMaxMessages: 100})
	c.mu.Lock()
	c.moveLocked(c.byID[1], 0)
	op := c.byID[1]
	c.mu.Unlock()

	first, second := batchAt(t, protocol.CompressionNone, 0, 1), batchAt(t, protocol.CompressionLZ4, 2)
	resp := protocol.NewFetchResponse()
	resp.Responses = []protocol.FetchResponseTopic{
		{Topic: "other", Partitions: []protocol.FetchResponsePartition{
			{PartitionIndex: 1, Records: batchAt(t, protocol.CompressionNone, 7, 8, 9)},
		}},
		{Topic: "t", Partitions: []protocol.FetchResponsePartition{
			{PartitionIndex: 1, HighWatermark: 3, LastStableOffset: 3, Records: concat(first, second)},
		}},
	}
	const version = 12
	frame, err := protocol.AppendResponseFrame(nil, resp, version, 1)
	require.NoError(t, err)
	frame = frame[4:]
	got := protocol.NewFetchResponse()
	_, err = protocol.DecodeResponseFrame(frame, got, version)
	require.NoError(t, err)

	l.check = newFetchCheck()
	l.check.Watch(version, frame[:len(frame)/2])
	l.check.Watch(version, frame)
	res := takeFor(t, l, op, got)
	require.Len(t, res.items, 1)
	checked := res.items[0].in.checked
	require.Len(t, checked, 2, "the partition's own batches, not the other topic's")
	assert.Equal(t, int32(0), checked[0].At)
	assert.Equal(t, int32(len(first)), checked[1].At)
	assert.Equal(t, int32(len(second)), checked[1].Len)

	c.deliver(l, &fetchDecoder{}, res)
	assert.Equal(t, []string{"v0", "v1", "v2"}, consumeN(t, c, 3))
}
