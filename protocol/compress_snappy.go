package protocol

import (
	"bytes"
	"encoding/binary"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
)

// The Java client writes snappy through xerial's SnappyOutputStream: an
// 8-byte magic, two big-endian int32s (version, minimum compatible version),
// then chunks of [int32 length][raw snappy block]. Other clients send a bare
// raw block; both are accepted on read.
var codecXerialHeader = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}

const (
	codecXerialMagicLen = 8
	codecXerialChunk    = 32 << 10 // xerial's default block size
)

func codecSnappyCompress(dst, src []byte) []byte {
	dst = append(dst, codecXerialHeader...)
	for len(src) > 0 {
		chunk := src[:min(len(src), codecXerialChunk)]
		src = src[len(chunk):]
		pos := len(dst)
		n := snappy.MaxEncodedLen(len(chunk))
		dst = codecGrowLen(dst, 4+n)
		// s2's fast snappy-compatible encoder: snappy.Encode is its slower
		// "better" mode, the wrong trade for a codec chosen for speed.
		enc := s2.EncodeSnappy(dst[pos+4:pos+4+n], chunk)
		binary.BigEndian.PutUint32(dst[pos:], uint32(len(enc)))
		dst = dst[:pos+4+len(enc)]
	}
	return dst
}

func codecSnappyDecompress(dst, src []byte, limit int) ([]byte, error) {
	if len(src) >= codecXerialMagicLen && bytes.Equal(src[:codecXerialMagicLen], codecXerialHeader[:codecXerialMagicLen]) {
		return codecXerialDecompress(dst, src, limit)
	}
	start := len(dst)
	dst, err := codecSnappyBlock(dst, src, limit)
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

func codecXerialDecompress(dst, src []byte, limit int) ([]byte, error) {
	if len(src) < len(codecXerialHeader) {
		return dst, codecCorrupt(CompressionSnappy, "short xerial header", nil)
	}
	start := len(dst)
	src = src[len(codecXerialHeader):]
	// Size the output once from the chunks' headers.
	total := 0
	for rest := src; len(rest) >= 4; {
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			break // reported below
		}
		if dl, err := snappy.DecodedLen(rest[4 : 4+n]); err == nil {
			total += dl
		}
		if total > limit {
			return dst, ErrDecompressedTooLarge
		}
		rest = rest[4+n:]
	}
	dst = codecGrowCap(dst, total)
	for len(src) > 0 {
		if len(src) < 4 {
			return dst[:start], codecCorrupt(CompressionSnappy, "truncated xerial chunk length", nil)
		}
		n := binary.BigEndian.Uint32(src)
		src = src[4:]
		if uint64(n) > uint64(len(src)) {
			return dst[:start], codecCorrupt(CompressionSnappy, "xerial chunk overruns input", nil)
		}
		var err error
		if dst, err = codecSnappyBlock(dst, src[:n], limit-(len(dst)-start)); err != nil {
			return dst[:start], err
		}
		src = src[n:]
	}
	return dst, nil
}

// codecSnappyBlock appends one decoded raw block, at most limit bytes.
func codecSnappyBlock(dst, block []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return dst, codecCorrupt(CompressionSnappy, "bad block header", err)
	}
	if n > limit {
		return dst, ErrDecompressedTooLarge
	}
	pos := len(dst)
	dst = codecGrowLen(dst, n)
	out, err := snappy.Decode(dst[pos:pos+n], block)
	if err != nil {
		return dst[:pos], codecCorrupt(CompressionSnappy, "bad block", err)
	}
	if len(out) != n || (n > 0 && &out[0] != &dst[pos]) {
		return dst[:pos], codecCorrupt(CompressionSnappy, "block length mismatch", nil)
	}
	return dst[:pos+n], nil
}

// codecGrowLen returns b extended by n bytes (contents of the new bytes
// unspecified), reallocating only when capacity is short.
func codecGrowLen(b []byte, n int) []byte {
	if n <= cap(b)-len(b) {
		return b[:len(b)+n]
	}
	return append(b, make([]byte, n)...)
}
