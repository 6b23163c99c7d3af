package handlertest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

var framingTests = []test{
	{"SplitAtEveryByte", testSplitEveryByte},
	{"ByteByByte", testByteByByte},
	{"ManyFramesOneSegment", testManyFramesOneSegment},
	{"LargeFrames", testLargeFrames},
	{"LargeFrameInPieces", testLargeFrameInPieces},
	{"PeerCloseMidLargeFrame", testPeerCloseMidLargeFrame},
	{"ZeroLengthFrame", testZeroLengthFrame},
	{"PeerCloseBetweenFrames", testPeerCloseClean},
	{"PeerCloseMidFrame", testPeerCloseMidFrame},
	{"PeerCloseMidPrefix", testPeerCloseMidPrefix},
	{"FrameTooLarge", testFrameTooLarge},
	{"NegativeFrameSize", testNegativeFrameSize},
}

// sampleFrames covers empty, tiny and multi-segment payloads.
func sampleFrames() [][]byte {
	return [][]byte{
		[]byte("a"),
		{},
		[]byte("hello, broker"),
		bytes.Repeat([]byte("0123456789"), 10),
		{0, 0, 0, 1},
	}
}

func encodeAll(frames [][]byte) []byte {
	var out []byte
	for _, f := range frames {
		out = AppendFrame(out, f)
	}
	return out
}

// dialPeer dials a fresh scripted peer and returns both ends.
func dialPeer(t *testing.T, h handler.Handler, p *peer, r *recorder, maxFrame int) (handler.Conn, net.Conn) {
	t.Helper()
	cfg := r.config(p.addr())
	cfg.MaxFrameSize = maxFrame
	c, err := h.Dial(guarded(t), cfg)
	require.NoError(t, err)
	return c, p.accept(t)
}

func requireFrames(t *testing.T, want, got [][]byte) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.True(t, bytes.Equal(want[i], got[i]), "frame %d: got %d bytes, want %d", i, len(got[i]), len(want[i]))
		require.NotNil(t, got[i], "frame %d is nil", i)
	}
}

func testSplitEveryByte(t *testing.T, h handler.Handler) {
	want := sampleFrames()
	stream := encodeAll(want)
	p := newPeer(t)
	for i := 1; i < len(stream); i++ {
		r := newRecorder()
		c, sc := dialPeer(t, h, p, r, 0)
		_, err := sc.Write(stream[:i])
		require.NoError(t, err)
		_, err = sc.Write(stream[i:])
		require.NoError(t, err)
		requireFrames(t, want, r.waitFrames(t, len(want)))
		require.NoError(t, c.Close())
		require.NoError(t, r.waitClosed(t))
		r.check(t)
	}
}

func testByteByByte(t *testing.T, h handler.Handler) {
	want := sampleFrames()
	stream := encodeAll(want)
	p := newPeer(t)
	r := newRecorder()
	c, sc := dialPeer(t, h, p, r, 0)
	for i := range stream {
		_, err := sc.Write(stream[i : i+1])
		require.NoError(t, err)
	}
	requireFrames(t, want, r.waitFrames(t, len(want)))
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
	r.check(t)
}

func testManyFramesOneSegment(t *testing.T, h handler.Handler) {
	var want [][]byte
	for i := 0; i < 2000; i++ {
		want = append(want, []byte{byte(i), byte(i >> 8), 'x'}[:i%4])
	}
	p := newPeer(t)
	r := newRecorder()
	c, sc := dialPeer(t, h, p, r, 0)
	_, err := sc.Write(encodeAll(want))
	require.NoError(t, err)
	requireFrames(t, want, r.waitFrames(t, len(want)))
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
	r.check(t)
}

func testLargeFrames(t *testing.T, h handler.Handler) {
	big := make([]byte, 5<<20+3)
	for i := range big {
		big[i] = byte(i*31 + i>>16)
	}
	mid := bytes.Repeat([]byte{0xAB}, 100<<10)
	want := [][]byte{big, []byte("after"), mid, big[:70000]}
	p := newPeer(t)
	r := newRecorder()
	c, sc := dialPeer(t, h, p, r, 0)
	go func() { _, _ = sc.Write(encodeAll(want)) }()
	requireFrames(t, want, r.waitFrames(t, len(want)))
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
	r.check(t)
}

// testLargeFrameInPieces sends large frames in pieces with pauses between
// them, so the reader waits with much of a frame still to come: a handler
// that asks the kernel to wake it only once more has arrived (a receive
// low-water mark) must never ask for more than the frame's rest, and must
// ask for nothing more between frames. Every frame must arrive: the last
// piece of each is exactly its rest, and a tiny frame follows a large one
// alone.
func testLargeFrameInPieces(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	c, sc := dialPeer(t, h, p, r, 0)
	largeFrameInPieces(t, c, r, sc, func() {})
}

// largeFrameInPieces is testLargeFrameInPieces's script on a dialled
// connection c whose peer end is sc; beforePiece runs before each 1 MiB
// piece is sent.
func largeFrameInPieces(t *testing.T, c handler.Conn, r *recorder, sc net.Conn, beforePiece func()) {
	big := make([]byte, 3<<20+5)
	for i := range big {
		big[i] = byte(i*7 + i>>12)
	}
	tiny := []byte("tiny")
	pause := func() { time.Sleep(20 * time.Millisecond) } // lets the reader reach its wait
	send := func(b []byte) {
		_, err := sc.Write(b)
		require.NoError(t, err)
	}
	whole := AppendFrame(nil, big)
	// The prefix and 200 KiB, then the rest in 1 MiB pieces ending exactly
	// at the frame's end.
	send(whole[:4+200<<10])
	pause()
	for off := 4 + 200<<10; off < len(whole); off += 1 << 20 {
		beforePiece()
		send(whole[off:min(off+1<<20, len(whole))])
		pause()
	}
	requireFrames(t, [][]byte{big}, r.waitFrames(t, 1))
	send(AppendFrame(nil, tiny))
	got := r.waitFrames(t, 2)
	assert.Equal(t, tiny, got[1])
	// The rest of a large frame dribbled in pieces far below it.
	send(whole[:4+300<<10])
	pause()
	for off := 4 + 300<<10; off < len(whole); off += 64 << 10 {
		send(whole[off:min(off+64<<10, len(whole))])
	}
	got = r.waitFrames(t, 3)
	assert.True(t, bytes.Equal(big, got[2]), "third frame")
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
	r.check(t)
}

// testPeerCloseMidLargeFrame closes the peer while the reader waits for the
// rest of a large frame: the close is reported, not waited through.
func testPeerCloseMidLargeFrame(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	_, sc := dialPeer(t, h, p, r, 0)
	whole := AppendFrame(nil, make([]byte, 2<<20))
	_, err := sc.Write(whole[:1<<20])
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond) // lets the reader reach its wait
	closeMidFrame(t, r, sc, 0)
}

func testZeroLengthFrame(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	c, sc := dialPeer(t, h, p, r, 0)
	_, err := sc.Write(AppendFrame(AppendFrame(nil, nil), []byte("z")))
	require.NoError(t, err)
	got := r.waitFrames(t, 2)
	require.NotNil(t, got[0])
	assert.Empty(t, got[0])
	assert.Equal(t, []byte("z"), got[1])
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
}

func requireConnError(t *testing.T, err error, op string) *handler.ConnError {
	t.Helper()
	require.Error(t, err)
	var ce *handler.ConnError
	require.True(t, errors.As(err, &ce), "want *handler.ConnError, got %T: %v", err, err)
	assert.Equal(t, op, ce.Op)
	return ce
}

func testPeerCloseClean(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	c, sc := dialPeer(t, h, p, r, 0)
	_, err := sc.Write(encodeAll(sampleFrames()))
	require.NoError(t, err)
	require.NoError(t, sc.Close())
	err = r.waitClosed(t)
	requireConnError(t, err, "read")
	assert.ErrorIs(t, err, io.EOF)
	assert.NotErrorIs(t, err, io.ErrUnexpectedEOF)
	frames, _ := r.snapshot()
	assert.Equal(t, len(sampleFrames()), frames, "every complete frame arrives before OnClose")
	r.check(t)
	assert.ErrorIs(t, c.Write(AppendFrame(nil, []byte("late"))), handler.ErrClosed)
}

func testPeerCloseMidFrame(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	_, sc := dialPeer(t, h, p, r, 0)
	stream := AppendFrame(nil, []byte("whole"))
	stream = AppendFrame(stream, []byte("cut short"))
	_, err := sc.Write(stream[:len(stream)-3])
	require.NoError(t, err)
	closeMidFrame(t, r, sc, 1)
}

// closeMidFrame closes the peer's end sc while the handler holds part of a
// frame: OnClose must report an unexpected end of the stream, once, after
// the want complete frames and without the partial one.
func closeMidFrame(t *testing.T, r *recorder, sc net.Conn, want int) {
	t.Helper()
	require.NoError(t, sc.Close())
	err := r.waitClosed(t)
	requireConnError(t, err, "read")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	frames, closes := r.snapshot()
	assert.Equal(t, want, frames, "the partial frame is not delivered")
	assert.Equal(t, 1, closes)
	r.check(t)
}

func testPeerCloseMidPrefix(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	_, sc := dialPeer(t, h, p, r, 0)
	_, err := sc.Write([]byte{0, 0})
	require.NoError(t, err)
	require.NoError(t, sc.Close())
	err = r.waitClosed(t)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	frames, _ := r.snapshot()
	assert.Zero(t, frames)
	r.check(t)
}

// peerSeesClose waits until the handler's side of sc is gone.
func peerSeesClose(t *testing.T, sc net.Conn) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, sc)
		close(done)
	}()
	waitChan(t, done, "peer to see the connection close")
}

func testFrameTooLarge(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	_, sc := dialPeer(t, h, p, r, 100)
	stream := AppendFrame(nil, make([]byte, 100)) // exactly the limit: fine
	stream = AppendFrame(stream, make([]byte, 101))
	_, err := sc.Write(stream)
	require.NoError(t, err)
	err = r.waitClosed(t)
	requireConnError(t, err, "read")
	assert.ErrorIs(t, err, handler.ErrFrameTooLarge)
	var fse *handler.FrameSizeError
	require.True(t, errors.As(err, &fse))
	assert.Equal(t, int32(101), fse.Size)
	assert.Equal(t, 100, fse.Max)
	frames, _ := r.snapshot()
	assert.Equal(t, 1, frames)
	peerSeesClose(t, sc)
	r.check(t)
}

func testNegativeFrameSize(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	_, sc := dialPeer(t, h, p, r, 0)
	_, err := sc.Write([]byte{0xFF, 0xFF, 0xFF, 0xFE, 1, 2, 3})
	require.NoError(t, err)
	err = r.waitClosed(t)
	assert.ErrorIs(t, err, handler.ErrFrameTooLarge)
	var fse *handler.FrameSizeError
	require.True(t, errors.As(err, &fse))
	assert.Equal(t, int32(-2), fse.Size)
	peerSeesClose(t, sc)
}
