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

// Hand-laid legacy messages; CRC-32 values computed independently.
var (
	goldenMagic0Hex = strings.Join([]string{
		"0000000000000000", // offset 0
		"00000013",         // size 19
		"87a77ab2",         // crc-32 over magic..end
		"00",               // magic 0
		"00",               // attributes
		"ffffffff",         // null key
		"00000005",         // value length 5
		"68656c6c6f",       // "hello"
	}, "")
	goldenMagic1Hex = strings.Join([]string{
		"0000000000000007", // offset 7
		"00000018",         // size 24
		"39268c33",         // crc-32
		"01",               // magic 1
		"00",               // attributes: create time
		"0000018bcfe56800", // timestamp
		"00000001", "6b",   // key "k"
		"00000001", "76", // value "v"
	}, "")
)

func TestMessageSetGolden(t *testing.T) {
	m0, err := AppendMessageSet(nil, []Record{{Offset: 0, Timestamp: 12345, Value: []byte("hello")}}, 0, CompressionNone)
	require.NoError(t, err)
	assert.Equal(t, goldenMagic0Hex, hex.EncodeToString(m0))
	m1, err := AppendMessageSet(nil, []Record{{Offset: 7, Timestamp: goldenTS, Key: []byte("k"), Value: []byte("v")}}, 1, CompressionNone)
	require.NoError(t, err)
	assert.Equal(t, goldenMagic1Hex, hex.EncodeToString(m1))

	batches, n := decodeAll(t, &RecordDecoder{}, append(m0, m1...))
	assert.Equal(t, len(m0)+len(m1), n)
	require.Len(t, batches, 2)
	assert.Equal(t, int8(0), batches[0].Magic)
	assert.Equal(t, Record{Offset: 0, Timestamp: -1, Value: []byte("hello")}, batches[0].Records[0])
	assert.True(t, batches[0].Records[0].Time().IsZero())
	assert.Equal(t, int8(1), batches[1].Magic)
	assert.Equal(t, int64(7), batches[1].LastOffset())
	assert.Equal(t, int64(-1), batches[1].ProducerID)
	assert.Equal(t, Record{Offset: 7, Timestamp: goldenTS, Key: []byte("k"), Value: []byte("v")}, batches[1].Records[0])
}

func legacyRecords(n int, base int64) []Record {
	recs := testRecords(n, false)
	for i := range recs {
		recs[i].Offset = base + int64(i)
	}
	return recs
}

func TestMessageSetRoundTrip(t *testing.T) {
	for _, magic := range []int8{0, 1} {
		for _, codec := range []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4} {
			t.Run(fmt.Sprintf("magic%d/%s", magic, codec), func(t *testing.T) {
				in := legacyRecords(50, 300)
				data, err := AppendMessageSet(nil, in, magic, codec)
				require.NoError(t, err)
				recs, n, err := (&RecordDecoder{}).AppendRecords(nil, data)
				require.NoError(t, err)
				assert.Equal(t, len(data), n)
				require.Len(t, recs, len(in))
				for i := range in {
					want := in[i]
					if magic == 0 {
						want.Timestamp = -1
					}
					requireRecordEqual(t, &want, &recs[i])
				}
				batches, _ := decodeAll(t, &RecordDecoder{}, data)
				if codec == CompressionNone {
					require.Len(t, batches, len(in))
					return
				}
				require.Len(t, batches, 1, "one wrapper")
				b := batches[0]
				assert.Equal(t, codec, b.Compression())
				assert.Equal(t, int64(300), b.BaseOffset)
				assert.Equal(t, int64(349), b.LastOffset())
			})
		}
	}
}

// TestMessageSetWrapperOffsets checks the wire layout of wrapped sets: the
// wrapper carries the last inner offset; magic 1 inner offsets are relative.
func TestMessageSetWrapperOffsets(t *testing.T) {
	for _, magic := range []int8{0, 1} {
		data, err := AppendMessageSet(nil, legacyRecords(3, 500), magic, CompressionGzip)
		require.NoError(t, err)
		assert.Equal(t, int64(502), int64(binary.BigEndian.Uint64(data)), "wrapper offset")
		m, err := msParse(data)
		require.NoError(t, err)
		inner, err := CompressionGzip.Decompress(nil, m.value, 0)
		require.NoError(t, err)
		var offsets []int64
		for p := 0; p < len(inner); {
			offsets = append(offsets, int64(binary.BigEndian.Uint64(inner[p:])))
			p += 12 + int(binary.BigEndian.Uint32(inner[p+8:]))
		}
		if magic == 1 {
			assert.Equal(t, []int64{0, 1, 2}, offsets)
		} else {
			assert.Equal(t, []int64{500, 501, 502}, offsets)
		}
	}
}

func TestMessageSetLogAppendTimeWrapper(t *testing.T) {
	data, err := AppendMessageSet(nil, legacyRecords(3, 0), 1, CompressionSnappy)
	require.NoError(t, err)
	// Turn the wrapper into a LogAppendTime one stamped by the broker.
	data[msOffAttributes] |= msAttrLogAppend
	binary.BigEndian.PutUint64(data[msOffTimestamp:], 77)
	binary.BigEndian.PutUint32(data[msOffCRC:], crcIEEE(data[msOffMagic:]))
	batches, _ := decodeAll(t, &RecordDecoder{}, data)
	require.True(t, batches[0].LogAppendTime())
	for _, r := range batches[0].Records {
		assert.Equal(t, int64(77), r.Timestamp)
	}
}

func TestMessageSetLegacyLZ4(t *testing.T) {
	in := legacyRecords(4, 0)
	data, err := AppendMessageSet(nil, in, 0, CompressionLZ4)
	require.NoError(t, err)
	m, err := msParse(data)
	require.NoError(t, err)
	// Magic 0 LZ4 carries the pre-0.10 header checksum, which strict
	// decoding rejects and the message set reader accepts.
	_, err = CompressionLZ4.Decompress(nil, m.value, 0)
	require.ErrorIs(t, err, ErrCorruptMessage)
	recs, _, err := (&RecordDecoder{}).AppendRecords(nil, data)
	require.NoError(t, err)
	require.Len(t, recs, 4)
}

func TestMessageSetRejects(t *testing.T) {
	_, err := AppendMessageSet(nil, legacyRecords(2, 0), 1, CompressionZstd)
	assert.ErrorIs(t, err, ErrUnsupportedCompressionType)
	_, err = AppendMessageSet(nil, []Record{{Headers: []RecordHeader{{Key: "h"}}}}, 1, CompressionNone)
	assert.ErrorIs(t, err, ErrUnsupportedForMessageFormat)
	_, err = AppendMessageSet(nil, nil, 2, CompressionNone)
	assert.ErrorIs(t, err, ErrUnsupportedForMessageFormat)
	data, err := AppendMessageSet([]byte("x"), nil, 1, CompressionGzip)
	require.NoError(t, err)
	assert.Equal(t, "x", string(data), "an empty set is empty")
}

func TestMessageSetCorrupt(t *testing.T) {
	good, err := AppendMessageSet(nil, legacyRecords(3, 0), 1, CompressionGzip)
	require.NoError(t, err)
	for _, pos := range []int{msOffCRC, msOffAttributes, len(good) - 3} {
		data := append([]byte(nil), good...)
		data[pos] ^= 0x08
		_, err := DecodeRecordBatches(data, func(*RecordBatch) error { t.Fatal("callback on corrupt message"); return nil })
		assert.ErrorIs(t, err, ErrCorruptMessage, "flipped byte %d", pos)
	}

	// Structural damage behind a valid CRC.
	plain := mustHex(t, goldenMagic1Hex)
	cases := map[string]func(b []byte) []byte{
		"bad magic":      func(b []byte) []byte { b[msOffMagic] = 3; return b },
		"value overrun":  func(b []byte) []byte { b[len(b)-2] = 9; return b },
		"trailing bytes": func(b []byte) []byte { return append(b, 0) },
		"nested codec": func(b []byte) []byte {
			// A gzip wrapper whose inner message is itself a wrapper.
			inner, _ := AppendMessageSet(nil, legacyRecords(1, 0), 1, CompressionGzip)
			outer, _ := codecGzipCompress(nil, inner)
			w, _ := msAppendMessage(nil, 0, 1, int8(CompressionGzip), 0, nil, outer)
			return w
		},
		"empty wrapper": func(b []byte) []byte {
			empty, _ := codecGzipCompress(nil, nil)
			w, _ := msAppendMessage(nil, 0, 1, int8(CompressionGzip), 0, nil, empty)
			return w
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			data := edit(append([]byte(nil), plain...))
			binary.BigEndian.PutUint32(data[batchLogOverhead-4:], uint32(len(data)-batchLogOverhead))
			binary.BigEndian.PutUint32(data[msOffCRC:], crcIEEE(data[msOffMagic:]))
			_, err := DecodeRecordBatches(data, func(*RecordBatch) error { return nil })
			assert.ErrorIs(t, err, ErrCorruptMessage)
		})
	}
}

// TestMixedMagicsWithPartialTail is a fetch response as an upgraded cluster
// returns it: old segments in magic 0 and 1, newer batches in magic 2, and
// the response cut mid-batch at the byte limit.
func TestMixedMagicsWithPartialTail(t *testing.T) {
	var data []byte
	add := func(b []byte, err error) {
		require.NoError(t, err)
		data = append(data, b...)
	}
	add(AppendMessageSet(nil, legacyRecords(2, 0), 0, CompressionNone))   // 0-1
	add(AppendMessageSet(nil, legacyRecords(3, 2), 0, CompressionSnappy)) // 2-4
	add(AppendMessageSet(nil, legacyRecords(3, 5), 1, CompressionLZ4))    // 5-7
	add(AppendMessageSet(nil, legacyRecords(1, 8), 1, CompressionNone))   // 8
	v2 := func(base int64, n int, codec Compression) ([]byte, error) {
		recs := testRecords(n, true)
		for i := range recs {
			recs[i].Offset += base
		}
		return AppendRecordBatch(nil, &RecordBatch{BaseOffset: base, Records: recs}, codec)
	}
	add(v2(9, 4, CompressionNone))  // 9-12
	add(v2(13, 4, CompressionZstd)) // 13-16
	complete := len(data)
	tail, err := v2(17, 100, CompressionGzip)
	require.NoError(t, err)

	for _, cut := range []int{0, 1, 11, 12, 17, RecordBatchHeaderSize, len(tail) / 2, len(tail) - 1} {
		blob := append(append([]byte(nil), data...), tail[:cut]...)
		recs, n, err := (&RecordDecoder{}).AppendRecords(nil, blob)
		require.NoError(t, err, "cut %d", cut)
		assert.Equal(t, complete, n, "cut %d: consumed stops before the partial batch", cut)
		require.Len(t, recs, 17)
		for i, r := range recs {
			assert.Equal(t, int64(i), r.Offset)
		}

		var magics []int8
		n, err = DecodeRecordBatches(blob, func(b *RecordBatch) error {
			magics = append(magics, b.Magic)
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, complete, n)
		assert.Equal(t, []int8{0, 0, 0, 1, 1, 2, 2}, magics)
	}

	recs, n, err := (&RecordDecoder{MinOffset: 6}).AppendRecords(nil, append(data, tail...))
	require.NoError(t, err)
	assert.Equal(t, len(data)+len(tail), n)
	require.Len(t, recs, 117-6)
	assert.Equal(t, int64(6), recs[0].Offset)
}
