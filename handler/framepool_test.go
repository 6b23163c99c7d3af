package handler

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFrameBufferSizes(t *testing.T) {
	for _, tc := range []struct{ n, cap int }{
		{0, 0}, {100, 100}, {minPooledFrame - 1, minPooledFrame - 1},
		{minPooledFrame, minPooledFrame}, {minPooledFrame + 1, 2 * minPooledFrame},
		{1 << 20, 1 << 20}, {1<<20 + 1, 2 << 20}, {maxPooledFrame, maxPooledFrame},
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

	odd := make([]byte, 1, 3*minPooledFrame)
	RecycleFrame(odd)
	for range 50 {
		b := FrameBuffer(3 * minPooledFrame)[:1]
		require.NotSame(t, &odd[0], &b[0], "a buffer of no class size was pooled")
	}
}
