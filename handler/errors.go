package handler

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed reports use of a closed queue, connection or handler.
	ErrClosed = errors.New("handler: closed")
	// ErrWouldBlock reports that a non-blocking operation (TryPut, TryGet)
	// could not proceed at once.
	ErrWouldBlock = errors.New("handler: operation would block")
	// ErrFrameTooLarge reports an inbound frame whose size prefix exceeds
	// DialConfig.MaxFrameSize (a negative int32 size counts as too large).
	// Match it with errors.Is; errors.As finds the *FrameSizeError.
	ErrFrameTooLarge = errors.New("handler: frame too large")
	// ErrTLSRecord matches a *FrameSizeError whose size prefix is the start
	// of a TLS record: the peer speaks TLS (typically an alert refusing the
	// plaintext request), so the connection needs DialConfig.TLSConfig.
	ErrTLSRecord = errors.New("handler: the peer sent a TLS record; it expects TLS")
	// ErrTLSUnsupported is returned (inside a *DialError) by handlers that
	// cannot run TLS when DialConfig.TLSConfig is set.
	ErrTLSUnsupported = errors.New("handler: TLS is not supported by this handler")
)

// DialError reports a failed Dial. It unwraps to the cause: a net error,
// ctx.Err() (errors.Is(err, context.DeadlineExceeded) holds for a dial that
// timed out), ErrClosed or ErrTLSUnsupported.
type DialError struct {
	Address string
	Err     error
}

func (e *DialError) Error() string {
	return fmt.Sprintf("handler: dial %s: %v", e.Address, e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

// ConnError is the reason an established connection closed, other than a
// local Close. Op is "read" or "write". A peer that closed cleanly between
// frames gives Err == io.EOF; one that closed inside a frame gives
// io.ErrUnexpectedEOF; an oversized frame gives a *FrameSizeError.
type ConnError struct {
	Op   string
	Addr string
	Err  error
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("handler: %s %s: %v", e.Op, e.Addr, e.Err)
}

func (e *ConnError) Unwrap() error { return e.Err }

// FrameSizeError is an inbound size prefix above the connection's limit.
// Size is the prefix read as a signed int32, so garbage may show as negative.
type FrameSizeError struct {
	Size int32
	Max  int
}

func (e *FrameSizeError) Error() string {
	msg := fmt.Sprintf("handler: frame size %d exceeds the maximum %d", e.Size, e.Max)
	if e.looksLikeTLS() {
		msg += " (" + ErrTLSRecord.Error()[len("handler: "):] + ")"
	}
	return msg
}

// Is makes errors.Is(err, ErrFrameTooLarge) hold, and errors.Is(err,
// ErrTLSRecord) when the prefix looks like a TLS record header.
func (e *FrameSizeError) Is(target error) bool {
	return target == ErrFrameTooLarge || (target == ErrTLSRecord && e.looksLikeTLS())
}

// looksLikeTLS reports whether the size prefix reads as a TLS record header:
// content type 20-23 (change cipher spec, alert, handshake, application
// data), then protocol version 3.0-3.4. Such a prefix is at least 335 MB, so
// it never passes the default limit.
func (e *FrameSizeError) looksLikeTLS() bool {
	u := uint32(e.Size)
	typ, major, minor := byte(u>>24), byte(u>>16), byte(u>>8)
	return typ >= 20 && typ <= 23 && major == 3 && minor <= 4
}
