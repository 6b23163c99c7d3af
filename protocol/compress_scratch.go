package protocol

import "sync"

// Decoded batches own their bytes: records alias them and may outlive the
// decoder. Snappy and gzip carry their output size, and LZ4's is estimated
// from its block headers, so those decompress straight into a fresh buffer of
// about that size. A zstd frame without a content size (streamed writers
// leave it out) would grow a fresh buffer by doubling, so zstd decompresses
// into a pooled scratch buffer that never leaves this file and is then copied
// into an allocation of exactly its size: append from a source fills the new
// memory without zeroing it first.

// codecScratchMax bounds the buffers kept in the pool, so that one outsized
// batch does not pin its memory for the process's life.
const codecScratchMax = 8 << 20

var codecScratch = sync.Pool{New: func() any { return new([]byte) }}

// codecDecompressOwned is codecDecompress into a new buffer of the output's
// exact size, which the caller owns (nil for empty output).
func codecDecompressOwned(src []byte, c Compression, limit int, legacyLZ4 bool) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxDecompressedSize
	}
	if c != CompressionZstd && c != CompressionLZ4 {
		// The others size their output exactly up front, from their
		// length headers.
		return codecDecompress(nil, src, c, limit, legacyLZ4)
	}
	// zstd, and LZ4 whose block headers only bound a block's output (a
	// small batch would otherwise reserve a whole 64 KiB block), decode
	// into scratch and copy out exactly what came.
	bp := codecScratch.Get().(*[]byte)
	out, err := codecDecompress((*bp)[:0], src, c, limit, legacyLZ4)
	var owned []byte
	if err == nil && len(out) > 0 {
		owned = append([]byte(nil), out...)
	}
	if cap(out) <= codecScratchMax {
		*bp = out[:0]
	} else {
		*bp = nil
	}
	codecScratch.Put(bp)
	return owned, err
}
