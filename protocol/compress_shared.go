package protocol

import "encoding/binary"

// Shared decompression chunks (RecordDecoder.SharedBuffers): LZ4 batches,
// and zstd batches that declare their size, decompress back to back into one
// allocation of sharedChunkSize bytes, in place, instead of into pooled
// scratch space followed by a copy into a buffer of the batch's own. The
// copy was the larger part of decoding an LZ4 batch; zeroing one chunk for
// dozens of batches costs less.
const sharedChunkSize = 1 << 20

// codecLZ4DirectBlock is the largest LZ4 block size whose frames a batch
// too big for a chunk decompresses straight into a buffer of their worst
// case: writers fill every block but the last, so that buffer is at most a
// block longer than the output. Larger blocks (pierrec's default is 4 MiB)
// could waste megabytes, and go through scratch space and a copy instead.
const codecLZ4DirectBlock = 256 << 10

// decompressShared decompresses a batch into d.shared when its output is
// known to fit a chunk (an LZ4 frame's worst case, a zstd frame's declared
// size). A larger LZ4 batch of small blocks decompresses into a buffer of
// its worst case, uncleared; any other batch as codecDecompressOwned does.
// The result is capped at its length, so nothing appended to it reaches
// the next batch's bytes.
func (d *RecordDecoder) decompressShared(src []byte, codec Compression, legacyLZ4 bool) ([]byte, error) {
	need, ok := 0, false
	switch codec {
	case CompressionLZ4:
		need, ok = codecLZ4Reserve(src, sharedChunkSize, 4<<20)
	case CompressionZstd:
		need, ok = codecZstdDeclared(src)
	}
	if !ok || need > sharedChunkSize/2 {
		if need, ok := d.lz4Direct(src, codec); ok {
			return decompressInto(makeNoZero(need), src, codec, d.limit(), legacyLZ4)
		}
		return codecDecompressOwned(src, codec, d.limit(), legacyLZ4)
	}
	if cap(d.shared)-len(d.shared) < need {
		// Not cleared: batches are decompressed over it and nothing reads
		// past what was written.
		d.shared = makeNoZero(sharedChunkSize)
	}
	room := d.shared[len(d.shared):len(d.shared)]
	out, err := codecDecompress(room, src, codec, d.limit(), legacyLZ4)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	if cap(out) != cap(room) || &out[0] != &room[:1][0] {
		return out, nil // outgrew the reservation after all: out is its own buffer
	}
	d.shared = d.shared[:len(d.shared)+len(out)]
	return out[:len(out):len(out)], nil
}

// lz4Direct reports whether an LZ4 batch decompresses straight into a
// buffer of its worst case, and that size: its frames' blocks are at most
// codecLZ4DirectBlock and the worst case is within the decoder's limit.
func (d *RecordDecoder) lz4Direct(src []byte, codec Compression) (int, bool) {
	if codec != CompressionLZ4 {
		return 0, false
	}
	need, ok := codecLZ4Reserve(src, d.limit(), codecLZ4DirectBlock)
	return need, ok && need <= d.limit()
}

// decompressInto decompresses src into buf, which the result then owns, capped
// at its length.
func decompressInto(buf, src []byte, codec Compression, limit int, legacyLZ4 bool) ([]byte, error) {
	out, err := codecDecompress(buf[:0], src, codec, limit, legacyLZ4)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out[:len(out):len(out)], nil
}

// codecLZ4Reserve bounds the output space codecLZ4Decompress reserves for
// src's frames: per frame, its declared content size or the sum over its
// blocks of what each may expand to, whichever is more. Once the bound
// passes most it stops and returns what it has summed (more than most). ok
// is false for input it cannot walk (legacy, malformed or dictionary frames,
// a declared size above most), which decoding then reports or handles on the
// owned path, and for frames whose blocks may be larger than maxBlock.
func codecLZ4Reserve(src []byte, most, maxBlock int) (need int, ok bool) {
	for len(src) > 0 {
		if len(src) < 7 || binary.LittleEndian.Uint32(src) != codecLZ4Magic {
			return 0, false
		}
		flg, bd := src[4], src[5]
		if flg>>6 != 1 || flg&codecLZ4FlagDictID != 0 {
			return 0, false
		}
		blockMax := 0
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
			return 0, false
		}
		if blockMax > maxBlock {
			return 0, false
		}
		p, declared := 7, 0
		if flg&codecLZ4FlagContentSize != 0 {
			if len(src) < 15 {
				return 0, false
			}
			size := binary.LittleEndian.Uint64(src[6:])
			if size > uint64(most) {
				return 0, false
			}
			declared, p = int(size), 15
		}
		// The frame reserves its declared size up front, and each block
		// what it may expand to on top of what came before.
		frame := 0
		for {
			if len(src)-p < 4 {
				return 0, false
			}
			size := binary.LittleEndian.Uint32(src[p:])
			p += 4
			if size == 0 {
				break
			}
			n := int(size &^ codecLZ4Uncompressed)
			if n > len(src)-p {
				return 0, false
			}
			if size&codecLZ4Uncompressed != 0 {
				frame += n
			} else {
				frame += min(blockMax, 256*n+64) // as codecLZ4Frame reserves per block
			}
			p += n
			if flg&codecLZ4FlagBlockChecksum != 0 {
				p += 4
			}
			if need+frame > most {
				return need + frame, true
			}
		}
		need += max(frame, declared)
		if flg&codecLZ4FlagContentChecksum != 0 {
			p += 4
		}
		if p > len(src) {
			return 0, false
		}
		src = src[p:]
	}
	return need, true
}

// codecZstdDeclared reads the content size a zstd frame header declares
// (writers that compress a whole batch at once declare it). ok is false when
// src does not start with a frame that declares one. Further frames would
// outgrow the reservation, which decompressShared notices.
func codecZstdDeclared(src []byte) (size int, ok bool) {
	if len(src) < 6 || binary.LittleEndian.Uint32(src) != 0xFD2FB528 {
		return 0, false
	}
	fhd := src[4]
	single := fhd>>5&1 == 1
	p := 5
	if !single {
		p++ // window descriptor
	}
	p += [4]int{0, 1, 2, 4}[fhd&3] // dictionary id
	n := [4]int{0, 2, 4, 8}[fhd>>6]
	if n == 0 && single {
		n = 1
	}
	if n == 0 || len(src) < p+n {
		return 0, false
	}
	var v uint64
	switch n {
	case 1:
		v = uint64(src[p])
	case 2:
		v = uint64(binary.LittleEndian.Uint16(src[p:])) + 256
	case 4:
		v = uint64(binary.LittleEndian.Uint32(src[p:]))
	case 8:
		v = binary.LittleEndian.Uint64(src[p:])
	}
	if v > sharedChunkSize {
		return 0, false
	}
	return int(v), true
}
