//go:build !linux

package handler

// adviseHuge asks for huge pages on Linux only (hugepage_linux.go).
func adviseHuge([]byte) {}
