package testcluster

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/protocol"
)

var capture = flag.Bool("capture", false, "write every response frame to protocol/testdata/broker for offline decode tests")

// TestWireAgainstBrokers sends requests built by gregor's protocol package to real Kafka 4.x and 3.9 brokers at
// every version both sides support, and decodes the answers. Produce and Fetch run at every version too, so
// records travel as v2 batches and, on 3.9, as legacy message sets (magic 0 and 1) with every codec, and the
// fetched records must equal what was produced.
func TestWireAgainstBrokers(t *testing.T) {
	for _, kind := range []Config{KRaftSingle, ZooKeeperSingle} {
		t.Run(kind.Name(), func(t *testing.T) {
			c := Shared(t, kind)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			topic := "wire-" + kind.Name()
			require.NoError(t, c.CreateTopic(ctx, TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 1}))
			t.Cleanup(func() { _ = c.DeleteTopic(context.Background(), topic) })

			rc, err := dialRaw(ctx, c.Brokers()[0].Addr())
			require.NoError(t, err)
			defer rc.Close()
			w := &wireRun{t: t, rc: rc, dir: captureDir(t, c.Config().Version)}

			md := w.everyVersion(protocol.NewMetadataRequest(), func(v int16) protocol.Request {
				req := protocol.NewMetadataRequest()
				req.Topics = []protocol.MetadataRequestTopic{{Name: &topic}}
				return req
			}).(*protocol.MetadataResponse)
			require.Len(t, md.Topics, 1)
			topicID := md.Topics[0].TopicID

			w.everyVersion(protocol.NewAPIVersionsRequest(), func(int16) protocol.Request {
				req := protocol.NewAPIVersionsRequest()
				req.ClientSoftwareName, req.ClientSoftwareVersion = "gregor", "0"
				return req
			})
			w.everyVersion(protocol.NewListGroupsRequest(), func(int16) protocol.Request { return protocol.NewListGroupsRequest() })
			w.everyVersion(protocol.NewFindCoordinatorRequest(), func(v int16) protocol.Request {
				req := protocol.NewFindCoordinatorRequest()
				req.Key, req.CoordinatorKeys = "wire-group", []string{"wire-group"}
				return req
			})
			w.everyVersion(protocol.NewDescribeGroupsRequest(), func(int16) protocol.Request {
				req := protocol.NewDescribeGroupsRequest()
				req.Groups = []string{"wire-group"}
				return req
			})

			var want []string
			produce := func(v int16, codec protocol.Compression) {
				values := []string{fmt.Sprintf("v%d-a-%s", v, codec), fmt.Sprintf("v%d-b-%s", v, codec)}
				req := protocol.NewProduceRequest()
				req.Acks, req.TimeoutMs = -1, 10000
				req.TopicData = []protocol.ProduceRequestTopic{{Name: topic,
					PartitionData: []protocol.ProduceRequestPartition{{Index: 0, Records: recordsFor(t, v, codec, values)}}}}
				p := w.send(req, v).(*protocol.ProduceResponse).Responses[0].PartitionResponses[0]
				require.NoError(t, protocol.ErrorForCode(p.ErrorCode), "Produce v%d with %s", v, codec)
				require.Equal(t, int64(len(want)), p.BaseOffset, "Produce v%d base offset", v)
				want = append(want, values...)
			}
			produceVersions := w.versions(protocol.NewProduceRequest())
			for _, v := range produceVersions {
				if v < 3 && kind.Mode == KRaft {
					continue // Kafka 4 still lists Produce v0-2 in ApiVersions but closes the connection on them
				}
				produce(v, protocol.Compression(int(v)%4)) // none, gzip, snappy, lz4
			}
			// zstd last: it needs Produce v7+, and brokers refuse to down-convert it for Fetch before v10.
			zstdOffset := int64(len(want))
			produce(produceVersions[len(produceVersions)-1], protocol.CompressionZstd)

			for _, v := range w.versions(protocol.NewListOffsetsRequest()) {
				req := protocol.NewListOffsetsRequest()
				req.ReplicaID = -1
				req.Topics = []protocol.ListOffsetsRequestTopic{{Name: topic,
					Partitions: []protocol.ListOffsetsRequestPartition{{PartitionIndex: 0, Timestamp: -1, MaxNumOffsets: 1, CurrentLeaderEpoch: -1}}}}
				p := w.send(req, v).(*protocol.ListOffsetsResponse).Topics[0].Partitions[0]
				require.NoError(t, protocol.ErrorForCode(p.ErrorCode))
				latest := p.Offset
				if v == 0 {
					latest = p.OldStyleOffsets[0]
				}
				require.Equal(t, int64(len(want)), latest, "ListOffsets v%d latest", v)
			}

			for _, v := range w.versions(protocol.NewFetchRequest()) {
				// Down-converting brokers (3.9, Fetch v0-3) may end a response with a padding entry that
				// looks like a truncated message, so read the log the way a consumer does: from the next
				// offset after what was decoded, until everything is back.
				var got []string
				for next, rounds := int64(0), 0; next < int64(len(want)); rounds++ {
					require.Less(t, rounds, 50, "Fetch v%d makes no progress at offset %d", v, next)
					req := protocol.NewFetchRequest()
					req.MaxWaitMs, req.MinBytes, req.MaxBytes = 100, 1, 1<<20
					req.Topics = []protocol.FetchRequestTopic{{Topic: topic, TopicID: topicID,
						Partitions: []protocol.FetchRequestPartition{{Partition: 0, FetchOffset: next, PartitionMaxBytes: 1 << 20,
							CurrentLeaderEpoch: -1, LastFetchedEpoch: -1, LogStartOffset: -1}}}}
					p := w.send(req, v).(*protocol.FetchResponse).Responses[0].Partitions[0]
					if v < 10 && next == zstdOffset {
						require.ErrorIs(t, protocol.ErrorForCode(p.ErrorCode), protocol.ErrUnsupportedCompressionType)
						got = append(got, want[next:]...) // unreadable at this version, by design
						break
					}
					require.NoError(t, protocol.ErrorForCode(p.ErrorCode), "Fetch v%d", v)
					require.Equal(t, int64(len(want)), p.HighWatermark)
					d := protocol.RecordDecoder{MinOffset: next}
					recs, _, err := d.AppendRecords(nil, p.Records)
					require.NoError(t, err, "Fetch v%d records", v)
					for _, r := range recs {
						require.Equal(t, next, r.Offset, "Fetch v%d offsets", v)
						got = append(got, string(r.Value))
						next++
					}
				}
				require.Equal(t, want, got, "Fetch v%d values", v)
			}
		})
	}
}

// recordsFor encodes values the way a client of that Produce version must: record batches from v3, legacy
// message sets before (magic 1 for v2, magic 0 for v0 and v1).
func recordsFor(t *testing.T, produceVersion int16, codec protocol.Compression, values []string) []byte {
	t.Helper()
	now := time.Now().UnixMilli()
	if produceVersion >= 3 {
		var bb protocol.RecordBatchBuilder
		bb.Reset(&protocol.RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1})
		for i, v := range values {
			bb.Add(now, []byte("k"+strconv.Itoa(i)), []byte(v), []protocol.RecordHeader{{Key: "h", Value: []byte(v)}})
		}
		out, err := bb.Build(nil, codec)
		require.NoError(t, err)
		return out
	}
	magic := int8(0)
	if produceVersion == 2 {
		magic = 1
	}
	recs := make([]protocol.Record, len(values))
	for i, v := range values {
		recs[i] = protocol.Record{Offset: int64(i), Timestamp: now, Value: []byte(v)}
	}
	out, err := protocol.AppendMessageSet(nil, recs, magic, codec)
	require.NoError(t, err)
	return out
}

type wireRun struct {
	t   *testing.T
	rc  *rawConn
	dir string
}

// versions lists the versions gregor would send req at (protocol.UsableVersionRange) that the broker also
// speaks, oldest first.
func (w *wireRun) versions(req protocol.Request) []int16 {
	ours, _ := protocol.UsableVersionRange(req.APIKey())
	theirs, ok := w.rc.versions.BrokerRange(req.APIKey())
	require.True(w.t, ok, "broker lacks %s", protocol.APIName(req.APIKey()))
	var out []int16
	for v := max(ours.Min, theirs.Min); v <= min(ours.Max, theirs.Max); v++ {
		out = append(out, v)
	}
	require.NotEmpty(w.t, out, "no common %s version", protocol.APIName(req.APIKey()))
	return out
}

// everyVersion sends the request build(v) at every shared version and returns the newest answer.
func (w *wireRun) everyVersion(proto protocol.Request, build func(int16) protocol.Request) protocol.Message {
	var last protocol.Message
	for _, v := range w.versions(proto) {
		last = w.send(build(v), v)
	}
	return last
}

// send round-trips one request and, with -capture, keeps the response frame.
func (w *wireRun) send(req protocol.Request, v int16) protocol.Message {
	w.t.Helper()
	rc := w.rc
	rc.corr++
	frame, err := protocol.AppendRequestFrame(nil, req, v, rc.corr, &clientID)
	require.NoError(w.t, err)
	_, err = rc.c.Write(frame)
	require.NoError(w.t, err)
	var size [4]byte
	_, err = io.ReadFull(rc.c, size[:])
	require.NoError(w.t, err)
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err = io.ReadFull(rc.c, body)
	require.NoError(w.t, err)
	resp := req.NewResponse()
	corr, err := protocol.DecodeResponseFrame(body, resp, v)
	require.NoError(w.t, err, "decoding %s v%d", protocol.APIName(req.APIKey()), v)
	require.Equal(w.t, rc.corr, corr)
	if w.dir != "" {
		name := fmt.Sprintf("%s-v%d.bin", protocol.APIName(req.APIKey()), v)
		require.NoError(w.t, os.WriteFile(filepath.Join(w.dir, name), body, 0o644))
	}
	return resp
}

func captureDir(t *testing.T, version string) string {
	if !*capture {
		return ""
	}
	root, err := RepoRoot()
	require.NoError(t, err)
	dir := filepath.Join(root, "protocol", "testdata", "broker", "kafka-"+version)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}
