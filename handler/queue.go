package handler

import "context"

// Queue is a typed FIFO queue over a handler's UntypedQueue.
//
// Items travel as interface values, so a pointer (or any pointer-shaped
// value: map, chan, func) costs no allocation; other types are boxed once
// per Put.
type Queue[T any] struct {
	q UntypedQueue
}

// NewQueue returns a queue created by h that holds at most capacity items,
// or any number of items when capacity <= 0.
func NewQueue[T any](h Primitives, capacity int) *Queue[T] {
	return &Queue[T]{q: h.NewQueue(capacity)}
}

// Put appends v, blocking while the queue is full. It returns ctx.Err() if
// ctx ends first and ErrClosed once the queue is closed.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	return q.q.Put(ctx, v)
}

// TryPut appends v without blocking: ErrWouldBlock when the queue is full,
// ErrClosed once it is closed.
func (q *Queue[T]) TryPut(v T) error {
	return q.q.TryPut(v)
}

// Get removes the oldest item, blocking while the queue is empty. It returns
// ctx.Err() if ctx ends first. A closed queue still hands out the items it
// holds, then returns ErrClosed.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	v, err := q.q.Get(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

// TryGet removes the oldest item without blocking: ErrWouldBlock when the
// queue is empty, ErrClosed when it is closed and empty.
func (q *Queue[T]) TryGet() (T, error) {
	v, err := q.q.TryGet()
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

// Len returns the number of items queued.
func (q *Queue[T]) Len() int { return q.q.Len() }

// Close rejects further Puts and wakes every blocked Put and Get with
// ErrClosed. Items already queued can still be taken. Close is idempotent.
func (q *Queue[T]) Close() { q.q.Close() }
