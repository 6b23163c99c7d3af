package protocol

import (
	"errors"
	"math/bits"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// EncodeAll and DecodeAll are safe for concurrent use and pool their own
// state, so one encoder and one decoder per size class serve everyone.
var (
	codecZstdEncOnce sync.Once
	codecZstdEnc     *zstd.Encoder
	codecZstdEncErr  error
	codecZstdDecs    sync.Map // uint64 max size -> *zstd.Decoder
)

// codecZstdMinWindow keeps frames written with the usual window sizes
// (up to 8 MiB) readable when the output cap is smaller than the window.
const codecZstdMinWindow = 8 << 20

// codecZstdWindow is the encoder's window: a default-sized request's
// worth (max.request.size is about 1 MiB), so every match a batch holds is
// within reach, and an encoder's history is bounded by what a batch can
// fill rather than the default 8 MiB. Smaller is worse: a 64 KiB window also
// shrinks the block size to 64 KiB and loses matches farther back in the
// batch, which cost 1.7x the CPU per record at 100 B and 5x at 10 KiB in
// bench's in-memory produce; 1 MiB measured the same as the default there.
// Any zstd reader takes the frames.
const codecZstdWindow = 1 << 20

func codecZstdCompress(dst, src []byte) ([]byte, error) {
	codecZstdEncOnce.Do(func() {
		// Zero frames: an empty batch body must still be a valid frame
		// for readers that reject empty input.
		codecZstdEnc, codecZstdEncErr = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithZeroFrames(true),
			zstd.WithWindowSize(codecZstdWindow))
	})
	if codecZstdEncErr != nil {
		return dst, codecZstdEncErr
	}
	return codecZstdEnc.EncodeAll(src, dst), nil
}

func codecZstdDecompress(dst, src []byte, limit int) ([]byte, error) {
	// Decoders are keyed by a power-of-two size class so that a few serve
	// all caps; the exact cap is checked after decoding.
	class := uint64(1) << bits.Len64(uint64(max(limit, codecZstdMinWindow)-1))
	d, err := codecZstdDecoder(class)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	out, err := d.DecodeAll(src, dst)
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return dst[:start], ErrDecompressedTooLarge
		}
		return dst[:start], codecCorrupt(CompressionZstd, "bad frame", err)
	}
	if len(out)-start > limit {
		return dst[:start], ErrDecompressedTooLarge
	}
	return out, nil
}

func codecZstdDecoder(maxSize uint64) (*zstd.Decoder, error) {
	if d, ok := codecZstdDecs.Load(maxSize); ok {
		return d.(*zstd.Decoder), nil
	}
	d, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxSize), zstd.WithDecoderConcurrency(0))
	if err != nil {
		return nil, err
	}
	if prev, loaded := codecZstdDecs.LoadOrStore(maxSize, d); loaded {
		d.Close()
		return prev.(*zstd.Decoder), nil
	}
	return d, nil
}
