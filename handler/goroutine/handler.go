package goroutine

import (
	"sync"

	"github.com/gregorkafka/gregor/handler"
)

// Handler runs gregor on goroutines. Create it with New; it is safe for
// concurrent use.
type Handler struct {
	mu     sync.Mutex
	closed bool
	conns  map[*conn]struct{}
}

var _ handler.Handler = (*Handler)(nil)

// New returns a ready Handler. It starts no goroutines of its own.
func New() *Handler {
	return &Handler{conns: make(map[*conn]struct{})}
}

// Close closes every connection with ErrClosed and waits until their OnClose
// callbacks have returned. Later Dials fail with ErrClosed.
func (h *Handler) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()

	for _, c := range conns {
		c.shutdown(handler.ErrClosed)
	}
	for _, c := range conns {
		<-c.done
	}
	return nil
}

// track registers c, failing once the handler is closed.
func (h *Handler) track(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	return true
}

func (h *Handler) forget(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}
