package protocol

import (
	"hash/crc32"

	"golang.org/x/sys/cpu"
)

// hash/crc32 computes CRC-32C with the CRC32 instruction, three streams at
// a time. Where that instruction is not pipelined (Zen 1 takes one every
// three cycles), folding by carry-less multiplication runs 1.6x as fast
// from 1 KiB up and 1.2x at 64 bytes (BenchmarkCRC32C); where it is (Zen 3),
// hash/crc32 runs 1.9x as fast as folding at 10 KiB. Those two were
// measured; the rest of AMD family 17h (Zen+, Zen 2) and Hygon's family 18h,
// built on Zen 1, are taken to be as Zen 1, and Intel's, pipelined since
// Nehalem, as Zen 3. The checksum is a third or more of the CPU of producing
// or consuming uncompressed 10 KiB records.
var (
	crcFoldable = cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSE41 && cpu.X86.HasSSE42
	crcFold     = crcFoldable && crcInstrSlow(cpuVendorFamily())
	// crcWide folds with 512-bit registers where the CPU multiplies in
	// them (VPCLMULQDQ with AVX-512: Intel from Ice Lake, AMD from Zen 4).
	// On a Sapphire Rapids core it runs 4x as fast as hash/crc32 at 10 KiB
	// (119 against 30 GB/s), 2.5x at 1 KiB and 1.4x at 256 bytes, its
	// threshold, below which hash/crc32 is ahead.
	crcWide = crcFoldable && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VPCLMULQDQ
)

// crcFoldMin is the least input castagnoliFold takes; folding is already
// ahead of a slow CRC32 instruction there.
const crcFoldMin = 64

//go:noescape
func castagnoliFold(reg uint32, p []byte) uint32

// crcWideMin is the least input castagnoliFoldWide takes, and where it
// is ahead of hash/crc32.
const crcWideMin = 256

//go:noescape
func castagnoliFoldWide(reg uint32, p []byte) uint32

// castagnoliFoldLanes is the end castagnoliFold and castagnoliFoldWide
// share: they jump to it with their lanes in registers. Never call it.
//
//go:noescape
func castagnoliFoldLanes(reg uint32, p []byte) uint32

//go:noescape
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func crcUpdate(crc uint32, p []byte) uint32 {
	if crcWide && len(p) >= crcWideMin {
		return crcWideUpdate(crc, p)
	}
	if crcFold {
		return crcFoldUpdate(crc, p)
	}
	return crc32.Update(crc, crcCastagnoliTable, p)
}

// crcFoldUpdate is crcUpdate by folding, whatever the CPU (which must be
// crcFoldable).
func crcFoldUpdate(crc uint32, p []byte) uint32 {
	if len(p) >= crcFoldMin {
		n := len(p) &^ 15
		crc = ^castagnoliFold(^crc, p[:n])
		p = p[n:]
	}
	return crc32.Update(crc, crcCastagnoliTable, p)
}

// crcWideUpdate is crcUpdate by folding 512 bits at a time; p must hold
// at least crcWideMin bytes, and the CPU must have what crcWide asks.
func crcWideUpdate(crc uint32, p []byte) uint32 {
	n := len(p) &^ 15
	crc = ^castagnoliFoldWide(^crc, p[:n])
	return crc32.Update(crc, crcCastagnoliTable, p[n:])
}

// crcInstrSlow tells the CPUs whose CRC32 instruction is not pipelined.
func crcInstrSlow(vendor string, family uint32) bool {
	return vendor == "AuthenticAMD" && family == 0x17 || vendor == "HygonGenuine" && family == 0x18
}

// cpuVendorFamily reads the CPU's vendor string and display family.
func cpuVendorFamily() (string, uint32) {
	_, b, c, d := cpuid(0, 0)
	var v [12]byte
	for i := range 4 {
		v[i], v[4+i], v[8+i] = byte(b>>(8*i)), byte(d>>(8*i)), byte(c>>(8*i))
	}
	a, _, _, _ := cpuid(1, 0)
	family := a >> 8 & 0xf
	if family == 0xf {
		family += a >> 20 & 0xff
	}
	return string(v[:]), family
}
