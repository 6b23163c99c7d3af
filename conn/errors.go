package conn

import (
	"errors"
	"strconv"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

var (
	// ErrDisconnected matches every *DisconnectedError: the request could
	// not be sent, or its response will never arrive, because the
	// connection is down.
	ErrDisconnected = errors.New("conn: disconnected")
	// ErrClosed is the cause inside a *DisconnectedError when the connection
	// was closed locally, by Close or Reconnect.
	ErrClosed = errors.New("conn: connection closed")
	// ErrNotConnected is the cause inside a *DisconnectedError when a
	// request is made before Connect succeeded.
	ErrNotConnected = errors.New("conn: not connected")
	// ErrRequestTimeout matches every *RequestTimeoutError.
	ErrRequestTimeout = errors.New("conn: request timed out")
	// ErrCorrelationMismatch matches every *CorrelationError.
	ErrCorrelationMismatch = errors.New("conn: response correlation id mismatch")
)

// DisconnectedError fails every request that was pending on, or is made on,
// a connection that is down. Err is the cause: a *handler.ConnError from the
// socket (peer closed, I/O error, oversized frame), a *handler.DialError, a
// *RequestTimeoutError, a *CorrelationError, handler.ErrClosed when the
// handler shut down, ErrClosed after a local Close, or ErrNotConnected.
// errors.Is(err, ErrDisconnected) holds for all of them.
type DisconnectedError struct {
	Address string
	Err     error
}

func (e *DisconnectedError) Error() string {
	// A connection that never came up was not "disconnected": say so.
	var de *handler.DialError
	switch {
	case errors.As(e.Err, &de):
		return "conn: could not connect to " + e.Address + ": " + de.Err.Error()
	case errors.Is(e.Err, ErrNotConnected):
		return "conn: " + e.Address + " is not connected"
	}
	return "conn: " + e.Address + " disconnected: " + e.Err.Error()
}

func (e *DisconnectedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrDisconnected) hold.
func (e *DisconnectedError) Is(target error) bool { return target == ErrDisconnected }

// RequestTimeoutError is the cause of a connection closed because the oldest
// overdue request got no response within its timeout.
type RequestTimeoutError struct {
	APIKey        int16
	Version       int16
	CorrelationID int32
	Timeout       time.Duration
}

func (e *RequestTimeoutError) Error() string {
	return "conn: no response to " + protocol.APIName(e.APIKey) + " v" + strconv.Itoa(int(e.Version)) +
		" (correlation id " + strconv.Itoa(int(e.CorrelationID)) + ") within " + e.Timeout.String()
}

// Is makes errors.Is(err, ErrRequestTimeout) hold.
func (e *RequestTimeoutError) Is(target error) bool { return target == ErrRequestTimeout }

// CorrelationError is the cause of a connection closed because a response
// did not carry the correlation id of the oldest pending request. Brokers
// answer in order, so the stream can no longer be trusted. Expected is -1
// when no request was pending; Got is -1 when the frame was too short to
// hold an id.
type CorrelationError struct {
	Expected int32
	Got      int32
}

func (e *CorrelationError) Error() string {
	if e.Expected < 0 {
		return "conn: unsolicited response (correlation id " + strconv.Itoa(int(e.Got)) + ")"
	}
	return "conn: response correlation id " + strconv.Itoa(int(e.Got)) + ", expected " + strconv.Itoa(int(e.Expected))
}

// Is makes errors.Is(err, ErrCorrelationMismatch) hold.
func (e *CorrelationError) Is(target error) bool { return target == ErrCorrelationMismatch }

// ResponseError reports a response that arrived but could not be decoded.
// The connection stays up: the frame boundaries were intact. Err is the
// protocol decoding error (errors.Is(err, protocol.ErrTruncated) and the like
// still hold).
type ResponseError struct {
	Address string
	APIKey  int16
	Version int16
	Err     error
}

func (e *ResponseError) Error() string {
	return "conn: decoding " + protocol.APIName(e.APIKey) + " v" + strconv.Itoa(int(e.Version)) +
		" response from " + e.Address + ": " + e.Err.Error()
}

func (e *ResponseError) Unwrap() error { return e.Err }

// HandshakeError reports a broker that refused the connection's set-up:
// ApiVersions answered with an error code, or no common ApiVersions version.
// Err is the protocol error (errors.Is(err, protocol.ErrUnsupportedVersion)
// works) or a *protocol.UnsupportedVersionError.
type HandshakeError struct {
	Address string
	Err     error
}

func (e *HandshakeError) Error() string {
	return "conn: ApiVersions handshake with " + e.Address + ": " + e.Err.Error()
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// AuthError wraps an error returned by Config.Authenticate.
type AuthError struct {
	Address string
	Err     error
}

func (e *AuthError) Error() string {
	return "conn: authenticating to " + e.Address + ": " + e.Err.Error()
}

func (e *AuthError) Unwrap() error { return e.Err }
