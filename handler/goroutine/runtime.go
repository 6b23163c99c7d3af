package goroutine

import (
	"context"
	"time"

	"github.com/gregorkafka/gregor/handler"
	"github.com/gregorkafka/gregor/handler/internal/prim"
)

// The methods below are the runtime both handlers share; they are spelled
// out rather than embedded so the package's documentation shows Handler's
// own API, not an internal type.

var rt prim.Runtime

// Go runs fn on a new goroutine.
func (h *Handler) Go(name string, fn func()) { rt.Go(name, fn) }

// Now returns the current time.
func (h *Handler) Now() time.Time { return rt.Now() }

// Sleep waits for d, or returns ctx.Err() if ctx ends first.
func (h *Handler) Sleep(ctx context.Context, d time.Duration) error { return rt.Sleep(ctx, d) }

// AfterFunc runs fn on a goroutine of its own after d.
func (h *Handler) AfterFunc(d time.Duration, fn func()) handler.Timer { return rt.AfterFunc(d, fn) }

// NewEvent returns a cleared event.
func (h *Handler) NewEvent() handler.Event { return rt.NewEvent() }

// NewLock returns an unlocked lock.
func (h *Handler) NewLock() handler.Lock { return rt.NewLock() }

// NewSemaphore returns a FIFO weighted semaphore of n units.
func (h *Handler) NewSemaphore(n int64) handler.Semaphore { return rt.NewSemaphore(n) }

// NewQueue returns a queue of at most capacity items, unbounded for
// capacity <= 0.
func (h *Handler) NewQueue(capacity int) handler.UntypedQueue { return rt.NewQueue(capacity) }
