package eventloop

import (
	"net"
	"os"
	"syscall"
	"unsafe"

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
// through an epoll instance of the connection's own that watches the
// socket for room only while a writer waits (roomPoll): registered with
// Go's netpoller itself, the socket would wake it for every read that
// gnet's loop already handles. Close, the handler's Close and OnClose
// release the waiting writer (a deadline in the past); the instance is
// closed with the direct descriptor.
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

// closeDirect closes the direct-write descriptor and its room poll.
// Called with mu held and no direct write running.
func (c *conn) closeDirect() {
	if c.room != nil {
		c.room.close()
		c.room = nil
	}
	if c.wfd >= 0 {
		_ = unix.Close(c.wfd)
		c.wfd = -1
	}
}

// releaseDirect ends a direct writer's wait for room, and makes any later
// wait fail at once. Called with mu held, c.err set.
func (c *conn) releaseDirect() {
	if c.room != nil {
		c.room.release()
	}
}

// directOK reports whether a Write of n bytes may be written directly: it is large and
// nothing is pending, queued, being written or buffered by gnet, so no byte
// can overtake it. Called with mu held.
func (c *conn) directOK(n int) bool {
	return n >= directMin && c.wfd >= 0 && !c.direct && !c.scheduled && !c.loopWriting &&
		c.outbound == 0 && c.pending.Len() == 0
}

// writeDirect writes bufs from the calling goroutine, without mu, and then
// queues the flush of what other Writes queued meanwhile. Called with mu
// held, which it releases during the write and holds again on return.
func (c *conn) writeDirect(bufs [][]byte) error {
	c.direct = true
	fd := c.wfd
	c.mu.Unlock()
	var err error
	if c.tls != nil {
		err = c.tls.sendDirect(fd, bufs)
	} else {
		err = c.sendVec(fd, bufs)
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
		_ = c.execute((*closeTask)(c))
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
	var one [1][]byte
	one[0] = b
	return c.sendVec(fd, one[:])
}

// maxIovecs is the most buffers one writev takes (Linux's IOV_MAX).
const maxIovecs = 1024

// sendVec writes all of bufs to fd in writev calls, waiting for room in
// Go's netpoller whenever the kernel refuses more. It reslices bufs'
// elements as they go out.
func (c *conn) sendVec(fd int, bufs [][]byte) error {
	for {
		var err error
		if bufs, err = writev(fd, bufs, &c.iov); err != unix.EAGAIN {
			return err
		}
		if err = c.waitRoom(fd); err != nil {
			return err
		}
	}
}

// writev writes bufs to fd until they are all written (then returns none
// left), the kernel refuses more (unix.EAGAIN, and what is left) or fails.
// It builds the iovecs in *iov, kept for the next call: unix.Writev makes
// a fresh array per call, 12 KiB a call for a Produce request of 10 KiB
// records, and its pointers cost the collector a scan (the event loop's
// direct writes took 1.09x the goroutine handler's CPU, which reuses its
// array, mostly in collections).
func writev(fd int, bufs [][]byte, iov *[]unix.Iovec) ([][]byte, error) {
	for len(bufs) > 0 {
		v := (*iov)[:0]
		for _, b := range bufs[:min(len(bufs), maxIovecs)] {
			if len(b) > 0 {
				v = append(v, unix.Iovec{Base: &b[0]})
				v[len(v)-1].SetLen(len(b))
			}
		}
		*iov = v
		if len(v) == 0 {
			return nil, nil
		}
		r, _, e := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&v[0])), uintptr(len(v)))
		clear(v) // keeps no caller's buffer alive
		switch {
		case e == unix.EINTR:
			continue
		case e == unix.EAGAIN:
			return bufs, unix.EAGAIN
		case e != 0:
			return bufs, os.NewSyscallError("writev", e)
		}
		bufs = consume(bufs, int(r))
	}
	return nil, nil
}

// consume drops the first n bytes of bufs.
func consume(bufs [][]byte, n int) [][]byte {
	for n > 0 && len(bufs) > 0 {
		if n < len(bufs[0]) {
			bufs[0] = bufs[0][n:]
			return bufs
		}
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	return bufs
}

// waitRoom waits in Go's netpoller until the socket has room again (or has
// failed, which the next writev reports); an error if released, the
// connection closing.
func (c *conn) waitRoom(fd int) error {
	// Read without mu: only the direct writer sets room while it runs,
	// and closeDirect is left to it meanwhile (wfdClose).
	r := c.room
	if r == nil {
		var err error
		if r, err = c.openRoom(fd); err != nil {
			return err
		}
	}
	return r.wait()
}

// openRoom makes the room poll on the connection's first wait, unless it
// is closing already: a release before this found nothing to release.
func (c *conn) openRoom(fd int) (*roomPoll, error) {
	r, err := openRoomPoll(fd)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		r.close()
		return nil, c.err
	}
	c.room = r
	return r, nil
}
