//go:build !linux

package lowat

// Supported is false off Linux: other kernels' low-water marks differ in
// what they wake for.
var Supported = false

func set(fd, n int) error { return nil }
