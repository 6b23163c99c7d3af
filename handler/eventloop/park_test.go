package eventloop

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

// An idle loop parks in the netpoller, and a parked loop still serves
// everything that needs it: a request's flush (a task), its answer (a
// socket), a second connection's enrolment (gnet's own task, under a hold),
// a close, and the handler's Close.
func TestParkedLoopServes(t *testing.T) {
	h, err := New(WithLoops(1), WithNetpollWait(true))
	require.NoError(t, err)
	closed := false
	defer func() {
		if !closed {
			_ = h.Close()
		}
	}()

	addr := handlertest.EchoServer(t)
	frames := make(chan []byte, 4)
	dial := func() *conn {
		hc, err := h.Dial(context.Background(), handler.DialConfig{
			Address: addr,
			OnFrame: func(f []byte) { frames <- append([]byte(nil), f...) },
		})
		require.NoError(t, err)
		return hc.(*conn)
	}
	parked := func(p *parker) {
		require.Eventually(t, p.parked.Load, 10*time.Second, time.Millisecond, "the idle loop should park")
	}
	roundTrip := func(c *conn, id uint32) {
		req := handlertest.AppendFrame(nil, binary.BigEndian.AppendUint32(nil, id))
		require.NoError(t, c.Write(req))
		select {
		case f := <-frames:
			require.Equal(t, id, binary.BigEndian.Uint32(f))
		case <-time.After(10 * time.Second):
			t.Fatalf("no answer to %d", id)
		}
	}

	// Read on the loop, which writes them.
	parkReads := func(c *conn) int {
		n := make(chan int, 1)
		require.NoError(t, c.execute(runFunc(func() { n <- c.parkReads })))
		return <-n
	}

	a := dial()
	p := a.park.Load()
	require.NotNil(t, p, "the socket should be watched")
	parked(p)
	roundTrip(a, 1)
	require.Positive(t, parkReads(a), "the parked loop should read the answer itself")
	parked(p)

	b := dial()
	require.Same(t, p, b.park.Load(), "one loop, one parker")
	parked(p)
	roundTrip(b, 2)
	roundTrip(a, 3)
	require.False(t, p.broken.Load())

	parked(p)
	require.NoError(t, a.Close())
	roundTrip(b, 4)
	p.mu.Lock()
	require.Len(t, p.conns, 1, "a closed conn leaves the set")
	p.mu.Unlock()

	parked(p)
	done := make(chan error, 1)
	go func() { done <- h.Close() }()
	select {
	case err := <-done:
		closed = true
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with the loop parked")
	}
}

// WithNetpollWait(false) leaves the loops to gnet's own wait.
func TestNetpollWaitOff(t *testing.T) {
	h, err := New(WithLoops(1), WithNetpollWait(false))
	require.NoError(t, err)
	defer h.Close()
	hc, err := h.Dial(context.Background(), handler.DialConfig{Address: handlertest.EchoServer(t)})
	require.NoError(t, err)
	require.Nil(t, hc.(*conn).park.Load())
}

// Woken for a task, the park task lets the other ready goroutines run
// first while flushes carry several Writes, and otherwise once in
// yieldProbe wake-ups, which is how it notices writers coming back.
func TestParkYield(t *testing.T) {
	p := &parker{}
	count := func() (n int) {
		for range 4 * yieldProbe {
			if p.yield() {
				n++
			}
		}
		return n
	}
	p.flushed(1)
	require.Equal(t, 4, count(), "one writer: yield on probes only")
	p.flushed(16)
	require.Equal(t, 4*yieldProbe, count(), "writers riding along: always yield")
	p.flushed(1)
	require.Equal(t, 4, count())
	var none *parker
	none.flushed(3) // a conn whose loop does not park
}
