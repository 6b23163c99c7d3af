package eventloop

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// A large Write made while the socket is idle goes from the caller's
// goroutine straight to the socket; everything else goes through the loop.
//
// Through the loop, a Write's bytes are copied into pending, and when the
// kernel does not take them all at once gnet copies the rest again into its
// outbound buffer. For a Produce request of a megabyte those copies, and the
// pending arrays too large to keep for reuse, cost more CPU than the request
// itself (measured: 1.8x the goroutine handler's CPU per 10 KiB record).
// Written directly, the request costs one write, as with the goroutine
// handler; only what the kernel refuses is copied, and the loop sends it as
// the socket drains. Small frames keep going through the loop, where one
// flush serves many (a direct write per small request was measured 2-3x
// slower at 16 requests in flight).
//
// The direct write goes to a descriptor of our own (a dup taken before gnet
// enrolls the socket), closed in OnClose. gnet closes its descriptor before
// OnClose runs, and the number may be reused at once by another socket;
// ours stays valid, and keeps the socket open, until we close it.

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

// writeDirect writes b from the calling goroutine when it is large and
// nothing is pending, queued, being written by the loop or buffered by gnet,
// so no byte can overtake it. It returns what the kernel did not take (all
// of b when the direct path does not apply), and handoff when the kernel
// took part and refused the rest for now: the caller then has the loop
// write the rest from b itself (it waits for that), rather than copying it
// into pending to be copied again into gnet's outbound buffer. Called with
// mu held: the write never blocks (the socket is non-blocking), and holding
// mu keeps the loop from writing, and OnClose from closing wfd, meanwhile.
func (c *conn) writeDirect(b []byte) (rest []byte, handoff bool) {
	if len(b) < directMin || c.wfd < 0 || c.scheduled || c.loopWriting || c.outbound > 0 ||
		c.pending.Len() > 0 || c.handoff != nil {
		return b, false
	}
	for len(b) > 0 {
		n, err := unix.Write(c.wfd, b)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return b, true
		}
		if n <= 0 || err != nil {
			// On any other error gnet's write of the rest fails too, and
			// the loop closes the connection with the reason, as for any
			// write.
			return b, false
		}
		b = b[n:]
	}
	return nil, false
}
