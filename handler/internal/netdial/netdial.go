// Package netdial opens the TCP connection under a handler.Conn: the part
// of Dial both handler implementations share.
package netdial

import (
	"context"
	"net"

	"github.com/gregorkafka/gregor/handler"
)

// TCP connects to cfg.Address honouring ctx, cfg.Timeout, cfg.SourceAddr
// and the socket buffer sizes. Errors are returned unwrapped; the caller
// wraps them in a *handler.DialError.
func TCP(ctx context.Context, cfg *handler.DialConfig) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: cfg.Timeout}
	if cfg.SourceAddr != "" {
		la, err := net.ResolveTCPAddr("tcp", cfg.SourceAddr)
		if err != nil {
			return nil, err
		}
		d.LocalAddr = la
	}
	nc, err := d.DialContext(ctx, "tcp", cfg.Address)
	if err != nil {
		return nil, err
	}
	tc := nc.(*net.TCPConn)
	if err := setBuffers(tc, cfg); err != nil {
		_ = tc.Close()
		return nil, err
	}
	return tc, nil
}

func setBuffers(tc *net.TCPConn, cfg *handler.DialConfig) error {
	if cfg.ReadBufferSize > 0 {
		if err := tc.SetReadBuffer(cfg.ReadBufferSize); err != nil {
			return err
		}
	}
	if cfg.WriteBufferSize > 0 {
		if err := tc.SetWriteBuffer(cfg.WriteBufferSize); err != nil {
			return err
		}
	}
	return nil
}
