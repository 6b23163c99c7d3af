//go:build !amd64

package protocol

import "hash/crc32"

func crcUpdate(crc uint32, p []byte) uint32 { return crc32.Update(crc, crcCastagnoliTable, p) }
