package handler

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFrameBufferSizes(t *testing.T) {
	for _, tc := range []struct{ n, cap int }{
		{0, 0}, {100, 100}, {minPooledFrame - 1, minPooledFrame - 1},
		{minPooledFrame, minPooledFrame}, {minPooledFrame + 1, 2 * minPooledFrame},
		{1 << 20, 1 << 20}, {1<<20 + 1, 2 << 20}, {50 << 20, 64 << 20}, {maxPooledFrame, maxPooledFrame},
		{maxPooledFrame + 1, maxPooledFrame + 1},
	} {
		b := FrameBuffer(tc.n)
		assert.Len(t, b, 0, "n=%d", tc.n)
		assert.Equal(t, tc.cap, cap(b), "n=%d", tc.n)
	}
}

// TestRecycleFrameReuses checks that a recycled frame is what a later
// frame of its size class is read into, and that buffers of other sizes
// are not pooled. (Under -race sync.Pool drops some buffers on purpose,
// hence the retries.)
func TestRecycleFrameReuses(t *testing.T) {
	reused := false
	for range 50 {
		b := FrameBuffer(300 << 10)[:300<<10]
		b[0] = 0xAB
		RecycleFrame(b)
		c := FrameBuffer(400 << 10)
		if cap(c) == cap(b) && &c[:1][0] == &b[0] {
			reused = true
			break
		}
	}
	require.True(t, reused, "a recycled frame was never handed out again")

	// A buffer below its class's size serves only frames it holds.
	odd := make([]byte, 1, 3*minPooledFrame)
	for range 50 {
		RecycleFrame(odd)
		b := FrameBuffer(3*minPooledFrame + 1)[:1]
		require.NotSame(t, &odd[0], &b[0], "a buffer too small for the frame was handed out")
		require.GreaterOrEqual(t, cap(b), 3*minPooledFrame+1)
	}
	reused = false
	for range 50 {
		RecycleFrame(odd)
		if b := FrameBuffer(3 * minPooledFrame)[:1]; &odd[0] == &b[0] {
			reused = true
			break
		}
	}
	require.True(t, reused, "a buffer that holds the frame was never handed out")
}

// TestPooledFrameBufferNeverAllocates checks that PooledFrameBuffer hands
// out only what was recycled.
func TestPooledFrameBufferNeverAllocates(t *testing.T) {
	_, ok := PooledFrameBuffer(maxPooledFrame + 1)
	assert.False(t, ok, "no class holds it")
	_, ok = PooledFrameBuffer(minPooledFrame - 1)
	assert.False(t, ok, "too small to pool")
	for _, b := range drainPool(t, 40<<20) {
		require.Equal(t, 64<<20, cap(b))
	}
	if _, ok := PooledFrameBuffer(40 << 20); ok {
		t.Fatal("an empty class handed out a buffer")
	}
	reused := false
	for range 50 {
		b := FrameBuffer(40 << 20)[:1]
		RecycleFrame(b)
		if c, ok := PooledFrameBuffer(50 << 20); ok {
			require.Equal(t, 64<<20, cap(c))
			if &c[:1][0] == &b[0] {
				reused = true
				break
			}
		}
	}
	require.True(t, reused, "a recycled 64 MiB frame was never handed out again")
}

// drainPool empties n's class, returning what it held.
func drainPool(t *testing.T, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		b, ok := PooledFrameBuffer(n)
		if !ok {
			return out
		}
		out = append(out, b)
	}
}

// TestFrameReclaimedOnceUnreachable checks the garbage collector's way back
// to the pool: a frame is never handed out again while anything points
// into it (a message's value, say), and is handed out again once nothing
// does. Several frames are used because sync.Pool drops some puts on
// purpose under -race.
func TestFrameReclaimedOnceUnreachable(t *testing.T) {
	const n, frames = 300 << 10, 8
	addrs := map[uintptr]bool{}
	var values [][]byte // what the frames' messages would keep
	for range frames {
		b := FrameBuffer(n)[:n]
		addrs[uintptr(unsafe.Pointer(&b[0]))] = true
		values = append(values, b[n/2:n/2+10])
	}
	held := func(c []byte) bool { return addrs[uintptr(unsafe.Pointer(unsafe.SliceData(c)))] }
	// drained takes everything the pool holds for n bytes and reports
	// whether one of the frames was among it. All of it: the pool drops
	// what is not taken within two collections, and the race detector's
	// pool drops some puts at random, so one Get per round could miss a
	// frame that did come back.
	drained := func() (found bool) {
		for {
			c, ok := PooledFrameBuffer(n)
			if !ok {
				return found
			}
			found = found || held(c)
		}
	}
	for range 5 {
		runtime.GC()
		runtime.Gosched()
		require.False(t, drained(), "a frame was handed out while a slice of it was reachable")
	}
	runtime.KeepAlive(values)
	values = nil

	reused := false
	for i := 0; i < 200 && !reused; i++ {
		runtime.GC()
		runtime.Gosched()
		reused = drained()
	}
	require.True(t, reused, "a frame nothing refers to was never handed out again")
}

// TestFrameReclaimedOnlyOncePerUse checks that a reclaimed buffer that
// nobody takes from the pool is freed: the finalizer is set once per use,
// so it does not bring the buffer back forever.
func TestFrameReclaimedOnlyOncePerUse(t *testing.T) {
	// settle waits until no more buffers come back: those of earlier
	// tests come back at most once each, then go.
	settle := func() {
		last, still := framesReclaimed.Load(), 0
		for i := 0; i < 100 && still < 4; i++ {
			runtime.GC()
			runtime.Gosched()
			if now := framesReclaimed.Load(); now != last {
				last, still = now, 0
			} else {
				still++
			}
		}
	}
	settle()
	before := framesReclaimed.Load()
	runtime.KeepAlive(NewFrameBuffer(5 * minPooledFrame)) // used once, then unreachable
	for i := 0; i < 200 && framesReclaimed.Load() == before; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	require.Equal(t, before+1, framesReclaimed.Load(), "the unreachable buffer was not reclaimed")
	settle()
	assert.Equal(t, before+1, framesReclaimed.Load(), "a buffer nobody used came back again")
}

// TestNewFrameBufferSizes checks NewFrameBuffer's exact capacity, pooled or
// not.
func TestNewFrameBufferSizes(t *testing.T) {
	for _, n := range []int{100, minPooledFrame + 7, 20 << 20} {
		b := NewFrameBuffer(n)
		assert.Len(t, b, 0)
		assert.Equal(t, n, cap(b))
	}
}

// decodedSink keeps an allocation on the heap.
var decodedSink []byte

// TestFrameCirculationBounded reads frames as a consumer whose messages
// alias them does, dropping each soon after. A buffer waiting for its
// finalizer or recycled from the pool counts nowhere in the collector's
// pacing, so without a bound the buffers in circulation grow with the bytes
// read between collections. With it, a collection leaves no more than
// frameBudget of them, buffers are still reclaimed, and they leave the count
// once the pool drops them.
func TestFrameCirculationBounded(t *testing.T) {
	const size, frames = 6 << 20, 2000
	settle := func(limit int64) int64 {
		for i := 0; i < 200 && frameHeld.Load() > limit; i++ {
			runtime.GC()
			runtime.Gosched()
		}
		return frameHeld.Load()
	}
	settle(0)
	reclaimed0 := framesReclaimed.Load()
	var recent [2][]byte // the frames whose messages the application still holds
	for i := range frames {
		b := FrameBuffer(size)[:size]
		b[0], b[size-1] = byte(i), byte(i)
		recent[i%len(recent)] = b
		decodedSink = make([]byte, 80<<10) // the messages made from the frame
		require.LessOrEqual(t, frameHeld.Load(), frameBudget)
		if i%100 == 0 {
			runtime.Gosched() // a consumer waits now and then, and finalizers run
		}
	}
	runtime.KeepAlive(recent)
	recent = [2][]byte{}
	// One collection frees every buffer outside the circulation; what it
	// keeps (the pool's, and those waiting for their finalizer) is bounded.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	assert.Less(t, ms.HeapAlloc, uint64(frameBudget)+32<<20, "heap after a collection")
	assert.Greater(t, framesReclaimed.Load()-reclaimed0, int64(frames/4), "few frames came back through the pool")
	assert.Zero(t, settle(0), "buffers the pool dropped still count as held")
}
