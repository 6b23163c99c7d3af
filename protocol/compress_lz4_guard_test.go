//go:build linux

package protocol

import (
	"syscall"
	"testing"

	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/require"
)

// guardedBytes returns n bytes placed against an inaccessible page, after
// them (atEnd) or before them, so that a read outside them faults.
func guardedBytes(t *testing.T, n int, atEnd bool) []byte {
	t.Helper()
	page := syscall.Getpagesize()
	span := (n + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, span+2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	require.NoError(t, syscall.Mprotect(mem[:page], syscall.PROT_NONE))
	require.NoError(t, syscall.Mprotect(mem[page+span:], syscall.PROT_NONE))
	if atEnd {
		return mem[page+span-n : page+span : page+span]
	}
	return mem[page : page+n : page+n]
}

// TestLZ4BlockReadsStayInside compresses every test block and sizes around
// the format's limits from memory that ends (or begins) at an inaccessible
// page: the compressor reads without bounds checks, and a read past either
// end of its input would fault here.
func TestLZ4BlockReadsStayInside(t *testing.T) {
	inputs := lz4BlockInputs()
	text := lz4WordText(lz4MaxBlock, 5)
	for _, n := range []int{12, 13, 14, 15, 16, 17, 19, 20, 21, 24, 31, 33, 100, 4095, 4097, lz4MaxBlock - 1} {
		inputs["text-"+string(rune(n))] = text[:n]
		inputs["zeros-"+string(rune(n))] = make([]byte, n)
	}
	var tab lz4Table
	for name, in := range inputs {
		for _, atEnd := range []bool{true, false} {
			g := guardedBytes(t, len(in), atEnd)
			copy(g, in)
			dst := make([]byte, lz4BlockBound(len(in)))
			n := lz4CompressBlock(dst, g, &tab)
			out := make([]byte, len(in)+64)
			m, err := lz4.UncompressBlock(dst[:n], out)
			require.NoError(t, err, name)
			require.Equal(t, in, out[:m], name)
		}
	}
}
