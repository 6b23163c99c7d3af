package protocol

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSharedBuffersShareChunks checks that LZ4 batches decoded with
// SharedBuffers land back to back in one chunk, each capped at its length,
// and read the same as without.
func TestSharedBuffersShareChunks(t *testing.T) {
	var data []byte
	for i := range 3 {
		recs := testRecords(50, false)
		for j := range recs {
			recs[j].Offset = int64(i*50 + j)
		}
		data = append(data, mustBatch(t, &RecordBatch{BaseOffset: int64(i * 50), Records: recs}, CompressionLZ4)...)
	}
	var plain, shared RecordDecoder
	shared.SharedBuffers = true
	want, _, err := plain.AppendRecords(nil, data)
	require.NoError(t, err)
	var got []Record
	var payloads [][]byte
	_, err = shared.EachBatch(data, func(b *RecordBatch, it *RecordIter) error {
		payloads = append(payloads, it.body)
		for {
			r, ok := it.Next()
			if !ok {
				return nil
			}
			got = append(got, r)
		}
	})
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i].Offset, got[i].Offset)
		require.True(t, sameBytes(want[i].Value, got[i].Value), "record %d", i)
	}
	require.Len(t, payloads, 3)
	for i := 1; i < len(payloads); i++ {
		prev, cur := payloads[i-1], payloads[i]
		assert.Equal(t, len(prev), cap(prev), "a batch's bytes are capped at their length")
		assert.Equal(t, unsafe.Pointer(unsafe.SliceData(cur)), unsafe.Add(unsafe.Pointer(unsafe.SliceData(prev)), len(prev)),
			"batch %d follows batch %d in the chunk", i, i-1)
	}
}

// TestLZ4ReserveCoversDecoding checks codecLZ4Reserve against frames of
// other writers: pierrec's defaults (4 MiB blocks, too big a worst case for a
// chunk), content sizes and checksums, and several frames in a row.
func TestLZ4ReserveCoversDecoding(t *testing.T) {
	// Text that compresses about 2x: a 4 MiB-block frame's worst case then
	// exceeds what a chunk takes.
	value := halfCompressible(40 << 10)
	frame := func(opts ...lz4.Option) []byte { return referenceLZ4(t, value, opts...) }
	ours, err := CompressionLZ4.Compress(nil, value)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		src    []byte
		shared bool // decoded in the chunk rather than on the owned path
	}{
		"ours":                  {ours, true},
		"two frames":            {append(append([]byte{}, ours...), ours...), true},
		"pierrec 4 MiB blocks":  {frame(), false},
		"64 KiB with checksums": {frame(lz4.BlockSizeOption(lz4.Block64Kb), lz4.BlockChecksumOption(true), lz4.ChecksumOption(true)), true},
		"content size":          {frame(lz4.BlockSizeOption(lz4.Block64Kb), lz4.SizeOption(uint64(len(value)))), true},
	} {
		need, ok := codecLZ4Reserve(tc.src, sharedChunkSize, 4<<20)
		require.True(t, ok, name)
		want, err := codecDecompress(nil, tc.src, CompressionLZ4, 0, false)
		require.NoError(t, err, name)
		assert.GreaterOrEqual(t, need, len(want), name)
		var d RecordDecoder
		got, err := d.decompressShared(tc.src, CompressionLZ4, false)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
		assert.Equal(t, tc.shared, len(d.shared) > 0, "%s: decoded in a shared chunk", name)
	}
	for _, bad := range [][]byte{{1, 2, 3}, ours[:len(ours)-3], append([]byte{0, 0, 0, 0}, ours...)} {
		_, ok := codecLZ4Reserve(bad, sharedChunkSize, 4<<20)
		assert.False(t, ok, "%x", bad)
	}
}

// TestLZ4LargeBatchDirect: an LZ4 batch too large for a chunk decodes
// straight into a buffer of its worst case when its blocks are small (ours
// and Java's are 64 KiB), and through scratch space when they may be large;
// both give the whole batch, capped at its length.
func TestLZ4LargeBatchDirect(t *testing.T) {
	value := halfCompressible(1<<20 + 12345)
	frame := func(opts ...lz4.Option) []byte { return referenceLZ4(t, value, opts...) }
	ours, err := CompressionLZ4.Compress(nil, value)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		src    []byte
		direct bool
	}{
		"ours":                  {ours, true},
		"256 KiB with checksum": {frame(lz4.BlockSizeOption(lz4.Block256Kb), lz4.ChecksumOption(true)), true},
		"content size":          {frame(lz4.BlockSizeOption(lz4.Block64Kb), lz4.SizeOption(uint64(len(value)))), true},
		"pierrec 4 MiB blocks":  {frame(), false},
		"1 MiB blocks":          {frame(lz4.BlockSizeOption(lz4.Block1Mb)), false},
	} {
		var d RecordDecoder
		need, direct := d.lz4Direct(tc.src, CompressionLZ4)
		assert.Equal(t, tc.direct, direct, name)
		if direct {
			assert.GreaterOrEqual(t, need, len(value), name)
			assert.Less(t, need, len(value)+codecLZ4DirectBlock, "%s: at most a block beyond the output", name)
		}
		got, err := d.decompressShared(tc.src, CompressionLZ4, false)
		require.NoError(t, err, name)
		assert.True(t, bytes.Equal(value, got), name)
		if direct {
			assert.Equal(t, len(got), cap(got), name)
		}
		assert.Empty(t, d.shared, "%s: not in a shared chunk", name)
	}
	// A worst case beyond the decoder's limit is not allocated up front;
	// decoding then reports the limit.
	d := RecordDecoder{MaxDecompressedSize: 512 << 10}
	_, direct := d.lz4Direct(ours, CompressionLZ4)
	assert.False(t, direct)
	_, err = d.decompressShared(ours, CompressionLZ4, false)
	assert.ErrorIs(t, err, ErrDecompressedTooLarge)
}

// TestZstdDeclaredSize checks the frame-header walk against klauspost's
// encoder (which declares the size from 256 bytes on) at sizes of each field
// width, and that batches whose frames declare it share a chunk.
func TestZstdDeclaredSize(t *testing.T) {
	small, err := CompressionZstd.Compress(nil, []byte("tiny"))
	require.NoError(t, err)
	_, ok := codecZstdDeclared(small)
	assert.False(t, ok, "no size declared")
	var d RecordDecoder
	out, err := d.decompressShared(small, CompressionZstd, false)
	require.NoError(t, err)
	assert.Equal(t, "tiny", string(out), "decoded on the owned path")
	for _, n := range []int{300, 70_000, 600_000} {
		src, err := CompressionZstd.Compress(nil, bytes.Repeat([]byte("z"), n))
		require.NoError(t, err)
		got, ok := codecZstdDeclared(src)
		require.True(t, ok, "%d", n)
		assert.Equal(t, n, got)
		var d RecordDecoder
		out, err := d.decompressShared(src, CompressionZstd, false)
		require.NoError(t, err)
		assert.Len(t, out, n)
		assert.Equal(t, n <= sharedChunkSize/2, len(d.shared) == n, "%d: in the shared chunk", n)
	}
	for _, bad := range [][]byte{nil, {0x28, 0xB5, 0x2F, 0xFD}, {1, 2, 3, 4, 5, 6, 7}} {
		_, ok := codecZstdDeclared(bad)
		assert.False(t, ok, "%x", bad)
	}
}

// halfCompressible returns n bytes of text that LZ4 compresses about 2x.
func halfCompressible(n int) []byte {
	value := make([]byte, n)
	for i, x := 0, uint32(1); i < len(value); i++ {
		x = x*1664525 + 1013904223
		value[i] = "gregor kafka "[x>>28%13]
	}
	return value
}

// referenceLZ4 compresses value with the reference LZ4 frame writer
// (pierrec/lz4), configured by opts.
func referenceLZ4(t *testing.T, value []byte, opts ...lz4.Option) []byte {
	t.Helper()
	var b bytes.Buffer
	w := lz4.NewWriter(&b)
	require.NoError(t, w.Apply(opts...))
	_, err := w.Write(value)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}
