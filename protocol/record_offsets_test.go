package protocol

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// legacyWrapper builds a gzip wrapper of the given magic at wrapperOffset
// around plain inner messages written at innerOffsets as they are, so the
// test controls exactly what a peer could send.
func legacyWrapper(t *testing.T, magic int8, wrapperOffset int64, innerOffsets ...int64) []byte {
	t.Helper()
	var inner []byte
	for i, off := range innerOffsets {
		var err error
		inner, err = msAppendMessage(inner, off, magic, 0, 1000, nil, []byte{byte('a' + i)})
		require.NoError(t, err)
	}
	z, err := codecGzipCompress(nil, inner)
	require.NoError(t, err)
	w, err := msAppendMessage(nil, wrapperOffset, magic, int8(CompressionGzip), 1000, nil, z)
	require.NoError(t, err)
	return w
}

// TestLegacyInnerOffsetsThatCannotBeRight: a wrapper whose inner offsets
// would place records below zero, out of order or past the wrapper is
// corrupt, whatever MinOffset says; nothing of it reaches the caller.
func TestLegacyInnerOffsetsThatCannotBeRight(t *testing.T) {
	cases := map[string][]byte{
		// The fuzz finding: 5 relative offsets under a wrapper at offset 0
		// would be -4..0.
		"magic 1, wrapper offset below the inner count": legacyWrapper(t, 1, 0, 0, 1, 2, 3, 4),
		"magic 1, relative offsets not rising":          legacyWrapper(t, 1, 10, 0, 2, 1),
		"magic 1, repeated relative offset":             legacyWrapper(t, 1, 10, 0, 1, 1),
		"magic 1, negative relative offset":             legacyWrapper(t, 1, 10, -1, 0),
		"magic 0, inner offset past the wrapper":        legacyWrapper(t, 0, 6, 5, 6, 7),
		"magic 0, inner offsets not rising":             legacyWrapper(t, 0, 7, 7, 6),
		"magic 0, negative inner offset":                legacyWrapper(t, 0, 7, -1, 7),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			// From the start, and from the wrapper's own offset (which a
			// consumer fetching there would ask for).
			for _, minOffset := range []int64{0, int64(binary.BigEndian.Uint64(data))} {
				d := &RecordDecoder{MinOffset: minOffset}
				_, err := d.DecodeBatches(data, func(*RecordBatch) error { t.Fatal("callback on corrupt entry"); return nil })
				assert.ErrorIs(t, err, ErrCorruptMessage)
				recs, n, err := d.AppendRecords(nil, data)
				assert.ErrorIs(t, err, ErrCorruptMessage)
				assert.Empty(t, recs)
				assert.Zero(t, n)
			}
		})
	}
}

// TestLegacyInnerOffsetsWithCompactionGaps: compaction leaves gaps between
// inner offsets, which stay valid.
func TestLegacyInnerOffsetsWithCompactionGaps(t *testing.T) {
	for magic, data := range map[int8][]byte{
		1: legacyWrapper(t, 1, 104, 0, 2, 4),
		0: legacyWrapper(t, 0, 104, 100, 102, 104),
	} {
		recs, n, err := (&RecordDecoder{}).AppendRecords(nil, data)
		require.NoError(t, err, "magic %d", magic)
		require.Equal(t, len(data), n)
		var offsets []int64
		for _, r := range recs {
			offsets = append(offsets, r.Offset)
		}
		assert.Equal(t, []int64{100, 102, 104}, offsets, "magic %d", magic)
	}
}

func TestNegativeEntryOffsetIsCorrupt(t *testing.T) {
	plain, err := msAppendMessage(nil, -3, 1, 0, 1000, nil, []byte("v"))
	require.NoError(t, err)
	batch := mustBatch(t, &RecordBatch{BaseOffset: 0, Records: testRecords(2, false)}, CompressionNone)
	binary.BigEndian.PutUint64(batch, uint64(0xfffffffffffffff0)) // not covered by the CRC
	for name, data := range map[string][]byte{"legacy message": plain, "record batch": batch} {
		recs, _, err := (&RecordDecoder{}).AppendRecords(nil, data)
		assert.ErrorIs(t, err, ErrCorruptMessage, name)
		assert.Empty(t, recs, name)
	}
}

// TestBatchOffsetDeltasThatCannotBeRight: a v2 record's offset delta must
// rise and stay within the header's last offset delta.
func TestBatchOffsetDeltasThatCannotBeRight(t *testing.T) {
	recs := []Record{{Offset: 50, Timestamp: goldenTS, Value: []byte("a")}, {Offset: 51, Timestamp: goldenTS, Value: []byte("b")}}
	good := mustBatch(t, &RecordBatch{BaseOffset: 50, Records: recs}, CompressionNone)
	// The second record's offset delta: after the first record (its length
	// varint and body), its own length, attributes and timestamp delta.
	first := 1 + int(good[RecordBatchHeaderSize]>>1)
	secondDelta := RecordBatchHeaderSize + first + 3
	require.Equal(t, byte(2), good[secondDelta], "zigzag 1")
	cases := map[string]func(b []byte){
		"last offset delta below a record's": func(b []byte) { binary.BigEndian.PutUint32(b[batchOffLastOffsetDelta:], 0) },
		"negative last offset delta":         func(b []byte) { binary.BigEndian.PutUint32(b[batchOffLastOffsetDelta:], 0xffffffff) },
		"repeated offset delta":              func(b []byte) { b[secondDelta] = 0 },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			data := append([]byte(nil), good...)
			edit(data)
			got, _, err := (&RecordDecoder{MinOffset: 50}).AppendRecords(nil, withCRC(data))
			assert.ErrorIs(t, err, ErrCorruptMessage)
			assert.Empty(t, got)
		})
	}
	got, _, err := (&RecordDecoder{}).AppendRecords(nil, good)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, int64(51), got[1].Offset)
}
