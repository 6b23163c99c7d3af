package goroutine

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/internal/netdial"
)

// Dial connects, runs the TLS handshake when configured, and starts the
// connection's reader goroutine.
func (h *Handler) Dial(ctx context.Context, cfg handler.DialConfig) (handler.Conn, error) {
	fail := func(err error) (handler.Conn, error) {
		return nil, &handler.DialError{Address: cfg.Address, Err: err}
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return fail(handler.ErrClosed)
	}
	if cfg.Timeout > 0 {
		// Also bounds the TLS handshake, not just the TCP connect.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	tc, err := netdial.TCP(ctx, &cfg)
	if err != nil {
		return fail(err)
	}
	var nc net.Conn = tc
	var src *tlsSource
	if cfg.TLSConfig != nil {
		src = newTLSSource(tc)
		tlsConn := tls.Client(src, netdial.TLSConfig(&cfg))
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			_ = tc.Close()
			return fail(err)
		}
		nc = tlsConn
	}
	c := newConn(h, nc, &cfg)
	if src != nil {
		src.rest = c.dec.BodyRest
		c.gather = &src.tlsGather
	}
	if !h.track(c) {
		_ = nc.Close()
		return fail(handler.ErrClosed)
	}
	go c.readLoop()
	return c, nil
}
