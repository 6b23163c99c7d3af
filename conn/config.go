package conn

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/gregorkafka/gregor/protocol"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultClientID              = "gregor"
	DefaultClientSoftwareName    = "gregor"
	DefaultClientSoftwareVersion = "unknown"
	DefaultDialTimeout           = 10 * time.Second
	DefaultRequestTimeout        = 30 * time.Second

	// DefaultMaxInFlight is the number of requests one connection keeps
	// outstanding before callers wait. A broker reads one request per
	// connection at a time and answers in order, so requests beyond what
	// fills the round trip only sit in socket buffers; 256 is far more than
	// that on any network, so a busy producer or fetcher never waits on the
	// limit, while it still bounds what one stuck broker can hold (pending
	// futures, and slots of callers that stopped waiting).
	DefaultMaxInFlight = 256
)

// Config tunes a BrokerConnection. The zero value is valid: New fills every
// zero field with its default and rejects negative or out-of-range values
// with a *ConfigError.
type Config struct {
	// ClientID is sent in every request header; brokers use it in logs,
	// metrics and quotas. Default DefaultClientID.
	ClientID string

	// ClientSoftwareName and ClientSoftwareVersion are reported in
	// ApiVersions v3+. Brokers reject values that are not alphanumerics,
	// dots and dashes starting and ending with an alphanumeric.
	ClientSoftwareName    string
	ClientSoftwareVersion string

	// DialTimeout bounds the TCP connect plus any TLS handshake.
	DialTimeout time.Duration

	// RequestTimeout is how long a request may wait for its response. A
	// response that has not arrived by then means the connection is broken:
	// it is closed and every pending future fails with a *DisconnectedError
	// wrapping a *RequestTimeoutError. Requests that the broker may hold
	// longer (JoinGroup during a rebalance) use RequestWithTimeout.
	RequestTimeout time.Duration

	// SourceAddr is the local "ip:port" to bind before connecting. Empty
	// lets the OS choose.
	SourceAddr string

	// ReadBufferSize and WriteBufferSize size the socket's kernel buffers
	// (SO_RCVBUF, SO_SNDBUF). Zero keeps the OS default.
	ReadBufferSize  int
	WriteBufferSize int

	// MaxFrameSize is the largest response accepted, in bytes. A larger size
	// prefix breaks the connection before anything is allocated for it.
	// Zero means handler.DefaultMaxFrameSize.
	MaxFrameSize int

	// MaxInFlight is how many requests may await their responses at once on
	// one connection. Further callers wait for a slot, honouring their
	// context. Default DefaultMaxInFlight.
	MaxInFlight int

	// Logger receives connection lifecycle events (connected, disconnected
	// and why). Nil discards them: a library should not write to a service's
	// logs unless asked to.
	Logger *slog.Logger

	// TLSConfig, when set, is handed to the handler, which runs TLS over the
	// socket inside Dial. Handlers that cannot do TLS fail Connect with an
	// error matching handler.ErrTLSUnsupported.
	TLSConfig *tls.Config

	// Authenticate, when set, runs on every new connection after ApiVersions
	// and before Connect returns, which is where SASL belongs: it may call
	// Request, RequestVersion, RoundTrip and Versions on the connection it is
	// given, passing the ctx it got (or one derived from it); other callers'
	// requests fail with ErrNotConnected until Connect is done. An error
	// closes the connection and is returned by Connect as an *AuthError.
	//
	// It returns the session lifetime the broker granted (SaslAuthenticate
	// v1+), or zero for none. Before a granted lifetime ends, at a random 85
	// to 95% of it as Kafka's Java client does, Authenticate runs again on
	// the live connection (KIP-368): requests already sent keep their place
	// in the FIFO ahead of its requests, and requests made meanwhile wait
	// until it is done, so none is failed or reordered. If re-authentication
	// fails, the connection breaks: pending requests fail with a
	// *DisconnectedError whose cause is the *AuthError.
	Authenticate func(ctx context.Context, c *BrokerConnection) (lifetime time.Duration, err error)

	// Observer, when set, is told of connects, disconnects, requests and
	// responses; see Observer. Nil costs nothing.
	Observer Observer
}

// ConfigError reports an invalid Config field.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return "conn: invalid Config." + e.Field + ": " + e.Reason
}

// withDefaults validates c and returns it with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	bad := func(field, format string, args ...any) (Config, error) {
		return c, &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case len(c.ClientID) > protocol.MaxStringLen:
		return bad("ClientID", "longer than %d bytes", protocol.MaxStringLen)
	case c.DialTimeout < 0:
		return bad("DialTimeout", "negative (%v)", c.DialTimeout)
	case c.RequestTimeout < 0:
		return bad("RequestTimeout", "negative (%v)", c.RequestTimeout)
	case c.ReadBufferSize < 0:
		return bad("ReadBufferSize", "negative (%d)", c.ReadBufferSize)
	case c.WriteBufferSize < 0:
		return bad("WriteBufferSize", "negative (%d)", c.WriteBufferSize)
	case c.MaxFrameSize < 0:
		return bad("MaxFrameSize", "negative (%d)", c.MaxFrameSize)
	case c.MaxInFlight < 0:
		return bad("MaxInFlight", "negative (%d)", c.MaxInFlight)
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.ClientSoftwareName == "" {
		c.ClientSoftwareName = DefaultClientSoftwareName
	}
	if c.ClientSoftwareVersion == "" {
		c.ClientSoftwareVersion = DefaultClientSoftwareVersion
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
