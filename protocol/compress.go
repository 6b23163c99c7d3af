package protocol

import (
	"errors"
	"fmt"
)

// Compression is a codec as numbered in the compression bits (0-2) of record
// batch and legacy message attributes.
type Compression int8

const (
	CompressionNone   Compression = 0
	CompressionGzip   Compression = 1
	CompressionSnappy Compression = 2
	CompressionLZ4    Compression = 3
	CompressionZstd   Compression = 4
)

// DefaultMaxDecompressedSize caps the decompressed size of one batch (or
// legacy wrapper message) when no other cap is given. It sits above the
// default fetch.max.bytes (50 MiB) so that any response a default consumer
// asks for still fits, while a decompression bomb costs an error rather than
// the process.
const DefaultMaxDecompressedSize = 64 << 20

// ErrDecompressedTooLarge is returned when decompressing would exceed the
// configured cap. The input may be valid: raise the cap to read it.
var ErrDecompressedTooLarge = errors.New("protocol: decompressed data exceeds size limit")

// String returns the codec's name as Kafka's compression.type spells it.
func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionGzip:
		return "gzip"
	case CompressionSnappy:
		return "snappy"
	case CompressionLZ4:
		return "lz4"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", int8(c))
}

// Compress appends the compressed form of src to dst, in the framing the
// Java client writes: gzip, xerial-framed snappy, the LZ4 frame format with
// independent 64 KiB blocks, and a zstd frame. Encoders are pooled; with a
// dst of sufficient capacity, Compress does not allocate.
func (c Compression) Compress(dst, src []byte) ([]byte, error) {
	return codecCompress(dst, src, c, false)
}

// Decompress appends the decompressed form of src to dst. The output is
// capped at limit bytes (DefaultMaxDecompressedSize when limit <= 0); above
// it Decompress fails with ErrDecompressedTooLarge. Snappy input may be
// xerial-framed or a raw block. Malformed input fails with an error wrapping
// ErrCorruptMessage. With a nil dst the result is allocated at its exact
// size, whatever the compression ratio.
func (c Compression) Decompress(dst, src []byte, limit int) ([]byte, error) {
	if cap(dst) == 0 {
		return codecDecompressOwned(src, c, limit, false)
	}
	return codecDecompress(dst, src, c, limit, false)
}

// codecCompress is Compress; legacyLZ4 writes the LZ4 header checksum the way
// Kafka before 0.10 computed it, which magic 0 readers still expect.
func codecCompress(dst, src []byte, c Compression, legacyLZ4 bool) ([]byte, error) {
	switch c {
	case CompressionNone:
		return append(dst, src...), nil
	case CompressionGzip:
		return codecGzipCompress(dst, src)
	case CompressionSnappy:
		return codecSnappyCompress(dst, src), nil
	case CompressionLZ4:
		return codecLZ4Compress(dst, src, legacyLZ4), nil
	case CompressionZstd:
		return codecZstdCompress(dst, src)
	}
	return dst, codecUnsupported(c)
}

// codecDecompress is Decompress; legacyLZ4 accepts LZ4 frames whose header
// checksum does not verify (Kafka before 0.10 wrote it wrong for magic 0).
func codecDecompress(dst, src []byte, c Compression, limit int, legacyLZ4 bool) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxDecompressedSize
	}
	switch c {
	case CompressionNone:
		if len(src) > limit {
			return dst, ErrDecompressedTooLarge
		}
		return append(dst, src...), nil
	case CompressionGzip:
		return codecGzipDecompress(dst, src, limit)
	case CompressionSnappy:
		return codecSnappyDecompress(dst, src, limit)
	case CompressionLZ4:
		return codecLZ4Decompress(dst, src, limit, legacyLZ4)
	case CompressionZstd:
		return codecZstdDecompress(dst, src, limit)
	}
	return dst, codecUnsupported(c)
}

func codecUnsupported(c Compression) error {
	return fmt.Errorf("protocol: compression codec %d: %w", int8(c), ErrUnsupportedCompressionType)
}

func codecCorrupt(c Compression, reason string, err error) error {
	if err != nil {
		return fmt.Errorf("protocol: %s: %s: %w (%v)", c, reason, ErrCorruptMessage, err)
	}
	return fmt.Errorf("protocol: %s: %s: %w", c, reason, ErrCorruptMessage)
}

// codecAppender is an io.Writer that appends to a byte slice, so that
// stream encoders write straight into the caller's buffer.
type codecAppender struct{ b []byte }

func (w *codecAppender) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
