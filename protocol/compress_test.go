package protocol

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"io"
	"math/rand"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allCodecs = []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd}

// codecTestInputs covers empty input, block boundaries of each codec, and
// both compressible and incompressible data.
func codecTestInputs() map[string][]byte {
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 300<<10)
	rng.Read(random)
	text := bytes.Repeat([]byte("gregor produces and consumes kafka records; "), 8000)
	return map[string][]byte{
		"empty":       {},
		"one":         {'x'},
		"text":        text,
		"random":      random,
		"block-edge":  text[:64<<10],
		"block-edge1": text[:64<<10+1],
		"xerial-edge": text[:32<<10],
	}
}

func TestCompressionString(t *testing.T) {
	assert.Equal(t, "none", CompressionNone.String())
	assert.Equal(t, "gzip", CompressionGzip.String())
	assert.Equal(t, "snappy", CompressionSnappy.String())
	assert.Equal(t, "lz4", CompressionLZ4.String())
	assert.Equal(t, "zstd", CompressionZstd.String())
	assert.Equal(t, "Compression(6)", Compression(6).String())
}

func TestCompressionRoundTrip(t *testing.T) {
	for _, c := range allCodecs {
		for name, in := range codecTestInputs() {
			t.Run(c.String()+"/"+name, func(t *testing.T) {
				prefix := []byte("keep")
				enc, err := c.Compress(append([]byte(nil), prefix...), in)
				require.NoError(t, err)
				require.Equal(t, prefix, enc[:4], "Compress must append")
				dec, err := c.Decompress([]byte("pre"), enc[4:], 0)
				require.NoError(t, err)
				require.Equal(t, "pre", string(dec[:3]), "Decompress must append")
				require.True(t, bytes.Equal(in, dec[3:]), "round trip mismatch")
			})
		}
	}
}

func TestCompressionUnsupported(t *testing.T) {
	_, err := Compression(5).Compress(nil, []byte("x"))
	assert.ErrorIs(t, err, ErrUnsupportedCompressionType)
	_, err = Compression(7).Decompress(nil, []byte("x"), 0)
	assert.ErrorIs(t, err, ErrUnsupportedCompressionType)
}

func TestDecompressLimit(t *testing.T) {
	bomb := make([]byte, 4<<20) // zeros compress extremely well
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			enc, err := c.Compress(nil, bomb)
			require.NoError(t, err)
			_, err = c.Decompress(nil, enc, 1<<20)
			require.ErrorIs(t, err, ErrDecompressedTooLarge)
			out, err := c.Decompress(nil, enc, len(bomb))
			require.NoError(t, err, "exactly at the cap is allowed")
			require.Len(t, out, len(bomb))
			_, err = c.Decompress(nil, enc, len(bomb)-1)
			require.ErrorIs(t, err, ErrDecompressedTooLarge)
		})
	}
}

func TestDecompressGarbageIsCorrupt(t *testing.T) {
	garbage := [][]byte{
		{},
		{0xff},
		[]byte("definitely not compressed data at all"),
		append(append([]byte(nil), codecXerialHeader...), 0, 0, 0, 9, 1, 2),
		{0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82, 5, 0, 0, 0, 1, 2, 3},
	}
	for _, c := range []Compression{CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd} {
		for i, g := range garbage {
			out, err := c.Decompress(nil, g, 0)
			if c == CompressionZstd && len(g) == 0 {
				continue // an empty zstd stream holds no frames: empty output
			}
			assert.ErrorIs(t, err, ErrCorruptMessage, "%s garbage %d gave %q", c, i, out)
		}
	}
}

func TestXXH32Vectors(t *testing.T) {
	assert.Equal(t, uint32(0x02CC5D05), codecXXH32(nil, 0))
	assert.Equal(t, uint32(0x550D7456), codecXXH32([]byte("a"), 0))
	assert.Equal(t, uint32(0x32D153FF), codecXXH32([]byte("abc"), 0))
	// Longer inputs: the reference LZ4 writer ends a frame with the content's xxh32.
	for _, n := range []int{15, 16, 17, 31, 32, 33, 1000} {
		in := codecTestInputs()["random"][:n]
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		_, err := w.Write(in)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		frame := buf.Bytes()
		assert.Equal(t, binary.LittleEndian.Uint32(frame[len(frame)-4:]), codecXXH32(in, 0), "len %d", n)
	}
}

func TestLZ4InteropWithReferenceFrames(t *testing.T) {
	in := codecTestInputs()["text"]
	for _, opts := range [][]lz4.Option{
		nil, // 4 MiB blocks, content checksum
		{lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false)},
		{lz4.BlockChecksumOption(true), lz4.SizeOption(uint64(len(in)))},
	} {
		out, err := CompressionLZ4.Decompress(nil, referenceLZ4(t, in, opts...), 0)
		require.NoError(t, err)
		require.True(t, bytes.Equal(in, out))
	}

	// Our frames must read back with the reference reader, header checksum included.
	enc, err := CompressionLZ4.Compress(nil, in)
	require.NoError(t, err)
	out, err := io.ReadAll(lz4.NewReader(bytes.NewReader(enc)))
	require.NoError(t, err)
	require.True(t, bytes.Equal(in, out))
}

func TestLZ4LegacyHeaderChecksum(t *testing.T) {
	in := []byte("magic 0 lz4 from a 0.9 broker")
	legacy, err := codecCompress(nil, in, CompressionLZ4, true)
	require.NoError(t, err)
	// The broken checksum covers the magic number too.
	require.Equal(t, byte(codecXXH32(legacy[0:6], 0)>>8), legacy[6])
	require.NotEqual(t, byte(codecXXH32(legacy[4:6], 0)>>8), legacy[6])

	_, err = CompressionLZ4.Decompress(nil, legacy, 0)
	require.ErrorIs(t, err, ErrCorruptMessage, "strict mode rejects the broken checksum")
	out, err := codecDecompress(nil, legacy, CompressionLZ4, 0, true)
	require.NoError(t, err)
	require.Equal(t, in, out)
}

func TestSnappyXerialFraming(t *testing.T) {
	in := codecTestInputs()["text"][:100<<10]
	enc, err := CompressionSnappy.Compress(nil, in)
	require.NoError(t, err)
	require.Equal(t, codecXerialHeader, enc[:16])
	// Walk the chunks: 100 KiB at 32 KiB per chunk is four chunks.
	chunks := 0
	for p := 16; p < len(enc); chunks++ {
		n := int(binary.BigEndian.Uint32(enc[p:]))
		p += 4 + n
		require.LessOrEqual(t, p, len(enc))
	}
	assert.Equal(t, 4, chunks)

	// A bare raw block (what some clients send) decodes too.
	raw := snappy.Encode(nil, in)
	out, err := CompressionSnappy.Decompress(nil, raw, 0)
	require.NoError(t, err)
	require.True(t, bytes.Equal(in, out))
}

func TestGzipAndZstdInterop(t *testing.T) {
	in := codecTestInputs()["text"]
	var buf bytes.Buffer
	w := stdgzip.NewWriter(&buf)
	_, _ = w.Write(in[:1000])
	require.NoError(t, w.Close())
	w = stdgzip.NewWriter(&buf) // a second member: readers must concatenate
	_, _ = w.Write(in[1000:])
	require.NoError(t, w.Close())
	out, err := CompressionGzip.Decompress(nil, buf.Bytes(), 0)
	require.NoError(t, err)
	require.True(t, bytes.Equal(in, out))

	enc, err := CompressionGzip.Compress(nil, in)
	require.NoError(t, err)
	r, err := stdgzip.NewReader(bytes.NewReader(enc))
	require.NoError(t, err)
	out, err = io.ReadAll(r)
	require.NoError(t, err)
	require.True(t, bytes.Equal(in, out))

	// A streamed zstd frame carries no content size.
	buf.Reset()
	zw, err := zstd.NewWriter(&buf)
	require.NoError(t, err)
	_, _ = zw.Write(in)
	require.NoError(t, zw.Close())
	out, err = CompressionZstd.Decompress(nil, buf.Bytes(), 0)
	require.NoError(t, err)
	require.True(t, bytes.Equal(in, out))
	_, err = CompressionZstd.Decompress(nil, buf.Bytes(), len(in)-1)
	require.ErrorIs(t, err, ErrDecompressedTooLarge)
}

func TestCompressReusedBufferDoesNotAllocate(t *testing.T) {
	if codecRaceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	in := codecTestInputs()["text"][:100<<10]
	for _, c := range allCodecs {
		dst, err := c.Compress(nil, in)
		require.NoError(t, err)
		allocs := testing.AllocsPerRun(20, func() {
			dst, _ = c.Compress(dst[:0], in)
		})
		assert.Zero(t, allocs, "%s", c)
		out, err := c.Decompress(nil, dst, 0)
		require.NoError(t, err)
		allocs = testing.AllocsPerRun(20, func() {
			out, _ = c.Decompress(out[:0], dst, 0)
		})
		assert.LessOrEqual(t, allocs, 1.0, "%s decompress into a reused buffer", c)
	}
}
