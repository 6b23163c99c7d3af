package protocol

import (
	"bytes"
	"errors"
	"testing"
)

var _ RequestOf[*ProduceResponse] = (*ProduceRecordsRequest)(nil)

type testSource []Record

func (s testSource) Len() int { return len(s) }

func (s testSource) Record(i int) (int64, []byte, []byte, []RecordHeader) {
	return s[i].Timestamp, s[i].Key, s[i].Value, s[i].Headers
}

// produceRecordsCase is a request to two partitions: one batch written from its source (timestamps out of
// order, so deltas go negative and the max is not the last; a null key, an empty value, headers), one
// encoded already (compressed).
func produceRecordsCase(t *testing.T) (*ProduceRecordsRequest, *ProduceRequest) {
	t.Helper()
	src := testSource{
		{Timestamp: 1_700_000_000_500, Key: []byte("k1"), Value: []byte("first")},
		{Timestamp: 1_700_000_000_100, Value: []byte{}, Headers: []RecordHeader{{Key: "h", Value: []byte("v")}, {Key: "n"}}},
		{Timestamp: 1_700_000_009_000, Key: []byte{}, Value: bytes.Repeat([]byte("x"), 300)},
		{Timestamp: 1_700_000_000_700, Value: nil},
	}
	hdr := RecordBatch{PartitionLeaderEpoch: -1, Attributes: BatchAttrTransactional, ProducerID: 42, ProducerEpoch: 3, BaseSequence: 17}
	var bb RecordBatchBuilder
	bb.Reset(&hdr)
	for _, r := range src {
		bb.Add(r.Timestamp, r.Key, r.Value, r.Headers)
	}
	want0, err := bb.Build(nil, CompressionNone)
	if err != nil {
		t.Fatal(err)
	}
	lz4, err := bb.Build(nil, CompressionLZ4)
	if err != nil {
		t.Fatal(err)
	}
	txn := "txn-1"
	topicID := UUID{1, 2, 3}
	direct := &ProduceRecordsRequest{TransactionalID: &txn, Acks: -1, TimeoutMs: 30000, Topic: "orders", TopicID: topicID,
		Partitions: []ProduceRecordsPartition{{Index: 4, Batch: hdr, Source: src}, {Index: 1, Records: lz4}}}
	plain := &ProduceRequest{TransactionalID: &txn, Acks: -1, TimeoutMs: 30000, TopicData: []ProduceRequestTopic{{
		Name: "orders", TopicID: topicID,
		PartitionData: []ProduceRequestPartition{{Index: 4, Records: want0}, {Index: 1, Records: lz4}},
	}}}
	return direct, plain
}

// TestProduceRecordsRequestEncoding holds the request to the bytes of the generated ProduceRequest carrying
// the same batches built by RecordBatchBuilder, at every version that carries record batches.
func TestProduceRecordsRequestEncoding(t *testing.T) {
	direct, plain := produceRecordsCase(t)
	for v := int16(3); v <= 13; v++ {
		got, err := AppendRequestFrame([]byte("prefix"), direct, v, 7, nil)
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		want, err := AppendRequestFrame([]byte("prefix"), plain, v, 7, nil)
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("v%d: frames differ:\n got %x\nwant %x", v, got, want)
		}
		if n := direct.Partitions[0].WireSize(); n != len(plain.TopicData[0].PartitionData[0].Records) {
			t.Fatalf("v%d: WireSize %d, want %d", v, n, len(plain.TopicData[0].PartitionData[0].Records))
		}
		// The broker's view: the frame's body decodes as a Produce request, and the batch as written.
		var back ProduceRecordsRequest
		body, err := direct.AppendTo(nil, v)
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		if err := back.DecodeFrom(body, v); err != nil {
			t.Fatalf("v%d: decoding: %v", v, err)
		}
		if !bytes.Equal(back.Partitions[0].Records, plain.TopicData[0].PartitionData[0].Records) {
			t.Fatalf("v%d: decoded records differ", v)
		}
		var d RecordDecoder
		recs, _, err := d.AppendRecords(nil, back.Partitions[0].Records)
		if err != nil || len(recs) != 4 || recs[1].Timestamp != 1_700_000_000_100 || recs[2].Timestamp != 1_700_000_009_000 {
			t.Fatalf("v%d: decoded %+v, %v", v, recs, err)
		}
	}
}

// TestProduceRecordsRequestLegacy: versions before 3 carry message sets, which come encoded; a batch to
// write from its records is an error there, not a malformed request.
func TestProduceRecordsRequestLegacy(t *testing.T) {
	direct, _ := produceRecordsCase(t)
	if _, err := direct.AppendTo(nil, 2); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("v2 with a record source: %v, want ErrUnsupportedVersion", err)
	}
	set, err := AppendMessageSet(nil, []Record{{Value: []byte("v")}}, 1, CompressionNone)
	if err != nil {
		t.Fatal(err)
	}
	legacy := &ProduceRecordsRequest{Acks: 1, TimeoutMs: 1000, Topic: "t", Partitions: []ProduceRecordsPartition{{Index: 0, Records: set}}}
	plain := &ProduceRequest{Acks: 1, TimeoutMs: 1000, TopicData: []ProduceRequestTopic{{Name: "t",
		PartitionData: []ProduceRequestPartition{{Index: 0, Records: set}}}}}
	for v := int16(0); v <= 2; v++ {
		got, err1 := legacy.AppendTo(nil, v)
		want, err2 := plain.AppendTo(nil, v)
		if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
			t.Fatalf("v%d: %x (%v), want %x (%v)", v, got, err1, want, err2)
		}
	}
	if _, err := legacy.AppendTo(nil, 14); err == nil {
		t.Fatal("v14 encoded")
	}
}

// TestProduceRecordsRequestAllocs is the encoding's allocation budget: written into a frame buffer with
// room, a batch costs no allocation at all, whatever its record count.
func TestProduceRecordsRequestAllocs(t *testing.T) {
	src := make(testSource, 1000)
	for i := range src {
		src[i] = Record{Timestamp: 1_700_000_000_000 + int64(i), Value: bytes.Repeat([]byte("v"), 100)}
	}
	req := &ProduceRecordsRequest{Acks: 1, TimeoutMs: 1000, Topic: "t",
		Partitions: []ProduceRecordsPartition{{Index: 0, Batch: RecordBatch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, Source: src}}}
	buf := make([]byte, 0, 256<<10)
	if n := testing.AllocsPerRun(20, func() {
		var err error
		if buf, err = AppendRequestFrame(buf[:0], req, 11, 1, nil); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per request of 1000 records, want 0", n)
	}
}

// FuzzProduceRecordsRequestDecode: whatever the bytes, decoding fails cleanly or yields a request that
// encodes again.
func FuzzProduceRecordsRequestDecode(f *testing.F) {
	direct, _ := produceRecordsCase(&testing.T{})
	for _, v := range []int16{3, 9, 13} {
		body, err := direct.AppendTo(nil, v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, v)
	}
	f.Fuzz(func(t *testing.T, body []byte, v int16) {
		var r ProduceRecordsRequest
		if err := r.DecodeFrom(body, v); err != nil {
			return
		}
		if _, err := r.AppendTo(nil, v); err != nil {
			t.Fatalf("decoded at v%d but does not encode: %v", v, err)
		}
	})
}
