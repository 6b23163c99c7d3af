package protocol

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// bigMetadataResponse is a v12 response for a mid-sized cluster: 3 brokers,
// 100 topics of 10 partitions, replication factor 3.
func bigMetadataResponse() *MetadataResponse {
	resp := NewMetadataResponse()
	resp.ClusterID = stringPtr("cluster-abcdefghijkl")
	for i := int32(0); i < 3; i++ {
		resp.Brokers = append(resp.Brokers, MetadataResponseBroker{NodeID: i, Host: "broker-" + strconv.Itoa(int(i)) + ".example.com", Port: 9092})
	}
	for t := 0; t < 100; t++ {
		topic := MetadataResponseTopic{Name: stringPtr("topic-" + strconv.Itoa(t)), TopicID: UUID{0: byte(t), 15: 1}}
		for p := int32(0); p < 10; p++ {
			topic.Partitions = append(topic.Partitions, MetadataResponsePartition{
				PartitionIndex:  p,
				LeaderID:        p % 3,
				LeaderEpoch:     7,
				ReplicaNodes:    []int32{p % 3, (p + 1) % 3, (p + 2) % 3},
				IsrNodes:        []int32{p % 3, (p + 1) % 3, (p + 2) % 3},
				OfflineReplicas: []int32{},
			})
		}
		resp.Topics = append(resp.Topics, topic)
	}
	return resp
}

// fetchRequest is a v16 consumer fetch of 10 topics × 10 partitions.
func fetchRequest() *FetchRequest {
	req := NewFetchRequest()
	req.MaxWaitMs = 500
	req.MinBytes = 1
	req.SessionEpoch = -1
	for t := 0; t < 10; t++ {
		topic := FetchRequestTopic{Topic: "topic-" + strconv.Itoa(t), TopicID: UUID{0: byte(t), 15: 2}}
		for p := int32(0); p < 10; p++ {
			part := FetchRequestPartition{}
			part.Default()
			part.Partition = p
			part.FetchOffset = 1 << 30
			part.PartitionMaxBytes = 1 << 20
			topic.Partitions = append(topic.Partitions, part)
		}
		req.Topics = append(req.Topics, topic)
	}
	return req
}

func TestEncodeIntoReusedBufferDoesNotAllocate(t *testing.T) {
	for name, tc := range map[string]struct {
		m Message
		v int16
	}{
		"Metadata v12 response": {bigMetadataResponse(), 12},
		"Metadata v8 response":  {bigMetadataResponse(), 8},
		"Fetch v16 request":     {fetchRequest(), 16},
		"Fetch v11 request":     {fetchRequest(), 11},
	} {
		buf, err := tc.m.AppendTo(nil, tc.v)
		require.NoError(t, err)
		allocs := testing.AllocsPerRun(20, func() {
			buf, _ = tc.m.AppendTo(buf[:0], tc.v)
		})
		require.Zero(t, allocs, name)
	}
}

func benchEncode(b *testing.B, m Message, version int16) {
	buf, err := m.AppendTo(nil, version)
	require.NoError(b, err)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf, _ = m.AppendTo(buf[:0], version)
	}
}

func benchDecode(b *testing.B, m Message, version int16, fresh func() Message, reuse bool) {
	buf, err := m.AppendTo(nil, version)
	require.NoError(b, err)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	target := fresh()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !reuse {
			target = fresh()
		}
		if err := target.DecodeFrom(buf, version); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMetadataResponseEncodeV12(b *testing.B) {
	benchEncode(b, bigMetadataResponse(), 12)
}

func BenchmarkMetadataResponseDecodeV12(b *testing.B) {
	benchDecode(b, bigMetadataResponse(), 12, func() Message { return new(MetadataResponse) }, false)
}

func BenchmarkMetadataResponseDecodeV12Reuse(b *testing.B) {
	benchDecode(b, bigMetadataResponse(), 12, func() Message { return new(MetadataResponse) }, true)
}

func BenchmarkFetchRequestEncodeV16(b *testing.B) {
	benchEncode(b, fetchRequest(), 16)
}

func BenchmarkFetchRequestDecodeV16(b *testing.B) {
	benchDecode(b, fetchRequest(), 16, func() Message { return new(FetchRequest) }, false)
}

func BenchmarkRequestFrameMetadataV12(b *testing.B) {
	req := NewMetadataRequest()
	req.Topics = []MetadataRequestTopic{{Name: stringPtr("topic-1")}, {Name: stringPtr("topic-2")}}
	client := "gregor"
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf, _ = AppendRequestFrame(buf[:0], req, 12, int32(i), &client)
	}
}
