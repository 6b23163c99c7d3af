package conn

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/protocol"
)

// BrokerConnection is a pipelined connection to one broker. It is safe for
// concurrent use: any number of callers may have requests in flight at once,
// up to Config.MaxInFlight.
//
// Its life: New, Connect (dial, ApiVersions, optional authentication), any
// number of requests, and Close. If the socket breaks, every pending
// request fails and Connected turns false; Reconnect (or Connect) then
// opens a fresh socket. Close is final.
type BrokerConnection struct {
	h    handler.Handler
	addr string
	cfg  Config

	connectLock handler.Lock // serialises Connect, Reconnect
	cur         atomic.Pointer[session]
	closed      atomic.Bool
	reauthing   atomic.Int32 // re-authentications running, on any session
}

// New returns an unconnected BrokerConnection to address ("host:port") that
// will run on h. It validates cfg and fills in its defaults; it does not
// dial.
func New(h handler.Handler, address string, cfg Config) (*BrokerConnection, error) {
	if h == nil {
		return nil, &ConfigError{Field: "handler", Reason: "nil"}
	}
	if address == "" {
		return nil, &ConfigError{Field: "address", Reason: "empty"}
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &BrokerConnection{h: h, addr: address, cfg: cfg, connectLock: h.NewLock()}, nil
}

// Address returns the broker address the connection dials.
func (c *BrokerConnection) Address() string { return c.addr }

// Config returns the configuration in use, defaults filled in.
func (c *BrokerConnection) Config() Config { return c.cfg }

// Connected reports whether the connection is set up (ApiVersions and
// authentication done) and has not broken or been closed since.
func (c *BrokerConnection) Connected() bool {
	s := c.cur.Load()
	return s != nil && s.ready.Load() && !s.down.Load()
}

// Versions returns the versions negotiated with the broker on the latest
// connection, or nil before the first ApiVersions exchange.
func (c *BrokerConnection) Versions() *protocol.Versions {
	if s := c.cur.Load(); s != nil {
		return s.versions.Load()
	}
	return nil
}

// LocalAddr returns the local address of the current socket, or nil when
// there is none.
func (c *BrokerConnection) LocalAddr() net.Addr {
	s := c.cur.Load()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return nil
	}
	return conn.LocalAddr()
}

// Connect dials the broker, negotiates API versions and runs
// Config.Authenticate. It returns nil at once if the connection is already
// up. Concurrent calls are serialised: a later one finds the connection up
// and returns nil, or tries again. ctx bounds the whole set-up;
// Config.DialTimeout also bounds the dial and Config.RequestTimeout each
// request.
//
// Errors: a *DisconnectedError (dial failure, or the socket broke during
// set-up), a *HandshakeError, an *AuthError, or ctx.Err().
func (c *BrokerConnection) Connect(ctx context.Context) error {
	return c.connect(ctx, false)
}

// Reconnect closes the current socket, failing its pending requests with
// ErrClosed, and connects again. Use it once a broker is known to have
// restarted.
func (c *BrokerConnection) Reconnect(ctx context.Context) error {
	return c.connect(ctx, true)
}

func (c *BrokerConnection) connect(ctx context.Context, force bool) (err error) {
	if err := c.connectLock.LockContext(ctx); err != nil {
		return err
	}
	defer c.connectLock.Unlock()
	if c.closed.Load() {
		return &DisconnectedError{Address: c.addr, Err: ErrClosed}
	}
	old := c.cur.Load()
	if old != nil {
		if !force && old.ready.Load() && !old.down.Load() {
			return nil
		}
		old.fail(ErrClosed)
	}

	var start, dialed time.Time
	if c.cfg.Observer != nil {
		start = c.h.Now()
		defer func() { c.observeConnect(start, dialed, err) }()
	}
	s := newSession(c)
	if old != nil {
		// Until the new handshake, Versions keeps answering from the last.
		s.versions.Store(old.versions.Load())
	}
	hc, err := c.h.Dial(ctx, handler.DialConfig{
		Address:         c.addr,
		Timeout:         c.cfg.DialTimeout,
		SourceAddr:      c.cfg.SourceAddr,
		ReadBufferSize:  c.cfg.ReadBufferSize,
		WriteBufferSize: c.cfg.WriteBufferSize,
		MaxFrameSize:    c.cfg.MaxFrameSize,
		TLSConfig:       c.cfg.TLSConfig,
		OnFrame:         s.onFrame,
		OnPartialFrame:  s.onPartialFrame,
		OnClose:         s.onClose,
	})
	if c.cfg.Observer != nil {
		dialed = c.h.Now()
	}
	if err != nil {
		// Requests made until the next Connect report this failure.
		s.fail(err)
		c.cur.Store(s)
		return s.failure()
	}
	s.attach(hc)
	c.cur.Store(s)
	// Close loads cur after setting closed; checking closed after storing
	// cur means one of us sees the other, so no socket outlives Close.
	if c.closed.Load() {
		s.fail(ErrClosed)
		return s.failure()
	}

	versions, err := s.negotiate(ctx)
	if err != nil {
		s.fail(ErrClosed)
		return err
	}
	s.versions.Store(versions)

	var lifetime time.Duration
	if auth := c.cfg.Authenticate; auth != nil {
		hctx := context.WithValue(ctx, handshakeKey{}, s)
		if lifetime, err = auth(hctx, c); err != nil {
			s.fail(ErrClosed)
			var de *DisconnectedError
			if errors.As(err, &de) {
				return err
			}
			return &AuthError{Address: c.addr, Err: err}
		}
	}
	s.ready.Store(true)
	if s.down.Load() {
		return s.failure()
	}
	s.scheduleReauth(lifetime)
	c.cfg.Logger.Debug("kafka connection ready", "broker", c.addr, "local", hc.LocalAddr().String())
	return nil
}

// observeConnect reports a connection attempt that began at start and
// finished dialing at dialed.
func (c *BrokerConnection) observeConnect(start, dialed time.Time, err error) {
	c.cfg.Observer.Connected(ConnectInfo{Address: c.addr, Dial: dialed.Sub(start), Setup: c.h.Now().Sub(start), Err: err})
}

// Close closes the connection for good: pending requests fail with a
// *DisconnectedError wrapping ErrClosed, as do later requests and Connects.
// It does not wait for the socket to finish closing. Close is idempotent and
// always returns nil.
func (c *BrokerConnection) Close() error {
	c.closed.Store(true)
	if s := c.cur.Load(); s != nil {
		s.fail(ErrClosed)
	}
	return nil
}

// session returns the socket requests go to, or the error they get.
func (c *BrokerConnection) session() (*session, error) {
	s := c.cur.Load()
	if s == nil {
		if c.closed.Load() {
			return nil, &DisconnectedError{Address: c.addr, Err: ErrClosed}
		}
		return nil, &DisconnectedError{Address: c.addr, Err: ErrNotConnected}
	}
	if s.down.Load() {
		return nil, s.failure()
	}
	return s, nil
}

// Request sends req at the highest version both sides support and returns
// the future of its response. It waits, honouring ctx, while
// Config.MaxInFlight requests are pending. A request the broker does not
// answer (Produce with Acks 0) returns a nil future once written.
//
// Errors: a *protocol.UnsupportedVersionError naming the API when the broker
// and gregor share no version, a *DisconnectedError when the connection is
// down, an encoding error from protocol, or ctx.Err().
func (c *BrokerConnection) Request(ctx context.Context, req protocol.Request) (*ResponseFuture, error) {
	return c.request(ctx, req, -1, c.cfg.RequestTimeout, nil)
}

// RequestVersion is Request at a given version, for callers that need one
// the negotiation would not pick. The broker may reject a version it does
// not support by closing the connection.
func (c *BrokerConnection) RequestVersion(ctx context.Context, req protocol.Request, version int16) (*ResponseFuture, error) {
	if version < 0 {
		return nil, &protocol.VersionError{Message: protocol.APIName(req.APIKey()) + "Request", Version: version}
	}
	return c.request(ctx, req, version, c.cfg.RequestTimeout, nil)
}

// RequestWithTimeout is Request with its own response timeout in place of
// Config.RequestTimeout, for requests the broker legitimately holds longer,
// such as a JoinGroup waiting for a rebalance.
func (c *BrokerConnection) RequestWithTimeout(ctx context.Context, req protocol.Request, timeout time.Duration) (*ResponseFuture, error) {
	return c.RequestWatched(ctx, req, timeout, nil)
}

// RequestWatched is RequestWithTimeout with a Watcher, which sees the
// response's frame as it arrives.
func (c *BrokerConnection) RequestWatched(ctx context.Context, req protocol.Request, timeout time.Duration, w Watcher) (*ResponseFuture, error) {
	if timeout <= 0 {
		timeout = c.cfg.RequestTimeout
	}
	return c.request(ctx, req, -1, timeout, w)
}

// A Watcher works through a response's bytes while they arrive, when they
// are still in the CPU's caches (a consumer verifies record checksums so;
// see handler.DialConfig.OnPartialFrame). It runs on the connection's read
// path, possibly an event loop: it must be quick, must not block, and must
// neither keep nor modify the frame.
type Watcher interface {
	// Watch gets the response's frame (correlation id first, no size
	// prefix) for a request sent at version: the bytes received so far
	// each time a read adds to them, then the whole frame once before the
	// future completes. Each call's frame extends the one before.
	Watch(version int16, frame []byte)
}

// RoundTrip is Request followed by Get: it returns the decoded response, or
// (nil, nil) for a request the broker does not answer.
func (c *BrokerConnection) RoundTrip(ctx context.Context, req protocol.Request) (protocol.Message, error) {
	f, err := c.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	return f.Get(ctx)
}

// handshakeKey marks the context Connect gives Config.Authenticate; its
// value is the session being set up.
type handshakeKey struct{}

// request sends req at version, or at the negotiated one when version < 0.
func (c *BrokerConnection) request(ctx context.Context, req protocol.Request, version int16, timeout time.Duration, w Watcher) (*ResponseFuture, error) {
	s, err := c.session()
	if err != nil {
		return nil, err
	}
	// Until the handshake is done only Authenticate may send: a broker
	// requiring SASL rejects anything else first.
	if !s.ready.Load() && ctx.Value(handshakeKey{}) != any(s) {
		return nil, &DisconnectedError{Address: c.addr, Err: ErrNotConnected}
	}
	// A re-authentication belongs to its socket: once that socket is
	// replaced, its requests must not reach the new one. (Checked only while
	// one runs: a context lookup on every request is not free.)
	if c.reauthing.Load() > 0 {
		if hs, ok := ctx.Value(handshakeKey{}).(*session); ok && hs != s {
			return nil, &DisconnectedError{Address: c.addr, Err: ErrClosed}
		}
	}
	if version < 0 {
		v := s.versions.Load()
		if v == nil {
			return nil, &DisconnectedError{Address: c.addr, Err: ErrNotConnected}
		}
		if version, err = v.Pick(req.APIKey()); err != nil {
			return nil, err
		}
	}
	return s.send(ctx, req, version, timeout, w)
}
