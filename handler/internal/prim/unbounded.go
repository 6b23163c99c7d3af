package prim

import (
	"context"
	"sync"

	"github.com/gregorkafka/gregor/handler"
)

// Unbounded is a queue without a capacity: a ring buffer under a mutex. The
// ring never shrinks, so a queue that oscillates between a backlog and empty
// does not reallocate; it keeps the memory of its largest backlog (one
// interface value per slot).
//
// Blocked getters wait on a one-slot token channel rather than a sync.Cond,
// because a Cond cannot be abandoned when a context ends. A Put leaves a
// token; a getter that takes an item while more remain passes a token on, so
// a wake-up is never lost even though the channel holds only one.
type Unbounded struct {
	mu     sync.Mutex
	buf    []any // ring; len(buf) is a power of two or zero
	head   int
	n      int
	token  chan struct{}
	closed chan struct{}
	done   bool
}

// NewUnbounded returns an empty unbounded queue.
func NewUnbounded() *Unbounded {
	return &Unbounded{token: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (q *Unbounded) signal() {
	select {
	case q.token <- struct{}{}:
	default:
	}
}

func (q *Unbounded) Put(_ context.Context, v any) error { return q.TryPut(v) }

func (q *Unbounded) TryPut(v any) error {
	q.mu.Lock()
	if q.done {
		q.mu.Unlock()
		return handler.ErrClosed
	}
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = v
	q.n++
	q.mu.Unlock()
	q.signal()
	return nil
}

func (q *Unbounded) grow() {
	nb := make([]any, max(2*len(q.buf), 16))
	for i := 0; i < q.n; i++ {
		nb[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = nb, 0
}

func (q *Unbounded) Get(ctx context.Context) (any, error) {
	for {
		v, err := q.TryGet()
		if err != handler.ErrWouldBlock {
			return v, err
		}
		select {
		case <-q.token:
		case <-q.closed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (q *Unbounded) TryGet() (any, error) {
	q.mu.Lock()
	if q.n == 0 {
		done := q.done
		q.mu.Unlock()
		if done {
			return nil, handler.ErrClosed
		}
		return nil, handler.ErrWouldBlock
	}
	v := q.buf[q.head]
	q.buf[q.head] = nil // let the item be collected
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	more := q.n > 0
	q.mu.Unlock()
	if more {
		q.signal()
	}
	return v, nil
}

func (q *Unbounded) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

func (q *Unbounded) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.done {
		q.done = true
		close(q.closed)
	}
}
