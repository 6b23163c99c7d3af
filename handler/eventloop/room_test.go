package eventloop

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/handlertest"
	"github.com/gregorkafka/gregor/internal/testcerts"
)

// stalledPeer accepts connections (completing the TLS handshake if the
// dial config asks for TLS) and hands them over unread.
type stalledPeer struct {
	cfg      handler.DialConfig
	accepted chan net.Conn
}

func newStalledPeer(t *testing.T, useTLS bool) *stalledPeer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	p := &stalledPeer{
		cfg:      handler.DialConfig{Address: ln.Addr().String()},
		accepted: make(chan net.Conn, 1),
	}
	var serverTLS *tls.Config
	if useTLS {
		ca, err := testcerts.NewCA("room test CA")
		require.NoError(t, err)
		srv, err := ca.Issue(testcerts.Leaf{CommonName: "peer", Hosts: []string{"127.0.0.1"}})
		require.NoError(t, err)
		serverTLS = &tls.Config{Certificates: []tls.Certificate{srv.TLS}}
		p.cfg.TLSConfig = &tls.Config{RootCAs: ca.Pool()}
	}
	go func() {
		for {
			pc, err := ln.Accept()
			if err != nil {
				return
			}
			if serverTLS != nil {
				tc := tls.Server(pc, serverTLS)
				if tc.Handshake() != nil {
					_ = pc.Close()
					continue
				}
				pc = tc
			}
			p.accepted <- pc
		}
	}()
	return p
}

// waitingForRoom reports whether c's direct writer is waiting for room.
func waitingForRoom(c *conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.room != nil && c.room.waiting.Load()
}

// awaitRoomWait returns once c's direct writer waits for room.
func awaitRoomWait(t *testing.T, c *conn) {
	t.Helper()
	require.Eventually(t, func() bool { return waitingForRoom(c) }, 20*time.Second, time.Millisecond,
		"the direct writer should come to wait for room")
}

// roomFrame is writer's frame id of size bytes, every byte telling where
// it belongs.
func roomFrame(writer byte, id uint32, size int) []byte {
	p := make([]byte, size)
	binary.BigEndian.PutUint32(p, id)
	p[4] = writer
	for i := 5; i < size; i++ {
		p[i] = byte(int(id)*31+i) ^ writer
	}
	return handlertest.AppendFrame(nil, p)
}

// A direct writer whose peer stops reading waits for room, and then, the
// send buffer being small, over and over as the peer reads: every frame
// arrives whole and in order, and every wait goes through the one room
// poll. Small frames written while the direct writer waits queue behind
// its frame and go out before the next.
func TestDirectWriteWaitsForRoom(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		for _, small := range []int{0, 20} {
			t.Run(fmt.Sprintf("tls=%v/small=%d", useTLS, small), func(t *testing.T) {
				testDirectWriteWaitsForRoom(t, useTLS, small)
			})
		}
	}
}

func testDirectWriteWaitsForRoom(t *testing.T, useTLS bool, small int) {
	h, err := New(WithLoops(1))
	require.NoError(t, err)
	defer h.Close()
	p := newStalledPeer(t, useTLS)
	hc, err := h.Dial(context.Background(), p.cfg)
	require.NoError(t, err)
	defer hc.Close()
	pc := <-p.accepted
	defer pc.Close()
	c := hc.(*conn)
	c.mu.Lock()
	wfd := c.wfd
	c.mu.Unlock()
	require.NoError(t, unix.SetsockoptInt(wfd, unix.SOL_SOCKET, unix.SO_SNDBUF, 64<<10))

	const big = 24
	type arrival struct {
		order []roomID
		err   error
	}
	read := make(chan arrival, 1)
	resume := make(chan struct{})
	go func() {
		<-resume
		order, err := readRoomFrames(pc, big+small)
		read <- arrival{order, err}
	}()
	var writing atomic.Uint32 // the big frame being written
	written := make(chan error, 1)
	go func() {
		for id := range uint32(big) {
			writing.Store(id)
			// With nothing queued, each of these is written directly.
			if err := hc.Write(roomFrame(1, id, directMin+int(id)*(61<<10))); err != nil {
				written <- fmt.Errorf("frame %d: %w", id, err)
				return
			}
		}
		written <- nil
	}()
	awaitRoomWait(t, c)
	waiting := writing.Load()
	c.mu.Lock()
	r := c.room
	c.mu.Unlock()
	for id := range uint32(small) {
		require.NoError(t, hc.Write(roomFrame(2, id, 100)))
	}
	close(resume)

	var want []roomID
	for id := range uint32(big) {
		want = append(want, roomID{1, id})
		if id == waiting {
			for id := range uint32(small) {
				want = append(want, roomID{2, id})
			}
		}
	}
	select {
	case got := <-read:
		require.NoError(t, got.err)
		require.Equal(t, want, got.order, "the small frames should follow the big one they waited behind")
	case <-time.After(30 * time.Second):
		t.Fatal("the peer did not receive every frame")
	}
	require.NoError(t, released(t, written))
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Same(t, r, c.room, "every wait should go through the connection's one room poll")
	t.Logf("%d waits for room", r.waits)
	if small == 0 {
		require.GreaterOrEqual(t, r.waits, 10, "a small send buffer should make the writer wait often")
	}
}

// roomID names a roomFrame: its writer and its number.
type roomID struct {
	writer byte
	id     uint32
}

// readRoomFrames reads n roomFrames from pc, checking each one's bytes, and
// returns them in the order they came.
func readRoomFrames(pc net.Conn, n int) ([]roomID, error) {
	var order []roomID
	var hdr [4]byte
	for range n {
		if _, err := io.ReadFull(pc, hdr[:]); err != nil {
			return order, err
		}
		p := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(pc, p); err != nil {
			return order, err
		}
		if len(p) < 5 {
			return order, fmt.Errorf("a frame of %d bytes", len(p))
		}
		f := roomID{p[4], binary.BigEndian.Uint32(p)}
		if !bytes.Equal(handlertest.AppendFrame(nil, p), roomFrame(f.writer, f.id, len(p))) {
			return order, fmt.Errorf("frame %v corrupted", f)
		}
		order = append(order, f)
	}
	return order, nil
}

// A direct writer waiting for room is released promptly by the
// connection's Close (with ErrClosed) and by the peer's reset (with
// ErrClosed or the write's error), and the connection's descriptors are
// closed.
func TestDirectWriterReleased(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		for _, how := range []string{"close", "reset"} {
			t.Run(fmt.Sprintf("tls=%v/%s", useTLS, how), func(t *testing.T) {
				testDirectWriterReleased(t, useTLS, how == "reset")
			})
		}
	}
}

func testDirectWriterReleased(t *testing.T, useTLS, reset bool) {
	h, err := New(WithLoops(1))
	require.NoError(t, err)
	defer h.Close()
	p := newStalledPeer(t, useTLS)
	closed := make(chan error, 1)
	p.cfg.OnClose = func(err error) { closed <- err }
	hc, err := h.Dial(context.Background(), p.cfg)
	require.NoError(t, err)
	pc := <-p.accepted
	defer pc.Close()
	c := hc.(*conn)

	done := fillUntilError(hc)
	awaitRoomWait(t, c)
	c.mu.Lock()
	r := c.room
	c.mu.Unlock()
	start := time.Now()
	if reset {
		resetPeer(t, pc)
	} else {
		require.NoError(t, hc.Close())
	}
	err = released(t, done)
	t.Logf("released in %v: %v", time.Since(start), err)
	var ce *handler.ConnError
	if !reset || !errors.As(err, &ce) {
		require.ErrorIs(t, err, handler.ErrClosed)
	}
	err = released(t, closed)
	if !reset {
		require.NoError(t, err, "a local Close reports nil")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Equal(t, -1, c.wfd, "the direct descriptor was not closed")
	require.Nil(t, c.room)
	require.ErrorIs(t, r.file.Close(), os.ErrClosed, "the room poll was not closed")
}

// fillUntilError writes 1 MiB frames to hc until a Write fails, which it
// then sends.
func fillUntilError(hc handler.Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		frame := handlertest.AppendFrame(nil, make([]byte, 1<<20))
		for {
			if err := hc.Write(frame); err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}

// released returns what ch sends: a released writer's error, or OnClose's.
func released(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("not released")
		return nil
	}
}

// resetPeer closes pc with a reset instead of a FIN.
func resetPeer(t *testing.T, pc net.Conn) {
	if tc, ok := pc.(*tls.Conn); ok {
		pc = tc.NetConn()
	}
	require.NoError(t, pc.(*net.TCPConn).SetLinger(0))
	require.NoError(t, pc.Close())
}

// Connections whose writers waited for room, however they ended, leave no
// descriptor open behind them.
func TestDirectWaitLeavesNoDescriptors(t *testing.T) {
	// A finalizer would close a leaked file behind the test's back.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	h, err := New(WithLoops(1))
	require.NoError(t, err)
	defer h.Close()
	p := newStalledPeer(t, false)

	round := func(i int) {
		closed := make(chan error, 1)
		cfg := p.cfg
		cfg.OnClose = func(err error) { closed <- err }
		hc, err := h.Dial(context.Background(), cfg)
		require.NoError(t, err)
		pc := <-p.accepted
		defer pc.Close()
		c := hc.(*conn)
		switch i % 3 {
		case 0: // Released by Close.
			done := fillUntilError(hc)
			awaitRoomWait(t, c)
			require.NoError(t, hc.Close())
			released(t, done)
		case 1: // Released by the peer's reset.
			done := fillUntilError(hc)
			awaitRoomWait(t, c)
			resetPeer(t, pc)
			released(t, done)
		case 2: // The wait ends: the peer reads.
			frame := handlertest.AppendFrame(nil, make([]byte, 4<<20))
			done := make(chan error, 1)
			go func() { done <- hc.Write(frame) }()
			awaitRoomWait(t, c)
			_, err := io.CopyN(io.Discard, pc, int64(len(frame)))
			require.NoError(t, err)
			require.NoError(t, released(t, done))
			require.NoError(t, hc.Close())
		}
		released(t, closed)
	}
	round(0) // anything opened once per process or loop
	before := openFDs(t)
	for i := range 30 {
		round(i)
	}
	// gnet closes its descriptor just after OnClose returns.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if len(openedSince(t, before)) == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	require.Empty(t, openedSince(t, before), "descriptors leaked")
}

// openedSince lists the descriptors open now that were not in before.
func openedSince(t *testing.T, before map[string]string) []string {
	var opened []string
	for fd, what := range openFDs(t) {
		if what != "" && before[fd] != what {
			opened = append(opened, fd+" -> "+what)
		}
	}
	return opened
}

// openFDs returns what each open descriptor refers to ("" if it closed
// while being looked at).
func openFDs(t *testing.T) map[string]string {
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	fds := make(map[string]string, len(ents))
	for _, e := range ents {
		fds[e.Name()], _ = os.Readlink("/proc/self/fd/" + e.Name())
	}
	return fds
}
