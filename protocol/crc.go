package protocol

import "hash/crc32"

// Record batches (magic 2) are checksummed with CRC-32C, legacy messages
// (magic 0 and 1) with CRC-32 IEEE. hash/crc32 uses the CPU's CRC
// instructions for both where available; crcUpdate (crc_amd64.go) folds
// large CRC-32C inputs with carry-less multiplication instead.
var crcCastagnoliTable = crc32.MakeTable(crc32.Castagnoli)

func crcCastagnoli(b []byte) uint32 { return crcUpdate(0, b) }

func crcIEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
