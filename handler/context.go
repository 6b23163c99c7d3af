package handler

import (
	"context"
	"sync"
	"time"
)

// WithTimeout is context.WithTimeout on clock c: the returned context ends
// with context.DeadlineExceeded once d has elapsed on c (a Handler, or a
// fake clock in tests), with its parent's error when the parent ends first,
// and with context.Canceled when cancel is called. Call cancel when done,
// as with context.WithTimeout, to release the timer.
//
// Contexts derived from it (context.WithCancel and the rest) follow it
// without a goroutine each, and their context.Cause is DeadlineExceeded
// when the clock ended it. Two differences from context.WithTimeout, both
// because c need not be the wall clock: Deadline reports only the parent's
// deadline, and context.Cause of the returned context itself reports the
// parent's cause (its Err is exact).
func WithTimeout(parent context.Context, c Clock, d time.Duration) (context.Context, context.CancelFunc) {
	t := &timeoutCtx{Context: parent, done: make(chan struct{})}
	if d <= 0 {
		t.end(context.DeadlineExceeded)
		return t, func() {}
	}
	if err := parent.Err(); err != nil {
		t.end(err)
		return t, func() {}
	}
	stop := context.AfterFunc(parent, func() { t.end(parent.Err()) })
	timer := c.AfterFunc(d, func() { t.end(context.DeadlineExceeded) })
	t.mu.Lock()
	t.stop, t.timer = stop, timer
	ended := t.err != nil
	t.mu.Unlock()
	if ended { // the parent ended meanwhile
		timer.Stop()
		stop()
	}
	return t, func() { t.end(context.Canceled) }
}

// timeoutCtx is WithTimeout's context. The parent provides Value and
// Deadline.
type timeoutCtx struct {
	context.Context
	done chan struct{}

	mu    sync.Mutex
	err   error
	timer Timer
	stop  func() bool // undoes the AfterFunc on the parent
	hooks map[uint64]func()
	next  uint64
}

func (t *timeoutCtx) Done() <-chan struct{} { return t.done }

func (t *timeoutCtx) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// end ends the context with err; only the first call counts.
func (t *timeoutCtx) end(err error) {
	t.mu.Lock()
	if t.err != nil {
		t.mu.Unlock()
		return
	}
	t.err = err
	close(t.done)
	hooks, timer, stop := t.hooks, t.timer, t.stop
	t.hooks = nil
	t.mu.Unlock()
	if timer != nil {
		timer.Stop()
	}
	if stop != nil {
		stop()
	}
	for _, f := range hooks {
		f()
	}
}

// AfterFunc is how package context attaches derived contexts (and
// context.AfterFunc callbacks) to t without a goroutine waiting on Done: f
// runs when t ends, or at once if it has. stop detaches f and reports
// whether it did.
func (t *timeoutCtx) AfterFunc(f func()) (stop func() bool) {
	t.mu.Lock()
	if t.err != nil {
		t.mu.Unlock()
		f()
		return func() bool { return false }
	}
	if t.hooks == nil {
		t.hooks = make(map[uint64]func())
	}
	id := t.next
	t.next++
	t.hooks[id] = f
	t.mu.Unlock()
	return func() bool {
		t.mu.Lock()
		defer t.mu.Unlock()
		_, ok := t.hooks[id]
		delete(t.hooks, id)
		return ok
	}
}
