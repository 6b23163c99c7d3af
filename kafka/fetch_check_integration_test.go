package kafka

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/gregorkafka/gregor/protocol"
)

// TestFetchCheckVouchesForARealBrokersBatches sends a Fetch to a real
// broker with the consumer's watcher and checks that what it vouches for
// is exactly the batches the decoder walks, by offset, length and
// checksum: so against a real broker's responses (at the version
// negotiated) the decoder skips hashing every whole batch, and a scan that
// silently vouched for nothing would fail here rather than only cost CPU.
func TestFetchCheckVouchesForARealBrokersBatches(t *testing.T) {
	tc := testcluster.Shared(t, testcluster.KRaftSingle)
	forEachHandlerParallel(t, func(t *testing.T, h handler.Handler) {
		ctx := testCtx(t)
		cl := newTestClient(t, ctx, h, Config{Hosts: tc.Bootstrap()})
		topic := makeTopic(t, ctx, cl, TopicSpec{Name: uniqueTopic(t, "fetchcheck"), Partitions: 1, ReplicationFactor: 1})
		p := topic.Partition(0)
		value := strings.Repeat("v", 40<<10)
		for i := range 30 {
			codec := protocol.CompressionNone
			if i%3 == 0 {
				codec = protocol.CompressionLZ4
			}
			produceBatch(t, ctx, p, codec, 0, value, value)
		}

		bc, err := p.Leader().conn(ctx, connFetch)
		require.NoError(t, err)
		req := protocol.NewFetchRequest()
		req.MaxBytes = 16 << 20
		var part protocol.FetchRequestPartition
		part.Default()
		part.PartitionMaxBytes = 8 << 20
		req.Topics = []protocol.FetchRequestTopic{{Topic: topic.Name(), TopicID: topic.ID(), Partitions: []protocol.FetchRequestPartition{part}}}
		check := newFetchCheck()
		f, err := bc.RequestWatched(ctx, req, 0, check)
		require.NoError(t, err)
		m, err := f.Get(ctx)
		require.NoError(t, err)
		resp := m.(*protocol.FetchResponse)
		require.Len(t, resp.Responses, 1)
		require.Len(t, resp.Responses[0].Partitions, 1)
		rp := resp.Responses[0].Partitions[0]
		require.Zero(t, rp.ErrorCode, "%v", protocol.ErrorForCode(rp.ErrorCode))
		records := rp.Records

		// The decoder's batches, where it walks them.
		var walked []protocol.CheckedBatch
		for at := 0; at+12 <= len(records); {
			n := 12 + int(binary.BigEndian.Uint32(records[at+8:]))
			if at+n > len(records) {
				break
			}
			walked = append(walked, protocol.CheckedBatch{At: int32(at), Len: int32(n), CRC: binary.BigEndian.Uint32(records[at+17:])})
			at += n
		}
		require.Len(t, walked, 30, "every batch came whole")
		require.Equal(t, walked, check.checked(0), "the watcher vouched for each batch the decoder walks (version %d)", f.Version())
		require.Nil(t, check.checked(1))
	})
}
