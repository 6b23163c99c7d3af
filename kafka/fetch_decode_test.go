package kafka

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/protocol"
)

// batchAt encodes records with the given offsets as one batch based at
// offsets[0], with values "v<offset>".
func batchAt(t testing.TB, codec protocol.Compression, offsets ...int64) []byte {
	t.Helper()
	b := &protocol.RecordBatch{BaseOffset: offsets[0], ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
	for _, off := range offsets {
		b.Records = append(b.Records, protocol.Record{Offset: off, Timestamp: 1700000000000 + off,
			Key: []byte(fmt.Sprint("k", off)), Value: []byte(fmt.Sprint("v", off)),
			Headers: []protocol.RecordHeader{{Key: "h", Value: []byte(fmt.Sprint(off))}}})
	}
	out, err := protocol.AppendRecordBatch(nil, b, codec)
	require.NoError(t, err)
	return out
}

func offsetRange(from, to int64) []int64 {
	var out []int64
	for o := from; o < to; o++ {
		out = append(out, o)
	}
	return out
}

// txnBatch is a transactional batch of producer pid.
func txnBatch(t testing.TB, pid int64, offsets ...int64) []byte {
	t.Helper()
	b := &protocol.RecordBatch{BaseOffset: offsets[0], ProducerID: pid, ProducerEpoch: 0, BaseSequence: 0,
		Attributes: protocol.BatchAttrTransactional}
	for _, off := range offsets {
		b.Records = append(b.Records, protocol.Record{Offset: off, Timestamp: 1, Value: []byte(fmt.Sprint("v", off))})
	}
	out, err := protocol.AppendRecordBatch(nil, b, protocol.CompressionNone)
	require.NoError(t, err)
	return out
}

// markerBatch is a transaction marker (commit or abort) of producer pid.
func markerBatch(t testing.TB, pid, offset int64, typ protocol.RecordControlType) []byte {
	t.Helper()
	key := binary.BigEndian.AppendUint16([]byte{0, 0}, uint16(typ))
	b := &protocol.RecordBatch{BaseOffset: offset, ProducerID: pid, ProducerEpoch: 0, BaseSequence: -1,
		Attributes: protocol.BatchAttrTransactional | protocol.BatchAttrControl,
		Records:    []protocol.Record{{Offset: offset, Timestamp: 1, Key: key, Value: []byte{0, 0, 0, 0, 0, 0}}}}
	out, err := protocol.AppendRecordBatch(nil, b, protocol.CompressionNone)
	require.NoError(t, err)
	return out
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func decodeAll(t *testing.T, in decodeIn) decodeOut {
	t.Helper()
	if in.topic == "" {
		in.topic = "t"
	}
	sc := protocol.ScanRecords(in.records)
	require.False(t, sc.Corrupt)
	in.records = in.records[:sc.End]
	in.count = sc.Count
	var d fetchDecoder
	out := d.decode(&in)
	size := 0
	for i := range out.msgs {
		size += messageBytes(&out.msgs[i])
	}
	require.Equal(t, size, out.bytes, "the bytes counted while decoding are the messages' keys and values")
	return out
}

func offsetsOf(msgs []Message) []int64 {
	out := make([]int64, len(msgs))
	for i := range msgs {
		out[i] = msgs[i].Offset
	}
	return out
}

func TestScanRecords(t *testing.T) {
	b1 := batchAt(t, protocol.CompressionNone, 10, 11, 12)
	b2 := batchAt(t, protocol.CompressionGzip, 13, 14)

	t.Run("complete batches then a partial tail", func(t *testing.T) {
		data := concat(b1, b2, b1[:30])
		sc := protocol.ScanRecords(data)
		assert.Equal(t, len(b1)+len(b2), sc.End)
		assert.Equal(t, int64(15), sc.Next)
		assert.Equal(t, 5, sc.Count)
		assert.Zero(t, sc.Need)
	})
	t.Run("partial first batch tells its size", func(t *testing.T) {
		sc := protocol.ScanRecords(b1[:len(b1)-1])
		assert.Zero(t, sc.End)
		assert.Equal(t, int64(-1), sc.Next)
		assert.Equal(t, len(b1), sc.Need)
	})
	t.Run("cut inside the first header", func(t *testing.T) {
		sc := protocol.ScanRecords(b1[:8])
		assert.Zero(t, sc.End)
		assert.Zero(t, sc.Need)
		assert.False(t, sc.Corrupt)
	})
	t.Run("empty", func(t *testing.T) {
		assert.Equal(t, protocol.RecordsScan{Next: -1}, protocol.ScanRecords(nil))
	})
	t.Run("batch emptied by compaction still moves the offset", func(t *testing.T) {
		empty, err := protocol.AppendRecordBatch(nil, &protocol.RecordBatch{BaseOffset: 20, LastOffsetDelta: 4,
			ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, protocol.CompressionNone)
		require.NoError(t, err)
		sc := protocol.ScanRecords(empty)
		assert.Equal(t, len(empty), sc.End)
		assert.Equal(t, int64(25), sc.Next)
		assert.Zero(t, sc.Count)
	})
	t.Run("legacy messages", func(t *testing.T) {
		recs := []protocol.Record{{Offset: 7, Timestamp: 1, Value: []byte("a")}, {Offset: 8, Timestamp: 1, Value: []byte("b")}}
		plain, err := protocol.AppendMessageSet(nil, recs, 1, protocol.CompressionNone)
		require.NoError(t, err)
		sc := protocol.ScanRecords(plain)
		assert.Equal(t, len(plain), sc.End)
		assert.Equal(t, int64(9), sc.Next)
		assert.Equal(t, 2, sc.Count)

		// A compressed wrapper carries the offset of its last message.
		wrapped, err := protocol.AppendMessageSet(nil, recs, 1, protocol.CompressionSnappy)
		require.NoError(t, err)
		sc = protocol.ScanRecords(wrapped)
		assert.Equal(t, len(wrapped), sc.End)
		assert.Equal(t, int64(9), sc.Next)
	})
	t.Run("impossible length", func(t *testing.T) {
		bad := append([]byte(nil), b1...)
		binary.BigEndian.PutUint32(bad[8:], 2)
		sc := protocol.ScanRecords(concat(b2, bad))
		assert.True(t, sc.Corrupt)
		assert.Equal(t, len(b2), sc.End, "complete entries before it still count")
	})
}

func TestFetchDecode(t *testing.T) {
	for _, codec := range []protocol.Compression{protocol.CompressionNone, protocol.CompressionGzip,
		protocol.CompressionSnappy, protocol.CompressionLZ4, protocol.CompressionZstd} {
		t.Run("middle of a "+codec.String()+" batch", func(t *testing.T) {
			out := decodeAll(t, decodeIn{partition: 3, fetchOffset: 105,
				records: concat(batchAt(t, codec, offsetRange(100, 110)...), batchAt(t, codec, 110, 111))})
			require.NoError(t, out.err)
			assert.Equal(t, offsetRange(105, 112), offsetsOf(out.msgs), "records before the fetch offset are skipped")
			m := out.msgs[0]
			assert.Equal(t, "t", m.Topic)
			assert.Equal(t, int32(3), m.Partition)
			assert.Equal(t, "k105", string(m.Key))
			assert.Equal(t, "v105", string(m.Value))
			assert.Equal(t, []Header{{Key: "h", Value: []byte("105")}}, m.Headers)
			assert.Equal(t, int64(1700000000105), m.Timestamp.UnixMilli())
			assert.Equal(t, int64(-1), out.gapAt)
		})
	}

	t.Run("legacy message set", func(t *testing.T) {
		recs := []protocol.Record{{Offset: 0, Timestamp: -1, Value: []byte("a")}, {Offset: 1, Timestamp: -1, Value: []byte("b")}}
		data, err := protocol.AppendMessageSet(nil, recs, 0, protocol.CompressionGzip)
		require.NoError(t, err)
		out := decodeAll(t, decodeIn{records: data})
		require.NoError(t, out.err)
		require.Len(t, out.msgs, 2)
		assert.True(t, out.msgs[0].Timestamp.IsZero(), "magic 0 has no timestamp")
		assert.Nil(t, out.msgs[0].Key)
	})

	// Producer 7's transaction (0-2) is aborted at 3; producer 8's (4-5)
	// commits at 6; 7-8 are not transactional.
	txns := concat(txnBatch(t, 7, 0, 1, 2), markerBatch(t, 7, 3, protocol.RecordControlAbort),
		txnBatch(t, 8, 4, 5), markerBatch(t, 8, 6, protocol.RecordControlCommit), batchAt(t, protocol.CompressionNone, 7, 8))
	aborted := []protocol.FetchResponseAbortedTransaction{{ProducerID: 7, FirstOffset: 0}}

	t.Run("read committed drops aborted records and markers", func(t *testing.T) {
		out := decodeAll(t, decodeIn{records: txns, aborted: aborted, readCommitted: true})
		require.NoError(t, out.err)
		assert.Equal(t, []int64{4, 5, 7, 8}, offsetsOf(out.msgs))
		assert.Equal(t, int64(-1), out.gapAt, "markers and aborted batches are no gap")
	})
	t.Run("read uncommitted drops only markers", func(t *testing.T) {
		out := decodeAll(t, decodeIn{records: txns, aborted: nil})
		require.NoError(t, out.err)
		assert.Equal(t, []int64{0, 1, 2, 4, 5, 7, 8}, offsetsOf(out.msgs))
		assert.Equal(t, int64(-1), out.gapAt)
	})
	t.Run("an abort marker ends the abort", func(t *testing.T) {
		// Producer 7 aborts at 3, then commits a new transaction (4-5, 6).
		data := concat(txnBatch(t, 7, 0, 1, 2), markerBatch(t, 7, 3, protocol.RecordControlAbort),
			txnBatch(t, 7, 4, 5), markerBatch(t, 7, 6, protocol.RecordControlCommit))
		out := decodeAll(t, decodeIn{records: data, aborted: aborted, readCommitted: true})
		assert.Equal(t, []int64{4, 5}, offsetsOf(out.msgs))
	})

	t.Run("gaps within and between batches", func(t *testing.T) {
		out := decodeAll(t, decodeIn{records: concat(batchAt(t, protocol.CompressionNone, 0, 1, 3), batchAt(t, protocol.CompressionNone, 9))})
		require.NoError(t, out.err)
		assert.Equal(t, []int64{0, 1, 3, 9}, offsetsOf(out.msgs), "compacted logs deliver what is left")
		assert.Equal(t, int64(2), out.gapAt)
	})

	t.Run("corrupt batch", func(t *testing.T) {
		bad := batchAt(t, protocol.CompressionNone, 3, 4)
		bad[len(bad)-1] ^= 0xff // breaks the CRC
		out := decodeAll(t, decodeIn{records: concat(batchAt(t, protocol.CompressionNone, 0, 1, 2), bad, batchAt(t, protocol.CompressionNone, 5))})
		require.ErrorIs(t, out.err, protocol.ErrCorruptMessage)
		assert.Equal(t, []int64{0, 1, 2}, offsetsOf(out.msgs), "what came before is kept")
		assert.Equal(t, int64(5), out.skipTo, "the bad batch is skipped, what follows refetched")
	})

	t.Run("messages outlive the decoder", func(t *testing.T) {
		var d fetchDecoder
		data := batchAt(t, protocol.CompressionLZ4, 0, 1)
		sc := protocol.ScanRecords(data)
		first := d.decode(&decodeIn{topic: "t", records: data[:sc.End], count: sc.Count})
		second := d.decode(&decodeIn{topic: "t", records: batchAt(t, protocol.CompressionLZ4, 2, 3), count: 2})
		require.Len(t, second.msgs, 2)
		assert.Equal(t, "v0", string(first.msgs[0].Value))
		assert.Equal(t, []Header{{Key: "h", Value: []byte("1")}}, first.msgs[1].Headers)
	})

	t.Run("a lying record count does not size the slice", func(t *testing.T) {
		data := batchAt(t, protocol.CompressionNone, 0)
		var d fetchDecoder
		out := d.decode(&decodeIn{topic: "t", records: data, count: 1 << 30})
		assert.LessOrEqual(t, cap(out.msgs), len(data))
	})
}
