package prim

import (
	"context"
	"sync"

	"github.com/gregorkafka/gregor/handler"
)

// Bounded is a fixed-capacity queue: a buffered channel plus a closed signal.
// The channel itself is never closed, because a Put racing with Close would
// then panic; closing is a separate channel every blocking select watches.
type Bounded struct {
	ch     chan any
	closed chan struct{}
	once   sync.Once
}

// NewBounded returns a queue holding at most capacity (> 0) items.
func NewBounded(capacity int) *Bounded {
	return &Bounded{ch: make(chan any, capacity), closed: make(chan struct{})}
}

func (q *Bounded) isClosed() bool {
	select {
	case <-q.closed:
		return true
	default:
		return false
	}
}

func (q *Bounded) Put(ctx context.Context, v any) error {
	if q.isClosed() {
		return handler.ErrClosed
	}
	select {
	case q.ch <- v:
		return nil
	default:
	}
	select {
	case q.ch <- v:
		return nil
	case <-q.closed:
		return handler.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (q *Bounded) TryPut(v any) error {
	if q.isClosed() {
		return handler.ErrClosed
	}
	select {
	case q.ch <- v:
		return nil
	default:
		return handler.ErrWouldBlock
	}
}

func (q *Bounded) Get(ctx context.Context) (any, error) {
	select {
	case v := <-q.ch:
		return v, nil
	default:
	}
	select {
	case v := <-q.ch:
		return v, nil
	case <-q.closed:
		// Closed, but items put before Close are still handed out.
		return q.TryGet()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (q *Bounded) TryGet() (any, error) {
	select {
	case v := <-q.ch:
		return v, nil
	default:
	}
	if q.isClosed() {
		return nil, handler.ErrClosed
	}
	return nil, handler.ErrWouldBlock
}

func (q *Bounded) Len() int { return len(q.ch) }

func (q *Bounded) Close() { q.once.Do(func() { close(q.closed) }) }
