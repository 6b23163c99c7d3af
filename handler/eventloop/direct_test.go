package eventloop

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/handlertest"
)

// A large Write to an idle socket is written by the caller, with the loop
// busy elsewhere: nothing is left for the loop. A small one, or a large one
// behind bytes the loop still has to write, goes through the loop. Every
// frame arrives once, in order.
// Over TLS the caller also encrypts: the loop is not needed for it either.
func TestDirectWriteOnlyLargeAndIdle(t *testing.T) {
	t.Run("plaintext", func(t *testing.T) { testDirectWriteOnlyLargeAndIdle(t, false) })
	t.Run("tls", func(t *testing.T) { testDirectWriteOnlyLargeAndIdle(t, true) })
}

func testDirectWriteOnlyLargeAndIdle(t *testing.T, useTLS bool) {
	h, err := New(WithLoops(1))
	require.NoError(t, err)
	defer h.Close()

	frames := make(chan []byte, 8)
	cfg := handler.DialConfig{
		Address: handlertest.EchoServer(t),
		OnFrame: func(f []byte) { frames <- append([]byte(nil), f...) },
	}
	if useTLS {
		addr, roots := handlertest.TLSEchoServer(t)
		cfg.Address, cfg.TLSConfig = addr, &tls.Config{RootCAs: roots}
	}
	hc, err := h.Dial(context.Background(), cfg)
	require.NoError(t, err)
	defer hc.Close()
	c := hc.(*conn)

	req := func(id uint32, size int) []byte {
		payload := binary.BigEndian.AppendUint32(nil, id)
		payload = append(payload, bytes.Repeat([]byte{byte(id)}, size-4)...)
		return handlertest.AppendFrame(nil, payload)
	}
	// The loop is held busy, so a Write that left work for it is seen
	// before the loop can do that work.
	var block chan struct{}
	busy := func() {
		block = make(chan struct{})
		started := make(chan struct{})
		require.NoError(t, c.execute(runFunc(func() {
			close(started)
			<-block
		})))
		<-started
	}
	queued := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.scheduled || c.pending.Len() > 0
	}
	answer := func(id uint32, size int) {
		select {
		case f := <-frames:
			require.Equal(t, id, binary.BigEndian.Uint32(f))
			require.Len(t, f, size)
		case <-time.After(20 * time.Second):
			t.Fatalf("no answer to %d", id)
		}
	}

	busy()
	require.NoError(t, hc.Write(req(1, directMin)))
	require.False(t, queued(), "a large Write to an idle socket should be written directly")
	require.NoError(t, hc.Write(req(2, 100)))
	require.True(t, queued(), "a small Write should go through the loop")
	require.NoError(t, hc.Write(req(3, directMin)))
	require.True(t, queued(), "a large Write behind pending bytes should go through the loop")
	close(block)
	answer(1, directMin)
	answer(2, 100)
	answer(3, directMin)

	busy()
	require.NoError(t, hc.Write(req(4, 4*directMin)))
	require.False(t, queued(), "idle again: direct")
	close(block)
	answer(4, 4*directMin)

	// Larger than a chunk of encryption, with small frames around it.
	big := 3*tlsWriteChunk + 5
	require.NoError(t, hc.Write(req(5, 100)))
	answer(5, 100)
	require.NoError(t, hc.Write(req(6, big)))
	require.NoError(t, hc.Write(req(7, 100)))
	answer(6, big)
	answer(7, 100)
}

type runFunc func()

func (f runFunc) Run(context.Context) error { f(); return nil }

// A direct writer waiting for a peer that reads nothing is released with
// ErrClosed by the handler's Close, and the connection reports its close.
func TestDirectWriterReleasedByHandlerClose(t *testing.T) {
	t.Run("plaintext", func(t *testing.T) { testDirectWriterReleasedByHandlerClose(t, false) })
	t.Run("tls", func(t *testing.T) { testDirectWriterReleasedByHandlerClose(t, true) })
}

func testDirectWriterReleasedByHandlerClose(t *testing.T, useTLS bool) {
	h, err := New(WithLoops(1))
	require.NoError(t, err)
	p := newStalledPeer(t, useTLS) // held open, never read after the handshake
	cfg := p.cfg
	closed := make(chan error, 1)
	cfg.OnClose = func(err error) { closed <- err }
	hc, err := h.Dial(context.Background(), cfg)
	require.NoError(t, err)
	pc := <-p.accepted
	defer pc.Close()
	c := hc.(*conn)

	done := fillUntilError(hc)
	// The writer comes to wait on the socket in the direct path.
	awaitRoomWait(t, c)
	require.NoError(t, h.Close())
	select {
	case err := <-done:
		require.ErrorIs(t, err, handler.ErrClosed)
	case <-time.After(20 * time.Second):
		t.Fatal("the direct writer was not released")
	}
	require.ErrorIs(t, <-closed, handler.ErrClosed)
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Equal(t, -1, c.wfd, "the direct descriptor was not closed")
	require.Nil(t, c.room, "the room poll was not closed")
}

// A large frame over TLS takes a few wake-ups of the loop, not one per
// 64 KiB gnet reads: each wake-up reads on what the socket holds, in
// OnTraffic (gnet's wait) or in the park task (the netpoller's).
func TestTLSReadsWhatTheSocketHolds(t *testing.T) {
	for _, netpoll := range []bool{false, true} {
		t.Run(fmt.Sprintf("netpoll=%v", netpoll), func(t *testing.T) {
			testTLSReadsWhatTheSocketHolds(t, netpoll)
		})
	}
}

func testTLSReadsWhatTheSocketHolds(t *testing.T, netpoll bool) {
	h, err := New(WithLoops(1), WithNetpollWait(netpoll))
	require.NoError(t, err)
	defer h.Close()
	addr, roots := handlertest.TLSEchoServer(t)
	frames := make(chan []byte, 1)
	hc, err := h.Dial(context.Background(), handler.DialConfig{
		Address:   addr,
		TLSConfig: &tls.Config{RootCAs: roots},
		OnFrame:   func(f []byte) { frames <- append([]byte(nil), f...) },
	})
	require.NoError(t, err)
	defer hc.Close()
	c := hc.(*conn)

	const size = 6 << 20
	payload := bytes.Repeat([]byte("gregor"), size/6)
	before := make(chan int, 1)
	require.NoError(t, c.execute(runFunc(func() { before <- c.traffics })))
	start := <-before
	require.NoError(t, hc.Write(handlertest.AppendFrame(nil, payload)))
	select {
	case f := <-frames:
		require.Equal(t, payload, f)
	case <-time.After(20 * time.Second):
		t.Fatal("no answer")
	}
	after := make(chan int, 1)
	require.NoError(t, c.execute(runFunc(func() { after <- c.traffics })))
	wakes := <-after - start
	t.Logf("%d MiB echoed in %d wake-ups", size>>20, wakes)
	require.Less(t, wakes, size/(64<<10)/2, "one wake-up per 64 KiB read")
}
