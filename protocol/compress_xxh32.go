package protocol

import (
	"encoding/binary"
	"math/bits"
)

// xxHash32, needed for the one-byte LZ4 frame header checksum. Block and
// content checksums are not verified: the batch CRC already covers the
// compressed bytes.
const (
	codecXXPrime1 uint32 = 2654435761
	codecXXPrime2 uint32 = 2246822519
	codecXXPrime3 uint32 = 3266489917
	codecXXPrime4 uint32 = 668265263
	codecXXPrime5 uint32 = 374761393
)

func codecXXRound(acc, in uint32) uint32 {
	return bits.RotateLeft32(acc+in*codecXXPrime2, 13) * codecXXPrime1
}

func codecXXH32(b []byte, seed uint32) uint32 {
	n := len(b)
	var h uint32
	if n >= 16 {
		v1 := seed + codecXXPrime1 + codecXXPrime2
		v2 := seed + codecXXPrime2
		v3 := seed
		v4 := seed - codecXXPrime1
		for len(b) >= 16 {
			v1 = codecXXRound(v1, binary.LittleEndian.Uint32(b[0:]))
			v2 = codecXXRound(v2, binary.LittleEndian.Uint32(b[4:]))
			v3 = codecXXRound(v3, binary.LittleEndian.Uint32(b[8:]))
			v4 = codecXXRound(v4, binary.LittleEndian.Uint32(b[12:]))
			b = b[16:]
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = seed + codecXXPrime5
	}
	h += uint32(n)
	for len(b) >= 4 {
		h += binary.LittleEndian.Uint32(b) * codecXXPrime3
		h = bits.RotateLeft32(h, 17) * codecXXPrime4
		b = b[4:]
	}
	for _, c := range b {
		h += uint32(c) * codecXXPrime5
		h = bits.RotateLeft32(h, 11) * codecXXPrime1
	}
	h ^= h >> 15
	h *= codecXXPrime2
	h ^= h >> 13
	h *= codecXXPrime3
	h ^= h >> 16
	return h
}
