//go:build !linux

package handler

// hugeAdviseMin is the smallest buffer adviseHuge advises on Linux.
const hugeAdviseMin = 1 << 20

// adviseHuge asks for huge pages on Linux only (hugepage_linux.go).
func adviseHuge([]byte) {}
