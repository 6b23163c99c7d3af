package handlertest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
)

// testWriteBackPressure: a peer that stops reading makes Write wait once
// the connection holds DialConfig.MaxBufferedWrite bytes beyond what the
// kernel took, instead of buffering without bound; reading again releases
// the writer and every byte arrives in order.
// It runs with small frames, and with frames large enough that a handler may
// write them from the caller's goroutine when the socket is idle.
func testWriteBackPressure(t *testing.T, h handler.Handler) {
	for _, size := range []int{16 << 10, 96 << 10} {
		t.Run(fmt.Sprintf("frame=%dKiB", size>>10), func(t *testing.T) { writeBackPressure(t, h, size, write) })
	}
}

// write is Conn.Write, for the tests that run with WriteVec too.
func write(c handler.Conn, b []byte) error { return c.Write(b) }

func writeBackPressure(t *testing.T, h handler.Handler, frameSize int, write func(handler.Conn, []byte) error) {
	p := newPeer(t)
	r := newRecorder()
	cfg := r.config(p.addr())
	const (
		limit = 256 << 10
		// slack is what the kernel may hold on both sides of a loopback
		// socket with small buffers; generous, and still 16 times less
		// than what the writer offers.
		slack = 4 << 20
	)
	frames := (64 << 20) / frameSize // far beyond the limit and the kernel's buffers
	cfg.MaxBufferedWrite = limit
	cfg.WriteBufferSize = 32 << 10
	c, err := h.Dial(guarded(t), cfg)
	require.NoError(t, err)
	peerConn := p.accept(t)
	require.NoError(t, peerConn.(*net.TCPConn).SetReadBuffer(32<<10))

	var accepted atomic.Int64
	done := make(chan error, 1)
	const task = "conformance-backpressure-writer"
	h.Go(task, func() {
		frame := make([]byte, 4+frameSize)
		for i := range frames {
			payload := frame[4:]
			binary.BigEndian.PutUint32(payload, uint32(i))
			AppendFrame(frame[:0], payload)
			if err := write(c, frame); err != nil {
				done <- err
				return
			}
			accepted.Add(int64(len(frame)))
		}
		done <- nil
	})

	// The peer reads nothing: the writer must come to wait inside Write.
	still := 0
	last := int64(-1)
	deadline := time.Now().Add(guard)
	for still < 3 {
		select {
		case err := <-done:
			t.Fatalf("the writer finished (%v) with %d bytes accepted while the peer read nothing", err, accepted.Load())
		default:
		}
		require.True(t, time.Now().Before(deadline), "the writer never waited in Write")
		n := accepted.Load()
		if n == last && waitingIn(t, task, ").Write") {
			still++
		} else {
			still = 0
		}
		last = n
		time.Sleep(time.Millisecond)
	}
	assert.LessOrEqual(t, accepted.Load(), int64(limit+slack+frameSize),
		"bytes accepted while the peer read nothing exceed MaxBufferedWrite plus the kernel's buffers")

	// Reading again lets every frame through, in order.
	buf := make([]byte, 4+frameSize)
	for i := range frames {
		_, err := io.ReadFull(peerConn, buf)
		require.NoError(t, err, "frame %d", i)
		require.Equal(t, uint32(frameSize), binary.BigEndian.Uint32(buf), "frame %d size", i)
		require.Equal(t, uint32(i), binary.BigEndian.Uint32(buf[4:]), "frame order")
	}
	require.NoError(t, waitChan(t, done, "writer to finish"))
	require.NoError(t, c.Close())
	require.NoError(t, r.waitClosed(t))
}

// testCloseReleasesBlockedWriter: a Write waiting for room returns
// ErrClosed when the connection is closed.
func testCloseReleasesBlockedWriter(t *testing.T, h handler.Handler) {
	for _, size := range []int{32 << 10, 96 << 10} {
		t.Run(fmt.Sprintf("frame=%dKiB", size>>10), func(t *testing.T) { closeReleasesBlockedWriter(t, h, size, write) })
	}
}

func closeReleasesBlockedWriter(t *testing.T, h handler.Handler, size int, write func(handler.Conn, []byte) error) {
	p := newPeer(t)
	r := newRecorder()
	cfg := r.config(p.addr())
	cfg.MaxBufferedWrite = 64 << 10
	cfg.WriteBufferSize = 32 << 10
	c, err := h.Dial(guarded(t), cfg)
	require.NoError(t, err)
	p.accept(t)
	const task = "conformance-closed-writer"
	done := make(chan error, 1)
	h.Go(task, func() {
		frame := AppendFrame(nil, make([]byte, size))
		for {
			if err := write(c, frame); err != nil {
				done <- err
				return
			}
		}
	})
	deadline := time.Now().Add(guard)
	for !waitingIn(t, task, ").Write") {
		require.True(t, time.Now().Before(deadline), "the writer never waited in Write")
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, c.Close())
	assert.ErrorIs(t, waitChan(t, done, "blocked writer to return"), handler.ErrClosed)
	require.NoError(t, r.waitClosed(t))
}

// waitingIn reports whether the goroutine running task is parked waiting
// for the socket or for a condition variable with fn on its stack, from a
// goroutine profile (which carries task labels). A wait for a mutex does
// not count: it passes.
func waitingIn(t *testing.T, task, fn string) bool {
	var buf bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 1))
	for _, stack := range strings.Split(buf.String(), "\n\n") {
		if !strings.Contains(stack, `"task":"`+task+`"`) || !strings.Contains(stack, fn) {
			continue
		}
		_, frames, _ := strings.Cut(stack, "#\t")
		top, _, _ := strings.Cut(frames, "\n")
		if strings.Contains(top, "runtime_pollWait") || strings.Contains(top, "runtime_notifyListWait") {
			return true
		}
	}
	return false
}
