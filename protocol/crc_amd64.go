package protocol

import (
	"hash/crc32"

	"golang.org/x/sys/cpu"
)

// hash/crc32 computes CRC-32C with the CRC32 instruction, three streams at
// a time. Where that instruction is not pipelined (AMD Zen 1 takes one
// every three cycles), folding by carry-less multiplication runs 1.6x as
// fast from 1 KiB up and 1.2x at 64 bytes (BenchmarkCRC32C); where it is,
// both reach about 8 bytes a cycle. The checksum is a third or more of the
// CPU of producing or consuming uncompressed 10 KiB records.
var crcFold = cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSE41 && cpu.X86.HasSSE42

// crcFoldMin is the least input castagnoliFold takes; folding is already
// ahead of hash/crc32 there.
const crcFoldMin = 64

//go:noescape
func castagnoliFold(reg uint32, p []byte) uint32

func crcUpdate(crc uint32, p []byte) uint32 {
	if crcFold && len(p) >= crcFoldMin {
		n := len(p) &^ 15
		crc = ^castagnoliFold(^crc, p[:n])
		p = p[n:]
	}
	return crc32.Update(crc, crcCastagnoliTable, p)
}
