package eventloop

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/internal/netdial"
)

// Handler runs gregor's connections on gnet event loops. Create it with
// New; it is safe for concurrent use.
type Handler struct {
	cli *gnet.Client

	mu        sync.Mutex
	closed    bool
	conns     map[*conn]struct{}
	enrolling sync.WaitGroup             // Dials between the closed check and Enroll's return
	netpoll   bool                       // WithNetpollWait
	parkers   map[gnet.EventLoop]*parker // nil value: that loop cannot park (park.go)
	hold      atomic.Int32               // while positive, no loop parks

	closeOnce sync.Once
	closeErr  error
}

var _ handler.Handler = (*Handler)(nil)

// New starts the event loops.
func New(opts ...Option) (*Handler, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	h := &Handler{
		conns:   make(map[*conn]struct{}),
		netpoll: o.netpoll,
		parkers: make(map[gnet.EventLoop]*parker),
	}
	cli, err := gnet.NewClient(&events{h: h},
		gnet.WithNumEventLoop(o.loops),
		gnet.WithLogger(gnetLogger{o.logger}),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
	)
	if err != nil {
		return nil, fmt.Errorf("eventloop: %w", err)
	}
	if err := cli.Start(); err != nil {
		return nil, fmt.Errorf("eventloop: %w", err)
	}
	h.cli = cli
	return h, nil
}

// Dial connects with a blocking dial on the calling goroutine (gnet's own
// dial has no timeout), then enrolls the socket in an event loop, which
// reads and writes it from then on.
func (h *Handler) Dial(ctx context.Context, cfg handler.DialConfig) (handler.Conn, error) {
	fail := func(err error) (handler.Conn, error) {
		return nil, &handler.DialError{Address: cfg.Address, Err: err}
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return fail(handler.ErrClosed)
	}
	h.enrolling.Add(1)
	h.mu.Unlock()
	enrolled := false
	defer func() {
		if !enrolled {
			h.enrolling.Done()
		}
	}()

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
	c := newConn(h, &cfg, tc.LocalAddr(), tc.RemoteAddr())
	if cfg.TLSConfig != nil {
		c.tls = newTLSLayer(c, netdial.TLSConfig(&cfg))
	}
	c.wfd = dupSocket(tc)
	// Tracked before Enroll: OnClose may run before Enroll even returns.
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()

	// Enrolling runs a task of gnet's on the chosen loop, which must not
	// be parked meanwhile.
	h.holdParkers()
	gc, err := h.cli.EnrollContext(tc, c) // closes tc; the loop owns a dup of its fd
	if err != nil {
		h.releaseParkers()
		h.forget(c)
		c.mu.Lock()
		c.closeDirect()
		c.mu.Unlock()
		return fail(err)
	}
	c.gc, c.loop = gc, gc.EventLoop()
	h.watch(c)
	h.releaseParkers()
	// From here Close may stop the loops: a handshake still running then
	// fails with ErrClosed instead of holding Close up.
	enrolled = true
	h.enrolling.Done()
	if c.tls != nil {
		if err := c.tls.handshake(ctx); err != nil {
			// A task, so that it checks on the loop whether the socket is
			// still this conn's (its fd may have been reused).
			_ = c.execute((*closeTask)(c))
			return fail(err)
		}
	}
	return c, nil
}

// Close closes every connection (OnClose receives ErrClosed) and stops the
// event loops. It returns once the loops have exited, after every OnClose.
func (h *Handler) Close() error {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		h.enrolling.Wait()

		h.mu.Lock()
		conns := make([]*conn, 0, len(h.conns))
		for c := range h.conns {
			conns = append(conns, c)
		}
		h.mu.Unlock()
		// Stop every conn from scheduling work on a loop: once the loops
		// stop, their pollers are closed and must not be signalled.
		for _, c := range conns {
			c.refuse()
		}
		// Stopping runs gnet's own tasks on the loops: no loop parks from
		// now on.
		h.holdParkers()
		// Stopping the engine closes the remaining connections on their
		// loops, which calls OnClose for each.
		if err := h.cli.Stop(); err != nil {
			h.closeErr = fmt.Errorf("eventloop: stop: %w", err)
		}
		h.closeParkers()
	})
	return h.closeErr
}

func (h *Handler) forget(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}
