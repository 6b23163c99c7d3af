package protocol

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goldenTS = 1700000000000 // 0x0000018bcfe56800

// goldenBatchHex is a two-record, uncompressed v2 batch laid out by hand
// from the protocol spec; the CRC-32C was computed independently.
var goldenBatchHex = strings.Join([]string{
	"0000000000000000", // base offset 0
	"00000046",         // batch length 70 = 82 - 12
	"ffffffff",         // partition leader epoch -1
	"02",               // magic
	"3291c928",         // crc-32c over attributes..end
	"0000",             // attributes: no compression, create time
	"00000001",         // last offset delta 1
	"0000018bcfe56800", // base timestamp
	"0000018bcfe56805", // max timestamp (+5 ms)
	"ffffffffffffffff", // producer id -1
	"ffff",             // producer epoch -1
	"ffffffff",         // base sequence -1
	"00000002",         // 2 records
	// record 0: length 8, attrs 0, ts delta 0, offset delta 0,
	// key "k", value "v", 0 headers
	"10" + "00" + "00" + "00" + "026b" + "0276" + "00",
	// record 1: length 11, attrs 0, ts delta 5, offset delta 1, null key,
	// value "hi", 1 header: key "h", null value
	"16" + "00" + "0a" + "02" + "01" + "046869" + "02" + "0268" + "01",
}, "")

func goldenBatch() *RecordBatch {
	return &RecordBatch{
		PartitionLeaderEpoch: -1,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		BaseSequence:         -1,
		Records: []Record{
			{Offset: 0, Timestamp: goldenTS, Key: []byte("k"), Value: []byte("v")},
			{Offset: 1, Timestamp: goldenTS + 5, Value: []byte("hi"), Headers: []RecordHeader{{Key: "h"}}},
		},
	}
}

func mustHex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestRecordBatchGoldenEncode(t *testing.T) {
	want := mustHex(t, goldenBatchHex)
	got, err := AppendRecordBatch(nil, goldenBatch(), CompressionNone)
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got))

	var bb RecordBatchBuilder
	bb.Reset(&RecordBatch{PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	for _, r := range goldenBatch().Records {
		bb.Add(r.Timestamp, r.Key, r.Value, r.Headers)
	}
	assert.Equal(t, len(want), bb.Size())
	got, err = bb.Build(nil, CompressionNone)
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got))
}

func TestRecordBatchGoldenDecode(t *testing.T) {
	data := mustHex(t, goldenBatchHex)
	var got []RecordBatch
	n, err := DecodeRecordBatches(data, func(b *RecordBatch) error {
		c := *b
		c.Records = append([]Record(nil), b.Records...)
		got = append(got, c)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, len(data), n)
	require.Len(t, got, 1)
	b := got[0]
	assert.Equal(t, int8(2), b.Magic)
	assert.Equal(t, int64(1), b.LastOffset())
	assert.Equal(t, int64(goldenTS), b.BaseTimestamp)
	assert.Equal(t, int64(goldenTS+5), b.MaxTimestamp)
	assert.Equal(t, int64(-1), b.ProducerID)
	require.Len(t, b.Records, 2)
	r0, r1 := b.Records[0], b.Records[1]
	assert.Equal(t, Record{Offset: 0, Timestamp: goldenTS, Key: []byte("k"), Value: []byte("v")}, r0)
	assert.Equal(t, int64(1), r1.Offset)
	assert.Equal(t, int64(goldenTS+5), r1.Timestamp)
	assert.Nil(t, r1.Key)
	assert.Equal(t, []byte("hi"), r1.Value)
	assert.Equal(t, []RecordHeader{{Key: "h"}}, r1.Headers)
	assert.Equal(t, int64(goldenTS+5), r1.Time().UnixMilli())
}

// testRecords builds n records covering null and empty keys and values,
// headers with null and empty values, and repeated header keys.
func testRecords(n int, withHeaders bool) []Record {
	recs := make([]Record, n)
	for i := range recs {
		r := &recs[i]
		r.Offset = int64(i)
		r.Timestamp = goldenTS + int64(i%7) - 3 // deltas go negative too
		switch i % 4 {
		case 0:
			r.Key = []byte(fmt.Sprintf("key-%d", i))
			r.Value = []byte(strings.Repeat("v", i%300))
		case 1:
			r.Value = []byte(fmt.Sprintf("value-%d", i)) // null key
		case 2:
			r.Key = []byte{} // empty, not null; value null (tombstone)
		case 3:
			r.Key, r.Value = []byte{}, []byte{}
		}
		if withHeaders && i%3 != 0 {
			r.Headers = []RecordHeader{{Key: "trace", Value: []byte(fmt.Sprint(i))}, {Key: "", Value: []byte{}}}
			if i%2 == 0 {
				r.Headers = append(r.Headers, RecordHeader{Key: fmt.Sprintf("h%d", i)})
			}
		}
	}
	return recs
}

func decodeAll(t testing.TB, d *RecordDecoder, data []byte) ([]RecordBatch, int) {
	var out []RecordBatch
	n, err := d.DecodeBatches(data, func(b *RecordBatch) error {
		c := *b
		c.Records = append([]Record(nil), b.Records...)
		out = append(out, c)
		return nil
	})
	require.NoError(t, err)
	return out, n
}

func TestRecordBatchRoundTrip(t *testing.T) {
	for _, codec := range allCodecs {
		for _, headers := range []bool{false, true} {
			for _, n := range []int{0, 1, 3, 2000} {
				t.Run(fmt.Sprintf("%s/headers=%v/n=%d", codec, headers, n), func(t *testing.T) {
					in := &RecordBatch{
						BaseOffset:           1000,
						PartitionLeaderEpoch: 7,
						Attributes:           BatchAttrTransactional,
						ProducerID:           42,
						ProducerEpoch:        3,
						BaseSequence:         99,
						Records:              testRecords(n, headers),
					}
					for i := range in.Records {
						in.Records[i].Offset += in.BaseOffset
					}
					data, err := AppendRecordBatch([]byte("prefix"), in, codec)
					require.NoError(t, err)
					data = data[len("prefix"):]

					batches, consumed := decodeAll(t, &RecordDecoder{}, data)
					require.Equal(t, len(data), consumed)
					require.Len(t, batches, 1)
					out := batches[0]
					assert.Equal(t, codec, out.Compression())
					assert.True(t, out.Transactional())
					assert.False(t, out.Control())
					assert.Equal(t, in.BaseOffset, out.BaseOffset)
					assert.Equal(t, int32(7), out.PartitionLeaderEpoch)
					assert.Equal(t, int64(42), out.ProducerID)
					assert.Equal(t, int16(3), out.ProducerEpoch)
					assert.Equal(t, int32(99), out.BaseSequence)
					if n > 0 {
						assert.Equal(t, in.BaseOffset+int64(n-1), out.LastOffset())
						assert.Equal(t, in.Records[0].Timestamp, out.BaseTimestamp)
						maxTS := in.Records[0].Timestamp
						for _, r := range in.Records {
							maxTS = max(maxTS, r.Timestamp)
						}
						assert.Equal(t, maxTS, out.MaxTimestamp)
					}
					require.Len(t, out.Records, n)
					for i := range in.Records {
						requireRecordEqual(t, &in.Records[i], &out.Records[i])
					}
				})
			}
		}
	}
}

// requireRecordEqual compares records, null versus empty included.
func requireRecordEqual(t testing.TB, want, got *Record) {
	t.Helper()
	require.Equal(t, want.Offset, got.Offset)
	require.Equal(t, want.Timestamp, got.Timestamp, "offset %d", want.Offset)
	require.Equal(t, want.Key == nil, got.Key == nil, "key null-ness at offset %d", want.Offset)
	require.Equal(t, string(want.Key), string(got.Key))
	require.Equal(t, want.Value == nil, got.Value == nil, "value null-ness at offset %d", want.Offset)
	require.Equal(t, string(want.Value), string(got.Value))
	require.Equal(t, len(want.Headers), len(got.Headers), "headers at offset %d", want.Offset)
	for i := range want.Headers {
		require.Equal(t, want.Headers[i].Key, got.Headers[i].Key)
		require.Equal(t, want.Headers[i].Value == nil, got.Headers[i].Value == nil)
		require.Equal(t, string(want.Headers[i].Value), string(got.Headers[i].Value))
	}
}

func TestRecordBatchBuilderMatchesAppend(t *testing.T) {
	recs := testRecords(500, true)
	hdr := &RecordBatch{BaseOffset: 0, PartitionLeaderEpoch: -1, ProducerID: 5, ProducerEpoch: 1, BaseSequence: 10}
	var bb RecordBatchBuilder
	for round := 0; round < 2; round++ { // the second round reuses the buffer
		bb.Reset(hdr)
		size := RecordBatchHeaderSize
		for i := range recs {
			size += bb.SizeOf(recs[i].Timestamp, recs[i].Key, recs[i].Value, recs[i].Headers)
			bb.Add(recs[i].Timestamp, recs[i].Key, recs[i].Value, recs[i].Headers)
		}
		assert.Equal(t, size, bb.Size())
		assert.Equal(t, len(recs), bb.Len())
		for _, codec := range allCodecs {
			got, err := bb.Build(nil, codec)
			require.NoError(t, err)
			b := *hdr
			b.Records = recs
			want, err := AppendRecordBatch(nil, &b, codec)
			require.NoError(t, err)
			if codec == CompressionNone {
				require.Equal(t, want, got)
			}
			batches, _ := decodeAll(t, &RecordDecoder{}, got)
			require.Len(t, batches[0].Records, len(recs))
		}
	}
}

func TestControlBatch(t *testing.T) {
	commitKey := []byte{0, 0, 0, 1}
	control := &RecordBatch{
		BaseOffset: 10, Attributes: BatchAttrTransactional | BatchAttrControl, ProducerID: 9, ProducerEpoch: 0, BaseSequence: -1,
		Records: []Record{{Offset: 10, Timestamp: goldenTS, Key: commitKey, Value: []byte{0, 0, 0, 0, 0, 5}}},
	}
	data := mustBatch(t, &RecordBatch{BaseOffset: 5, ProducerID: 9, Attributes: BatchAttrTransactional,
		Records: []Record{{Offset: 5, Value: []byte("a")}, {Offset: 6, Value: []byte("b")}}}, CompressionNone)
	data = append(data, mustBatch(t, control, CompressionNone)...)

	batches, _ := decodeAll(t, &RecordDecoder{}, data)
	require.Len(t, batches, 2)
	assert.False(t, batches[0].Control())
	require.True(t, batches[1].Control())
	typ, ok := ParseRecordControlKey(batches[1].Records[0].Key)
	require.True(t, ok)
	assert.Equal(t, RecordControlCommit, typ)
	_, ok = ParseRecordControlKey([]byte{0, 0, 1})
	assert.False(t, ok)

	recs, n, err := (&RecordDecoder{}).AppendRecords(nil, data)
	require.NoError(t, err)
	assert.Equal(t, len(data), n)
	require.Len(t, recs, 2, "AppendRecords skips control batches")
	assert.Equal(t, "b", string(recs[1].Value))
}

func mustBatch(t testing.TB, b *RecordBatch, codec Compression) []byte {
	t.Helper()
	data, err := AppendRecordBatch(nil, b, codec)
	require.NoError(t, err)
	return data
}

func TestLogAppendTime(t *testing.T) {
	b := &RecordBatch{BaseOffset: 0, Attributes: BatchAttrLogAppendTime, MaxTimestamp: goldenTS + 1000, Records: testRecords(5, false)}
	batches, _ := decodeAll(t, &RecordDecoder{}, mustBatch(t, b, CompressionLZ4))
	require.True(t, batches[0].LogAppendTime())
	for _, r := range batches[0].Records {
		assert.Equal(t, int64(goldenTS+1000), r.Timestamp)
	}
}

func TestEmptyBatchAfterCompaction(t *testing.T) {
	// Compaction can empty a batch; its last offset must survive.
	b := &RecordBatch{BaseOffset: 100, LastOffsetDelta: 49, BaseTimestamp: 1, MaxTimestamp: 2}
	batches, _ := decodeAll(t, &RecordDecoder{}, mustBatch(t, b, CompressionNone))
	require.Len(t, batches, 1)
	assert.Empty(t, batches[0].Records)
	assert.Equal(t, int64(149), batches[0].LastOffset())
}

func TestMinOffsetSkipsCheaply(t *testing.T) {
	var data []byte
	for base := int64(0); base < 30; base += 10 {
		recs := testRecords(10, true)
		for i := range recs {
			recs[i].Offset += base
		}
		data = append(data, mustBatch(t, &RecordBatch{BaseOffset: base, Records: recs}, CompressionSnappy)...)
	}
	// Corrupt the first batch's body: it ends below MinOffset, so it must
	// be skipped without being checked.
	data[RecordBatchHeaderSize+3] ^= 0xff
	d := &RecordDecoder{MinOffset: 15}
	batches, n := decodeAll(t, d, data)
	assert.Equal(t, len(data), n)
	require.Len(t, batches, 2)
	require.Len(t, batches[0].Records, 5)
	assert.Equal(t, int64(15), batches[0].Records[0].Offset)
	assert.Equal(t, int64(10), batches[0].BaseOffset)
	assert.Len(t, batches[1].Records, 10)

	d.MinOffset = 0
	_, err := d.DecodeBatches(data, func(*RecordBatch) error { return nil })
	assert.ErrorIs(t, err, ErrCorruptMessage)
}

func TestCorruptBatchCRC(t *testing.T) {
	good := mustHex(t, goldenBatchHex)
	for _, pos := range []int{batchOffCRC, batchOffAttributes + 1, batchOffRecordCount + 2, len(good) - 1} {
		data := append([]byte(nil), good...)
		data[pos] ^= 0x40
		n, err := DecodeRecordBatches(data, func(*RecordBatch) error { t.Fatal("callback on corrupt batch"); return nil })
		require.ErrorIs(t, err, ErrCorruptMessage, "flipped byte %d", pos)
		assert.Zero(t, n)
		var ke *Error
		require.ErrorAs(t, err, &ke)
		assert.Equal(t, int16(2), ke.Code)
		assert.Contains(t, err.Error(), "crc")
	}
}

// withCRC rewrites a batch's CRC after a deliberate edit, so the structural
// checks behind the CRC are reached.
func withCRC(b []byte) []byte {
	binary.BigEndian.PutUint32(b[batchOffCRC:], crcCastagnoli(b[batchOffAttributes:]))
	return b
}

func TestMalformedBatchesBehindValidCRC(t *testing.T) {
	good := mustHex(t, goldenBatchHex)
	cases := map[string]func(b []byte){
		"huge record count":     func(b []byte) { binary.BigEndian.PutUint32(b[batchOffRecordCount:], 1<<30) },
		"negative record count": func(b []byte) { binary.BigEndian.PutUint32(b[batchOffRecordCount:], 0xffffffff) },
		"too few records":       func(b []byte) { binary.BigEndian.PutUint32(b[batchOffRecordCount:], 1) },
		"too many records":      func(b []byte) { binary.BigEndian.PutUint32(b[batchOffRecordCount:], 3) },
		"record length overrun": func(b []byte) { b[RecordBatchHeaderSize] = 0x7e },
		"key length overrun":    func(b []byte) { b[RecordBatchHeaderSize+4] = 0x40 },
		"unknown codec":         func(b []byte) { b[batchOffAttributes+1] = 6 },
		"bad codec data":        func(b []byte) { b[batchOffAttributes+1] = byte(CompressionZstd) },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			data := append([]byte(nil), good...)
			edit(data)
			_, err := DecodeRecordBatches(withCRC(data), func(*RecordBatch) error { return nil })
			require.Error(t, err)
			if name == "unknown codec" {
				assert.ErrorIs(t, err, ErrUnsupportedCompressionType)
			} else {
				assert.ErrorIs(t, err, ErrCorruptMessage)
			}
		})
	}
}

func TestBatchLengthBelowHeaderIsCorrupt(t *testing.T) {
	data := mustHex(t, goldenBatchHex)
	binary.BigEndian.PutUint32(data[batchOffLength:], 20)
	_, err := DecodeRecordBatches(data, func(*RecordBatch) error { return nil })
	assert.ErrorIs(t, err, ErrCorruptMessage)
	binary.BigEndian.PutUint32(data[batchOffLength:], 2)
	_, err = DecodeRecordBatches(data, func(*RecordBatch) error { return nil })
	assert.ErrorIs(t, err, ErrCorruptMessage)
}

func TestAppendRecordBatchRejectsBadInput(t *testing.T) {
	_, err := AppendRecordBatch(nil, &RecordBatch{Records: []Record{{Offset: 1}, {Offset: 1}}}, CompressionNone)
	assert.ErrorIs(t, err, ErrInvalidRecord)
	_, err = AppendRecordBatch(nil, &RecordBatch{BaseOffset: 5, Records: []Record{{Offset: 4}}}, CompressionNone)
	assert.ErrorIs(t, err, ErrInvalidRecord)
	_, err = AppendRecordBatch(nil, &RecordBatch{Records: []Record{{Offset: 0}}}, Compression(5))
	assert.ErrorIs(t, err, ErrUnsupportedCompressionType)
	var bb RecordBatchBuilder
	_, err = bb.Build(nil, -1)
	assert.ErrorIs(t, err, ErrUnsupportedCompressionType)
}

func TestCallbackErrorStops(t *testing.T) {
	data := append(mustHex(t, goldenBatchHex), mustHex(t, goldenBatchHex)...)
	stop := fmt.Errorf("enough")
	calls := 0
	n, err := DecodeRecordBatches(data, func(*RecordBatch) error { calls++; return stop })
	assert.Same(t, stop, err)
	assert.Equal(t, 1, calls)
	assert.Zero(t, n)
}

func TestReuseBuffersAndRecordsOwnership(t *testing.T) {
	var data []byte
	var want []Record
	for base := int64(0); base < 20; base += 10 {
		recs := testRecords(10, true)
		for i := range recs {
			recs[i].Offset += base
			for j := range recs[i].Headers { // distinct per batch
				recs[i].Headers[j].Value = fmt.Appendf(nil, "b%d-%d-%d", base, i, j)
			}
		}
		want = append(want, recs...)
		data = append(data, mustBatch(t, &RecordBatch{BaseOffset: base, Records: recs}, CompressionZstd)...)
		data = append(data, mustBatch(t, &RecordBatch{BaseOffset: base + 100, Records: []Record{{Offset: base + 100,
			Headers: []RecordHeader{{Key: "other", Value: []byte("batch")}}}}}, CompressionNone)...)
	}
	// Without ReuseBuffers, copied records of earlier batches stay valid,
	// headers included.
	var kept []Record
	_, err := (&RecordDecoder{}).DecodeBatches(data, func(b *RecordBatch) error {
		if b.BaseOffset < 100 {
			kept = append(kept, b.Records...)
		}
		return nil
	})
	require.NoError(t, err)
	require.Len(t, kept, len(want))
	for i := range kept {
		requireRecordEqual(t, &want[i], &kept[i])
	}
	// AppendRecords output survives further decoding with the same decoder.
	d := &RecordDecoder{ReuseBuffers: true}
	recs, _, err := d.AppendRecords(nil, data)
	require.NoError(t, err)
	_, err = d.DecodeBatches(data, func(*RecordBatch) error { return nil })
	require.NoError(t, err)
	var got []Record
	for _, r := range recs {
		if r.Offset < 100 {
			got = append(got, r)
		}
	}
	require.Len(t, got, len(want))
	for i := range got {
		requireRecordEqual(t, &want[i], &got[i])
	}
}

func TestRecordBatchAllocations(t *testing.T) {
	if codecRaceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	batch := &RecordBatch{Records: testRecords(200, false)}
	for i := range batch.Records {
		if i%2 == 0 { // header keys repeat in real traffic
			batch.Records[i].Headers = []RecordHeader{{Key: "trace", Value: []byte("abc")}, {Key: "type", Value: nil}}
		}
	}
	for _, codec := range allCodecs {
		dst := mustBatch(t, batch, codec)
		allocs := testing.AllocsPerRun(20, func() {
			dst, _ = AppendRecordBatch(dst[:0], batch, codec)
		})
		assert.Zero(t, allocs, "%s encode into a reused buffer", codec)

		var bb RecordBatchBuilder
		var out []byte
		allocs = testing.AllocsPerRun(20, func() {
			bb.Reset(batch)
			for i := range batch.Records {
				r := &batch.Records[i]
				bb.Add(r.Timestamp, r.Key, r.Value, r.Headers)
			}
			out, _ = bb.Build(out[:0], codec)
		})
		assert.Zero(t, allocs, "%s builder", codec)

		// Callback decoding with reused buffers allocates nothing once warm
		// (header keys repeat, so the key cache serves them).
		d := RecordDecoder{ReuseBuffers: true}
		fn := func(*RecordBatch) error { return nil }
		allocs = testing.AllocsPerRun(20, func() { _, _ = d.DecodeBatches(dst, fn) })
		assert.Zero(t, allocs, "%s decode with reuse", codec)

		// Materialising: the decompression buffer and header arenas, never
		// per record.
		var recs []Record
		allocs = testing.AllocsPerRun(20, func() { recs, _, _ = d.AppendRecords(recs[:0], dst) })
		assert.LessOrEqual(t, allocs, 12.0, "%s materialising 200 records", codec)
	}
}
