package handler

import (
	"math/bits"
	"sync"
)

// Frame buffers of at least minPooledFrame bytes come from size-classed
// pools (powers of two up to maxPooledFrame), so that a large response does
// not cost a freshly zeroed allocation each time: a buffer about to be
// overwritten by a socket read need not be cleared first. Smaller frames are
// allocated as usual; zeroing them is cheap. The largest class holds a
// whole Fetch response at Kafka's default fetch.max.bytes (50 MiB).
const (
	minPooledFrame = 64 << 10
	maxPooledFrame = 64 << 20
	frameClasses   = 11 // 64 KiB << 0..10
)

var framePools [frameClasses]sync.Pool

// frameClass returns the pool class whose buffers hold n bytes, or -1.
func frameClass(n int) int {
	if n < minPooledFrame || n > maxPooledFrame {
		return -1
	}
	return bits.Len(uint((n - 1) >> 16)) // 64 KiB -> 0, 64 KiB+1 .. 128 KiB -> 1, ...
}

// FrameBuffer returns an empty buffer with room for at least n bytes, for a
// handler to read a frame body of n bytes into. Buffers of pooled sizes
// may hold bytes of an earlier frame: read over them, never past what was
// read. A fresh one has its class's size, so that it can be reused for any
// frame of the class.
func FrameBuffer(n int) []byte {
	if b, ok := PooledFrameBuffer(n); ok {
		return b
	}
	if c := frameClass(n); c >= 0 {
		return make([]byte, 0, minPooledFrame<<c)
	}
	return make([]byte, 0, n)
}

// PooledFrameBuffer returns a recycled buffer with room for n bytes if the
// pool holds one, without allocating: memory already held costs nothing to
// reuse, where a fresh buffer of a size announced by a peer would. Like
// FrameBuffer's, it may hold bytes of an earlier frame.
func PooledFrameBuffer(n int) ([]byte, bool) {
	c := frameClass(n)
	if c < 0 {
		return nil, false
	}
	if p, ok := framePools[c].Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:0], true
	}
	// A recycled buffer of the class but smaller than n (see RecycleFrame)
	// is left to the garbage collector.
	return nil, false
}

// RecycleFrame hands a frame that OnFrame delivered back for a later frame
// to be read into. The caller must be its only holder and must know that
// nothing still refers to its bytes (nothing decoded from it aliases them):
// they will be overwritten. Frames of sizes that are not pooled are left to
// the garbage collector; recycling is never required. A buffer need not
// have its class's size (a frame grown to its exact size has not): it is
// handed out again only for frames it holds.
func RecycleFrame(frame []byte) {
	c := frameClass(cap(frame))
	if c < 0 {
		return
	}
	b := frame[:0]
	framePools[c].Put(&b)
}
