package goroutine

import (
	"io"
	"net"
	"os"
	"syscall"

	"github.com/gregorkafka/gregor/handler/internal/lowat"
)

// markReader reads a plain TCP socket itself, so that when the kernel has
// nothing yet it can raise the socket's receive low-water mark to what the
// current frame still needs (see package lowat) before the goroutine waits.
type markReader struct {
	rc   syscall.RawConn
	mark lowat.Mark
}

// newMarkReader returns nil where the mark is not used: TLS connections
// (their reads go through crypto/tls) and kernels without safe support.
func newMarkReader(nc net.Conn) *markReader {
	tc, ok := nc.(*net.TCPConn)
	if !ok || !lowat.Supported {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return &markReader{rc: rc}
}

// read reads into p, rest being how many bytes the peer is sure to send
// next (the rest of the current frame, or zero between frames).
func (r *markReader) read(p []byte, rest int) (int, error) {
	var n int
	var rerr error
	err := r.rc.Read(func(fd uintptr) bool {
		var serr error
		for {
			n, serr = syscall.Read(int(fd), p)
			if serr != syscall.EINTR {
				break
			}
		}
		if serr != syscall.EAGAIN {
			if serr != nil {
				rerr = os.NewSyscallError("read", serr)
			}
			return true
		}
		// Raised or lowered before the wait; a failure ends the read
		// rather than wait on a mark that may be above the rest.
		rerr = r.mark.Adjust(int(fd), rest)
		return rerr != nil
	})
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, rerr
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}
