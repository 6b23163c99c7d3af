package eventloop

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/internal/lowat"
	"github.com/gregorkafka/gregor/handler/internal/tlswrite"
	"github.com/gregorkafka/gregor/internal/coalesce"
)

// TLS runs crypto/tls over an in-memory transport instead of the socket,
// which gnet owns. The handshake runs on the goroutine calling Dial, as the
// TCP connect does: the transport's Read waits there for the ciphertext
// OnTraffic hands it, and its Write queues ciphertext on the loop. Once the
// handshake is done the transport never waits: on the loop, OnTraffic hands
// it the bytes just read and decrypts every whole record into the frame
// decoder (Read reports "would block" when the input runs dry, which
// crypto/tls returns without failing the connection, keeping a partial
// record for the next call), and a flush encrypts the pending plaintext and
// writes the records out. So a TLS connection costs no goroutine either. A
// large Write to an idle socket is encrypted and written by its caller
// instead (sendDirect; see direct.go).

// tlsReadChunk sizes the plaintext read buffer between frames: one TLS
// record's payload.
const tlsReadChunk = 16 << 10

// errWouldBlock is the transport's Read on the loop when no ciphertext is
// buffered. crypto/tls keeps a connection usable after a temporary
// net.Error.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "eventloop: no TLS input buffered" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// tlsLayer is one connection's TLS state.
type tlsLayer struct {
	c  *conn
	tc *tls.Conn

	mu          sync.Mutex
	handshaking bool            // Dial's goroutine owns tc; Read may wait
	ctx         context.Context // bounds those waits
	in          []byte          // ciphertext not yet read by tc
	closeErr    error           // the socket closed during the handshake
	wake        chan struct{}   // input or closeErr arrived during the handshake
	hsOut       []byte          // handshake ciphertext waiting for its write task

	// The direct path (sendDirect): while capture is set, records go to
	// captured (under mu) for the direct writer to send; spare is its
	// other array.
	capture  bool
	captured []byte
	spare    []byte
	stage    []byte // tlswrite.Pieces' staging buffer, the direct writer's

	recs lowat.Records // record boundaries of what traffic was handed; the loop's

	// Owned by the loop once the handshake is done.
	out     []byte // ciphertext produced by the current tc call
	scratch []byte // plaintext between frames
}

func newTLSLayer(c *conn, cfg *tls.Config) *tlsLayer {
	l := &tlsLayer{c: c, handshaking: true, wake: make(chan struct{}, 1)}
	l.tc = tls.Client((*tlsTransport)(l), cfg)
	return l
}

// handshake runs on Dial's goroutine after the socket is enrolled. On
// success the loop takes the connection over; on failure the caller closes
// it. A socket that closed during the handshake fails it, so OnClose, which
// is silent while handshaking, never had to report a connection Dial
// returned.
func (l *tlsLayer) handshake(ctx context.Context) error {
	l.mu.Lock()
	l.ctx = ctx
	l.mu.Unlock()
	err := l.tc.Handshake()
	if testHookHandshaken != nil {
		testHookHandshaken(l)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && l.closeErr != nil {
		err = l.closeErr
	}
	if err != nil {
		return err
	}
	l.handshaking = false
	l.ctx = nil
	if len(l.in) > 0 {
		// Records that arrived with or after the last handshake message
		// (a session ticket, say) are decrypted on the loop, in order
		// before the next OnTraffic, unless the socket's close overtakes
		// the task (OnClose decrypts them then: see drain).
		queueLeftover(l)
	}
	return nil
}

// queueLeftover queues the task that decrypts what arrived during the
// handshake. Tests replace it to stand for a close that overtakes the task
// (the loop runs socket events before tasks woken in the same round), and
// testHookHandshaken to hold the handshake's end until the peer has spoken.
var (
	queueLeftover      = func(l *tlsLayer) { _ = l.c.execute((*tlsPumpTask)(l)) }
	testHookHandshaken func(*tlsLayer)
)

// drain runs in OnClose once the handshake is over: it decrypts what is
// still buffered, which is what arrived with the handshake's end when the
// close overtook its pump task. A peer refusing the connection (an alert
// for a missing client certificate, under TLS 1.3 sent after the client's
// handshake is done) closes right after its alert. drain reports whether
// decrypting failed, recording why in the conn.
func (l *tlsLayer) drain() bool {
	l.mu.Lock()
	pending := !l.handshaking && len(l.in) > 0
	l.mu.Unlock()
	c := l.c
	if !pending || c.protoErr != nil || c.tlsErr != nil {
		return false
	}
	if err := l.pump(); err != nil {
		if c.protoErr == nil {
			c.tlsErr = err
		}
		return true
	}
	return false
}

// traffic runs in OnTraffic with the bytes just read (valid only during
// the call).
func (l *tlsLayer) traffic(b []byte) error {
	l.recs.Track(b)
	l.mu.Lock()
	if l.handshaking {
		l.in = append(l.in, b...)
		l.mu.Unlock()
		l.signal()
		return nil
	}
	if len(l.in) == 0 {
		// Decrypting drains the input, so gnet's buffer can be read in place.
		l.in = b
		l.mu.Unlock()
		err := l.pump()
		l.mu.Lock()
		l.in = append([]byte(nil), l.in...)
		l.mu.Unlock()
		return err
	}
	l.in = append(l.in, b...)
	l.mu.Unlock()
	return l.pump()
}

// closed runs in OnClose: it reports whether the handshake was still
// running, in which case it fails that instead of reporting the close.
func (l *tlsLayer) closed(err error) (handshaking bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.handshaking {
		return false
	}
	if err == nil {
		err = handler.ErrClosed
	}
	// Dial wraps the cause in a *DialError, as the goroutine handler does
	// with what its socket returned.
	var ce *handler.ConnError
	if errors.As(err, &ce) {
		err = ce.Err
	}
	l.closeErr = err
	l.signal()
	return true
}

func (l *tlsLayer) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// pump decrypts every whole record buffered into the frame decoder, then
// writes what crypto/tls produced meanwhile (a KeyUpdate answer). It runs
// on the loop.
func (l *tlsLayer) pump() error {
	c := l.c
	defer l.answer()
	for {
		var n int
		var err error
		if space := c.dec.BodySpace(); space != nil {
			n, err = l.tc.Read(space)
			c.dec.BodyFilled(n, c.emitFn)
		} else {
			if l.scratch == nil {
				l.scratch = make([]byte, tlsReadChunk)
			}
			n, err = l.tc.Read(l.scratch)
			if n > 0 {
				if ferr := c.dec.Feed(l.scratch[:n], c.emitFn); ferr != nil {
					c.protoErr = ferr
					return ferr
				}
			}
		}
		if err == errWouldBlock {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// tlsWriteChunk is how much plaintext is encrypted before the records are
// handed to the socket, so that the ciphertext buffer stays small enough
// to keep between flushes however large the batch.
const tlsWriteChunk = 256 << 10

// encrypt writes plaintext as TLS records to the socket. It runs on the
// loop.
func (l *tlsLayer) encrypt(p []byte) error {
	for len(p) > 0 {
		n := min(len(p), tlsWriteChunk)
		_, err := l.tc.Write(p[:n])
		l.writeOut()
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// writeOut hands the ciphertext produced to gnet, and reports whether
// there was any.
func (l *tlsLayer) writeOut() bool {
	c := l.c
	if len(l.out) == 0 || c.loopClosed {
		l.out = l.out[:0]
		return false
	}
	// gnet copies what the kernel does not take at once.
	_, _ = c.gc.Write(l.out)
	if cap(l.out) > coalesce.Keep {
		l.out = nil
	} else {
		l.out = l.out[:0]
	}
	return true
}

// answer writes what a Read produced (a KeyUpdate answer). A direct write
// must not overtake what gnet still holds: a flush looks at gnet's buffer
// when it ends, and this is the only other writer.
func (l *tlsLayer) answer() {
	if c := l.c; l.writeOut() {
		c.mu.Lock()
		c.outbound = c.gc.OutboundBuffered()
		c.mu.Unlock()
	}
}

// sendDirect encrypts bufs on the calling goroutine and writes the records
// to fd (conn.writeDirect's TLS half), about tlsWriteChunk of plaintext at a
// time.
func (l *tlsLayer) sendDirect(fd int, bufs [][]byte) error {
	l.mu.Lock()
	l.capture = true
	l.mu.Unlock()
	sinceSend := 0 // plaintext encrypted since the records were last written
	err := tlswrite.Pieces(bufs, &l.stage, tlsWriteChunk, func(p []byte) error {
		if _, err := l.tc.Write(p); err != nil {
			return err
		}
		if sinceSend += len(p); sinceSend >= tlsWriteChunk {
			sinceSend = 0
			return l.sendCaptured(fd, false)
		}
		return nil
	})
	if err == nil {
		err = l.sendCaptured(fd, true)
	}
	if err != nil {
		// The connection closes: what is captured will never go out.
		l.mu.Lock()
		l.capture = false
		l.captured = nil
		l.mu.Unlock()
	}
	return err
}

// sendCaptured writes what was captured. With last it writes until nothing
// is left and then ends the capture, under mu, so a record written after
// goes to the loop, behind these.
func (l *tlsLayer) sendCaptured(fd int, last bool) error {
	for {
		l.mu.Lock()
		b := l.captured
		if len(b) == 0 {
			if last {
				l.capture = false
			}
			l.mu.Unlock()
			return nil
		}
		l.captured, l.spare = l.spare[:0], nil
		l.mu.Unlock()
		err := l.c.send(fd, b)
		if cap(b) <= coalesce.Keep {
			l.mu.Lock()
			l.spare = b[:0]
			l.mu.Unlock()
		}
		if err != nil || !last {
			return err
		}
	}
}

type tlsPumpTask tlsLayer

func (t *tlsPumpTask) Run(context.Context) error {
	l := (*tlsLayer)(t)
	defer l.c.armPark()
	if l.c.loopClosed {
		return nil
	}
	if err := l.pump(); err != nil {
		l.c.tlsErr = err
		_ = l.c.loop.Close(l.c.gc)
	}
	return nil
}

// hsWriteTask writes handshake ciphertext on the loop, in order with the
// flushes that follow the handshake (one FIFO task queue).
type hsWriteTask tlsLayer

func (t *hsWriteTask) Run(context.Context) error {
	l := (*tlsLayer)(t)
	defer l.c.armPark()
	l.mu.Lock()
	b := l.hsOut
	l.hsOut = nil
	l.mu.Unlock()
	if len(b) > 0 && !l.c.loopClosed {
		_, _ = l.c.gc.Write(b)
	}
	return nil
}

// tlsTransport is the net.Conn crypto/tls runs over.
type tlsTransport tlsLayer

func (t *tlsTransport) Read(p []byte) (int, error) {
	l := (*tlsLayer)(t)
	l.mu.Lock()
	for {
		if len(l.in) > 0 {
			n := copy(p, l.in)
			l.in = l.in[n:]
			if len(l.in) == 0 {
				l.in = l.in[:0:0]
			}
			l.mu.Unlock()
			return n, nil
		}
		if !l.handshaking {
			l.mu.Unlock()
			return 0, errWouldBlock
		}
		if l.closeErr != nil {
			err := l.closeErr
			l.mu.Unlock()
			return 0, err
		}
		ctx := l.ctx
		l.mu.Unlock()
		select {
		case <-l.wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		l.mu.Lock()
	}
}

func (t *tlsTransport) Write(p []byte) (int, error) {
	l := (*tlsLayer)(t)
	l.mu.Lock()
	if l.capture {
		l.captured = append(l.captured, p...)
		l.mu.Unlock()
		return len(p), nil
	}
	if !l.handshaking {
		l.mu.Unlock()
		l.out = append(l.out, p...)
		return len(p), nil
	}
	if l.closeErr != nil {
		err := l.closeErr
		l.mu.Unlock()
		return 0, err
	}
	first := len(l.hsOut) == 0
	l.hsOut = append(l.hsOut, p...)
	l.mu.Unlock()
	if first {
		if err := l.c.execute((*hsWriteTask)(l)); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (t *tlsTransport) Close() error                     { return nil }
func (t *tlsTransport) LocalAddr() net.Addr              { return t.c.local }
func (t *tlsTransport) RemoteAddr() net.Addr             { return t.c.remote }
func (t *tlsTransport) SetDeadline(time.Time) error      { return nil }
func (t *tlsTransport) SetReadDeadline(time.Time) error  { return nil }
func (t *tlsTransport) SetWriteDeadline(time.Time) error { return nil }
