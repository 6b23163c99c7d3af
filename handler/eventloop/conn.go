package eventloop

import (
	"context"
	"net"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/internal/frame"
)

// keepPending is the largest pending buffer kept for reuse between flushes.
const keepPending = 1 << 20

// conn is one enrolled connection.
//
// Writes are copied into pending under mu, and the first Write after a flush
// schedules one flush task on the connection's loop; every Write until that
// task runs rides along. The loop then hands all pending bytes to the socket
// in one write (gnet keeps what the kernel would not take). So a Write never
// blocks on I/O and never keeps the caller's slice, and many concurrent
// requests cost one loop task and one syscall.
//
// Writing from the caller's goroutine while the socket is idle was measured
// too: it cuts a lone request's latency but loses to this batching from 16
// requests in flight on, and the event loop exists for the busy case.
type conn struct {
	h       *Handler
	addr    string
	local   net.Addr
	remote  net.Addr
	onFrame func([]byte)
	onClose func(error)
	emitFn  func([]byte)

	// Set by Dial once enrolled, before the conn is shared.
	gc   gnet.Conn
	loop gnet.EventLoop

	// dropping is set by Close: frames still arriving are not delivered.
	dropping atomic.Bool

	mu         sync.Mutex
	pending    []byte
	scheduled  bool  // a flush task is queued on the loop
	err        error // set once writes are refused
	localClose bool  // Close was called: OnClose reports nil

	// tls is set for a TLS connection (see tls.go).
	tls *tlsLayer

	// Owned by the loop goroutine.
	dec        *frame.Decoder
	protoErr   error // framing error that made OnTraffic close the conn
	tlsErr     error // TLS error that made the loop close the conn
	loopClosed bool  // OnClose ran; gc's fd may already belong to another socket
	spare      []byte
}

func newConn(h *Handler, cfg *handler.DialConfig, local, remote net.Addr) *conn {
	c := &conn{
		h:       h,
		addr:    cfg.Address,
		local:   local,
		remote:  remote,
		onFrame: cfg.OnFrame,
		onClose: cfg.OnClose,
		dec:     frame.New(cfg.MaxFrameSize),
	}
	if c.onFrame == nil {
		c.onFrame = func([]byte) {}
	}
	if c.onClose == nil {
		c.onClose = func(error) {}
	}
	c.emitFn = c.emit
	return c
}

func (c *conn) LocalAddr() net.Addr  { return c.local }
func (c *conn) RemoteAddr() net.Addr { return c.remote }

// Write copies b into the pending buffer and makes sure a flush is queued.
func (c *conn) Write(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if len(b) == 0 {
		return nil
	}
	c.pending = append(c.pending, b...)
	if !c.scheduled {
		// Queued while holding mu so that refuse, which takes mu, knows no
		// task is being queued after it returns.
		if err := c.loop.Execute(context.Background(), (*flushTask)(c)); err != nil {
			c.err = handler.ErrClosed
			c.pending = nil
			return c.err
		}
		c.scheduled = true
	}
	return nil
}

// Close queues a task that sends pending bytes and closes the connection on
// its loop; OnClose(nil) follows there.
func (c *conn) Close() error {
	c.dropping.Store(true)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil
	}
	c.err = handler.ErrClosed
	c.localClose = true
	// If the loop is already stopping, the engine closes the conn anyway.
	_ = c.loop.Execute(context.Background(), (*closeTask)(c))
	return nil
}

// refuse makes Write and Close fail from now on without touching the loop.
func (c *conn) refuse() {
	c.dropping.Store(true)
	c.mu.Lock()
	if c.err == nil {
		c.err = handler.ErrClosed
	}
	c.mu.Unlock()
}

func (c *conn) emit(b []byte) {
	if !c.dropping.Load() {
		c.onFrame(b)
	}
}

// flush runs on the loop: it takes the pending bytes and writes them.
func (c *conn) flush() {
	c.mu.Lock()
	buf := c.pending
	c.pending, c.spare = c.spare[:0], nil
	c.scheduled = false
	c.mu.Unlock()
	if c.loopClosed || len(buf) == 0 {
		return
	}
	if c.tls != nil {
		if err := c.tls.encrypt(buf); err != nil {
			c.tlsErr = err
			_ = c.loop.Close(c.gc)
		}
	} else {
		// gnet copies whatever the kernel does not accept into its outbound
		// buffer, so buf is free again when Write returns. On error gnet
		// closes the connection itself and OnClose reports why.
		_, _ = c.gc.Write(buf)
	}
	if cap(buf) <= keepPending {
		c.spare = buf[:0]
	}
}

type flushTask conn

func (t *flushTask) Run(context.Context) error {
	(*conn)(t).flush()
	return nil
}

type closeTask conn

func (t *closeTask) Run(context.Context) error {
	c := (*conn)(t)
	if c.loopClosed {
		return nil
	}
	c.flush()
	if !c.loopClosed {
		_ = c.loop.Close(c.gc)
	}
	return nil
}

// closed runs in OnClose, on the loop: no task may touch gc after it.
func (c *conn) closed() (local bool) {
	c.loopClosed = true
	c.mu.Lock()
	if c.err == nil {
		c.err = handler.ErrClosed
	}
	local = c.localClose
	c.pending = nil
	c.mu.Unlock()
	return local
}
