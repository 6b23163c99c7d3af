//go:build !linux

package handler

// hugePage is the size adviseHuge works in on Linux.
const hugePage = 2 << 20

// adviseHuge asks for huge pages on Linux only (hugepage_linux.go).
func adviseHuge([]byte) {}
