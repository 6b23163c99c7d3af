package eventloop

import (
	"encoding/binary"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// A lone request is written from the caller's goroutine straight to the
// socket; everything else goes through the loop's flush.
//
// Through the loop a request costs a wake-up of the loop's thread (an
// eventfd write and an epoll return) before its own write, which at one
// request in flight is most of what the loop adds to a round trip. Written
// directly, it costs one write, as with the goroutine handler. But a direct
// write per request loses the loop's batching as soon as requests overlap
// (measured: 2-3x slower at 16 in flight), so the direct path is taken only
// when no request is outstanding: no frame written is still waiting for its
// answer, and nothing is pending, queued or buffered for the socket.
//
// Outstanding counts frames written minus frames received. A frame that
// gets no answer (a Produce with acks=0) keeps it above zero for good; the
// connection then simply stays on the loop path.
//
// The direct write goes to a descriptor of our own (a dup taken before
// gnet enrolls the socket), closed in OnClose. gnet closes its descriptor
// before OnClose runs, and the number may be reused at once by another
// socket; ours stays valid, and keeps the socket open, until we close it.

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
		if d, err := unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0); err == nil {
			fd = d
		}
	})
	return fd
}

// closeDirect closes the direct-write descriptor. Called with mu held.
func (c *conn) closeDirect() {
	if c.wfd >= 0 {
		_ = unix.Close(c.wfd)
		c.wfd = -1
	}
}

// frames counts the complete frames in b, which holds only whole frames.
func frames(b []byte) int64 {
	var n int64
	for len(b) >= 4 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 0 || size > len(b)-4 {
			break
		}
		b = b[4+size:]
		n++
	}
	return n
}

// tryDirect writes b to the socket from the calling goroutine when nothing
// is pending, queued or buffered for it; the caller has checked that no
// earlier frame awaits its answer. It returns what the kernel did not take
// (all of b when the direct path does not apply). Called with mu held.
func (c *conn) tryDirect(b []byte) []byte {
	idle := c.wfd >= 0 && !c.scheduled && !c.loopWriting && c.outbound == 0 && c.pending.Len() == 0
	if !idle {
		return b
	}
	n, err := unix.Write(c.wfd, b)
	if n < 0 {
		n = 0
	}
	// On EAGAIN the loop sends the rest as the socket drains; on any other
	// error gnet's write of the rest fails too, and the loop closes the
	// connection with the reason, as for any write.
	_ = err
	return b[n:]
}
