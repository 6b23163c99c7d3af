package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

func encode(frames ...[]byte) []byte {
	var out []byte
	for _, f := range frames {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

type sink struct{ frames [][]byte }

func (s *sink) emit(b []byte) { s.frames = append(s.frames, b) }

func sample() [][]byte {
	return [][]byte{[]byte("hello"), {}, bytes.Repeat([]byte{7}, 300), []byte("x")}
}

func TestFeedEverySplit(t *testing.T) {
	want := sample()
	stream := encode(want...)
	for i := 0; i <= len(stream); i++ {
		for j := i; j <= len(stream); j++ {
			var s sink
			d := New(0)
			require.NoError(t, d.Feed(stream[:i], s.emit))
			require.NoError(t, d.Feed(stream[i:j], s.emit))
			require.NoError(t, d.Feed(stream[j:], s.emit))
			require.Equal(t, want, s.frames, "split at %d,%d", i, j)
			assert.False(t, d.Partial())
		}
	}
}

func TestFeedByteByByte(t *testing.T) {
	want := sample()
	stream := encode(want...)
	var s sink
	d := New(0)
	for i := range stream {
		require.NoError(t, d.Feed(stream[i:i+1], s.emit))
	}
	require.Equal(t, want, s.frames)
}

func TestZeroLengthFrameIsNonNil(t *testing.T) {
	for _, chunk := range []int{1, 4} {
		var s sink
		d := New(0)
		stream := encode([]byte{})
		for len(stream) > 0 {
			n := min(chunk, len(stream))
			require.NoError(t, d.Feed(stream[:n], s.emit))
			stream = stream[n:]
		}
		require.Len(t, s.frames, 1)
		assert.NotNil(t, s.frames[0])
		assert.Empty(t, s.frames[0])
	}
}

func TestFramesAreOwnedCopies(t *testing.T) {
	stream := encode([]byte("abc"), []byte("def"))
	var s sink
	require.NoError(t, New(0).Feed(stream, s.emit))
	for i := range stream {
		stream[i] = 0
	}
	assert.Equal(t, [][]byte{[]byte("abc"), []byte("def")}, s.frames)
}

func TestPartial(t *testing.T) {
	stream := encode([]byte("abcdef"))
	d := New(0)
	var s sink
	assert.False(t, d.Partial())
	require.NoError(t, d.Feed(stream[:2], s.emit))
	assert.True(t, d.Partial(), "inside the prefix")
	require.NoError(t, d.Feed(stream[2:6], s.emit))
	assert.True(t, d.Partial(), "inside the body")
	require.NoError(t, d.Feed(stream[6:], s.emit))
	assert.False(t, d.Partial())
	assert.Len(t, s.frames, 1)
}

func TestTooLarge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prefix uint32
	}{
		{"above max", 11},
		{"negative", 0xFFFFFFFF},
		{"min int32", 0x80000000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream := encode([]byte("ok"))
			stream = binary.BigEndian.AppendUint32(stream, tc.prefix)
			stream = append(stream, encode([]byte("never"))...)
			var s sink
			d := New(10)
			err := d.Feed(stream, s.emit)
			require.ErrorIs(t, err, handler.ErrFrameTooLarge)
			var fse *handler.FrameSizeError
			require.True(t, errors.As(err, &fse))
			assert.Equal(t, int32(tc.prefix), fse.Size)
			assert.Equal(t, 10, fse.Max)
			assert.Equal(t, [][]byte{[]byte("ok")}, s.frames, "frames before the bad prefix are delivered")
			assert.ErrorIs(t, d.Feed(encode([]byte("a")), s.emit), handler.ErrFrameTooLarge, "sticky")
			assert.Len(t, s.frames, 1)
		})
	}
}

func TestTooLargeSplitPrefix(t *testing.T) {
	stream := binary.BigEndian.AppendUint32(nil, 11)
	var s sink
	d := New(10)
	require.NoError(t, d.Feed(stream[:3], s.emit))
	require.ErrorIs(t, d.Feed(stream[3:], s.emit), handler.ErrFrameTooLarge)
}

func TestExactlyMaxAccepted(t *testing.T) {
	var s sink
	require.NoError(t, New(10).Feed(encode(bytes.Repeat([]byte{1}, 10)), s.emit))
	assert.Len(t, s.frames, 1)
}

func TestLimit(t *testing.T) {
	assert.Equal(t, handler.DefaultMaxFrameSize, Limit(0))
	assert.Equal(t, handler.DefaultMaxFrameSize, Limit(-1))
	assert.Equal(t, 5, Limit(5))
	assert.Equal(t, maxInt32, Limit(1<<40))
}

func TestHugePrefixAllocatesWithArrivingBytes(t *testing.T) {
	d := New(1 << 30)
	stream := binary.BigEndian.AppendUint32(nil, 1<<30)
	stream = append(stream, make([]byte, 10)...)
	var s sink
	require.NoError(t, d.Feed(stream, s.emit))
	assert.LessOrEqual(t, cap(d.body), wholeAlloc, "a prefix alone must not reserve its size")
	assert.True(t, d.Partial())
	assert.Empty(t, s.frames)
}

func TestFrameUpToWholeAllocIsAllocatedOnce(t *testing.T) {
	for _, size := range []int{5, 64 << 10, wholeAlloc} {
		stream := binary.BigEndian.AppendUint32(nil, uint32(size))
		stream = append(stream, 1, 2, 3)
		var s sink
		d := New(0)
		require.NoError(t, d.Feed(stream, s.emit))
		assert.Equal(t, size, cap(d.body), "size %d", size)
		assert.Len(t, d.BodySpace(), size-3, "the rest of the body is read in place")
	}
}

func TestLargeFrameBufferTracksArrivingBytes(t *testing.T) {
	d := New(1 << 30)
	require.NoError(t, d.Feed(binary.BigEndian.AppendUint32(nil, 1<<30), nil))
	chunk := make([]byte, 1<<20)
	caps := map[int]bool{}
	for range (growFactor * wholeAlloc) >> 20 {
		require.NoError(t, d.Feed(chunk, nil))
		require.LessOrEqual(t, cap(d.body), max(wholeAlloc, growFactor*len(d.body)))
		caps[cap(d.body)] = true
	}
	want := map[int]bool{wholeAlloc: true, growFactor * wholeAlloc: true}
	assert.Equal(t, want, caps, "the buffer starts at wholeAlloc and grows by growFactor")
}

// TestLargeFrameOnceProvedIsAllocatedWhole checks that after a peer has sent
// a frame above wholeAlloc, a prefix up to provedSlack times that size gets
// its whole buffer at once (no regrowth copy), while a larger one still
// starts small.
func TestLargeFrameOnceProvedIsAllocatedWhole(t *testing.T) {
	size := wholeAlloc + 17
	body := make([]byte, size)
	var s sink
	d := New(0)
	require.NoError(t, d.Feed(encode(body), s.emit))
	require.Len(t, s.frames, 1)

	for _, n := range []int{size - 100, size + 100, provedSlack * size} {
		require.NoError(t, d.Feed(binary.BigEndian.AppendUint32(nil, uint32(n)), s.emit))
		assert.GreaterOrEqual(t, cap(d.body), n, "a size near one the peer has sent is allocated whole: %d", n)
		require.NoError(t, d.Feed(make([]byte, n), s.emit))
	}
	require.Len(t, s.frames, 4)

	larger := 3*provedSlack*size + 1
	require.NoError(t, d.Feed(binary.BigEndian.AppendUint32(nil, uint32(larger)), s.emit))
	if cap(d.body) < larger { // unless the pool lent a buffer of the whole size
		assert.LessOrEqual(t, cap(d.body), wholeAlloc, "a larger prefix starts small")
	}
	runtime.KeepAlive(s.frames)
}

func TestLargeFrameInChunks(t *testing.T) {
	for _, size := range []int{3<<20 + 17, wholeAlloc + 1, 2*wholeAlloc + 17} {
		testFrameInChunks(t, size)
	}
}

func testFrameInChunks(t *testing.T, size int) {
	t.Helper()
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i * 7)
	}
	stream := encode(body, []byte("tail"))
	var s sink
	d := New(0)
	for len(stream) > 0 {
		n := min(64<<10, len(stream))
		require.NoError(t, d.Feed(stream[:n], s.emit))
		stream = stream[n:]
	}
	require.Len(t, s.frames, 2)
	assert.True(t, bytes.Equal(body, s.frames[0]))
	assert.Equal(t, []byte("tail"), s.frames[1])
}

func TestBodySpace(t *testing.T) {
	body := make([]byte, 2*wholeAlloc+5)
	for i := range body {
		body[i] = byte(i)
	}
	stream := encode(body)
	var s sink
	d := New(0)
	assert.Nil(t, d.BodySpace(), "no frame in progress")
	require.NoError(t, d.Feed(stream[:100], s.emit))
	rest := stream[100:]
	for len(rest) > 0 {
		space := d.BodySpace()
		require.NotEmpty(t, space)
		n := copy(space, rest)
		rest = rest[n:]
		d.BodyFilled(n, s.emit)
	}
	require.Len(t, s.frames, 1)
	assert.True(t, bytes.Equal(body, s.frames[0]))
	assert.Nil(t, d.BodySpace())
}

func FuzzDecoder(f *testing.F) {
	f.Add(encode(sample()...), uint8(3), 1000)
	f.Add([]byte{0, 0, 0, 1}, uint8(1), 0)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1}, uint8(2), 10)
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8, limit int) {
		limit = max(limit%(1<<16), 1)
		// Reference: decode the whole stream at once, by hand.
		var want [][]byte
		var wantErr bool
		for p := stream; len(p) >= 4; {
			size := binary.BigEndian.Uint32(p)
			if int32(size) < 0 || int(size) > limit {
				wantErr = true
				break
			}
			if len(p)-4 < int(size) {
				break
			}
			want = append(want, p[4:4+size])
			p = p[4+size:]
		}
		var s sink
		d := New(limit)
		var err error
		step := int(chunk%16) + 1
		for p := stream; len(p) > 0 && err == nil; {
			n := min(step, len(p))
			err = d.Feed(p[:n], s.emit)
			p = p[n:]
		}
		if wantErr != (err != nil) {
			t.Fatalf("error = %v, want error %v", err, wantErr)
		}
		if len(want) != len(s.frames) {
			t.Fatalf("got %d frames, want %d", len(s.frames), len(want))
		}
		for i := range want {
			if !bytes.Equal(want[i], s.frames[i]) {
				t.Fatalf("frame %d differs", i)
			}
		}
	})
}

// TestLargeFrameReusesRecycledBuffer checks that a frame above wholeAlloc
// grows to about its size (within an eighth), and that once recycled the
// next such frame is read into it when the pool has it, instead of starting
// small and growing.
func TestLargeFrameReusesRecycledBuffer(t *testing.T) {
	size := 2*wholeAlloc + 17
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i * 3)
	}
	stream := encode(body)
	reused := false
	for range 20 { // sync.Pool may drop a buffer (on purpose under -race)
		var s sink
		d := New(0)
		require.NoError(t, d.Feed(stream, s.emit))
		require.Len(t, s.frames, 1)
		require.True(t, bytes.Equal(body, s.frames[0]))
		got := s.frames[0]
		require.GreaterOrEqual(t, cap(got), size)
		if cap(got) > size+size/8 {
			continue // the pool lent a bigger buffer left by an earlier frame
		}
		handler.RecycleFrame(got)

		s = sink{}
		d = New(0)
		require.NoError(t, d.Feed(stream[:5], s.emit))
		if &d.body[:1][0] == &got[0] {
			reused = true
			assert.Len(t, d.BodySpace(), size-1, "the rest is read in place, without regrowth")
			require.NoError(t, d.Feed(stream[5:], s.emit))
			require.Len(t, s.frames, 1)
			require.True(t, bytes.Equal(body, s.frames[0]), "read over the recycled bytes")
			break
		}
	}
	assert.True(t, reused, "a recycled buffer was never used for the next large frame")
}

// TestWatchSeesFramesGrow checks that a watcher sees each incomplete
// frame's bytes as they arrive, whether fed or read into its body, that
// reads into a watched body are bounded, and that complete frames are
// left to emit.
func TestWatchSeesFramesGrow(t *testing.T) {
	body := make([]byte, 3*partialRead+100)
	for i := range body {
		body[i] = byte(i * 13)
	}
	stream := encode([]byte("small"), body, []byte("tail"))
	var s sink
	var seen []int
	d := New(0)
	d.Watch(func(p []byte) {
		require.Less(t, len(p), len(body), "a complete frame is emitted, not watched")
		require.True(t, bytes.Equal(body[:len(p)], p), "the bytes so far")
		if len(seen) > 0 {
			require.Greater(t, len(p), seen[len(seen)-1], "each call adds bytes")
		}
		seen = append(seen, len(p))
	})
	// The small frame and the start of the large one come fed.
	require.NoError(t, d.Feed(stream[:4+5+4+1000], s.emit))
	require.Equal(t, []int{1000}, seen)
	rest := stream[4+5+4+1000:]
	for len(rest) > 4+4 {
		space := d.BodySpace()
		require.NotEmpty(t, space)
		require.LessOrEqual(t, len(space), partialRead, "reads into a watched body are bounded")
		n := copy(space, rest[:len(rest)-8])
		rest = rest[n:]
		d.BodyFilled(n, s.emit)
	}
	require.NoError(t, d.Feed(rest, s.emit))
	require.Equal(t, [][]byte{[]byte("small"), body, []byte("tail")}, s.frames)
	// The last read completes the frame: emitted, not watched.
	require.Equal(t, []int{1000, 1000 + partialRead, 1000 + 2*partialRead}, seen)

	// Unwatched, a read may take the whole rest of the body.
	d = New(0)
	require.NoError(t, d.Feed(encode(body)[:10], s.emit))
	require.Len(t, d.BodySpace(), len(body)-6)
}
