package protocol

import (
	"encoding/binary"
	"sync"

	"github.com/pierrec/lz4/v4"
)

// Kafka's LZ4 is the LZ4 frame format. Frames are encoded and decoded here
// rather than through lz4.Reader/Writer so that output lands directly in the
// caller's buffer, the output cap is enforced block by block, and the header
// checksum can be written (and tolerated) the way Kafka before 0.10 computed
// it for magic 0: over the magic number plus descriptor instead of the
// descriptor alone.
const (
	codecLZ4Magic         = 0x184D2204
	codecLZ4SkippableMask = 0xFFFFFFF0
	codecLZ4Skippable     = 0x184D2A50
	codecLZ4BlockSize     = 64 << 10
	codecLZ4WindowSize    = 64 << 10

	// Version 01, independent blocks, no block or content checksum, no
	// content size: what Java's reader for every Kafka version accepts.
	codecLZ4FLG = 0x60
	codecLZ4BD  = 0x40 // 64 KiB maximum block size

	codecLZ4FlagIndependent     = 0x20
	codecLZ4FlagBlockChecksum   = 0x10
	codecLZ4FlagContentSize     = 0x08
	codecLZ4FlagContentChecksum = 0x04
	codecLZ4FlagDictID          = 0x01
	codecLZ4Uncompressed        = 0x80000000
)

var (
	codecLZ4Header       = [7]byte{0x04, 0x22, 0x4D, 0x18, codecLZ4FLG, codecLZ4BD, 0}
	codecLZ4LegacyHeader = codecLZ4Header
	codecLZ4Tables       = sync.Pool{New: func() any { return new(lz4Table) }}
)

func init() {
	codecLZ4Header[6] = byte(codecXXH32(codecLZ4Header[4:6], 0) >> 8)
	codecLZ4LegacyHeader[6] = byte(codecXXH32(codecLZ4LegacyHeader[0:6], 0) >> 8)
}

func codecLZ4Compress(dst, src []byte, legacy bool) []byte {
	if legacy {
		dst = append(dst, codecLZ4LegacyHeader[:]...)
	} else {
		dst = append(dst, codecLZ4Header[:]...)
	}
	t := codecLZ4Tables.Get().(*lz4Table)
	for len(src) > 0 {
		chunk := src[:min(len(src), codecLZ4BlockSize)]
		src = src[len(chunk):]
		pos := len(dst)
		bound := lz4BlockBound(len(chunk))
		dst = codecGrowLen(dst, 4+bound)
		n := lz4CompressBlock(dst[pos+4:pos+4+bound], chunk, t)
		if n == 0 || n >= len(chunk) {
			// Incompressible: a stored block is smaller.
			n = copy(dst[pos+4:], chunk)
			binary.LittleEndian.PutUint32(dst[pos:], uint32(n)|codecLZ4Uncompressed)
		} else {
			binary.LittleEndian.PutUint32(dst[pos:], uint32(n))
		}
		dst = dst[:pos+4+n]
	}
	codecLZ4Tables.Put(t)
	return binary.LittleEndian.AppendUint32(dst, 0) // end mark
}

func codecLZ4Decompress(dst, src []byte, limit int, legacy bool) ([]byte, error) {
	start := len(dst)
	for frames := 0; ; frames++ {
		if len(src) == 0 {
			if frames == 0 {
				return dst, codecCorrupt(CompressionLZ4, "empty input", nil)
			}
			return dst, nil
		}
		if len(src) < 8 {
			return dst[:start], codecCorrupt(CompressionLZ4, "truncated frame", nil)
		}
		magic := binary.LittleEndian.Uint32(src)
		if magic&codecLZ4SkippableMask == codecLZ4Skippable {
			n := binary.LittleEndian.Uint32(src[4:])
			if uint64(n) > uint64(len(src)-8) {
				return dst[:start], codecCorrupt(CompressionLZ4, "truncated skippable frame", nil)
			}
			src = src[8+n:]
			continue
		}
		if magic != codecLZ4Magic {
			return dst[:start], codecCorrupt(CompressionLZ4, "bad frame magic", nil)
		}
		var err error
		dst, src, err = codecLZ4Frame(dst, src, start, limit, legacy)
		if err != nil {
			return dst[:start], err
		}
	}
}

// codecLZ4Frame decodes the frame at the start of src (magic already
// checked) and returns the input that follows it.
func codecLZ4Frame(dst, src []byte, start, limit int, legacy bool) ([]byte, []byte, error) {
	flg, bd := src[4], src[5]
	if flg>>6 != 1 {
		return dst, nil, codecCorrupt(CompressionLZ4, "unsupported frame version", nil)
	}
	if flg&codecLZ4FlagDictID != 0 {
		return dst, nil, codecCorrupt(CompressionLZ4, "dictionaries are not supported", nil)
	}
	descLen := 2
	if flg&codecLZ4FlagContentSize != 0 {
		descLen += 8
	}
	p := 4 + descLen
	if len(src) < p+1 {
		return dst, nil, codecCorrupt(CompressionLZ4, "truncated frame descriptor", nil)
	}
	if hc := byte(codecXXH32(src[4:p], 0) >> 8); src[p] != hc && !legacy {
		return dst, nil, codecCorrupt(CompressionLZ4, "bad frame header checksum", nil)
	}
	p++
	if flg&codecLZ4FlagContentSize != 0 {
		size := binary.LittleEndian.Uint64(src[6:])
		if size > uint64(limit-(len(dst)-start)) {
			return dst, nil, ErrDecompressedTooLarge
		}
		dst = codecGrowCap(dst, int(size))
	}
	var blockMax int
	switch (bd >> 4) & 7 {
	case 4:
		blockMax = 64 << 10
	case 5:
		blockMax = 256 << 10
	case 6:
		blockMax = 1 << 20
	case 7:
		blockMax = 4 << 20
	default:
		return dst, nil, codecCorrupt(CompressionLZ4, "bad block size", nil)
	}
	if flg&codecLZ4FlagContentSize == 0 {
		// Unknown size: estimate it from the block headers, so most frames
		// need one allocation of about their size; blocks grow the buffer
		// further if the estimate falls short.
		est := codecLZ4Estimate(src[p:], blockMax, flg&codecLZ4FlagBlockChecksum != 0)
		dst = codecGrowCap(dst, min(est, limit-(len(dst)-start)))
	}
	frameStart := len(dst)
	for {
		if len(src)-p < 4 {
			return dst, nil, codecCorrupt(CompressionLZ4, "truncated block", nil)
		}
		size := binary.LittleEndian.Uint32(src[p:])
		p += 4
		if size == 0 {
			break
		}
		stored := size&codecLZ4Uncompressed != 0
		size &^= codecLZ4Uncompressed
		if uint64(size) > uint64(len(src)-p) {
			return dst, nil, codecCorrupt(CompressionLZ4, "block overruns input", nil)
		}
		block := src[p : p+int(size)]
		p += int(size)
		left := limit - (len(dst) - start)
		if stored {
			if len(block) > left {
				return dst, nil, ErrDecompressedTooLarge
			}
			dst = append(dst, block...)
		} else {
			// A sequence expands at most ~255x, so small blocks need not
			// reserve the frame's full block size.
			room := min(blockMax, 256*len(block)+64)
			limited := left < room
			room = min(room, left)
			pos := len(dst)
			dst = codecGrowLen(dst, room)
			var dict []byte
			if flg&codecLZ4FlagIndependent == 0 {
				dict = dst[max(frameStart, pos-codecLZ4WindowSize):pos]
			}
			n, err := lz4.UncompressBlockWithDict(block, dst[pos:pos+room], dict)
			dst = dst[:pos+n]
			if err != nil {
				if limited {
					return dst, nil, ErrDecompressedTooLarge
				}
				return dst, nil, codecCorrupt(CompressionLZ4, "bad block", err)
			}
		}
		if flg&codecLZ4FlagBlockChecksum != 0 {
			if len(src)-p < 4 {
				return dst, nil, codecCorrupt(CompressionLZ4, "truncated block checksum", nil)
			}
			p += 4
		}
	}
	if flg&codecLZ4FlagContentChecksum != 0 {
		if len(src)-p < 4 {
			return dst, nil, codecCorrupt(CompressionLZ4, "truncated content checksum", nil)
		}
		p += 4
	}
	return dst, src[p:], nil
}

// codecGrowCap returns b with capacity for n more bytes.
func codecGrowCap(b []byte, n int) []byte {
	if n <= cap(b)-len(b) {
		return b
	}
	return append(b, make([]byte, n)...)[:len(b)]
}

// codecLZ4Estimate guesses the decompressed size of a frame's blocks from
// their headers alone: writers fill every block but the last, a stored block
// is its own size, and the last compressed block is guessed at 4x, within
// the block size. Malformed headers end the walk (decoding reports them).
func codecLZ4Estimate(blocks []byte, blockMax int, checksums bool) int {
	est, lastCompressed := 0, 0
	for len(blocks) >= 4 {
		size := binary.LittleEndian.Uint32(blocks)
		if size == 0 {
			break
		}
		n := int(size &^ codecLZ4Uncompressed)
		if n > len(blocks)-4 {
			break
		}
		est += lastCompressed
		lastCompressed = 0
		if size&codecLZ4Uncompressed != 0 {
			est += n
		} else {
			est += min(blockMax, 4*n) // replaced by blockMax if a block follows
			lastCompressed = blockMax - min(blockMax, 4*n)
		}
		blocks = blocks[4+n:]
		if checksums && len(blocks) >= 4 {
			blocks = blocks[4:]
		}
	}
	return est
}
