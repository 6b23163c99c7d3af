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

// TestUnrecycledFrameNeverReturns: a frame nobody hands back (its
// messages alias it) is left to the garbage collector and is never handed
// out for a later frame, even after collections, so bytes a message still
// points into are never overwritten.
func TestUnrecycledFrameNeverReturns(t *testing.T) {
	const n = 300 << 10
	drainPool(t, n)
	var kept [][]byte // what the frames' messages would keep
	addrs := map[uintptr]bool{}
	for i := range 8 {
		b := FrameBuffer(n)[:n]
		b[0] = byte(i)
		addrs[uintptr(unsafe.Pointer(&b[0]))] = true
		if i%2 == 0 {
			kept = append(kept, b[:1])
		}
	}
	for range 3 {
		runtime.GC()
	}
	for range 16 {
		b, ok := PooledFrameBuffer(n)
		if !ok {
			break
		}
		require.False(t, addrs[uintptr(unsafe.Pointer(&b[:1][0]))], "a frame nobody recycled was handed out again")
	}
	for i, b := range kept {
		require.Equal(t, byte(2*i), b[0], "a kept frame was overwritten")
	}
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

// TestFreshFrameBufferIsHeapMemory checks that fresh buffers, which are not
// zeroed, are ordinary heap objects: what is written into them survives
// collections while they are referenced, and neighbours do not overlap.
func TestFreshFrameBufferIsHeapMemory(t *testing.T) {
	sizes := []int{1, 100, 32 << 10, minPooledFrame - 1, 5 << 20, maxPooledFrame + 1}
	bufs := make([][]byte, len(sizes))
	for i, n := range sizes {
		b := FrameBuffer(n)
		require.GreaterOrEqual(t, cap(b), n)
		b = b[:n]
		for j := range b {
			b[j] = byte(i + j)
		}
		bufs[i] = b
	}
	for range 3 {
		_ = make([]byte, 8<<20) // garbage, for the collector to reuse
		runtime.GC()
	}
	for i, b := range bufs {
		for j := range b {
			if b[j] != byte(i+j) {
				t.Fatalf("buffer %d (%d bytes) changed at %d", i, len(b), j)
			}
		}
	}
}

// BenchmarkFreshFrame compares a fresh 4 MiB frame buffer with the zeroed
// allocation it replaces, each written through once as a socket read would.
func BenchmarkFreshFrame(b *testing.B) {
	const n = 4 << 20
	src := make([]byte, n)
	for _, bc := range []struct {
		name  string
		alloc func() []byte
	}{
		{"zeroed", func() []byte { return make([]byte, 0, n) }},
		{"fresh", func() []byte { return NewFrameBuffer(n) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(n)
			for b.Loop() {
				buf := bc.alloc()[:n]
				copy(buf, src)
			}
		})
	}
}
