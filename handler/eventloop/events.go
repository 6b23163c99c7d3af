package eventloop

import (
	"errors"
	"io"
	"os"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/internal/frame"
	"github.com/gregorkafka/gregor/handler/internal/lowat"
)

// events receives gnet's callbacks. All of them run on an event loop.
type events struct {
	gnet.BuiltinEventEngine
	h *Handler
}

// OnTraffic frames whatever the loop just read. It consumes every byte, so
// gnet's inbound buffer stays empty and Next hands over its read buffer
// without copying; the decoder keeps partial frames itself.
func (e *events) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.Close
	}
	defer c.armPark()
	c.traffics++
	buf, _ := gc.Next(-1)
	err := c.input(buf)
	if err == nil {
		if c.tls != nil {
			if len(buf) >= gnet.MaxStreamBufferCap {
				err = c.readCiphertext()
			}
		} else {
			c.readBodies()
		}
	}
	if err == nil {
		err = c.adjustMark()
	}
	if err != nil {
		c.failRead(err)
		return gnet.Close
	}
	return gnet.None
}

// input frames bytes read from the socket: decrypted first over TLS.
func (c *conn) input(b []byte) error {
	if c.tls != nil {
		return c.tls.traffic(b)
	}
	return c.dec.Feed(b, c.emitFn)
}

// failRead records why reading failed, for OnClose to report. Over TLS a
// framing error found while decrypting is recorded already (protoErr).
func (c *conn) failRead(err error) {
	if c.tls == nil {
		c.protoErr = err
	} else if c.protoErr == nil {
		c.tlsErr = err
	}
}

// adjustMark sets the socket's receive low-water mark for the wait that
// follows: what the current frame still needs, so the loop is woken once
// that much is in (see package lowat), or back to 1 between frames. Under
// TLS it is the ciphertext sure to carry that, which the layer knows once
// traffic has decrypted every whole record (lowat.Records).
func (c *conn) adjustMark() error {
	if c.wfd < 0 || !lowat.Supported {
		return nil
	}
	rest := c.dec.BodyRest()
	if c.tls != nil {
		rest = c.tls.recs.MarkRest(rest)
	}
	return c.mark.Adjust(c.wfd, rest)
}

// readBodyMin is the least room left in a frame's body for which the loop
// reads the socket straight into it.
const readBodyMin = 64 << 10

// readBodies reads the rest of a large frame straight into its body
// through the direct descriptor, as the goroutine handler does, instead of
// through gnet's read buffer (64 KiB at a time, each copied into the body).
// It stops when the kernel has nothing more: gnet polls level-triggered,
// so what arrives later is still reported. An error or the end of the
// stream is left for gnet's next read to find and report.
func (c *conn) readBodies() {
	if c.wfd < 0 || c.tls != nil {
		return
	}
	for {
		space := c.dec.BodySpace()
		if len(space) < readBodyMin {
			return
		}
		n, _ := readAvailable(c.wfd, space)
		if n == 0 {
			return
		}
		c.dec.BodyFilled(n, c.emitFn)
	}
}

// readAvailable reads into b what the socket holds, if anything, trying
// again when interrupted. It returns 0 when the kernel has nothing more,
// and 0 with open false on an error or the end of the stream, which it
// leaves for gnet's next read to find and report.
func readAvailable(fd int, b []byte) (n int, open bool) {
	for {
		n, err := unix.Read(fd, b)
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return 0, true
		case n <= 0 || err != nil:
			return 0, false
		default:
			return n, true
		}
	}
}

// ciphertextReadMax bounds what one OnTraffic reads past gnet's read, so
// that a busy TLS connection holds up the others on its loop for at most
// the time it takes to decrypt this much.
const ciphertextReadMax = 4 << 20

// readCiphertext reads on what gnet's read (at most its 64 KiB buffer)
// left in the socket, decrypting as it goes, until the kernel has nothing
// more. Otherwise a TLS connection woke its loop once per 64 KiB: the
// receive low-water mark wakes the loop once the socket holds what the
// frame still needs, and one 64 KiB read leaves it below that mark again.
func (c *conn) readCiphertext() error {
	if c.wfd < 0 {
		return nil
	}
	b := handler.FrameBuffer(gnet.MaxStreamBufferCap)
	b = b[:cap(b)]
	defer handler.RecycleFrame(b)
	for read := 0; read < ciphertextReadMax; {
		n, _ := readAvailable(c.wfd, b)
		if n == 0 {
			return nil
		}
		read += n
		if err := c.tls.traffic(b[:n]); err != nil {
			return err
		}
	}
	return nil
}

// OnClose runs once per connection, on its loop, after its last OnTraffic.
func (e *events) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.None
	}
	c.loopClosed = true
	defer c.armPark()
	c.mu.Lock()
	if c.err == nil {
		c.err = handler.ErrClosed
	}
	local, werr := c.localClose, c.writeErr
	c.pending.Reset()
	c.releaseDirect()
	c.unwatch()
	if c.direct {
		c.wfdClose = true
	} else {
		c.closeDirect()
	}
	c.wcond.Broadcast()
	c.mu.Unlock()

	e.h.forget(c)
	reason := c.closeReason(err, local, werr)
	if c.tls != nil {
		if c.tls.closed(reason) {
			// The handshake was still running: Dial fails with the reason
			// and the caller never had a connection to report a close for.
			return gnet.None
		}
		if c.tls.drain() {
			reason = c.closeReason(err, local, werr)
		}
	}
	c.onClose(reason)
	return gnet.None
}

// closeReason maps gnet's close error to the contract's reason.
func (c *conn) closeReason(err error, local bool, writeErr error) error {
	switch {
	case c.protoErr != nil:
		return frame.ReadError(c.addr, c.dec, c.protoErr)
	case c.tlsErr != nil:
		// The TLS layer's io.EOF is the peer's close_notify.
		return frame.ReadError(c.addr, c.dec, c.tlsErr)
	case writeErr != nil:
		return writeErr
	case local:
		return nil
	case err == nil:
		// gnet closes with nil only on request: ours (localClose) or the
		// engine's when the handler closes.
		return handler.ErrClosed
	case errors.Is(err, io.EOF):
		return frame.ReadError(c.addr, c.dec, err)
	}
	op := "read"
	var se *os.SyscallError
	if errors.As(err, &se) && (se.Syscall == "write" || se.Syscall == "writev") {
		op = "write"
	}
	return &handler.ConnError{Op: op, Addr: c.addr, Err: err}
}

// The park task's read buffer. Plaintext is read into its first
// parkReadBuf bytes: the start of a frame and small frames, copied into
// their bodies, while a body with at least that much room left is read
// into directly. Ciphertext, which crypto/tls decrypts into the bodies
// itself, is read into all of it, as much as the goroutine handler reads
// under crypto/tls: fewer reads for the same bytes.
const (
	parkReadBuf    = 32 << 10
	parkTLSReadBuf = 128 << 10
)

// parkReadMax bounds what readParked reads from one socket per wake-up, so
// that a busy connection holds up the others on its loop for at most that.
const parkReadMax = 4 << 20

// readParked reads what c's socket holds for the park task, through the
// direct descriptor: what gnet's read, OnTraffic and readBodies would do,
// without handing the socket back to gnet. It reports false when the
// stream ended or failed, which it leaves for gnet's next read to find and
// report.
func (c *conn) readParked(buf []byte) bool {
	if c.wfd < 0 || c.loopClosed {
		return true
	}
	c.traffics++
	c.parkReads++
	if c.tls == nil {
		buf = buf[:parkReadBuf]
	}
	var err error
	for read := 0; read < parkReadMax && err == nil; {
		b, direct := buf, false
		if space := c.dec.BodySpace(); c.tls == nil && len(space) >= len(buf) {
			b, direct = space, true
		}
		n, open := readAvailable(c.wfd, b)
		if !open {
			return false
		}
		if n == 0 {
			break
		}
		read += n
		if direct {
			c.dec.BodyFilled(n, c.emitFn)
		} else {
			err = c.input(b[:n])
		}
	}
	if err == nil {
		err = c.adjustMark()
	}
	if err != nil {
		c.failRead(err)
		_ = c.loop.Close(c.gc)
	}
	return true
}
