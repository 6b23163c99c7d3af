// Package handlertest is the conformance suite for handler.Handler
// implementations, plus the benchmarks that compare them.
//
// An implementation's tests call Run with a constructor; every subtest gets
// a fresh handler and closes it when done:
//
//	func TestConformance(t *testing.T) {
//		handlertest.Run(t, func(t *testing.T) handler.Handler { return goroutine.New() })
//	}
//
// Connection tests talk to in-process TCP peers on 127.0.0.1 that script
// the byte stream exactly (splitting frames across writes, closing inside a
// frame, sending oversized prefixes). Waits are bounded by a generous guard
// so a broken handler fails instead of hanging; nothing asserts on speed.
package handlertest
