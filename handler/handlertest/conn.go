package handlertest

import (
	"bytes"
	"encoding/binary"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

var connTests = []test{
	{"EchoRoundTrip", testEchoRoundTrip},
	{"WriteDoesNotKeepBuffer", testWriteDoesNotKeepBuffer},
	{"ConcurrentWritersDoNotInterleave", testConcurrentWriters},
	{"LargeWrite", testLargeWrite},
	{"LocalClose", testLocalClose},
	{"CloseFromOnFrame", testCloseFromOnFrame},
	{"NilCallbacks", testNilCallbacks},
	{"HandlerCloseClosesConns", testHandlerCloseClosesConns},
	{"CloseUnblocksWriters", testCloseUnblocksWriters},
	{"WriteBackPressure", testWriteBackPressure},
	{"CloseReleasesBlockedWriter", testCloseReleasesBlockedWriter},
}

func dialEcho(t *testing.T, h handler.Handler, r *recorder) handler.Conn {
	t.Helper()
	c, err := h.Dial(guarded(t), r.config(EchoServer(t)))
	require.NoError(t, err)
	return c
}

func testEchoRoundTrip(t *testing.T, h handler.Handler) {
	r := newRecorder()
	c := dialEcho(t, h, r)
	want := sampleFrames()
	// Several frames in one Write, then one per Write.
	require.NoError(t, c.Write(encodeAll(want)))
	for _, f := range want {
		require.NoError(t, c.Write(AppendFrame(nil, f)))
	}
	require.NoError(t, c.Write(nil), "an empty write is a no-op")
	requireFrames(t, append(want, want...), r.waitFrames(t, 2*len(want)))
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
	r.check(t)
}

// testWriteDoesNotKeepBuffer reuses one buffer for every Write at once, as a
// caller pooling request buffers would.
func testWriteDoesNotKeepBuffer(t *testing.T, h handler.Handler) {
	r := newRecorder()
	c := dialEcho(t, h, r)
	buf := make([]byte, 0, 64)
	var want [][]byte
	for i := 0; i < 500; i++ {
		payload := []byte{byte(i), byte(i >> 8), byte(i), byte(i >> 8)}
		want = append(want, payload)
		buf = AppendFrame(buf[:0], payload)
		require.NoError(t, c.Write(buf))
		for j := range buf {
			buf[j] = 0xEE // scribble: must not reach the wire
		}
	}
	requireFrames(t, want, r.waitFrames(t, len(want)))
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
}

func testConcurrentWriters(t *testing.T, h handler.Handler) {
	concurrentWriters(t, h, 16, 150, []int{5, 100, 1000, 9000, 70000}, func(c handler.Conn, _, _ int, b []byte) error {
		return c.Write(b)
	})
}

// concurrentWriters has writers write perWriter frames each at once, of
// the sizes in turn, each frame through write (given the writer and the
// frame's sequence number), and checks that every writer's frames arrive
// whole, in order and unmixed with others' bytes.
func concurrentWriters(t *testing.T, h handler.Handler, writers, perWriter int, sizes []int,
	write func(c handler.Conn, w, s int, b []byte) error) {
	r := newRecorder()
	c := dialEcho(t, h, r)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		h.Go("writer", func() {
			defer wg.Done()
			var buf []byte
			for s := 0; s < perWriter; s++ {
				size := sizes[(w+s)%len(sizes)]
				hdr := binary.BigEndian.AppendUint32([]byte{byte(w)}, uint32(s))
				buf = AppendFrame(buf[:0], append(hdr, bytes.Repeat([]byte{byte(w + s)}, size-5)...))
				if err := write(c, w, s, buf); err != nil {
					t.Errorf("Write: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	frames := r.waitFrames(t, writers*perWriter)
	next := make([]uint32, writers)
	for i, f := range frames {
		require.GreaterOrEqual(t, len(f), 5, "frame %d", i)
		w, s := int(f[0]), binary.BigEndian.Uint32(f[1:5])
		require.Less(t, w, writers, "frame %d: corrupt writer id", i)
		require.Equal(t, next[w], s, "writer %d: frames out of order or corrupt", w)
		next[w]++
		require.Equal(t, sizes[(w+int(s))%len(sizes)], len(f), "frame %d: wrong size", i)
		require.Equal(t, len(f)-5, bytes.Count(f[5:], []byte{byte(w + int(s))}),
			"frame %d (writer %d seq %d): foreign bytes interleaved", i, w, s)
	}
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
	r.check(t)
}

func testLargeWrite(t *testing.T, h handler.Handler) {
	r := newRecorder()
	c := dialEcho(t, h, r)
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(i >> 10)
	}
	require.NoError(t, c.Write(AppendFrame(nil, big)))
	require.NoError(t, c.Write(AppendFrame(nil, []byte("small"))))
	requireFrames(t, [][]byte{big, []byte("small")}, r.waitFrames(t, 2))
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
}

func testLocalClose(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	c, sc := dialPeer(t, h, p, r, 0)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent")
	assert.NoError(t, r.waitClosed(t), "a local Close reports nil")
	assert.ErrorIs(t, c.Write(AppendFrame(nil, []byte("x"))), handler.ErrClosed)
	peerSeesClose(t, sc)

	// Handler.Close returns after every OnClose, so none can be pending.
	require.NoError(t, h.Close())
	_, closes := r.snapshot()
	assert.Equal(t, 1, closes)
	r.check(t)
}

func testCloseFromOnFrame(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	var conn atomic.Pointer[handler.Conn]
	r := newRecorder()
	cfg := r.config(p.addr())
	cfg.OnFrame = func(b []byte) {
		r.onFrame(b)
		if c := conn.Load(); c != nil {
			_ = (*c).Close()
		}
	}
	c, err := h.Dial(guarded(t), cfg)
	require.NoError(t, err)
	conn.Store(&c)
	sc := p.accept(t)
	_, err = sc.Write(encodeAll(sampleFrames()))
	require.NoError(t, err)
	require.NoError(t, r.waitClosed(t))
	frames, closes := r.snapshot()
	assert.Equal(t, 1, frames, "frames after Close are dropped")
	assert.Equal(t, 1, closes)
	r.check(t)
}

func testNilCallbacks(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	c, err := h.Dial(guarded(t), handler.DialConfig{Address: p.addr()})
	require.NoError(t, err)
	sc := p.accept(t)
	_, err = sc.Write(encodeAll(sampleFrames()))
	require.NoError(t, err)
	require.NoError(t, c.Write(AppendFrame(nil, []byte("hi"))))
	got := make([]byte, 6)
	_, err = io.ReadFull(sc, got)
	require.NoError(t, err)
	assert.Equal(t, AppendFrame(nil, []byte("hi")), got)
	require.NoError(t, c.Close())
	peerSeesClose(t, sc)
}

func testHandlerCloseClosesConns(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	var recs []*recorder
	var conns []handler.Conn
	for i := 0; i < 5; i++ {
		r := newRecorder()
		c, _ := dialPeer(t, h, p, r, 0)
		recs = append(recs, r)
		conns = append(conns, c)
	}
	require.NoError(t, conns[0].Close())
	require.NoError(t, recs[0].waitClosed(t))

	require.NoError(t, h.Close())
	for i, r := range recs {
		_, closes := r.snapshot()
		require.Equal(t, 1, closes, "conn %d: OnClose must have run when Handler.Close returns", i)
		r.check(t)
	}
	assert.NoError(t, recs[0].closeErr, "closed before the handler")
	for i, r := range recs[1:] {
		assert.ErrorIs(t, r.closeErr, handler.ErrClosed, "conn %d", i+1)
	}
	for _, c := range conns {
		assert.ErrorIs(t, c.Write(AppendFrame(nil, []byte("x"))), handler.ErrClosed)
		assert.NoError(t, c.Close())
	}
}

// testCloseUnblocksWriters writes to a peer that never reads until the
// socket is full, then closes: every writer must return, with ErrClosed.
func testCloseUnblocksWriters(t *testing.T, h handler.Handler) {
	p := newPeer(t)
	r := newRecorder()
	c, _ := dialPeer(t, h, p, r, 0)
	const writers = 4
	frame := AppendFrame(nil, make([]byte, 256<<10))
	var accepted atomic.Int64
	enough := make(chan struct{})
	var once sync.Once
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		h.Go("writer", func() {
			for {
				if err := c.Write(frame); err != nil {
					errs <- err
					return
				}
				if accepted.Add(int64(len(frame))) >= 2<<20 {
					once.Do(func() { close(enough) })
				}
			}
		})
	}
	waitChan(t, enough, "writes to be accepted")
	require.NoError(t, c.Close())
	for w := 0; w < writers; w++ {
		assert.ErrorIs(t, waitChan(t, errs, "writer to return"), handler.ErrClosed)
	}
	assert.NoError(t, r.waitClosed(t))
}
