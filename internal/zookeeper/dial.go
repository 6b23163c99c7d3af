package zookeeper

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/gregorkafka/gregor/handler"
)

// Dialer opens go-zookeeper's sockets through the handler. ZooKeeper
// frames its packets as Kafka does (a big-endian int32 length, then the
// body) and go-zookeeper writes each packet whole, so a framed
// handler.Conn carries them unchanged; netConn puts the length back in
// front of each inbound frame for go-zookeeper's reads.
func Dialer(h handler.Handler) zk.Dialer {
	return func(_, address string, timeout time.Duration) (net.Conn, error) {
		c := &netConn{h: h, readable: h.NewEvent()}
		hc, err := h.Dial(context.Background(), handler.DialConfig{
			Address: address,
			Timeout: timeout,
			OnFrame: c.onFrame,
			OnClose: c.onClose,
		})
		if err != nil {
			return nil, err
		}
		c.hc = hc
		return c, nil
	}
}

// netConn is a net.Conn over a framed handler.Conn, for go-zookeeper.
// Read deadlines are kept (go-zookeeper uses them to notice a silent
// server). go-zookeeper sets them as wall-clock instants (time.Now() plus
// its receive timeout), so the time left is measured on the wall clock and
// then waited for on the handler's clock. Write deadlines are ignored: a
// handler's Write waits only while the connection's buffer is full, which
// the read deadline then bounds.
type netConn struct {
	h        handler.Handler
	hc       handler.Conn
	readable handler.Event // set while in holds bytes or the conn is closed

	mu       sync.Mutex
	in       []byte // inbound packets, length prefixes restored
	err      error  // why the connection closed, once it has
	deadline time.Time
}

// onFrame runs on the handler's read path: it only appends and signals.
func (c *netConn) onFrame(frame []byte) {
	c.mu.Lock()
	n := len(frame)
	c.in = append(c.in, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	c.in = append(c.in, frame...)
	c.mu.Unlock()
	c.readable.Set()
}

func (c *netConn) onClose(err error) {
	if err == nil {
		err = net.ErrClosed
	}
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.readable.Set()
}

// Read returns buffered bytes, waiting for some until the read deadline.
// After the peer closes, what was received is still read, then io.EOF.
func (c *netConn) Read(b []byte) (int, error) {
	for {
		c.mu.Lock()
		if len(c.in) > 0 {
			n := copy(b, c.in)
			c.in = c.in[n:]
			if len(c.in) == 0 {
				c.in = nil
			}
			c.mu.Unlock()
			return n, nil
		}
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			if errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, err
		}
		c.readable.Clear()
		deadline := c.deadline
		c.mu.Unlock()
		if err := c.wait(deadline); err != nil {
			return 0, err
		}
	}
}

// wait blocks until readable is set or the deadline (zero: none) passes.
func (c *netConn) wait(deadline time.Time) error {
	ctx := context.Background()
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return os.ErrDeadlineExceeded
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		t := c.h.AfterFunc(d, cancel)
		defer func() {
			t.Stop()
			cancel()
		}()
	}
	if c.readable.Wait(ctx) != nil {
		return os.ErrDeadlineExceeded
	}
	return nil
}

func (c *netConn) Write(b []byte) (int, error) {
	if err := c.hc.Write(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *netConn) Close() error {
	err := c.hc.Close()
	c.onClose(net.ErrClosed)
	return err
}

func (c *netConn) LocalAddr() net.Addr  { return c.hc.LocalAddr() }
func (c *netConn) RemoteAddr() net.Addr { return c.hc.RemoteAddr() }

func (c *netConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetReadDeadline bounds the Reads that start after it (go-zookeeper sets
// it before each read).
func (c *netConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return nil
}

func (c *netConn) SetWriteDeadline(time.Time) error { return nil }
