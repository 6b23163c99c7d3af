package goroutine

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/internal/frame"
	"github.com/gregorkafka/gregor/handler/internal/tlswrite"
	"github.com/gregorkafka/gregor/internal/coalesce"
)

const readBufSize = 32 << 10

type conn struct {
	h       *Handler
	nc      net.Conn
	tcp     *net.TCPConn // nc, when it is plain TCP (WriteVec gathers)
	gather  *tlsGather   // under nc, when it is TLS
	addr    string
	onFrame func([]byte)
	onClose func(error)
	dec     *frame.Decoder
	emitFn  func([]byte)  // c.emit, bound once so reads do not allocate
	done    chan struct{} // closed after OnClose returned

	// dropping is set by Close: frames still arriving are not delivered.
	dropping atomic.Bool

	rmu       sync.Mutex
	reason    error // first cause of closing, reported to OnClose
	reasonSet bool

	wmu      sync.Mutex
	wcond    sync.Cond // signalled when a flush ends or writes are refused
	flushing bool      // a writer is in the kernel; others append to pending
	werr     error     // set once writes are refused
	limit    int       // DialConfig.MaxBufferedWrite: cap on pending
	pending  coalesce.Buffer
	stage    []byte // WriteVec's TLS staging buffer (tlswrite.Pieces), the writer's only
}

func newConn(h *Handler, nc net.Conn, cfg *handler.DialConfig) *conn {
	c := &conn{
		h:       h,
		nc:      nc,
		addr:    cfg.Address,
		onFrame: cfg.OnFrame,
		onClose: cfg.OnClose,
		dec:     frame.New(cfg.MaxFrameSize),
		done:    make(chan struct{}),
		limit:   cfg.MaxBufferedWrite,
	}
	c.tcp, _ = nc.(*net.TCPConn)
	if c.limit <= 0 {
		c.limit = handler.DefaultMaxBufferedWrite
	}
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
	c.wcond.L = &c.wmu
	return c
}

func (c *conn) LocalAddr() net.Addr  { return c.nc.LocalAddr() }
func (c *conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Close closes the socket; the reader goroutine then reports OnClose(nil).
func (c *conn) Close() error {
	c.dropping.Store(true)
	c.shutdown(nil)
	return nil
}

// shutdown records why the connection closes (the first cause wins), refuses
// further writes and closes the socket, which ends the reader.
func (c *conn) shutdown(reason error) {
	c.rmu.Lock()
	if !c.reasonSet {
		c.reason, c.reasonSet = reason, true
	}
	c.rmu.Unlock()

	c.wmu.Lock()
	if c.werr == nil {
		c.werr = handler.ErrClosed
	}
	c.pending.Reset()
	c.wcond.Broadcast()
	c.wmu.Unlock()

	_ = c.nc.Close()
}

// Write sends b, or queues a copy behind a write already in the kernel.
func (c *conn) Write(b []byte) error { return c.write(b, nil, len(b)) }

// WriteVec sends bufs' bytes as one Write. Over plain TCP they go to the
// kernel in one writev (net.Buffers), uncopied; over TLS they go to
// crypto/tls a record's worth at a time (tlswrite.Pieces); queued behind a
// write in progress, they are copied as Write's b would be.
func (c *conn) WriteVec(bufs [][]byte) error {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return c.write(nil, bufs, n)
}

// write is Write of b, or of bufs when set (n bytes in all).
func (c *conn) write(b []byte, bufs [][]byte, n int) error {
	c.wmu.Lock()
	if n == 0 {
		err := c.werr
		c.wmu.Unlock()
		return err
	}
	for c.flushing && c.werr == nil {
		// Queued behind the write in the kernel, up to the limit: beyond
		// it, wait to become the writer (back-pressure).
		if p := c.pending.Len(); p == 0 || p+n <= c.limit {
			c.pending.Append(b)
			for _, b := range bufs {
				c.pending.Append(b)
			}
			c.wmu.Unlock()
			return nil
		}
		c.wcond.Wait()
	}
	if c.werr != nil {
		err := c.werr
		c.wmu.Unlock()
		return err
	}
	c.flushing = true
	c.wmu.Unlock()

	var err error
	if bufs == nil {
		err = c.writeOut(b)
	} else {
		err = c.writeVec(bufs)
	}

	c.wmu.Lock()
	for err == nil && c.werr == nil && c.pending.Len() > 0 {
		buf := c.pending.Take()
		c.wmu.Unlock()
		err = c.writeOut(buf)
		c.wmu.Lock()
		c.pending.Recycle(buf)
	}
	c.flushing = false
	c.wcond.Broadcast()
	if err != nil && c.werr != nil {
		// Closed under us: report that rather than the socket's complaint.
		err = c.werr
		c.wmu.Unlock()
		return err
	}
	c.wmu.Unlock()
	if err != nil {
		cerr := &handler.ConnError{Op: "write", Addr: c.addr, Err: err}
		c.shutdown(cerr)
		return cerr
	}
	return nil
}

// writeVec writes bufs to the socket: gathered by the kernel when the
// socket is plain TCP, else handed to crypto/tls a record's worth at a time.
// Called by the writer only.
func (c *conn) writeVec(bufs [][]byte) error {
	if c.tcp != nil {
		nb := net.Buffers(bufs)
		_, err := nb.WriteTo(c.tcp)
		return err
	}
	c.gather.gather()
	return c.gather.flush(tlswrite.Pieces(bufs, &c.stage, 0, c.writeTLS))
}

// writeOut writes b to nc, its TLS records gathered into few socket writes.
// Called by the writer only.
func (c *conn) writeOut(b []byte) error {
	if c.gather == nil {
		_, err := c.nc.Write(b)
		return err
	}
	c.gather.gather()
	_, err := c.nc.Write(b)
	return c.gather.flush(err)
}

// writeTLS is c.nc.Write as tlswrite.Pieces takes it.
func (c *conn) writeTLS(p []byte) error {
	_, err := c.nc.Write(p)
	return err
}

func (c *conn) emit(b []byte) {
	if !c.dropping.Load() {
		c.onFrame(b)
	}
}

// readLoop owns the read side: it alone calls OnFrame and then OnClose, which
// is what orders OnClose after the last frame.
func (c *conn) readLoop() {
	defer close(c.done)
	buf := make([]byte, readBufSize)
	read := c.nc.Read
	if mr := newMarkReader(c.nc); mr != nil {
		read = func(p []byte) (int, error) { return mr.read(p, c.dec.BodyRest()) }
	}
	var err error
	for err == nil {
		var n int
		if space := c.dec.BodySpace(); len(space) >= len(buf) {
			n, err = read(space)
			c.dec.BodyFilled(n, c.emitFn)
		} else {
			n, err = read(buf)
			if n > 0 {
				if ferr := c.dec.Feed(buf[:n], c.emitFn); ferr != nil {
					err = ferr
				}
			}
		}
	}
	c.shutdown(frame.ReadError(c.addr, c.dec, err))
	c.h.forget(c)

	c.rmu.Lock()
	reason := c.reason
	c.rmu.Unlock()
	c.onClose(reason)
}
