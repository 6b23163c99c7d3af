package protocol

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scratchBatch is a batch of n records whose values are distinct per seed and
// compress about 2x.
func scratchBatch(t testing.TB, codec Compression, seed byte, n, size int) []byte {
	recs := make([]Record, n)
	for i := range recs {
		v := make([]byte, size)
		for j := range v {
			v[j] = 'a'
			if j%2 == 0 {
				v[j] = seed ^ byte(i*31+j*7)
			}
		}
		recs[i] = Record{Offset: int64(i), Timestamp: goldenTS, Value: v}
	}
	data, err := AppendRecordBatch(nil, &RecordBatch{PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1,
		BaseSequence: -1, Records: recs}, codec)
	require.NoError(t, err)
	return data
}

// Records of a compressed batch own their bytes: decoding later batches, on
// this decoder or another, reuses pooled scratch space but never memory a
// returned record points into.
func TestDecodedRecordsOwnDecompressedBytes(t *testing.T) {
	for _, codec := range allCodecs {
		t.Run(codec.String(), func(t *testing.T) {
			first := scratchBatch(t, codec, 1, 20, 1000)
			var d RecordDecoder
			kept, _, err := d.AppendRecords(nil, first)
			require.NoError(t, err)
			want := make([][]byte, len(kept))
			for i, r := range kept {
				want[i] = bytes.Clone(r.Value)
			}
			var other RecordDecoder
			for seed := byte(2); seed < 6; seed++ {
				_, _, err = d.AppendRecords(nil, scratchBatch(t, codec, seed, 20, 1000))
				require.NoError(t, err)
				_, err = other.DecodeBatches(scratchBatch(t, codec, seed+10, 20, 1000), func(*RecordBatch) error { return nil })
				require.NoError(t, err)
			}
			for i, r := range kept {
				require.True(t, bytes.Equal(want[i], r.Value), "record %d changed after later decodes", i)
			}
		})
	}
}

// The payload a batch keeps is its decompressed size, not a multiple of the
// compressed input or a whole LZ4 block reserved up front, for large and
// small batches alike.
func TestDecompressOwnedIsExactSize(t *testing.T) {
	for _, tc := range []struct {
		codec Compression
		size  int
	}{
		{CompressionGzip, 200 << 10}, {CompressionSnappy, 200 << 10}, {CompressionLZ4, 200 << 10}, {CompressionZstd, 200 << 10},
		{CompressionLZ4, 10 << 10}, {CompressionZstd, 10 << 10},
	} {
		codec := tc.codec
		t.Run(fmt.Sprint(codec, "/", tc.size), func(t *testing.T) {
			in := make([]byte, tc.size) // zeros: far above 4x compressible
			for i := 0; i < len(in); i += 64 {
				in[i] = byte(i >> 6)
			}
			enc, err := codec.Compress(nil, in)
			require.NoError(t, err)
			for range 2 { // cold and warm scratch
				out, err := codecDecompressOwned(enc, codec, 0, false)
				require.NoError(t, err)
				require.True(t, bytes.Equal(in, out))
				assert.LessOrEqual(t, cap(out), maxCap(codec, len(in)), "rounded to the allocator's size class at most")
			}
			_, err = codecDecompressOwned(enc, codec, len(in)-1, false)
			require.ErrorIs(t, err, ErrDecompressedTooLarge, "the cap holds on the pooled path")
			out, err := codecDecompressOwned(enc, codec, len(in), false)
			require.NoError(t, err)
			require.Len(t, out, len(in))
			out, err = codec.Decompress(nil, enc, 0)
			require.NoError(t, err)
			require.True(t, bytes.Equal(in, out))
			if codec != CompressionLZ4 { // LZ4 into a caller's buffer reserves per block
				assert.LessOrEqual(t, cap(out), maxCap(codec, len(in)), "Decompress into nil sizes exactly too")
			}
		})
	}
}

// A RecordDecoder with a cap below a batch's decompressed size fails it with
// ErrDecompressedTooLarge on both the owned and the reused path.
func TestRecordDecoderCapOnBothPaths(t *testing.T) {
	for _, codec := range []Compression{CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd} {
		for _, reuse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reuse=%v", codec, reuse), func(t *testing.T) {
				data := scratchBatch(t, codec, 3, 40, 1000)
				d := RecordDecoder{MaxDecompressedSize: 20_000, ReuseBuffers: reuse}
				_, err := d.DecodeBatches(data, func(*RecordBatch) error { return nil })
				require.ErrorIs(t, err, ErrDecompressedTooLarge)
				d.MaxDecompressedSize = 0
				n := 0
				_, err = d.DecodeBatches(data, func(b *RecordBatch) error { n += len(b.Records); return nil })
				require.NoError(t, err)
				assert.Equal(t, 40, n)
			})
		}
	}
}

// Decoding a compressed batch allocates per batch, not per record: the
// payload, the records' header arena and nothing that grows with the count.
func TestDecodeCompressedAllocsPerBatch(t *testing.T) {
	if codecRaceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, codec := range []Compression{CompressionLZ4, CompressionZstd, CompressionSnappy} {
		t.Run(codec.String(), func(t *testing.T) {
			small := scratchBatch(t, codec, 4, 10, 100)
			large := scratchBatch(t, codec, 4, 1000, 100)
			var d RecordDecoder
			recs := make([]Record, 0, 1000)
			measure := func(data []byte) float64 {
				return testing.AllocsPerRun(20, func() {
					var err error
					if recs, _, err = d.AppendRecords(recs[:0], data); err != nil {
						t.Fatal(err)
					}
				})
			}
			a, b := measure(small), measure(large)
			assert.LessOrEqual(t, b, a+1, "100x the records, same allocations (small %v, large %v)", a, b)
			assert.LessOrEqual(t, b, 3.0)
		})
	}
}

func maxCap(_ Compression, n int) int { return n + 8<<10 }

func TestLZ4EstimateFromBlockHeaders(t *testing.T) {
	in := make([]byte, 300<<10) // four full 64 KiB blocks and a 44 KiB one
	for i := range in {
		in[i] = byte(i*7) ^ byte(i>>8) // compresses, but far less than 4x
	}
	enc := codecLZ4Compress(nil, in, false)
	est := codecLZ4Estimate(enc[len(codecLZ4Header):], codecLZ4BlockSize, false)
	assert.GreaterOrEqual(t, est, 4*codecLZ4BlockSize, "full blocks count at the block size")
	assert.LessOrEqual(t, est, 5*codecLZ4BlockSize)
	assert.Equal(t, 0, codecLZ4Estimate([]byte{0xff, 0xff, 0, 0}, codecLZ4BlockSize, false), "a lying block length adds nothing")
}
