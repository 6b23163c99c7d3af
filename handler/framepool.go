package handler

import (
	"math/bits"
	"sync"
)

// Frame buffers of at least minPooledFrame bytes that their owner hands
// back (RecycleFrame) wait in size-classed pools (powers of two up to
// maxPooledFrame) for a later frame to be read into, without allocating
// again. Smaller frames are allocated as usual. The largest class holds a
// whole Fetch response at Kafka's default fetch.max.bytes (50 MiB).
//
// No fresh frame buffer is zeroed (makeNoZero): the frame is read over
// it, as over a recycled one. Zeroing was a quarter of the CPU of a
// consumer of uncompressed 10 KiB records, whose frames are never
// recycled (below); without it the consumer used 18% less CPU.
//
// Only an owner that knows nothing refers to a frame any more can hand it
// back (a consumer whose messages were all decompressed from it, say). A
// frame nobody hands back, such as an uncompressed Fetch response whose
// messages alias it, is left to the garbage collector like any allocation,
// so it is never overwritten while anything points into it. Bringing such
// frames back through finalizers instead was measured and undone: by the
// time the collector returned one, its memory had long left the CPU's
// caches, so the socket's copy into it and the first pass over the records
// cost as much as zeroing a fresh buffer then did (a consumer of 10 KiB
// records used 6-10% more CPU with it), and the buffers in circulation
// doubled the consumer's resident memory.
const (
	minPooledFrame = 64 << 10
	maxPooledFrame = 64 << 20
	frameClasses   = 11 // 64 KiB << 0..10
)

// hugeAdviseMin is the smallest frame buffer advised onto huge pages
// (adviseHuge, on Linux): a smaller one would carry more of its
// neighbours' memory onto huge pages than its own.
const hugeAdviseMin = 1 << 20

var framePools [frameClasses]sync.Pool

// pooledFrame is a pool entry: a recycled buffer, emptied.
type pooledFrame struct{ b []byte }

// frameClass returns the pool class whose buffers hold n bytes, or -1.
func frameClass(n int) int {
	if n < minPooledFrame || n > maxPooledFrame {
		return -1
	}
	return bits.Len(uint((n - 1) >> 16)) // 64 KiB -> 0, 64 KiB+1 .. 128 KiB -> 1, ...
}

// FrameBuffer returns an empty buffer with room for at least n bytes, for a
// handler to read a frame body of n bytes into. A recycled buffer may hold
// bytes of an earlier frame: read over them, never past what was read. A
// fresh one is not zeroed either, and one of a pooled size has its class's
// size, so that once recycled it can be reused for any frame of the class.
func FrameBuffer(n int) []byte {
	if b, ok := PooledFrameBuffer(n); ok {
		return b
	}
	size := n
	if c := frameClass(n); c >= 0 {
		size = minPooledFrame << c
	}
	b := makeNoZero(size)
	if n >= hugeAdviseMin {
		adviseHuge(b[:size])
	}
	return b
}

// NewFrameBuffer returns a fresh empty buffer of exactly capacity bytes,
// not zeroed (read over it, never past what was read), for a frame of a
// size its owner knows better than the pool's classes. Like any frame it
// may be handed back with RecycleFrame.
func NewFrameBuffer(capacity int) []byte {
	b := makeNoZero(capacity)
	if capacity >= hugeAdviseMin {
		adviseHuge(b[:capacity])
	}
	return b
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
	p, ok := framePools[c].Get().(*pooledFrame)
	if !ok || cap(p.b) < n {
		// A recycled buffer of the class but smaller than n (see
		// RecycleFrame) is left to the garbage collector.
		return nil, false
	}
	return p.b[:0], true
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
	framePools[c].Put(&pooledFrame{b: frame[:0]})
}
