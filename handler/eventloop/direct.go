package eventloop

import (
	"context"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gregorkafka/gregor/handler"
)

// A large Write made while the socket is idle is written by the caller,
// from its own goroutine, straight to the socket; everything else goes
// through the loop.
//
// Through the loop, a Write's bytes are copied into pending, and what the
// kernel does not take at once gnet copies again into its outbound buffer.
// For a Produce request of a megabyte those copies, and the pending arrays
// too large to keep for reuse, cost more CPU than the request itself
// (measured: 1.8x the goroutine handler's CPU per 10 KiB record). Written
// directly, the request costs what it costs with the goroutine handler: the
// caller writes until the kernel refuses, then waits in Go's netpoller for
// room and writes the rest, copying nothing. Small frames keep going through
// the loop, where one flush serves many (a direct write per small request
// was measured 2-3x slower at 16 requests in flight).
//
// While a direct write runs, other Writes queue in pending, as behind a
// flush, and its writer queues their flush when it is done. The wait goes
// through a pollable duplicate of the descriptor made for that wait only:
// registered with Go's netpoller for good, the socket would wake it for
// every read that gnet's loop already handles. Close, the handler's Close
// and OnClose close that duplicate, which releases the waiting writer.
//
// The direct write goes to a descriptor of our own (a dup taken before gnet
// enrolls the socket), closed in OnClose, or by a direct writer still
// running then. gnet closes its descriptor before OnClose runs, and the
// number may be reused at once by another socket; ours stays valid, and
// keeps the socket open, until we close it.

// Over TLS the caller also encrypts: crypto/tls runs on its goroutine with
// the transport capturing the records instead of queueing them for the
// loop, and the caller writes them out between chunks, never while inside
// crypto/tls. The loop may write records meanwhile (the answer to a peer's
// KeyUpdate, from a Read), which waits for crypto/tls's write lock between
// the caller's chunks and is then captured too, in sequence order. The
// capture ends only once nothing captured is left to write, so whatever
// the loop writes after it goes out behind the caller's records.

// directMin is the smallest Write that goes straight to an idle socket.
const directMin = 64 << 10

// dupSocket returns a close-on-exec duplicate of tc's descriptor, or -1.
func dupSocket(tc net.Conn) int {
	sc, ok := tc.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	_ = rc.Control(func(s uintptr) {
		if d, err := dupFD(s); err == nil {
			fd = d
		}
	})
	return fd
}

// dupFD returns a close-on-exec duplicate of descriptor fd.
func dupFD(fd uintptr) (int, error) {
	return unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
}

// closeDirect closes the direct-write descriptor. Called with mu held and
// no direct write running.
func (c *conn) closeDirect() {
	if c.wfd >= 0 {
		_ = unix.Close(c.wfd)
		c.wfd = -1
	}
}

// releaseDirect ends a direct writer's wait for room. Called with mu held.
func (c *conn) releaseDirect() {
	if c.wfile != nil {
		_ = c.wfile.Close()
		c.wfile = nil
	}
}

// directOK reports whether b may be written directly: it is large and
// nothing is pending, queued, being written or buffered by gnet, so no byte
// can overtake it. Called with mu held.
func (c *conn) directOK(b []byte) bool {
	return len(b) >= directMin && c.wfd >= 0 && !c.direct && !c.scheduled && !c.loopWriting &&
		c.outbound == 0 && c.pending.Len() == 0
}

// writeDirect writes b from the calling goroutine, without mu, and then
// queues the flush of what other Writes queued meanwhile. Called with mu
// held, which it releases during the write and holds again on return.
func (c *conn) writeDirect(b []byte) error {
	c.direct = true
	fd := c.wfd
	c.mu.Unlock()
	var err error
	if c.tls != nil {
		err = c.tls.sendDirect(fd, b)
	} else {
		err = c.send(fd, b)
	}
	c.mu.Lock()
	c.direct = false
	if c.wfdClose {
		c.closeDirect()
	}
	c.wcond.Broadcast()
	if c.err != nil {
		// Closed meanwhile (which may be what ended the write).
		return c.err
	}
	if err != nil {
		cerr := &handler.ConnError{Op: "write", Addr: c.addr, Err: err}
		c.writeErr = cerr
		c.err = handler.ErrClosed
		c.pending.Reset()
		_ = c.loop.Execute(context.Background(), (*closeTask)(c))
		return cerr
	}
	if c.pending.Len() > 0 {
		return c.scheduleFlushLocked()
	}
	return nil
}

// send writes all of b to fd, waiting for room in Go's netpoller whenever
// the kernel refuses more.
func (c *conn) send(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return c.sendWaiting(fd, b)
		case err != nil:
			return os.NewSyscallError("write", err)
		}
		b = b[n:]
	}
	return nil
}

// sendWaiting writes b through a pollable duplicate of fd, so that the
// goroutine parks in the netpoller while the socket is full.
func (c *conn) sendWaiting(fd int, b []byte) error {
	d, err := dupFD(uintptr(fd))
	if err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	// fd is non-blocking (the flag belongs to the socket, shared by every
	// descriptor of it), so os.NewFile registers d with the netpoller.
	f := os.NewFile(uintptr(d), c.addr)
	c.mu.Lock()
	if cerr := c.err; cerr != nil {
		c.mu.Unlock()
		_ = f.Close()
		return cerr
	}
	c.wfile = f
	c.mu.Unlock()
	_, err = f.Write(b)
	c.mu.Lock()
	if c.wfile == f {
		c.wfile = nil
		_ = f.Close()
	}
	c.mu.Unlock()
	return err
}
