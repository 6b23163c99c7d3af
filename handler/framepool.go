package handler

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Frame buffers of at least minPooledFrame bytes come from size-classed
// pools (powers of two up to maxPooledFrame), so that a large response does
// not cost a freshly zeroed allocation each time: a buffer about to be
// overwritten by a socket read need not be cleared first. Smaller frames are
// allocated as usual; zeroing them is cheap. The largest class holds a
// whole Fetch response at Kafka's default fetch.max.bytes (50 MiB).
//
// A buffer comes back to its pool in one of two ways. A frame's owner that
// knows nothing refers to it any more hands it back at once (RecycleFrame).
// Otherwise, as for a Fetch response whose records the delivered messages
// alias, the garbage collector decides: a buffer the pool allocates or
// hands out again carries a finalizer, which runs only once no pointer
// into any of its bytes is left, and puts the buffer back instead of
// letting it be freed. So a frame is never overwritten while anything still
// points into it, and yet the memory is reused rather than zeroed anew for
// every response. The finalizer is set once per use, never by itself: a
// buffer that the pool drops (sync.Pool empties across garbage collections)
// comes back at most once more, and is freed if nobody takes it.
//
// The memory in that circulation is bounded (frameBudget). The collector
// paces itself by the heap it finds reachable, and a buffer waiting for its
// finalizer, or recycled from the pool instead of allocated, counts neither
// as reachable nor as allocation: unbounded, the circulation grows with the
// bytes read between collections, which recycling itself makes rarer (a
// consumer reading 10 KiB records held 33 buffers of 8 MiB, 264 MiB, where
// its live heap was 16 MiB). Beyond the budget a new buffer is an ordinary
// allocation, freed by the collector like any other and counted in its
// pacing, so the next collection comes sooner and brings buffers back.
const (
	minPooledFrame = 64 << 10
	maxPooledFrame = 64 << 20
	frameClasses   = 11 // 64 KiB << 0..10
)

// frameBudget is the most bytes of buffers the pool keeps in circulation:
// handed out with its finalizer, waiting for it, or in the pool. A var for
// tests.
var frameBudget int64 = 64 << 20

// frameHeld is the bytes in circulation now. A buffer joins when allocated
// with the finalizer and leaves when the pool drops it after the finalizer
// brought it back (the pool entry's cleanup).
var frameHeld atomic.Int64

var framePools [frameClasses]sync.Pool

// pooledFrame is a pool entry. tracked marks a buffer the finalizer put
// back: the slice starts at its allocation and carries no finalizer, so it
// gets one when handed out. A buffer from RecycleFrame may be any slice
// (and may still carry the finalizer of its earlier use): it is handed out
// as it is.
type pooledFrame struct {
	b       []byte
	tracked bool
	// leave takes a tracked buffer out of frameHeld if the pool drops the
	// entry; stopped when the buffer is handed out again.
	leave runtime.Cleanup
}

// framesReclaimed counts buffers the garbage collector handed back, for
// tests.
var framesReclaimed atomic.Int64

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
// frame of the class. A buffer of a pooled size returns to the pool by
// itself once nothing refers to it (see RecycleFrame for the faster way).
func FrameBuffer(n int) []byte {
	if b, ok := PooledFrameBuffer(n); ok {
		return b
	}
	if c := frameClass(n); c >= 0 {
		return NewFrameBuffer(minPooledFrame << c)
	}
	return make([]byte, 0, n)
}

// NewFrameBuffer returns a fresh empty buffer of exactly capacity bytes
// (zeroed: the runtime gives nothing else), for a frame of a size its
// owner knows better than the pool's classes. Like FrameBuffer's, a buffer
// of a pooled size returns to the pool once nothing refers to it.
//
// Beyond frameBudget the buffer is an ordinary allocation that the
// collector frees: it comes back only through RecycleFrame.
func NewFrameBuffer(capacity int) []byte {
	b := make([]byte, 0, capacity)
	if frameClass(capacity) >= 0 && joinCirculation(capacity) {
		reclaimWhenUnreachable(b)
	}
	return b
}

// joinCirculation counts n more bytes in circulation if the budget has room.
func joinCirculation(n int) bool {
	for {
		held := frameHeld.Load()
		if held+int64(n) > frameBudget {
			return false
		}
		if frameHeld.CompareAndSwap(held, held+int64(n)) {
			return true
		}
	}
}

func leaveCirculation(n int) { frameHeld.Add(-int64(n)) }

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
	b := p.b[:0]
	if p.tracked {
		p.leave.Stop()
		reclaimWhenUnreachable(b)
	}
	return b, true
}

// RecycleFrame hands a frame that OnFrame delivered back for a later frame
// to be read into. The caller must be its only holder and must know that
// nothing still refers to its bytes (nothing decoded from it aliases them):
// they will be overwritten. Frames of sizes that are not pooled are left to
// the garbage collector; recycling is never required. A buffer need not
// have its class's size (a frame grown to its exact size has not): it is
// handed out again only for frames it holds.
func RecycleFrame(frame []byte) {
	putFrame(frame, false)
}

func putFrame(b []byte, tracked bool) {
	c := frameClass(cap(b))
	if c < 0 {
		return
	}
	p := &pooledFrame{b: b[:0], tracked: tracked}
	if tracked {
		p.leave = runtime.AddCleanup(p, leaveCirculation, cap(b))
	}
	framePools[c].Put(p)
}

// reclaimWhenUnreachable has the garbage collector hand b back to the pool
// instead of freeing it, once no pointer into it is left. b must start at
// its allocation (a fresh buffer, or one the finalizer put back) and carry
// no finalizer yet. The finalizer gets only the first byte's address, so b's
// capacity travels in the closure; the closure must not hold b itself, or b
// would never become unreachable.
func reclaimWhenUnreachable(b []byte) {
	n := cap(b)
	runtime.SetFinalizer(unsafe.SliceData(b), func(p *byte) {
		framesReclaimed.Add(1)
		putFrame(unsafe.Slice(p, n), true)
	})
}
