package eventloop

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/internal/frame"
	"github.com/gregorkafka/gregor/handler/internal/lowat"
	"github.com/gregorkafka/gregor/internal/coalesce"
)

// conn is one enrolled connection.
//
// Writes are copied into pending under mu, and the first Write after a flush
// schedules one flush task on the connection's loop; every Write until that
// task runs rides along. The loop then hands all pending bytes to the socket
// in one write (gnet keeps what the kernel would not take). So a Write never
// keeps the caller's slice, and many concurrent requests cost one loop task
// and one syscall. A large Write to an idle socket is the exception: it is
// written from the caller's goroutine (direct.go), which saves its copies.
//
// Writing small frames from the caller's goroutine while the socket is idle
// was measured (four times, the last two against a peer in another
// process): it does not cut a lone request's latency (the last time it
// raised it), and it loses to this batching from 16 requests in flight on.
// Neither did gnet's WithLockOSThread, WithEdgeTriggeredIO or WithMulticore
// measurably change it. Against an echo peer in another process
// (handlertest's BenchmarkRoundTripSideBySide) a lone round trip takes
// 1.15-1.4x the goroutine handler's; the rest is gnet's loop waiting in its
// own epoll_wait, off Go's netpoller. An in-process peer exaggerates that
// (2.7x): its goroutines and the goroutine handler's reader wake on the
// same netpoller thread. Against a real broker, which answers in a hundred
// microseconds rather than a few, the loop's lone round trip is the faster
// one (0.74-0.93x; conn's BenchmarkRoundTripBrokerSideBySide, kafka's
// BenchmarkSyncProduceSideBySide).
//
// The bound: pending plus gnet's outbound buffer (as last seen by the loop)
// may not exceed limit; a Write that would go beyond waits on wcond until a
// flush, a recheck or the close wakes it. With nothing pending gnet drains
// its buffer without telling anyone, so a waiting writer has the loop look
// again every recheckEvery.
type conn struct {
	h       *Handler
	addr    string
	local   net.Addr
	remote  net.Addr
	onFrame func([]byte)
	onClose func(error)
	emitFn  func([]byte)
	limit   int // DialConfig.MaxBufferedWrite

	// Set by Dial once enrolled, before the conn is shared.
	gc   gnet.Conn
	loop gnet.EventLoop

	// park is the loop's parker once Dial has watched the socket.
	park atomic.Pointer[parker]

	// dropping is set by Close: frames still arriving are not delivered.
	dropping atomic.Bool

	mu          sync.Mutex
	wcond       sync.Cond // on mu: buffered bytes dropped, or writes refused
	pending     coalesce.Buffer
	writes      int   // Writes in pending
	scheduled   bool  // a flush task is queued on the loop
	loopWriting bool  // the loop is writing what it took from pending
	outbound    int   // gnet's outbound buffer after the loop's last look
	waiting     int   // writers waiting for room
	rechecking  bool  // a recheck of outbound is armed
	err         error // set once writes are refused
	localClose  bool  // Close was called: OnClose reports nil

	// The direct path (direct.go).
	wfd      int          // direct-write descriptor, -1 once closed
	direct   bool         // a caller is writing to wfd without mu
	wfdClose bool         // OnClose ran during a direct write: its writer closes wfd and room
	room     *roomPoll    // where a direct writer waits for room, from its first wait on
	iov      []unix.Iovec // the direct writer's iovecs (writev)
	writeErr error        // a direct write's failure, which OnClose reports

	// tls is set for a TLS connection (see tls.go).
	tls *tlsLayer

	// Owned by the loop goroutine.
	dec        *frame.Decoder
	mark       lowat.Mark // the socket's receive low-water mark
	protoErr   error      // framing error that made OnTraffic close the conn
	tlsErr     error      // TLS error that made the loop close the conn
	loopClosed bool       // OnClose ran; gc's fd may already belong to another socket
	traffics   int        // OnTraffic and readParked calls, for tests
	parkReads  int        // readParked calls, for tests
}

// recheckEvery is how often a writer waiting for gnet to drain its outbound
// buffer has the loop look at it.
const recheckEvery = time.Millisecond

func newConn(h *Handler, cfg *handler.DialConfig, local, remote net.Addr) *conn {
	c := &conn{
		h:       h,
		addr:    cfg.Address,
		local:   local,
		remote:  remote,
		onFrame: cfg.OnFrame,
		onClose: cfg.OnClose,
		dec:     frame.New(cfg.MaxFrameSize),
		limit:   cfg.MaxBufferedWrite,
		wfd:     -1,
	}
	if c.limit <= 0 {
		c.limit = handler.DefaultMaxBufferedWrite
	}
	c.wcond.L = &c.mu
	if c.onFrame == nil {
		c.onFrame = func([]byte) {}
	}
	if c.onClose == nil {
		c.onClose = func(error) {}
	}
	c.emitFn = c.emit
	if cfg.OnPartialFrame != nil {
		c.dec.Watch(cfg.OnPartialFrame)
	}
	return c
}

func (c *conn) LocalAddr() net.Addr  { return c.local }
func (c *conn) RemoteAddr() net.Addr { return c.remote }

// Write copies b into the pending buffer and makes sure a flush is queued,
// waiting first while the connection holds more than limit bytes.
func (c *conn) Write(b []byte) error { return c.write(b, nil, len(b)) }

// WriteVec sends bufs' bytes as one Write. A large one to an idle socket
// goes out from the caller's goroutine: in writev calls, uncopied, over
// plain TCP; over TLS handed to crypto/tls a record's worth at a time
// (tlswrite.Pieces). Otherwise the pieces are copied as Write's b would be.
func (c *conn) WriteVec(bufs [][]byte) error {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return c.write(nil, bufs, n)
}

// write is Write of b, or of bufs when set (n bytes in all).
func (c *conn) write(b []byte, bufs [][]byte, n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.err != nil {
			return c.err
		}
		if n == 0 {
			return nil
		}
		buffered := c.pending.Len() + c.outbound
		if buffered == 0 || buffered+n <= c.limit {
			break
		}
		c.waiting++
		c.armRecheck()
		c.wcond.Wait()
		c.waiting--
	}
	if c.directOK(n) {
		if bufs == nil {
			var one [1][]byte
			one[0] = b
			return c.writeDirect(one[:])
		}
		return c.writeDirect(bufs)
	}
	c.pending.Append(b)
	for _, b := range bufs {
		c.pending.Append(b)
	}
	c.writes++
	if c.direct {
		return nil // the direct writer queues the flush when done
	}
	return c.scheduleFlushLocked()
}

// scheduleFlushLocked makes sure a flush task is queued on the loop. It is
// queued while holding mu so that refuse, which takes mu, knows no task is
// being queued after it returns. If the loop is gone, writes are refused
// from now on. Called with mu held.
func (c *conn) scheduleFlushLocked() error {
	if c.scheduled {
		return nil
	}
	if err := c.execute((*flushTask)(c)); err != nil {
		c.err = handler.ErrClosed
		c.pending.Reset()
		c.wcond.Broadcast()
		return c.err
	}
	c.scheduled = true
	return nil
}

// armRecheck makes sure the loop looks at gnet's outbound buffer soon, when
// nothing else will: no flush is queued or running. Called with mu held.
func (c *conn) armRecheck() {
	if c.rechecking || c.scheduled || c.loopWriting || c.direct {
		return
	}
	c.rechecking = true
	c.h.AfterFunc(recheckEvery, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.err != nil {
			// Refused: the loop may be stopping and must not be signalled.
			c.rechecking = false
			return
		}
		if c.execute((*recheckTask)(c)) != nil {
			c.rechecking = false
		}
	})
}

type recheckTask conn

// Run, on the loop, reads gnet's outbound buffer and wakes the waiters;
// if they still wait, armRecheck (from their next Wait round) arms again.
func (t *recheckTask) Run(context.Context) error {
	c := (*conn)(t)
	c.mu.Lock()
	c.rechecking = false
	if !c.loopClosed {
		c.outbound = c.gc.OutboundBuffered()
	}
	if c.waiting > 0 {
		c.wcond.Broadcast()
	}
	c.mu.Unlock()
	c.armPark()
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
	c.releaseDirect()
	c.wcond.Broadcast()
	// If the loop is already stopping, the engine closes the conn anyway.
	_ = c.execute((*closeTask)(c))
	return nil
}

// refuse makes Write and Close fail from now on without touching the loop.
func (c *conn) refuse() {
	c.dropping.Store(true)
	c.mu.Lock()
	if c.err == nil {
		c.err = handler.ErrClosed
	}
	c.releaseDirect()
	c.wcond.Broadcast()
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
	c.scheduled = false
	if c.direct {
		// Only a close gets here meanwhile: what is pending behind the
		// direct write would overtake it, and the connection is closing.
		c.mu.Unlock()
		return
	}
	buf := c.pending.Take()
	writes := c.writes
	c.writes = 0
	c.loopWriting = true
	c.mu.Unlock()
	c.park.Load().flushed(writes)
	if !c.loopClosed && len(buf) > 0 {
		if c.tls != nil {
			if err := c.tls.encrypt(buf); err != nil {
				c.tlsErr = err
				_ = c.loop.Close(c.gc)
			}
		} else {
			// gnet copies whatever the kernel does not accept into its
			// outbound buffer, so buf is free again when Write returns. On
			// error gnet closes the connection itself and OnClose reports
			// why.
			_, _ = c.gc.Write(buf)
		}
	}
	c.mu.Lock()
	c.loopWriting = false
	if !c.loopClosed {
		c.outbound = c.gc.OutboundBuffered()
	}
	c.pending.Recycle(buf)
	if c.waiting > 0 {
		c.wcond.Broadcast()
	}
	c.mu.Unlock()
}

type flushTask conn

func (t *flushTask) Run(context.Context) error {
	c := (*conn)(t)
	c.flush()
	c.armPark()
	return nil
}

type closeTask conn

func (t *closeTask) Run(context.Context) error {
	c := (*conn)(t)
	defer c.armPark()
	if c.loopClosed {
		return nil
	}
	c.flush()
	if !c.loopClosed {
		_ = c.loop.Close(c.gc)
	}
	return nil
}
