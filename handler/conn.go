package handler

import (
	"crypto/tls"
	"net"
	"time"
)

// DefaultMaxFrameSize bounds inbound frames when DialConfig.MaxFrameSize is
// zero. It sits above Kafka's default fetch.max.bytes (50 MiB) and
// socket.request.max.bytes (100 MiB).
const DefaultMaxFrameSize = 128 << 20

// DefaultMaxBufferedWrite bounds the bytes a connection holds for the
// kernel when DialConfig.MaxBufferedWrite is zero.
const DefaultMaxBufferedWrite = 4 << 20

// DialConfig describes one broker connection. The zero value of every field
// but Address is usable.
type DialConfig struct {
	// Address is the broker's "host:port".
	Address string

	// Timeout bounds connection set-up (TCP connect plus any TLS handshake);
	// zero means no limit beyond the Dial context.
	Timeout time.Duration

	// SourceAddr is the local "ip:port" to bind before connecting, e.g.
	// "127.0.0.2:0". Empty lets the OS choose.
	SourceAddr string

	// ReadBufferSize and WriteBufferSize size the socket's kernel buffers
	// (SO_RCVBUF, SO_SNDBUF); zero keeps the OS default.
	ReadBufferSize  int
	WriteBufferSize int

	// MaxFrameSize is the largest inbound frame accepted, in bytes excluding
	// the size prefix. A larger size prefix closes the connection with a
	// *FrameSizeError before anything is allocated for it. Zero means
	// DefaultMaxFrameSize.
	MaxFrameSize int

	// MaxBufferedWrite bounds the bytes the connection holds that Write has
	// accepted but the kernel has not taken yet (a peer that stops reading
	// fills the socket, then this). Beyond it Write waits; see Conn.Write.
	// Zero means DefaultMaxBufferedWrite.
	MaxBufferedWrite int

	// TLSConfig, when set, runs TLS over the socket before the connection is
	// returned. An empty ServerName defaults to Address's host. Handlers
	// that cannot do TLS fail the Dial with ErrTLSUnsupported.
	TLSConfig *tls.Config

	// OnFrame receives each complete inbound frame, without its size
	// prefix, in order, never concurrently for one connection. The frame is
	// a slice the callee owns and may keep; large ones come from a pool
	// (FrameBuffer), and a callee that knows nothing refers to one any more
	// may hand it back with RecycleFrame (otherwise the garbage collector
	// frees it like any allocation). OnFrame may run on an event loop, so
	// it must not block. Nil discards frames.
	OnFrame func(frame []byte)

	// OnPartialFrame, when set, sees each inbound frame as it arrives: the
	// bytes received so far (size prefix excluded), each time a read has
	// added to a frame that is not complete yet, so that its owner can
	// work through them while they are still in the CPU's caches (a
	// consumer checksums its records so). Reads into a frame's body are
	// then at most 1 MiB. The slice is the frame being filled: the
	// callee must not keep or modify it; OnFrame delivers the same bytes
	// once the frame is complete, and a frame that arrives in one read may
	// never be shown partial. It runs where OnFrame does, never
	// concurrently with it, and like it must not block.
	OnPartialFrame func(partial []byte)

	// OnClose is called exactly once, after the last OnFrame, when the
	// connection has closed. err is nil after a local Close, ErrClosed when
	// the handler was closed, and otherwise a *ConnError (peer close: io.EOF,
	// or io.ErrUnexpectedEOF inside a frame; oversized frame: a
	// *FrameSizeError; or the I/O error). Like OnFrame it must not block.
	OnClose func(err error)
}

// Conn is an established framed connection. It is safe for concurrent use.
type Conn interface {
	// Write sends b, which holds one or more complete frames. The bytes of
	// one Write are never interleaved with those of another.
	//
	// Write does not keep b: when it returns, b has been handed to the
	// kernel or copied, and the caller may reuse it (request buffers can be
	// pooled). A nil error means the bytes were accepted, not that the peer
	// received them; a failure after that closes the connection and reaches
	// OnClose. Once the connection is closed, Write returns ErrClosed (the
	// Write whose own I/O fails returns that failure as a *ConnError).
	//
	// Back-pressure: while the connection already holds more than
	// DialConfig.MaxBufferedWrite bytes not yet taken by the kernel, Write
	// waits until that drops (then accepts b) or the connection closes
	// (then returns ErrClosed, or the *ConnError that closed it). A Write
	// finding nothing buffered is accepted whatever its size. Write takes no
	// context: a caller bounds the wait by closing the connection, as conn/
	// does when a request times out, and conn/'s own callers wait for it
	// honouring their context. Below the bound, the goroutine handler's
	// Write may still wait while it hands its own bytes to a full socket;
	// the event-loop handler's does not.
	Write(b []byte) error

	// Close closes the connection; OnClose(nil) follows, possibly after
	// Close has returned. Bytes accepted by Write but not yet handed to the
	// kernel may be dropped, and frames still arriving are not delivered.
	// Close is idempotent, never blocks, and may be called from OnFrame.
	Close() error

	// LocalAddr and RemoteAddr return the socket's addresses.
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
}

// VectorWriter is a Conn that can send bytes gathered from several buffers.
// A request carrying large record values is sent from where the producer
// holds them: over plain TCP one writev hands the pieces to the kernel, so
// the values cross memory once instead of being copied into a request
// buffer first. Both handlers' connections implement it; over TLS the
// pieces go to crypto/tls a record's worth at a time, which copies them
// into its records as it seals them.
type VectorWriter interface {
	// WriteVec is Write of the bytes of bufs, in order, as if joined into
	// one slice: the same framing, ordering, ownership and back-pressure
	// rules hold. It may reslice bufs' elements while writing.
	WriteVec(bufs [][]byte) error
}
